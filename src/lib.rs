//! # causalgrad
//!
//! Differentiable programming for causal models. The first building block is
//! [`macro@differentiable`]: an attribute that generates reverse-mode gradient
//! code for a Rust function at compile time (source to source, no tape).
//!
//! ```
//! use causalgrad::{differentiable, Real};
//!
//! #[differentiable]
//! fn mechanism<T: Real>(f: T, g: T, h: T, x3: T, x4: T) -> T {
//!     f * (-g * x3 * x3).exp() + h * x4
//! }
//!
//! // The primal is untouched.
//! let y = mechanism(2.0, 0.5, -0.7, 0.3, 1.1);
//! // Value and gradient with respect to every float argument, in order.
//! let (value, (df, dg, dh, dx3, dx4)) = mechanism::value_and_grad(2.0, 0.5, -0.7, 0.3, 1.1);
//! assert_eq!(value, y);
//! assert!((df - (-0.5f64 * 0.09).exp()).abs() < 1e-15);
//! assert_eq!(dh, 1.1);
//! // A pullback (vector-Jacobian product) to compose with other code.
//! let (_, pullback) = mechanism::pullback(2.0, 0.5, -0.7, 0.3, 1.1);
//! assert_eq!(pullback.pull(2.0).2, 2.0 * 1.1);
//! ```
//!
//! ## What `#[differentiable]` generates
//!
//! Beside `fn f`, the primal (left exactly as written), the macro emits a
//! field-less struct also named `f` (structs and functions live in different
//! namespaces) that carries:
//!
//! | item | meaning |
//! |---|---|
//! | `f::value_and_grad(args..) -> (out, grad)` | the value and the gradient with respect to the active arguments: the argument's type for one, a tuple in argument order for several |
//! | `f::pullback(args..) -> (out, PullbackFn<..>)` | the value and the pullback; `pullback.pull(seed)` maps an output cotangent (of the output's shape) to the same `grad`, and `pullback.pull_into(seed, &mut grad)` adds it into a gradient the caller holds. It is a [`PullbackFn`] around a reverse sweep that captures only what it reads (borrowing the arguments), and can be applied any number of times |
//! | `f::hvp(args.., direction)` | for functions generic over `T: Real` with scalar arguments: the Hessian-vector product, forward over reverse with [`Dual`] numbers |
//! | `f::Function` | the function as a value; its type `f` implements [`DiffFn`], so code can store and call it generically |
//!
//! A method `fn f(&self, ..)` gets sibling methods `f_value_and_grad` and
//! `f_pullback` instead.
//!
//! All of these are ordinary items beside the function, so they work
//! wherever the function is declared, including inside another function's
//! body.
//!
//! The active arguments are the float arguments (`f32`, `f64`, or a generic
//! `T: Real`; all of one type) and the differentiable aggregates (arrays,
//! slices, `Vec`s, `#[derive(Differentiable)]` structs, by value or by
//! reference), or those named in `#[differentiable(wrt(a, b))]`. Integer,
//! `bool`, `char` and string arguments are never active. The gradient of an
//! aggregate has its tangent type: `[T; N]` for an array, `Vec<T>` for a
//! slice or `Vec`, `PTangent` (same field names) for a struct `P`.
//!
//! ## Supported syntax
//!
//! Straight-line code (`let`, reassignment, compound assignment, blocks,
//! the elementary functions below), branches (`if`/`else`, `if` as a value,
//! `match` on integers, bools and enums), loops (`for` over ranges and over
//! slices, arrays and `Vec`s with `.iter()`, `.zip(..)`, `.enumerate()`;
//! `while`; `loop`; `break`/`continue` with labels; early `return`), local
//! arrays written element by element, `#[derive(Differentiable)]` parameter
//! structs (by reference, with their fields and elements), calls of other
//! `#[differentiable]` functions and methods, tuple and struct results,
//! [`no_grad`], and hand-written derivatives with
//! [`macro@derivative`]. The [`guide`] has a runnable example of each,
//! and lists what is rejected and why.
//!
//! The elementary functions, in method form `x.sin()` or path form
//! `T::sin(x)`, `f64::sin(x)`, `Real::sin(x)`, `<T as Real>::sin(x)`:
//! `powi powf sqrt cbrt exp exp2 exp_m1 ln log log2 log10 ln_1p sin cos tan
//! asin acos atan atan2 sinh cosh tanh asinh acosh atanh abs signum max min
//! hypot recip mul_add clamp sigmoid softplus` (the last two are
//! [`Real`] methods only, with no `f64` inherent twin). Anything that does not depend on an active
//! value (integer arithmetic, comparisons, calls of any function on
//! constants) is evaluated as written and is a constant for the gradient.
//!
//! ## Causal models
//!
//! [`graph::CausalGraph`], [`data::Dataset`], [`scm::Scm`] and
//! [`fit`] build, fit (through burn) and query structural causal models;
//! [`context`] fits one model jointly across environments, interventional
//! conditions and time steps;
//! [`models::scm5`] is the bundled benchmark model; [`answer`] gives
//! query answers as the JSON objects the command-line tool and the server
//! share.
//!
//! ## Conventions at non-differentiable points
//!
//! `abs'(0) = 0`; `max(a, b)` and `min(a, b)` give half the cotangent to each
//! operand on a tie; `clamp(x, lo, hi)` gives half to `x` and half to the
//! bound when `x` equals it; `signum` has derivative 0. Elsewhere the
//! derivative follows the formula, so it is infinite or NaN where the
//! function's derivative is (`sqrt` at 0, `ln` at 0).
//!
//! ## Checking gradients
//!
//! [`check`] compares any gradient with central finite differences and
//! reports the worst component.
//!
//! ## Parameter structs and second derivatives
//!
//! [`Differentiable`] values (floats, arrays, `Vec`s, and structs with
//! `#[derive(Differentiable)]`) have a [`Tangent`] of the same shape, which
//! gradients accumulate into and optimizers step along
//! ([`Differentiable::move_along`]). [`Dual`] numbers implement [`Real`], so
//! a generic gradient run on them gives Hessian-vector products and
//! [`hessian`]s (forward over reverse).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

