//! SIMD lanes as one [`Real`]: the generated code of a branch-free
//! function, instantiated at [`F32x8`] or [`F32x16`], evaluates eight or
//! sixteen rows at once with vectorised elementary functions (from the
//! `wide` crate).
//!
//! ```
//! use causalgrad::lanes::F32x8;
//! use causalgrad::{differentiable, Real};
//!
//! #[differentiable]
//! fn bump<T: Real>(g: T, x: T) -> T {
//!     (-g * x * x).exp()
//! }
//! let x = F32x8::from_array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]);
//! let (y, (dg, _)) = bump::value_and_grad(F32x8::splat(0.5), x);
//! for (lane, x) in x.to_array().into_iter().enumerate() {
//!     let (expected, (expected_dg, _)) = bump::value_and_grad(0.5f32, x);
//!     assert!((y.to_array()[lane] - expected).abs() < 1e-6);
//!     assert!((dg.to_array()[lane] - expected_dg).abs() < 1e-6);
//! }
//! ```
//!
//! `wide` picks its implementation when the crate is compiled: a vector is
//! one register only where the build enables the matching instructions
//! (`avx` for eight lanes, `avx512f` for sixteen, for example with
//! `RUSTFLAGS="-C target-cpu=native"` on a machine that has them), and is
//! emulated with narrower registers otherwise.
//!
//! Comparisons between lane vectors order them only when every lane agrees
//! (`partial_cmp` is `None` otherwise), so code that branches on an active
//! value must not run on lanes; the mechanism kernels only use lanes for
//! functions the macro reports as branch-free.

use core::cmp::Ordering;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use num_traits::{One, Zero};
use wide::{f32x16, f32x8};

use crate::real::Real;

