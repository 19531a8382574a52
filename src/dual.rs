//! Forward-mode dual numbers: a value and its directional derivative.
//!
//! [`Dual`] implements [`Real`], so any code generic over `T: Real` (the
//! primal of a `#[differentiable]` function, or its generated gradient)
//! runs on it unchanged and carries a derivative along in `eps`. Running the
//! generated *reverse* sweep on dual numbers differentiates the gradient
//! once more: forward over reverse, which gives Hessian-vector products and,
//! one column at a time, the Hessian (see [`crate::diff::hessian`]).
//!
//! ```
//! use causalgrad::{Dual, Real};
//!
//! fn f<T: Real>(x: T) -> T {
//!     x.sin() * x
//! }
//! // d/dx [x sin x] = sin x + x cos x.
//! let y = f(Dual::new(0.5f64, 1.0));
//! assert_eq!(y.re, 0.5f64.sin() * 0.5);
//! assert!((y.eps - (0.5f64.sin() + 0.5 * 0.5f64.cos())).abs() < 1e-15);
//! ```
//!
//! At points where a function is not differentiable, the derivative follows
//! the conventions of the crate root (the same as the reverse rules of
//! `#[differentiable]`): `abs'(0) = 0`, `max`/`min` split the derivative
//! equally between the operands on a tie, `clamp` takes half from `x` and
//! half from the bound that `x` equals, and `signum`/`sign` have derivative
//! zero. Every rule is branch-free (written with [`Real::sign`]), so `T` may
//! be a lane-wise type.

use core::cmp::Ordering;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use num_traits::{One, Zero};

use crate::real::Real;

/// A dual number `re + eps·ε` with `ε² = 0`: a value and its derivative
/// along one direction (forward-mode automatic differentiation).
///
/// Seed an input with `eps = 1` ([`Dual::new`]`(x, 1.0)`) and constants with
/// `eps = 0` ([`Dual::constant`]); every result's `eps` is then the
/// derivative with respect to that input.
///
/// Equality (`==`) compares both parts, but ordering (`<`, `max`, …)
/// compares `re` only, as the primal computation does: two duals with the
/// same `re` and different `eps` are neither `<` nor `>` each other, and
/// `partial_cmp` returns `Some(Equal)` for them.
///
/// ```
/// use causalgrad::Dual;
///
/// let x = Dual::new(3.0, 1.0);
/// let y = x * x + Dual::constant(2.0) * x;
/// assert_eq!(y, Dual::new(15.0, 8.0)); // d/dx (x² + 2x) = 2x + 2
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Dual<T> {
    /// The value (real part).
    pub re: T,
    /// The derivative along the seeded direction (dual part).
    pub eps: T,
}

impl<T> Dual<T> {
    /// A dual number with value `re` and derivative `eps`.
    #[inline]
    pub const fn new(re: T, eps: T) -> Self {
        Dual { re, eps }
    }
}

impl<T: Zero> Dual<T> {
    /// A constant: value `re`, derivative zero.
    ///
    /// ```
    /// use causalgrad::Dual;
    /// assert_eq!(Dual::constant(2.0), Dual::new(2.0, 0.0));
    /// ```
    #[inline]
    pub fn constant(re: T) -> Self {
        Dual { re, eps: T::zero() }
    }
}

impl<T: Zero> From<T> for Dual<T> {
    /// A constant (see [`Dual::constant`]).
    #[inline]
    fn from(re: T) -> Self {
        Dual::constant(re)
    }
}

impl<T: Real> Add for Dual<T> {
    type Output = Self;
    #[inline]
    fn add(self, rhs: Self) -> Self {
        Dual::new(self.re + rhs.re, self.eps + rhs.eps)
    }
}

impl<T: Real> Sub for Dual<T> {
    type Output = Self;
    #[inline]
    fn sub(self, rhs: Self) -> Self {
        Dual::new(self.re - rhs.re, self.eps - rhs.eps)
    }
}

impl<T: Real> Mul for Dual<T> {
    type Output = Self;
    #[inline]
    fn mul(self, rhs: Self) -> Self {
        Dual::new(self.re * rhs.re, self.eps * rhs.re + self.re * rhs.eps)
    }
}

