//! Parameters and their tangents: the traits that let gradients flow through
//! structs, arrays and vectors, not only through scalars.
//!
//! A [`Differentiable`] value (a model's parameters) has a [`Tangent`] type
//! (its gradient) of the same shape: `f64` is its own tangent, `[T; N]` has
//! `[T::Tangent; N]`, `Vec<T>` has `Vec<T::Tangent>`, and
//! `#[derive(Differentiable)]` gives a struct `P` a tangent struct
//! `PTangent` with the same fields.
//!
//! ```
//! use causalgrad::{Differentiable, Tangent};
//!
//! let mut params = [1.0f64, 2.0, 3.0];
//! let mut grad = params.zero_tangent();
//! grad.accumulate([0.5, 0.0, -1.0]);
//! grad.scale(-0.1); // a gradient-descent step of rate 0.1
//! params.move_along(&grad);
//! assert_eq!(params, [0.95, 2.0, 3.1]);
//! assert_eq!(grad.num_scalars(), 3);
//! ```

use crate::real::Real;

/// A value that gradients flow through: model parameters, or any argument
/// of a differentiable function that is not a plain scalar.
///
/// Implemented for every [`Real`] type (`f32`, `f64`, [`Dual`](crate::Dual); each its own tangent), for
/// arrays `[T; N]`, `Vec<T>` and slices `[T]` of differentiable elements,
/// and for structs with named fields by `#[derive(Differentiable)]`.
///
/// The tangent has the shape of the value (array and `Vec` lengths
/// included), and [`Differentiable::for_each_scalar_mut`] visits the
/// scalars in the same order as [`Tangent::for_each_scalar`] visits the
/// tangent's, so the two can be zipped (for example by an optimizer that
/// keeps its state in flat vectors).
///
/// ```
/// use causalgrad::{Differentiable, Real, Tangent};
///
/// #[derive(Differentiable)]
/// struct Mechanism<T: Real> {
///     gain: T,
///     weights: [T; 2],
///     #[no_diff]
///     name: &'static str, // a constant: not in the tangent
/// }
///
/// let mut m = Mechanism { gain: 1.0, weights: [0.5, -0.5], name: "x3" };
/// // The generated tangent struct has the same differentiable fields.
/// let grad = MechanismTangent { gain: 2.0, weights: [1.0, 0.0] };
/// assert_eq!(m.zero_tangent().num_scalars(), 3);
/// m.move_along(&(grad * -0.1)); // one gradient-descent step
/// assert_eq!((m.gain, m.weights, m.name), (0.8, [0.4, -0.5], "x3"));
/// ```
///
/// Methods that both traits have (`for_each_scalar_mut`) are ambiguous on
/// types that are both (`f64`, arrays and `Vec`s of floats) when both
/// traits are in scope: call them as `Differentiable::for_each_scalar_mut(
/// &mut x, ..)` or `Tangent::for_each_scalar_mut(&mut g, ..)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not differentiable",
    note = "derive it with `#[derive(Differentiable)]`, or keep this argument constant by naming the active ones in `#[differentiable(wrt(..))]`",
    note = "a field of a `#[derive(Differentiable)]` struct can be kept constant with `#[no_diff]`"
)]
pub trait Differentiable {
    /// The gradient of a value of this type: same shape, same scalars.
    type Tangent: Tangent;

    /// A tangent of zeros with the shape of `self` (Vec lengths included).
    fn zero_tangent(&self) -> Self::Tangent;

    /// `self += step`, component by component (an optimizer's update).
    ///
    /// # Panics
    ///
    /// For `Vec` and slices, if `step` does not have the length of `self`.
    fn move_along(&mut self, step: &Self::Tangent);

    /// Visits every differentiable scalar of `self` mutably, in the same
    /// order as [`Tangent::for_each_scalar`] visits the tangent's.
    fn for_each_scalar_mut(&mut self, f: &mut impl FnMut(&mut <Self::Tangent as Tangent>::Scalar));
}

