//! Re-instantiating a value at another scalar type.

use crate::Real;

/// A value generic over its scalar type, rebuilt at scalar type `U` by
/// mapping every scalar: how parameters are lifted into lanes
/// ([`F32x8`](crate::lanes::F32x8)) to evaluate eight rows at once.
///
/// Implemented for every [`Real`] (mapped directly), arrays and `Vec`s, and
/// by `#[derive(Differentiable)]` for structs generic over exactly one
/// `T: Real`.
///
/// ```
/// use causalgrad::{Differentiable, Real, Rescale};
///
/// #[derive(Differentiable, Clone, Debug, PartialEq)]
/// struct P<T: Real> { a: T, w: [T; 2] }
///
/// let p = P { a: 1.0f32, w: [2.0, 3.0] };
/// let q: P<f64> = p.rescale(&mut |v| f64::from(v) * 10.0);
/// assert_eq!(q, P { a: 10.0, w: [20.0, 30.0] });
/// ```
pub trait Rescale<U: Real> {
    /// The scalar type of `self`.
    type Scalar: Real;
    /// `Self` at scalar type `U`.
    type Output;

    /// Maps every scalar with `f`.
    fn rescale(&self, f: &mut impl FnMut(Self::Scalar) -> U) -> Self::Output;
}

impl<T: Real, U: Real> Rescale<U> for T {
    type Scalar = T;
    type Output = U;

    #[inline]
    fn rescale(&self, f: &mut impl FnMut(T) -> U) -> U {
        f(*self)
    }
}

impl<A: Rescale<U>, U: Real, const N: usize> Rescale<U> for [A; N] {
    type Scalar = A::Scalar;
    type Output = [A::Output; N];

    fn rescale(&self, f: &mut impl FnMut(A::Scalar) -> U) -> Self::Output {
        core::array::from_fn(|i| self[i].rescale(f))
    }
}

impl<A: Rescale<U>, U: Real> Rescale<U> for Vec<A> {
    type Scalar = A::Scalar;
    type Output = Vec<A::Output>;

    fn rescale(&self, f: &mut impl FnMut(A::Scalar) -> U) -> Self::Output {
        self.iter().map(|value| value.rescale(f)).collect()
    }
}