impl<T: Real> Div for Dual<T> {
    type Output = Self;
    #[inline]
    fn div(self, rhs: Self) -> Self {
        let q = self.re / rhs.re;
        Dual::new(q, (self.eps - q * rhs.eps) / rhs.re)
    }
}

impl<T: Real> Neg for Dual<T> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        Dual::new(-self.re, -self.eps)
    }
}

macro_rules! assign_ops {
    ($($trait:ident $method:ident $op:tt;)*) => {$(
        impl<T: Real> $trait for Dual<T> {
            #[inline]
            fn $method(&mut self, rhs: Self) {
                *self = *self $op rhs;
            }
        }
    )*};
}

assign_ops! {
    AddAssign add_assign +;
    SubAssign sub_assign -;
    MulAssign mul_assign *;
    DivAssign div_assign /;
}

impl<T: PartialOrd> PartialOrd for Dual<T> {
    /// Compares the values `re` only.
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.re.partial_cmp(&other.re)
    }
}

impl<T: Real> Zero for Dual<T> {
    #[inline]
    fn zero() -> Self {
        Dual::new(T::zero(), T::zero())
    }
    #[inline]
    fn is_zero(&self) -> bool {
        self.re.is_zero() && self.eps.is_zero()
    }
}

impl<T: Real> One for Dual<T> {
    #[inline]
    fn one() -> Self {
        Dual::new(T::one(), T::zero())
    }
}

impl<T: Real> Dual<T> {
    /// `f(re)` with derivative `f'(re) * eps`.
    #[inline]
    fn chain(self, value: T, derivative: T) -> Self {
        Dual::new(value, derivative * self.eps)
    }

    #[inline]
    fn half() -> T {
        T::from_f64(0.5)
    }
}

impl<T: Real> Real for Dual<T> {
    #[inline]
    fn from_f64(value: f64) -> Self {
        Dual::constant(T::from_f64(value))
    }

    /// Derivative zero.
    #[inline]
    fn sign(self) -> Self {
        Dual::constant(self.re.sign())
    }

    /// Derivative `n x^(n-1)`.
    #[inline]
    fn powi(self, n: i32) -> Self {
        let d = T::from_f64(f64::from(n)) * self.re.powi(n - 1);
        self.chain(self.re.powi(n), d)
    }

    /// `d(x^p) = p x^(p-1) dx + x^p ln(x) dp`.
    #[inline]
    fn powf(self, n: Self) -> Self {
        let y = self.re.powf(n.re);
        let dx = n.re * self.re.powf(n.re - T::one());
        Dual::new(y, dx * self.eps + y * self.re.ln() * n.eps)
    }

    #[inline]
    fn sqrt(self) -> Self {
        let y = self.re.sqrt();
        Dual::new(y, self.eps / (y + y))
    }

    #[inline]
    fn cbrt(self) -> Self {
        let y = self.re.cbrt();
        Dual::new(y, self.eps / (T::from_f64(3.0) * y * y))
    }

    #[inline]
    fn exp(self) -> Self {
        let y = self.re.exp();
        self.chain(y, y)
    }

    #[inline]
    fn exp2(self) -> Self {
        let y = self.re.exp2();
        self.chain(y, y * T::from_f64(core::f64::consts::LN_2))
    }

    #[inline]
    fn exp_m1(self) -> Self {
        let y = self.re.exp_m1();
        self.chain(y, y + T::one())
    }

    #[inline]
    fn ln(self) -> Self {
        Dual::new(self.re.ln(), self.eps / self.re)
    }

    /// `d log_b(x) = dx / (x ln b) - log_b(x) db / (b ln b)`.
    #[inline]
    fn log(self, base: Self) -> Self {
        let y = self.re.log(base.re);
        let ln_b = base.re.ln();
        Dual::new(
            y,
            self.eps / (self.re * ln_b) - y * base.eps / (base.re * ln_b),
        )
    }

    #[inline]
    fn log2(self) -> Self {
        Dual::new(
            self.re.log2(),
            self.eps / (self.re * T::from_f64(core::f64::consts::LN_2)),
        )
    }

    #[inline]
    fn log10(self) -> Self {
        Dual::new(
            self.re.log10(),
            self.eps / (self.re * T::from_f64(core::f64::consts::LN_10)),
        )
    }