/// The gradient (or any tangent vector) of a [`Differentiable`] value: it can
/// be added, scaled and walked scalar by scalar.
///
/// ```
/// use causalgrad::Tangent;
///
/// let mut g = vec![[1.0f64, 2.0], [3.0, 4.0]];
/// g.accumulate(vec![[1.0, 1.0], [1.0, 1.0]]);
/// g.scale(0.5);
/// let mut flat = Vec::new();
/// g.for_each_scalar(&mut |x| flat.push(x));
/// assert_eq!(flat, [1.0, 1.5, 2.0, 2.5]);
/// assert_eq!(g.zero_like(), vec![[0.0, 0.0], [0.0, 0.0]]);
/// ```
pub trait Tangent: Clone + core::fmt::Debug {
    /// The scalar type of every component.
    type Scalar: Real;

    /// `self += other`: used by generated reverse sweeps to accumulate
    /// cotangents into fields, array elements and whole sub-structs.
    ///
    /// # Panics
    ///
    /// For `Vec`, if the lengths differ. Tangents built with
    /// [`Differentiable::zero_tangent`] from the same value always agree, so
    /// generated code never panics here.
    fn accumulate(&mut self, other: Self);

    /// `self *= factor`, component by component.
    fn scale(&mut self, factor: Self::Scalar);

    /// A tangent of zeros with the same shape.
    fn zero_like(&self) -> Self;

    /// Visits every scalar component, in order.
    fn for_each_scalar(&self, f: &mut impl FnMut(Self::Scalar));

    /// Visits every scalar component mutably, in the same order.
    fn for_each_scalar_mut(&mut self, f: &mut impl FnMut(&mut Self::Scalar));

    /// The number of scalar components.
    fn num_scalars(&self) -> usize {
        let mut count = 0;
        self.for_each_scalar(&mut |_| count += 1);
        count
    }
}

