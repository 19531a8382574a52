//! Gradient barriers.

/// Passes `value` through unchanged and stops gradients inside
/// `#[differentiable]` code: the expression is evaluated but treated as a
/// constant by the reverse sweep.
///
/// Use it for values that should not be differentiated (a detached
/// normaliser) and to call functions the macro cannot differentiate.
///
/// ```
/// use causalgrad::{differentiable, no_grad};
///
/// #[differentiable]
/// fn detached(x: f64) -> f64 {
///     x * no_grad(x)
/// }
/// // d/dx [x * c] with c = x held constant is c.
/// assert_eq!(detached::value_and_grad(3.0), (9.0, 3.0));
/// ```
#[inline(always)]
pub fn no_grad<T>(value: T) -> T {
    value
}

/// Another name for [`no_grad`], as in JAX (`jax.lax.stop_gradient`).
///
/// ```
/// use causalgrad::{differentiable, stop_gradient};
///
/// #[differentiable]
/// fn f(x: f64) -> f64 {
///     stop_gradient(x.sin()) + x
/// }
/// assert_eq!(f::value_and_grad(0.5).1, 1.0);
/// ```
#[inline(always)]
pub fn stop_gradient<T>(value: T) -> T {
    value
}