    #[inline]
    fn ln_1p(self) -> Self {
        Dual::new(self.re.ln_1p(), self.eps / (self.re + T::one()))
    }

    #[inline]
    fn sin(self) -> Self {
        self.chain(self.re.sin(), self.re.cos())
    }

    #[inline]
    fn cos(self) -> Self {
        self.chain(self.re.cos(), -self.re.sin())
    }

    #[inline]
    fn tan(self) -> Self {
        let y = self.re.tan();
        self.chain(y, T::one() + y * y)
    }

    #[inline]
    fn asin(self) -> Self {
        let d = (T::one() - self.re * self.re).sqrt();
        Dual::new(self.re.asin(), self.eps / d)
    }

    #[inline]
    fn acos(self) -> Self {
        let d = (T::one() - self.re * self.re).sqrt();
        Dual::new(self.re.acos(), -self.eps / d)
    }

    #[inline]
    fn atan(self) -> Self {
        Dual::new(self.re.atan(), self.eps / (T::one() + self.re * self.re))
    }

    /// `d atan2(a, b) = (b da - a db) / (a² + b²)`.
    #[inline]
    fn atan2(self, other: Self) -> Self {
        let (a, b) = (self.re, other.re);
        Dual::new(a.atan2(b), (b * self.eps - a * other.eps) / (a * a + b * b))
    }

    #[inline]
    fn sinh(self) -> Self {
        self.chain(self.re.sinh(), self.re.cosh())
    }

    #[inline]
    fn cosh(self) -> Self {
        self.chain(self.re.cosh(), self.re.sinh())
    }

    #[inline]
    fn tanh(self) -> Self {
        let y = self.re.tanh();
        self.chain(y, T::one() - y * y)
    }

    #[inline]
    fn asinh(self) -> Self {
        let d = (self.re * self.re + T::one()).sqrt();
        Dual::new(self.re.asinh(), self.eps / d)
    }

    #[inline]
    fn acosh(self) -> Self {
        let d = (self.re * self.re - T::one()).sqrt();
        Dual::new(self.re.acosh(), self.eps / d)
    }

    #[inline]
    fn atanh(self) -> Self {
        Dual::new(self.re.atanh(), self.eps / (T::one() - self.re * self.re))
    }

    /// Derivative `sign(x)`, so `abs'(0) = 0`.
    #[inline]
    fn abs(self) -> Self {
        self.chain(self.re.abs(), self.re.sign())
    }

    /// Derivative zero.
    #[inline]
    fn signum(self) -> Self {
        Dual::constant(self.re.signum())
    }

    /// The derivative of the larger operand; the mean of both on a tie.
    #[inline]
    fn max(self, other: Self) -> Self {
        let h = Self::half();
        let s = (self.re - other.re).sign();
        Dual::new(
            self.re.max(other.re),
            (h + h * s) * self.eps + (h - h * s) * other.eps,
        )
    }

    /// The derivative of the smaller operand; the mean of both on a tie.
    #[inline]
    fn min(self, other: Self) -> Self {
        let h = Self::half();
        let s = (self.re - other.re).sign();
        Dual::new(
            self.re.min(other.re),
            (h - h * s) * self.eps + (h + h * s) * other.eps,
        )
    }

    /// `d hypot(a, b) = (a da + b db) / hypot(a, b)`.
    #[inline]
    fn hypot(self, other: Self) -> Self {
        let y = self.re.hypot(other.re);
        Dual::new(y, (self.re * self.eps + other.re * other.eps) / y)
    }

    #[inline]
    fn recip(self) -> Self {
        let y = self.re.recip();
        self.chain(y, -(y * y))
    }

    /// `d(x a + b) = a dx + x da + db`.
    #[inline]
    fn mul_add(self, a: Self, b: Self) -> Self {
        Dual::new(
            self.re.mul_add(a.re, b.re),
            a.re * self.eps + self.re * a.eps + b.eps,
        )
    }