/// A scalar type that is its own tangent.
macro_rules! impl_scalar {
    ($(#[$doc:meta])* impl<$($param:ident: $bound:path),*> for $t:ty) => {
        impl<$($param: $bound),*> Differentiable for $t {
            type Tangent = $t;

            #[inline]
            fn zero_tangent(&self) -> Self::Tangent {
                <$t as num_traits::Zero>::zero()
            }

            #[inline]
            fn move_along(&mut self, step: &Self::Tangent) {
                *self += *step;
            }

            #[inline]
            fn for_each_scalar_mut(&mut self, f: &mut impl FnMut(&mut $t)) {
                f(self);
            }
        }

        impl<$($param: $bound),*> Tangent for $t {
            type Scalar = $t;

            #[inline]
            fn accumulate(&mut self, other: Self) {
                *self += other;
            }

            #[inline]
            fn scale(&mut self, factor: Self::Scalar) {
                *self *= factor;
            }

            #[inline]
            fn zero_like(&self) -> Self {
                <$t as num_traits::Zero>::zero()
            }

            #[inline]
            fn for_each_scalar(&self, f: &mut impl FnMut($t)) {
                f(*self);
            }

            #[inline]
            fn for_each_scalar_mut(&mut self, f: &mut impl FnMut(&mut $t)) {
                f(self);
            }

            #[inline]
            fn num_scalars(&self) -> usize {
                1
            }
        }
    };
}

// Every real number type (f32, f64, `Dual`, and user types implementing
// `Real`) is its own tangent, so structs generic over `T: Real` derive
// `Differentiable` with no further bound.
impl_scalar!(impl<T: Real> for T);

impl<T: Differentiable, const N: usize> Differentiable for [T; N] {
    type Tangent = [T::Tangent; N];

    fn zero_tangent(&self) -> Self::Tangent {
        core::array::from_fn(|i| self[i].zero_tangent())
    }

    fn move_along(&mut self, step: &Self::Tangent) {
        for (x, s) in self.iter_mut().zip(step) {
            x.move_along(s);
        }
    }

    fn for_each_scalar_mut(&mut self, f: &mut impl FnMut(&mut <Self::Tangent as Tangent>::Scalar)) {
        for x in self {
            x.for_each_scalar_mut(f);
        }
    }
}

impl<T: Tangent, const N: usize> Tangent for [T; N] {
    type Scalar = T::Scalar;

    fn accumulate(&mut self, other: Self) {
        for (x, o) in self.iter_mut().zip(other) {
            x.accumulate(o);
        }
    }

    fn scale(&mut self, factor: Self::Scalar) {
        for x in self {
            x.scale(factor);
        }
    }

    fn zero_like(&self) -> Self {
        core::array::from_fn(|i| self[i].zero_like())
    }

    fn for_each_scalar(&self, f: &mut impl FnMut(Self::Scalar)) {
        for x in self {
            x.for_each_scalar(f);
        }
    }

    fn for_each_scalar_mut(&mut self, f: &mut impl FnMut(&mut Self::Scalar)) {
        for x in self {
            x.for_each_scalar_mut(f);
        }
    }

    fn num_scalars(&self) -> usize {
        self.iter().map(Tangent::num_scalars).sum()
    }
}

/// Elementwise on the slice; the tangent is a `Vec` of the same length.
impl<T: Differentiable> Differentiable for [T] {
    type Tangent = Vec<T::Tangent>;

    fn zero_tangent(&self) -> Self::Tangent {
        self.iter().map(Differentiable::zero_tangent).collect()
    }

    fn move_along(&mut self, step: &Self::Tangent) {
        assert_eq!(
            self.len(),
            step.len(),
            "move_along: a slice of length {} cannot move along a tangent of length {}",
            self.len(),
            step.len()
        );
        for (x, s) in self.iter_mut().zip(step) {
            x.move_along(s);
        }
    }

    fn for_each_scalar_mut(&mut self, f: &mut impl FnMut(&mut <Self::Tangent as Tangent>::Scalar)) {
        for x in self {
            x.for_each_scalar_mut(f);
        }
    }
}

impl<T: Differentiable> Differentiable for Vec<T> {
    type Tangent = Vec<T::Tangent>;

    fn zero_tangent(&self) -> Self::Tangent {
        self.as_slice().zero_tangent()
    }

    fn move_along(&mut self, step: &Self::Tangent) {
        self.as_mut_slice().move_along(step);
    }

    fn for_each_scalar_mut(&mut self, f: &mut impl FnMut(&mut <Self::Tangent as Tangent>::Scalar)) {
        self.as_mut_slice().for_each_scalar_mut(f);
    }
}

impl<T: Tangent> Tangent for Vec<T> {
    type Scalar = T::Scalar;

    /// Elementwise `self += other`.
    ///
    /// # Panics
    ///
    /// If the lengths differ. Shapes come from
    /// [`Differentiable::zero_tangent`], so they always agree in generated
    /// code.
    fn accumulate(&mut self, other: Self) {
        assert_eq!(
            self.len(),
            other.len(),
            "Tangent::accumulate: a tangent of length {} cannot accumulate one of length {}",
            self.len(),
            other.len()
        );
        for (x, o) in self.iter_mut().zip(other) {
            x.accumulate(o);
        }
    }

    fn scale(&mut self, factor: Self::Scalar) {
        for x in self {
            x.scale(factor);
        }
    }

    fn zero_like(&self) -> Self {
        self.iter().map(Tangent::zero_like).collect()
    }

    fn for_each_scalar(&self, f: &mut impl FnMut(Self::Scalar)) {
        for x in self {
            x.for_each_scalar(f);
        }
    }

    fn for_each_scalar_mut(&mut self, f: &mut impl FnMut(&mut Self::Scalar)) {
        for x in self {
            x.for_each_scalar_mut(f);
        }
    }

    fn num_scalars(&self) -> usize {
        self.iter().map(Tangent::num_scalars).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dual;

    fn flat<G: Tangent>(g: &G) -> Vec<G::Scalar> {
        let mut out = Vec::new();
        g.for_each_scalar(&mut |x| out.push(x));
        out
    }

    fn flat_params<P: Differentiable + ?Sized>(p: &mut P) -> Vec<<P::Tangent as Tangent>::Scalar> {
        let mut out = Vec::new();
        p.for_each_scalar_mut(&mut |x| out.push(*x));
        out
    }

    #[test]
    fn scalars_are_their_own_tangent() {
        let mut x = 2.5f64;
        let mut g = x.zero_tangent();
        assert_eq!(g, 0.0);
        g.accumulate(1.5);
        g.accumulate(0.5);
        g.scale(-2.0);
        assert_eq!(g, -4.0);
        x.move_along(&g);
        assert_eq!(x, -1.5);
        assert_eq!(g.num_scalars(), 1);
        assert_eq!(g.zero_like(), 0.0);
        Differentiable::for_each_scalar_mut(&mut x, &mut |s| *s *= 2.0);
        assert_eq!(x, -3.0);

        let mut y = 1.0f32;
        y.move_along(&0.25);
        assert_eq!(y, 1.25f32);
        assert_eq!(flat(&y), [1.25f32]);
    }

    #[test]
    fn nested_arrays_keep_shape_and_order() {
        let mut p = [[1.0f64, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let mut g = p.zero_tangent();
        assert_eq!(g, [[0.0; 2]; 3]);
        assert_eq!(g.num_scalars(), 6);
        let mut k = 0.0;
        Tangent::for_each_scalar_mut(&mut g, &mut |s| {
            k += 1.0;
            *s = k;
        });
        assert_eq!(g, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        assert_eq!(flat(&g), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        g.accumulate([[1.0; 2]; 3]);
        g.scale(0.5);
        assert_eq!(g, [[1.0, 1.5], [2.0, 2.5], [3.0, 3.5]]);
        p.move_along(&g);
        assert_eq!(p, [[2.0, 3.5], [5.0, 6.5], [8.0, 9.5]]);
        assert_eq!(flat_params(&mut p), [2.0, 3.5, 5.0, 6.5, 8.0, 9.5]);
        assert_eq!(g.zero_like(), [[0.0; 2]; 3]);
    }

    #[test]
    fn empty_arrays_and_vecs_have_no_scalars() {
        let p: [f64; 0] = [];
        assert_eq!(p.zero_tangent().num_scalars(), 0);
        let v: Vec<[f64; 3]> = Vec::new();
        assert_eq!(v.zero_tangent().num_scalars(), 0);
    }

    #[test]
    fn vec_tangent_has_the_lengths_of_the_value() {
        let mut p = vec![vec![1.0f64], vec![2.0, 3.0], vec![]];
        let mut g = p.zero_tangent();
        assert_eq!(g, vec![vec![0.0], vec![0.0, 0.0], vec![]]);
        assert_eq!(g.num_scalars(), 3);
        g.accumulate(vec![vec![1.0], vec![2.0, 4.0], vec![]]);
        g.scale(2.0);
        p.move_along(&g);
        assert_eq!(p, vec![vec![3.0], vec![6.0, 11.0], vec![]]);
        assert_eq!(flat(&g), [2.0, 4.0, 8.0]);
        assert_eq!(flat_params(&mut p), [3.0, 6.0, 11.0]);
        let mut z = g.zero_like();
        Tangent::for_each_scalar_mut(&mut z, &mut |s| *s += 1.0);
        assert_eq!(z, vec![vec![1.0], vec![1.0, 1.0], vec![]]);
    }

    #[test]
    fn slices_move_elementwise() {
        let mut storage = [1.0f64, 2.0, 3.0, 4.0];
        let slice: &mut [f64] = &mut storage[1..];
        let g = slice.zero_tangent();
        assert_eq!(g, vec![0.0; 3]);
        slice.move_along(&vec![1.0, 1.0, 1.0]);
        slice.for_each_scalar_mut(&mut |s| *s *= 10.0);
        assert_eq!(storage, [1.0, 30.0, 40.0, 50.0]);
    }

    #[test]
    #[should_panic(expected = "cannot accumulate one of length 2")]
    fn vec_accumulate_panics_on_length_mismatch() {
        let mut g = vec![0.0f64; 3];
        g.accumulate(vec![1.0, 2.0]);
    }

    #[test]
    #[should_panic(expected = "cannot move along a tangent of length 1")]
    fn vec_move_along_panics_on_length_mismatch() {
        let mut p = vec![0.0f64; 3];
        p.move_along(&vec![1.0]);
    }

    #[test]
    fn dual_numbers_are_their_own_tangent() {
        let mut p = [Dual::new(1.0f64, 1.0), Dual::new(2.0, 0.0)];
        let mut g = p.zero_tangent();
        g.accumulate([Dual::new(0.5, 1.0), Dual::new(1.0, 0.0)]);
        g.scale(Dual::constant(2.0));
        p.move_along(&g);
        assert_eq!(p, [Dual::new(2.0, 3.0), Dual::new(4.0, 0.0)]);
    }
}