/// The lane type and its `Real` implementation, for one `wide` vector.
macro_rules! lanes {
    ($name:ident, $wide:ident, $n:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        pub struct $name(pub $wide);

        impl $name {
            /// The number of lanes.
            pub const LANES: usize = $n;

            /// Every lane set to `value`.
            #[inline(always)]
            pub fn splat(value: f32) -> Self {
                $name($wide::splat(value))
            }

            /// The lanes from an array.
            #[inline(always)]
            pub fn from_array(values: [f32; $n]) -> Self {
                $name($wide::new(values))
            }

            /// The lanes from the first [`Self::LANES`] values of `values`.
            ///
            /// # Panics
            /// If `values` is shorter than that.
            #[inline(always)]
            pub fn from_slice(values: &[f32]) -> Self {
                let array: [f32; $n] = values[..$n].try_into().expect("a slice of the lane count");
                $name($wide::new(array))
            }

            /// `values[start .. start + count]` as lanes, zeros past
            /// `count` (the last, partial group of a column).
            ///
            /// # Panics
            /// If `count` is over [`Self::LANES`] or the range is outside `values`.
            #[inline(always)]
            pub fn load_padded(values: &[f32], start: usize, count: usize) -> Self {
                if count == $n {
                    return $name::from_slice(&values[start..start + $n]);
                }
                let mut array = [0.0f32; $n];
                array[..count].copy_from_slice(&values[start..start + count]);
                $name::from_array(array)
            }

            /// These lanes with the lanes from `count` on set to zero.
            #[inline(always)]
            pub fn masked(self, count: usize) -> Self {
                if count >= $n {
                    return self;
                }
                let mut array = self.to_array();
                array[count..].fill(0.0);
                $name::from_array(array)
            }

            /// The lanes as an array.
            #[inline(always)]
            pub fn to_array(self) -> [f32; $n] {
                self.0.to_array()
            }

            /// The sum of the lanes.
            pub fn sum(self) -> f32 {
                self.to_array().iter().sum()
            }

            fn map(self, f: impl Fn(f32) -> f32) -> Self {
                $name::from_array(self.to_array().map(f))
            }

            fn zip(self, other: Self, f: impl Fn(f32, f32) -> f32) -> Self {
                let (a, b) = (self.to_array(), other.to_array());
                $name::from_array(core::array::from_fn(|i| f(a[i], b[i])))
            }
        }

        binary_ops!(
            $name,
            Add add AddAssign add_assign,
            Sub sub SubAssign sub_assign,
            Mul mul MulAssign mul_assign,
            Div div DivAssign div_assign
        );

        impl Neg for $name {
            type Output = Self;
            #[inline(always)]
            fn neg(self) -> Self {
                $name(-self.0)
            }
        }

        impl Zero for $name {
            fn zero() -> Self {
                $name::splat(0.0)
            }
            fn is_zero(&self) -> bool {
                self.to_array().iter().all(|v| *v == 0.0)
            }
        }

        impl One for $name {
            fn one() -> Self {
                $name::splat(1.0)
            }
        }

        impl PartialOrd for $name {
            /// The ordering shared by every lane, if they all agree.
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                let (a, b) = (self.to_array(), other.to_array());
                let first = a[0].partial_cmp(&b[0])?;
                (1..$n)
                    .all(|i| a[i].partial_cmp(&b[i]) == Some(first))
                    .then_some(first)
            }
        }

        impl Real for $name {
            #[inline(always)]
            fn from_f64(value: f64) -> Self {
                $name::splat(value as f32)
            }
            #[inline(always)]
            fn sign(self) -> Self {
                let zero = $wide::splat(0.0);
                let positive = self.0.simd_gt(zero).bitselect($wide::splat(1.0), zero);
                let negative = self.0.simd_lt(zero).bitselect($wide::splat(1.0), zero);
                // NaN lanes stay NaN: 0 * NaN.
                $name(positive - negative + self.0 * zero)
            }
            fn powi(self, n: i32) -> Self {
                let mut base = if n < 0 { $name::one() / self } else { self };
                let mut exponent = n.unsigned_abs();
                let mut result = $name::one();
                while exponent > 0 {
                    if exponent & 1 == 1 {
                        result *= base;
                    }
                    base *= base;
                    exponent >>= 1;
                }
                result
            }
            fn powf(self, n: Self) -> Self {
                $name(self.0.powf_simd(n.0))
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                $name(self.0.sqrt())
            }
            fn cbrt(self) -> Self {
                $name(self.0.cbrt())
            }
            #[inline(always)]
            fn exp(self) -> Self {
                $name(self.0.exp())
            }
            fn exp2(self) -> Self {
                $name(self.0.exp2())
            }
            fn exp_m1(self) -> Self {
                $name(self.0.exp_m1())
            }
            #[inline(always)]
            fn ln(self) -> Self {
                $name(self.0.ln())
            }
            fn log(self, base: Self) -> Self {
                $name(self.0.ln() / base.0.ln())
            }
            fn log2(self) -> Self {
                $name(self.0.ln() * $wide::splat(core::f32::consts::LOG2_E))
            }
            fn log10(self) -> Self {
                $name(self.0.ln() * $wide::splat(core::f32::consts::LOG10_E))
            }
            fn ln_1p(self) -> Self {
                $name(self.0.ln_1p())
            }
            #[inline(always)]
            fn sin(self) -> Self {
                $name(self.0.sin_cos().0)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                $name(self.0.sin_cos().1)
            }
            fn tan(self) -> Self {
                let (sin, cos) = self.0.sin_cos();
                $name(sin / cos)
            }
            fn asin(self) -> Self {
                $name(self.0.asin())
            }
            fn acos(self) -> Self {
                $name(self.0.acos())
            }
            fn atan(self) -> Self {
                $name(self.0.atan())
            }
            fn atan2(self, other: Self) -> Self {
                $name(self.0.atan2(other.0))
            }
            fn sinh(self) -> Self {
                $name(self.0.sinh())
            }
            fn cosh(self) -> Self {
                $name(self.0.cosh())
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                // The rational approximation of `Real::tanh` for `f32`, on lanes.
                use crate::real::tanh_coefficients::*;
                let s = $wide::splat;
                let x = self.0.fast_max(s(-CLAMP)).fast_min(s(CLAMP));
                let x2 = x * x;
                let p = x2 * s(A13) + s(A11);
                let p = x2 * p + s(A9);
                let p = x2 * p + s(A7);
                let p = x2 * p + s(A5);
                let p = x2 * p + s(A3);
                let p = x2 * p + s(A1);
                let q = x2 * s(B6) + s(B4);
                let q = x2 * q + s(B2);
                let q = x2 * q + s(B0);
                let linear = self.0.abs().simd_lt(s(LINEAR));
                $name(linear.bitselect(self.0, x * p / q))
            }
            fn asinh(self) -> Self {
                self.map(f32::asinh)
            }
            fn acosh(self) -> Self {
                self.map(f32::acosh)
            }
            fn atanh(self) -> Self {
                self.map(f32::atanh)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $name(self.0.abs())
            }
            fn signum(self) -> Self {
                self.map(f32::signum)
            }
            fn max(self, other: Self) -> Self {
                self.zip(other, f32::max)
            }
            fn min(self, other: Self) -> Self {
                self.zip(other, f32::min)
            }
            fn hypot(self, other: Self) -> Self {
                self.zip(other, f32::hypot)
            }
            fn recip(self) -> Self {
                $name::one() / self
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                self * a + b
            }
            fn clamp(self, min: Self, max: Self) -> Self {
                let (x, lo, hi) = (self.to_array(), min.to_array(), max.to_array());
                $name::from_array(core::array::from_fn(|i| x[i].clamp(lo[i], hi[i])))
            }
        }
    };
}