// Lets the generated `::causalgrad::..` paths resolve inside this crate too.
extern crate self as causalgrad;

pub mod answer;
pub mod check;
pub mod context;
pub mod data;
pub mod diff;
pub mod discover;
pub mod dual;
mod error;
pub mod fit;
pub mod formula;
#[doc = include_str!("../docs/formulas.md")]
pub mod formula_guide {}
pub mod graph;
pub mod guide;
#[cfg(feature = "burn")]
#[doc = include_str!("../docs/burn.md")]
pub mod burn_bridge {}
#[doc = include_str!("../docs/macro.md")]
pub mod macro_guide {}
#[cfg(feature = "burn")]
#[doc = include_str!("../docs/scm.md")]
pub mod causal_models {}
pub mod lanes;
pub mod models;
#[cfg(feature = "burn")]
mod pack;
pub mod prelude;
pub mod real;
pub mod scm;
pub mod uncertainty;

/// What code generated by `#[differentiable]` names; not for direct use.
#[doc(hidden)]
pub mod __private {
    /// Fixed-capacity tapes for loops with a constant trip count.
    pub use arrayvec::ArrayVec;

    /// Element `index` of the tangent of a local `Vec` that grows by
    /// `push`, extended with zeros when the reverse sweep reaches an element
    /// before it has one.
    #[inline]
    pub fn grow<T: num_traits::Zero + Clone>(tangent: &mut Vec<T>, index: usize) -> &mut T {
        if tangent.len() <= index {
            tangent.resize(index + 1, T::zero());
        }
        &mut tangent[index]
    }

    /// The cotangent of the element a `push` appended at `index`, leaving
    /// zero in its place: the reverse of the push.
    #[inline]
    pub fn take<T: num_traits::Zero>(tangent: &mut [T], index: usize) -> T {
        match tangent.get_mut(index) {
            Some(entry) => core::mem::replace(entry, T::zero()),
            None => T::zero(),
        }
    }

    /// Adds a callee's cotangent into the tangent of a local `Vec` that
    /// grows by `push` (and may be shorter than the cotangent).
    #[inline]
    pub fn accumulate_grown<T: crate::Tangent + num_traits::Zero + Clone>(
        tangent: &mut Vec<T>,
        cotangent: Vec<T>,
    ) {
        if tangent.len() < cotangent.len() {
            tangent.resize(cotangent.len(), T::zero());
        }
        for (entry, add) in tangent.iter_mut().zip(cotangent) {
            entry.accumulate(add);
        }
    }
}

pub use causalgrad_macros::Differentiable;
pub use causalgrad_macros::{derivative, differentiable};
pub use diff::{hessian, hessian_vector_product, Differentiable, Rescale, Tangent};
pub use diff::{no_grad, stop_gradient, DiffFn, Pullback, PullbackFn};
pub use dual::Dual;
pub use error::Error;
pub use real::Real;