    /// The derivative of `x` inside `[min, max]`, of the bound outside it,
    /// and half of each when `x` equals a bound.
    ///
    /// # Panics
    ///
    /// When `T::clamp` does (for `f32`/`f64`: `min > max` or a NaN bound).
    #[inline]
    fn clamp(self, min: Self, max: Self) -> Self {
        let h = Self::half();
        let s_lo = (self.re - min.re).sign();
        let s_hi = (self.re - max.re).sign();
        Dual::new(
            self.re.clamp(min.re, max.re),
            (h + h * s_lo) * (h - h * s_hi) * self.eps
                + (h - h * s_lo) * min.eps
                + (h + h * s_hi) * max.eps,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type D = Dual<f64>;

    /// Central finite difference of `f` along `dir` at `x`.
    fn central<const N: usize>(f: impl Fn([f64; N]) -> f64, x: [f64; N], dir: [f64; N]) -> f64 {
        let h = 1e-6 * x.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let at = |t: f64| f(core::array::from_fn(|i| x[i] + t * dir[i]));
        (at(h) - at(-h)) / (2.0 * h)
    }

    /// The `eps` part of the dual function at `x` seeded along `dir`.
    fn forward<const N: usize>(f: impl Fn([D; N]) -> D, x: [f64; N], dir: [f64; N]) -> D {
        f(core::array::from_fn(|i| Dual::new(x[i], dir[i])))
    }

    /// Checks the value and the derivative of a function given once for
    /// duals and once for floats.
    fn check<const N: usize>(
        name: &str,
        fd: impl Fn([D; N]) -> D,
        ff: impl Fn([f64; N]) -> f64,
        x: [f64; N],
        dir: [f64; N],
    ) -> Result<(), TestCaseError> {
        let y = forward(fd, x, dir);
        prop_assert_eq!(y.re.to_bits(), ff(x).to_bits(), "{} value at {:?}", name, x);
        let expected = central(ff, x, dir);
        let tol = 1e-6 * y.eps.abs().max(expected.abs()).max(1.0);
        prop_assert!(
            (y.eps - expected).abs() <= tol,
            "{}'({:?}) along {:?}: dual {} vs finite difference {}",
            name,
            x,
            dir,
            y.eps,
            expected
        );
        Ok(())
    }

    macro_rules! unary {
        ($($name:ident in $range:expr;)*) => {
            proptest! {
                #![proptest_config(ProptestConfig::with_cases(64))]
                $(
                    #[test]
                    fn $name(x in $range, d in -2.0f64..2.0) {
                        check(
                            stringify!($name),
                            |[x]: [D; 1]| Real::$name(x),
                            |[x]: [f64; 1]| Real::$name(x),
                            [x],
                            [d],
                        )?;
                    }
                )*
            }
        };
    }

    unary! {
        sqrt in 0.05f64..20.0;
        cbrt in 0.05f64..20.0;
        exp in -5.0f64..5.0;
        exp2 in -5.0f64..5.0;
        exp_m1 in -5.0f64..5.0;
        ln in 0.05f64..20.0;
        log2 in 0.05f64..20.0;
        log10 in 0.05f64..20.0;
        ln_1p in -0.9f64..20.0;
        sin in -6.0f64..6.0;
        cos in -6.0f64..6.0;
        tan in -1.4f64..1.4;
        asin in -0.95f64..0.95;
        acos in -0.95f64..0.95;
        atan in -5.0f64..5.0;
        sinh in -4.0f64..4.0;
        cosh in -4.0f64..4.0;
        tanh in -4.0f64..4.0;
        asinh in -5.0f64..5.0;
        acosh in 1.05f64..10.0;
        atanh in -0.95f64..0.95;
        recip in 0.05f64..10.0;
    }

    fn away_from_zero() -> impl Strategy<Value = f64> {
        prop_oneof![-10.0f64..-0.01, 0.01f64..10.0]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn recip_negative(x in -10.0f64..-0.05, d in -2.0f64..2.0) {
            check("recip", |[x]: [D; 1]| x.recip(), |[x]: [f64; 1]| x.recip(), [x], [d])?;
        }

        #[test]
        fn abs(x in away_from_zero(), d in -2.0f64..2.0) {
            check("abs", |[x]: [D; 1]| x.abs(), |[x]: [f64; 1]| x.abs(), [x], [d])?;
        }

        #[test]
        fn signum(x in away_from_zero(), d in -2.0f64..2.0) {
            check("signum", |[x]: [D; 1]| Real::signum(x), |[x]: [f64; 1]| Real::signum(x), [x], [d])?;
        }

        #[test]
        fn sign(x in away_from_zero(), d in -2.0f64..2.0) {
            check("sign", |[x]: [D; 1]| x.sign(), |[x]: [f64; 1]| x.sign(), [x], [d])?;
        }

        #[test]
        fn powi(x in 0.1f64..3.0, n in -4i32..6, neg in any::<bool>(), d in -2.0f64..2.0) {
            let x = if neg { -x } else { x };
            check("powi", |[x]: [D; 1]| x.powi(n), |[x]: [f64; 1]| x.powi(n), [x], [d])?;
        }

        #[test]
        fn powf(x in 0.1f64..5.0, p in -3.0f64..3.0, dx in -1.0f64..1.0, dp in -1.0f64..1.0) {
            check("powf", |[x, p]: [D; 2]| x.powf(p), |[x, p]: [f64; 2]| x.powf(p), [x, p], [dx, dp])?;
        }

        #[test]
        fn log(x in 0.1f64..20.0, b in prop_oneof![0.1f64..0.8, 1.3f64..10.0], dx in -1.0f64..1.0, db in -1.0f64..1.0) {
            check("log", |[x, b]: [D; 2]| x.log(b), |[x, b]: [f64; 2]| Real::log(x, b), [x, b], [dx, db])?;
        }

        #[test]
        fn atan2(y in away_from_zero(), x in away_from_zero(), dy in -1.0f64..1.0, dx in -1.0f64..1.0) {
            // Stay away from the branch cut on the negative x axis.
            prop_assume!(x > 0.0 || y.abs() > 0.05);
            check("atan2", |[y, x]: [D; 2]| y.atan2(x), |[y, x]: [f64; 2]| y.atan2(x), [y, x], [dy, dx])?;
        }

        #[test]
        fn hypot(a in -10.0f64..10.0, b in away_from_zero(), da in -1.0f64..1.0, db in -1.0f64..1.0) {
            check("hypot", |[a, b]: [D; 2]| a.hypot(b), |[a, b]: [f64; 2]| a.hypot(b), [a, b], [da, db])?;
        }

        #[test]
        fn max(a in -10.0f64..10.0, b in -10.0f64..10.0, da in -1.0f64..1.0, db in -1.0f64..1.0) {
            prop_assume!((a - b).abs() > 1e-3);
            check("max", |[a, b]: [D; 2]| Real::max(a, b), |[a, b]: [f64; 2]| Real::max(a, b), [a, b], [da, db])?;
        }

        #[test]
        fn min(a in -10.0f64..10.0, b in -10.0f64..10.0, da in -1.0f64..1.0, db in -1.0f64..1.0) {
            prop_assume!((a - b).abs() > 1e-3);
            check("min", |[a, b]: [D; 2]| Real::min(a, b), |[a, b]: [f64; 2]| Real::min(a, b), [a, b], [da, db])?;
        }

        #[test]
        fn mul_add(x in -10.0f64..10.0, a in -10.0f64..10.0, b in -10.0f64..10.0,
                   dir in proptest::array::uniform3(-1.0f64..1.0)) {
            check("mul_add", |[x, a, b]: [D; 3]| x.mul_add(a, b), |[x, a, b]: [f64; 3]| x.mul_add(a, b), [x, a, b], dir)?;
        }

        #[test]
        fn clamp(x in -10.0f64..10.0, lo in -5.0f64..0.0, width in 0.01f64..5.0,
                 dir in proptest::array::uniform3(-1.0f64..1.0)) {
            let hi = lo + width;
            prop_assume!((x - lo).abs() > 1e-3 && (x - hi).abs() > 1e-3);
            check("clamp", |[x, lo, hi]: [D; 3]| Real::clamp(x, lo, hi), |[x, lo, hi]: [f64; 3]| Real::clamp(x, lo, hi), [x, lo, hi], dir)?;
        }

        #[test]
        fn arithmetic(a in -10.0f64..10.0, b in away_from_zero(), da in -1.0f64..1.0, db in -1.0f64..1.0) {
            let dir = [da, db];
            check("add", |[a, b]: [D; 2]| a + b, |[a, b]: [f64; 2]| a + b, [a, b], dir)?;
            check("sub", |[a, b]: [D; 2]| a - b, |[a, b]: [f64; 2]| a - b, [a, b], dir)?;
            check("mul", |[a, b]: [D; 2]| a * b, |[a, b]: [f64; 2]| a * b, [a, b], dir)?;
            check("div", |[a, b]: [D; 2]| a / b, |[a, b]: [f64; 2]| a / b, [a, b], dir)?;
            check("neg", |[a, _]: [D; 2]| -a, |[a, _]: [f64; 2]| -a, [a, b], dir)?;
            check("assign", |[a, b]: [D; 2]| {
                let mut y = a;
                y += b;
                y *= a;
                y -= b;
                y /= b;
                y
            }, |[a, b]: [f64; 2]| ((a + b) * a - b) / b, [a, b], dir)?;
        }
    }

    #[test]
    fn non_differentiable_points_follow_the_crate_conventions() {
        let x = Dual::new(0.0f64, 1.0);
        assert_eq!(x.abs(), Dual::new(0.0, 0.0));
        assert_eq!((-x).abs().eps, 0.0);
        assert_eq!(Real::signum(Dual::new(2.0f64, 1.0)).eps, 0.0);
        assert_eq!(x.sign(), Dual::new(0.0, 0.0));

        let (a, b) = (Dual::new(1.0f64, 2.0), Dual::new(1.0, 4.0));
        assert_eq!(Real::max(a, b), Dual::new(1.0, 3.0));
        assert_eq!(Real::min(a, b), Dual::new(1.0, 3.0));

        let (lo, hi) = (Dual::new(0.0f64, 10.0), Dual::new(1.0, 100.0));
        assert_eq!(
            Real::clamp(Dual::new(0.0, 2.0), lo, hi),
            Dual::new(0.0, 6.0)
        );
        assert_eq!(
            Real::clamp(Dual::new(1.0, 2.0), lo, hi),
            Dual::new(1.0, 51.0)
        );
        assert_eq!(
            Real::clamp(Dual::new(0.5, 2.0), lo, hi),
            Dual::new(0.5, 2.0)
        );
        assert_eq!(
            Real::clamp(Dual::new(-1.0, 2.0), lo, hi),
            Dual::new(0.0, 10.0)
        );
        assert_eq!(
            Real::clamp(Dual::new(3.0, 2.0), lo, hi),
            Dual::new(1.0, 100.0)
        );
    }

    #[test]
    fn powi_zero_exponent_is_constant_away_from_zero() {
        assert_eq!(Dual::new(2.0f64, 1.0).powi(0), Dual::new(1.0, 0.0));
        assert_eq!(Dual::new(2.0f64, 1.0).powi(1), Dual::new(2.0, 1.0));
    }

    #[test]
    fn ordering_and_constants() {
        let a = Dual::new(1.0f64, 5.0);
        let b = Dual::new(2.0f64, -5.0);
        assert!(a < b);
        assert!(Dual::new(1.0, 0.0) <= a && Dual::new(1.0, 0.0) >= a);
        assert_ne!(Dual::new(1.0, 0.0), a);
        assert_eq!(Dual::new(1.0, 0.0).partial_cmp(&a), Some(Ordering::Equal));
        assert_eq!(D::zero(), Dual::new(0.0, 0.0));
        assert!(D::zero().is_zero());
        assert!(!Dual::new(0.0f64, 1.0).is_zero());
        assert_eq!(D::one(), Dual::new(1.0, 0.0));
        assert_eq!(D::from_f64(0.25), Dual::new(0.25, 0.0));
        assert_eq!(<Dual<f32> as Real>::from_f64(0.1), Dual::new(0.1f32, 0.0));
        assert_eq!(D::from(3.0), Dual::constant(3.0));
    }

    #[test]
    fn works_on_f32_and_nested_duals() {
        let y = Dual::new(2.0f32, 1.0).powi(3);
        assert_eq!(y, Dual::new(8.0, 12.0));
        // Second derivative of x³ at 2 by nesting: 6x = 12.
        let x = Dual::new(Dual::new(2.0f64, 1.0), Dual::new(1.0, 0.0));
        let y = x.powi(3);
        assert_eq!(y.re.re, 8.0);
        assert_eq!(y.eps.re, 12.0);
        assert_eq!(y.re.eps, 12.0);
        assert_eq!(y.eps.eps, 12.0);
    }
}
