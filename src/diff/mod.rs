//! Runtime support for generated gradient code: the traits that let other
//! code hold and call a `#[differentiable]` function generically.
//!
//! For a function `f`, the macro generates `f::Function`, a value whose type
//! implements [`DiffFn`]; its pullbacks implement [`Pullback`]. Code that is
//! generic over differentiable functions (the causal-model fitting code,
//! user training loops) takes `D: DiffFn<Args>`.
//!
//! ```
//! use causalgrad::{differentiable, DiffFn, Pullback};
//!
//! #[differentiable]
//! fn scale(a: f64, x: f64) -> f64 {
//!     a * x
//! }
//!
//! fn grad_at_one<D: DiffFn<(f64, f64), Output = f64>>(d: &D) -> D::Grad {
//!     let (_, pullback) = d.pullback((2.0, 3.0));
//!     pullback.pull(1.0)
//! }
//! assert_eq!(grad_at_one(&scale::Function), (3.0, 2.0));
//! ```

use core::fmt;
use core::marker::PhantomData;

mod differentiable;
mod hessian;
mod rescale;
mod stop;

pub use differentiable::{Differentiable, Tangent};
pub use hessian::{hessian, hessian_vector_product};
pub use rescale::Rescale;
pub use stop::{no_grad, stop_gradient};

/// A differentiable function of the argument tuple `Args`.
///
/// Implemented by the type of `f::Function`, which `#[differentiable]`
/// generates beside each function `f` with a scalar result. `Args` is the
/// tuple of all the function's arguments, active or not; `Grad` holds the
/// gradient with respect to the active ones (a single value for one active
/// argument, a tuple in argument order for several).
pub trait DiffFn<Args> {
    /// The function's result.
    type Output;
    /// The gradient with respect to the active arguments.
    type Grad;

    /// Whether the function's control flow cannot depend on its active
    /// values (no branch, no data-dependent loop, no call), so that it can
    /// run on SIMD lanes ([`F32x8`](crate::lanes::F32x8)) where comparisons
    /// between lanes have no single answer. Set by `#[differentiable]`.
    const BRANCH_FREE: bool = false;

    /// Evaluates the function (the untouched primal).
    fn call(&self, args: Args) -> Self::Output;

    /// Evaluates the function and its gradient (the seed is `1`).
    fn value_and_grad(&self, args: Args) -> (Self::Output, Self::Grad);

    /// Evaluates the function and returns the pullback at `args`.
    fn pullback(
        &self,
        args: Args,
    ) -> (
        Self::Output,
        impl Pullback<Seed = Self::Output, Grad = Self::Grad> + Clone,
    );
}

/// A vector-Jacobian product at a fixed point: maps an output cotangent
/// (the seed) to the cotangents of the active inputs.
///
/// Generated pullbacks hold only the intermediate values the reverse sweep
/// reads and can be applied any number of times.
///
/// [`pull_into`](Pullback::pull_into) adds the cotangents into a gradient
/// the caller already holds, without building a zeroed one first: a loop
/// that sums the gradients of many evaluations (a loss over a batch) calls
/// it on one running total.
///
/// ```
/// use causalgrad::{differentiable, DiffFn, Pullback};
///
/// #[differentiable]
/// fn scale(a: f64, x: f64) -> f64 {
///     a * x
/// }
///
/// let mut total = (0.0, 0.0);
/// for x in [1.0, 2.0, 3.0] {
///     let (_, pullback) = scale::Function.pullback((2.0, x));
///     pullback.pull_into(1.0, &mut total);
/// }
/// assert_eq!(total, (6.0, 6.0));
/// ```
pub trait Pullback {
    /// The output cotangent type (the function's output type).
    type Seed;
    /// The input cotangents (the function's gradient type).
    type Grad;

    /// Applies the vector-Jacobian product to `seed`.
    fn pull(&self, seed: Self::Seed) -> Self::Grad;

    /// Adds the vector-Jacobian product of `seed` to `grad`: the same as
    /// adding `self.pull(seed)` to it, without the intermediate gradient.
    fn pull_into(&self, seed: Self::Seed, grad: &mut Self::Grad);
}

/// A pullback made from a reverse sweep that adds into a gradient: what
/// `f::pullback` returns.
///
/// It holds a maker of the zero gradient at the point it was made at, from
/// which [`pull`](PullbackFn::pull) starts; `pull_into` never makes one.
/// `pull` and `pull_into` are inherent methods too, so calling them needs
/// no import.
#[derive(Clone, Copy)]
pub struct PullbackFn<S, G, Z, F> {
    zero: Z,
    function: F,
    marker: PhantomData<fn(S) -> G>,
}

impl<S, G, Z: Fn() -> G, F: Fn(S, &mut G)> PullbackFn<S, G, Z, F> {
    /// Wraps a reverse sweep that adds the cotangents of a seed into a
    /// gradient, and the maker of the zero gradient `pull` starts from.
    pub fn new(zero: Z, function: F) -> Self {
        PullbackFn {
            zero,
            function,
            marker: PhantomData,
        }
    }

    /// Applies the vector-Jacobian product to `seed`.
    #[inline]
    pub fn pull(&self, seed: S) -> G {
        let mut grad = (self.zero)();
        (self.function)(seed, &mut grad);
        grad
    }

    /// Adds the vector-Jacobian product of `seed` to `grad`.
    #[inline]
    pub fn pull_into(&self, seed: S, grad: &mut G) {
        (self.function)(seed, grad);
    }
}

impl<S, G, Z: Fn() -> G, F: Fn(S, &mut G)> Pullback for PullbackFn<S, G, Z, F> {
    type Seed = S;
    type Grad = G;

    #[inline]
    fn pull(&self, seed: S) -> G {
        PullbackFn::pull(self, seed)
    }

    #[inline]
    fn pull_into(&self, seed: S, grad: &mut G) {
        PullbackFn::pull_into(self, seed, grad);
    }
}

impl<S, G, Z, F> fmt::Debug for PullbackFn<S, G, Z, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PullbackFn")
    }
}
