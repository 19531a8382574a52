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
pub trait Pullback {
    /// The output cotangent type (the function's output type).
    type Seed;
    /// The input cotangents (the function's gradient type).
    type Grad;

    /// Applies the vector-Jacobian product to `seed`.
    fn pull(&self, seed: Self::Seed) -> Self::Grad;
}

/// A pullback made from a closure: what `f::pullback` returns.
///
/// `pull` is an inherent method too, so calling it needs no import.
#[derive(Clone, Copy)]
pub struct PullbackFn<S, G, F> {
    function: F,
    marker: PhantomData<fn(S) -> G>,
}

impl<S, G, F: Fn(S) -> G> PullbackFn<S, G, F> {
    /// Wraps a closure mapping an output cotangent to input cotangents.
    pub fn new(function: F) -> Self {
        PullbackFn {
            function,
            marker: PhantomData,
        }
    }

    /// Applies the vector-Jacobian product to `seed`.
    #[inline]
    pub fn pull(&self, seed: S) -> G {
        (self.function)(seed)
    }
}

impl<S, G, F: Fn(S) -> G> Pullback for PullbackFn<S, G, F> {
    type Seed = S;
    type Grad = G;

    #[inline]
    fn pull(&self, seed: S) -> G {
        (self.function)(seed)
    }
}

impl<S, G, F> fmt::Debug for PullbackFn<S, G, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PullbackFn")
    }
}
