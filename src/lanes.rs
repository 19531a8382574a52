//! Eight `f32` lanes as one [`Real`]: the generated code of a branch-free
//! function, instantiated at [`F32x8`], evaluates eight rows at once with
//! vectorised elementary functions (from the `wide` crate).
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
//! Comparisons between lane vectors order them only when every lane agrees
//! (`partial_cmp` is `None` otherwise), so code that branches on an active
//! value must not run on lanes; the mechanism kernels only use lanes for
//! functions the macro reports as branch-free.

use core::cmp::Ordering;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use num_traits::{One, Zero};
use wide::f32x8;

use crate::real::Real;

/// Eight `f32` lanes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct F32x8(pub f32x8);

impl F32x8 {
    /// Every lane set to `value`.
    pub fn splat(value: f32) -> Self {
        F32x8(f32x8::splat(value))
    }

    /// The lanes from an array.
    pub fn from_array(values: [f32; 8]) -> Self {
        F32x8(f32x8::new(values))
    }

    /// The lanes as an array.
    pub fn to_array(self) -> [f32; 8] {
        self.0.to_array()
    }

    /// The sum of the lanes.
    pub fn sum(self) -> f32 {
        self.to_array().iter().sum()
    }

    fn map(self, f: impl Fn(f32) -> f32) -> Self {
        F32x8::from_array(self.to_array().map(f))
    }

    fn zip(self, other: Self, f: impl Fn(f32, f32) -> f32) -> Self {
        let (a, b) = (self.to_array(), other.to_array());
        F32x8::from_array(core::array::from_fn(|i| f(a[i], b[i])))
    }
}

macro_rules! binary_ops {
    ($($op:ident $method:ident $assign:ident $assign_method:ident),*) => {$(
        impl $op for F32x8 {
            type Output = Self;
            #[inline(always)]
            fn $method(self, other: Self) -> Self {
                F32x8(self.0.$method(other.0))
            }
        }
        impl $assign for F32x8 {
            #[inline(always)]
            fn $assign_method(&mut self, other: Self) {
                self.0 = self.0.$method(other.0);
            }
        }
    )*};
}

binary_ops!(
    Add add AddAssign add_assign,
    Sub sub SubAssign sub_assign,
    Mul mul MulAssign mul_assign,
    Div div DivAssign div_assign
);

impl Neg for F32x8 {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        F32x8(-self.0)
    }
}

impl Zero for F32x8 {
    fn zero() -> Self {
        F32x8::splat(0.0)
    }
    fn is_zero(&self) -> bool {
        self.to_array().iter().all(|v| *v == 0.0)
    }
}

impl One for F32x8 {
    fn one() -> Self {
        F32x8::splat(1.0)
    }
}

impl PartialOrd for F32x8 {
    /// The ordering shared by every lane, if they all agree.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        let (a, b) = (self.to_array(), other.to_array());
        let first = a[0].partial_cmp(&b[0])?;
        (1..8)
            .all(|i| a[i].partial_cmp(&b[i]) == Some(first))
            .then_some(first)
    }
}

impl Real for F32x8 {
    #[inline(always)]
    fn from_f64(value: f64) -> Self {
        F32x8::splat(value as f32)
    }
    #[inline(always)]
    fn sign(self) -> Self {
        let zero = f32x8::splat(0.0);
        let positive = self.0.simd_gt(zero).bitselect(f32x8::splat(1.0), zero);
        let negative = self.0.simd_lt(zero).bitselect(f32x8::splat(1.0), zero);
        // NaN lanes stay NaN: 0 * NaN.
        F32x8(positive - negative + self.0 * zero)
    }
    fn powi(self, n: i32) -> Self {
        let mut base = if n < 0 { F32x8::one() / self } else { self };
        let mut exponent = n.unsigned_abs();
        let mut result = F32x8::one();
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
        F32x8(self.0.powf_simd(n.0))
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        F32x8(self.0.sqrt())
    }
    fn cbrt(self) -> Self {
        F32x8(self.0.cbrt())
    }
    #[inline(always)]
    fn exp(self) -> Self {
        F32x8(self.0.exp())
    }
    fn exp2(self) -> Self {
        F32x8(self.0.exp2())
    }
    fn exp_m1(self) -> Self {
        F32x8(self.0.exp_m1())
    }
    #[inline(always)]
    fn ln(self) -> Self {
        F32x8(self.0.ln())
    }
    fn log(self, base: Self) -> Self {
        F32x8(self.0.ln() / base.0.ln())
    }
    fn log2(self) -> Self {
        F32x8(self.0.ln() * f32x8::splat(core::f32::consts::LOG2_E))
    }
    fn log10(self) -> Self {
        F32x8(self.0.ln() * f32x8::splat(core::f32::consts::LOG10_E))
    }
    fn ln_1p(self) -> Self {
        F32x8(self.0.ln_1p())
    }
    #[inline(always)]
    fn sin(self) -> Self {
        F32x8(self.0.sin_cos().0)
    }
    #[inline(always)]
    fn cos(self) -> Self {
        F32x8(self.0.sin_cos().1)
    }
    fn tan(self) -> Self {
        let (sin, cos) = self.0.sin_cos();
        F32x8(sin / cos)
    }
    fn asin(self) -> Self {
        F32x8(self.0.asin())
    }
    fn acos(self) -> Self {
        F32x8(self.0.acos())
    }
    fn atan(self) -> Self {
        F32x8(self.0.atan())
    }
    fn atan2(self, other: Self) -> Self {
        F32x8(self.0.atan2(other.0))
    }
    fn sinh(self) -> Self {
        F32x8(self.0.sinh())
    }
    fn cosh(self) -> Self {
        F32x8(self.0.cosh())
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        // The rational approximation of `Real::tanh` for `f32`, on lanes.
        use crate::real::tanh_coefficients::*;
        let s = f32x8::splat;
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
        F32x8(linear.bitselect(self.0, x * p / q))
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
        F32x8(self.0.abs())
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
        F32x8::one() / self
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        self * a + b
    }
    fn clamp(self, min: Self, max: Self) -> Self {
        let (x, lo, hi) = (self.to_array(), min.to_array(), max.to_array());
        F32x8::from_array(core::array::from_fn(|i| x[i].clamp(lo[i], hi[i])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_agree_with_f32_for_every_elementary_function() {
        let xs = [0.1f32, 0.35, 0.6, 0.85, 0.2, 0.45, 0.7, 0.95];
        let x = F32x8::from_array(xs);
        let y = F32x8::splat(0.4);
        type Check = (&'static str, F32x8, fn(f32) -> f32);
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
        assert!(F32x8::splat(f32::NAN).sign().to_array()[0].is_nan());
        assert_eq!(F32x8::splat(0.0).sign(), F32x8::splat(0.0));
    }

    #[test]
    fn comparisons_order_only_when_all_lanes_agree() {
        let a = F32x8::from_array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        assert!(a > F32x8::splat(0.0));
        assert_eq!(a.partial_cmp(&F32x8::splat(4.5)), None);
    }
}