/// The arithmetic operators of a lane type, lane by lane.
macro_rules! binary_ops {
    ($name:ident, $($op:ident $method:ident $assign:ident $assign_method:ident),*) => {$(
        impl $op for $name {
            type Output = Self;
            #[inline(always)]
            fn $method(self, other: Self) -> Self {
                $name(self.0.$method(other.0))
            }
        }
        impl $assign for $name {
            #[inline(always)]
            fn $assign_method(&mut self, other: Self) {
                self.0 = self.0.$method(other.0);
            }
        }
    )*};
}

lanes!(F32x8, f32x8, 8, "Eight `f32` lanes.");
lanes!(F32x16, f32x16, 16, "Sixteen `f32` lanes.");

/// The lanes the mechanism kernels evaluate batches on
/// ([`Mechanism::from_generic_fn`](crate::scm::Mechanism::from_generic_fn)).
///
/// Sixteen: where the build targets AVX-512 that is one register per
/// value; elsewhere `wide` emulates it with narrower ones, and the longer
/// groups still halve the per-call work of the generated pullbacks (their
/// tapes and closures) per row.
pub type BatchLanes = F32x16;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every elementary function on lanes against the `f32` one, lane by lane.
    macro_rules! agree_with_f32 {
        ($name:ident, $n:literal) => {{
            let xs: [f32; $n] = core::array::from_fn(|i| 0.1 + 0.85 * (i as f32 * 0.37).fract());
            let x = $name::from_array(xs);
            let y = $name::splat(0.4);
            type Check = (&'static str, $name, fn(f32) -> f32);
            let checks: Vec<Check> = vec![
                ("exp", x.exp(), |v| v.exp()),
                ("ln", x.ln(), |v| v.ln()),
                ("sin", x.sin(), |v| v.sin()),
                ("cos", x.cos(), |v| v.cos()),
                ("tan", x.tan(), |v| v.tan()),
                ("tanh", x.tanh(), |v| Real::tanh(v)),
                ("sqrt", x.sqrt(), |v| v.sqrt()),
                ("cbrt", x.cbrt(), |v| v.cbrt()),
                ("exp2", x.exp2(), |v| v.exp2()),
                ("exp_m1", x.exp_m1(), |v| v.exp_m1()),
                ("ln_1p", x.ln_1p(), |v| v.ln_1p()),
                ("log2", x.log2(), |v| v.log2()),
                ("log10", x.log10(), |v| v.log10()),
                ("asin", x.asin(), |v| v.asin()),
                ("acos", x.acos(), |v| v.acos()),
                ("atan", x.atan(), |v| v.atan()),
                ("sinh", x.sinh(), |v| v.sinh()),
                ("cosh", x.cosh(), |v| v.cosh()),
                ("asinh", x.asinh(), |v| v.asinh()),
                ("atanh", x.atanh(), |v| v.atanh()),
                ("abs", (-x).abs(), |v| v),
                ("sign", (-x).sign(), |_| -1.0),
                ("recip", x.recip(), |v| 1.0 / v),
                ("powi", x.powi(-3), |v| v.powi(-3)),
                ("powf", x.powf(y), |v| v.powf(0.4)),
                ("atan2", x.atan2(y), |v| v.atan2(0.4)),
                ("max", x.max(y), |v| v.max(0.4)),
                ("hypot", x.hypot(y), |v| v.hypot(0.4)),
                ("log", x.log(y), |v| v.log(0.4)),
            ];
            for (name, lanes, scalar) in checks {
                for (lane, &v) in lanes.to_array().iter().zip(&xs) {
                    let expected = scalar(v);
                    assert!(
                        (lane - expected).abs() <= 2e-6 * (1.0 + expected.abs()),
                        "{name}({v}): lanes {lane}, f32 {expected}"
                    );
                }
            }
            assert!($name::splat(f32::NAN).sign().to_array()[0].is_nan());
            assert_eq!($name::splat(0.0).sign(), $name::splat(0.0));
            assert_eq!($name::from_slice(&xs).to_array(), xs);
        }};
    }

    #[test]
    fn lanes_agree_with_f32_for_every_elementary_function() {
        agree_with_f32!(F32x8, 8);
        agree_with_f32!(F32x16, 16);
    }

    #[test]
    fn comparisons_order_only_when_all_lanes_agree() {
        let a = F32x8::from_array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        assert!(a > F32x8::splat(0.0));
        assert_eq!(a.partial_cmp(&F32x8::splat(4.5)), None);
        let b = F32x16::from_array(core::array::from_fn(|i| i as f32 + 1.0));
        assert!(b > F32x16::splat(0.0));
        assert_eq!(b.partial_cmp(&F32x16::splat(4.5)), None);
    }
}
