//! The derivative table, rule by rule: every elementary function that
//! `#[differentiable]` knows is checked against central finite differences,
//! in `f64` and in `f32`, on random points of a domain where it is smooth.
//!
//! Tolerances (component `i` passes when
//! `|analytic - numeric| <= abs + rel * max(|analytic|, |numeric|)`):
//!
//! - `f64`: `GradCheck::f64()`: relative step `6e-6`, rel `1e-6`, abs `1e-8`;
//! - `f32`: `GradCheck::f32()`: relative step `5e-3`, rel `1e-2`, abs `1e-3`
//!   (the function is evaluated in `f32`, the differences are taken in `f64`).
//! - exact pullback identities (`pull(s) == s * grad`): rel `1e-12`, abs
//!   `1e-14` in `f64`.
//!
//! Each rule is written once, generic over `T: Real`, and instantiated at
//! `f32` and `f64`. Kinked functions (`abs`, `max`, `min`, `clamp`,
//! `signum`, and `atan2` across its branch cut) keep their inputs away from
//! the kink by at least `1e-3` in `f64` and `1e-1` in `f32` (further than
//! the `f32` finite-difference step of `5e-3 * max(1, |x|)`), so the finite
//! difference never straddles it. The conventions *at* the kinks are plain
//! tests at the end of the file.

use approx::assert_relative_eq;
use causalgrad::check::GradCheck;
use causalgrad::{differentiable, Real};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// The float types under test, with their finite-difference settings.
trait Float: Real + Into<f64> + PartialEq {
    fn settings() -> GradCheck;
}

impl Float for f64 {
    fn settings() -> GradCheck {
        GradCheck::f64()
    }
}

impl Float for f32 {
    fn settings() -> GradCheck {
        GradCheck::f32()
    }
}

/// Compares `grad` with central differences of `f` at `point`. The function
/// is evaluated in `T` (for `f32`: `|v| f(v[0] as f32) as f64`).
fn check<T: Float>(f: impl Fn(&[T]) -> T, point: &[T], grad: &[T]) -> Result<(), TestCaseError> {
    let point64: Vec<f64> = point.iter().map(|&v| v.into()).collect();
    let grad64: Vec<f64> = grad.iter().map(|&v| v.into()).collect();
    T::settings()
        .check(
            |v| {
                let args: Vec<T> = v.iter().map(|&x| T::from_f64(x)).collect();
                f(&args).into()
            },
            &point64,
            &grad64,
        )
        .map(|_| ())
        .map_err(|err| TestCaseError::fail(format!("at {point64:?}: {err}")))
}

fn unary<T: Float>(x: T, f: fn(T) -> T, vg: fn(T) -> (T, T)) -> Result<(), TestCaseError> {
    let (y, dx) = vg(x);
    prop_assert_eq!(y, f(x), "value_and_grad's value differs from the primal");
    check(|v| f(v[0]), &[x], &[dx])
}

fn binary<T: Float>(
    a: T,
    b: T,
    f: fn(T, T) -> T,
    vg: fn(T, T) -> (T, (T, T)),
) -> Result<(), TestCaseError> {
    let (y, (da, db)) = vg(a, b);
    prop_assert_eq!(y, f(a, b), "value_and_grad's value differs from the primal");
    check(|v| f(v[0], v[1]), &[a, b], &[da, db])
}

#[allow(clippy::type_complexity)]
fn ternary<T: Float>(
    a: T,
    b: T,
    c: T,
    f: fn(T, T, T) -> T,
    vg: fn(T, T, T) -> (T, (T, T, T)),
) -> Result<(), TestCaseError> {
    let (y, (da, db, dc)) = vg(a, b, c);
    prop_assert_eq!(
        y,
        f(a, b, c),
        "value_and_grad's value differs from the primal"
    );
    check(|v| f(v[0], v[1], v[2]), &[a, b, c], &[da, db, dc])
}

/// A sampling domain, used for both float types.
#[derive(Clone, Copy)]
enum Dom {
    /// `[lo, hi)`.
    In(f64, f64),
    /// `|x|` in `[lo, hi)`, either sign.
    Away(f64, f64),
}

impl Dom {
    fn f64(self) -> BoxedStrategy<f64> {
        match self {
            Dom::In(lo, hi) => (lo..hi).boxed(),
            Dom::Away(lo, hi) => prop_oneof![-hi..-lo, lo..hi].boxed(),
        }
    }

    fn f32(self) -> BoxedStrategy<f32> {
        let (lo, hi) = match self {
            Dom::In(lo, hi) | Dom::Away(lo, hi) => (lo as f32, hi as f32),
        };
        match self {
            Dom::In(..) => (lo..hi).boxed(),
            Dom::Away(..) => prop_oneof![-hi..-lo, lo..hi].boxed(),
        }
    }
}

/// `unary_rule!(rule, test_f64, test_f32, domain)`, or with separate
/// domains for `f64` and `f32`.
macro_rules! unary_rule {
    ($rule:ident, $t64:ident, $t32:ident, $dom:expr) => {
        unary_rule!($rule, $t64, $t32, $dom, $dom);
    };
    ($rule:ident, $t64:ident, $t32:ident, $dom64:expr, $dom32:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            #[test]
            fn $t64(x in $dom64.f64()) {
                unary::<f64>(x, $rule, $rule::value_and_grad)?;
            }
            #[test]
            fn $t32(x in $dom32.f32()) {
                unary::<f32>(x, $rule, $rule::value_and_grad)?;
            }
        }
    };
}

// ---------------------------------------------------------------------------
// One-operand rules
// ---------------------------------------------------------------------------

#[differentiable]
fn rule_sqrt<T: Real>(x: T) -> T {
    x.sqrt()
}
unary_rule!(rule_sqrt, sqrt_f64, sqrt_f32, Dom::In(0.05, 10.0));

#[differentiable]
fn rule_cbrt<T: Real>(x: T) -> T {
    x.cbrt()
}
unary_rule!(rule_cbrt, cbrt_f64, cbrt_f32, Dom::Away(0.05, 10.0));

#[differentiable]
fn rule_exp<T: Real>(x: T) -> T {
    x.exp()
}
unary_rule!(rule_exp, exp_f64, exp_f32, Dom::In(-5.0, 5.0));

#[differentiable]
fn rule_exp2<T: Real>(x: T) -> T {
    x.exp2()
}
unary_rule!(rule_exp2, exp2_f64, exp2_f32, Dom::In(-5.0, 5.0));

#[differentiable]
fn rule_exp_m1<T: Real>(x: T) -> T {
    x.exp_m1()
}
unary_rule!(rule_exp_m1, exp_m1_f64, exp_m1_f32, Dom::In(-5.0, 5.0));

#[differentiable]
fn rule_ln<T: Real>(x: T) -> T {
    x.ln()
}
unary_rule!(rule_ln, ln_f64, ln_f32, Dom::In(0.05, 10.0));

#[differentiable]
fn rule_log2<T: Real>(x: T) -> T {
    x.log2()
}
unary_rule!(rule_log2, log2_f64, log2_f32, Dom::In(0.05, 10.0));

#[differentiable]
fn rule_log10<T: Real>(x: T) -> T {
    x.log10()
}
unary_rule!(rule_log10, log10_f64, log10_f32, Dom::In(0.05, 10.0));

#[differentiable]
fn rule_ln_1p<T: Real>(x: T) -> T {
    x.ln_1p()
}
unary_rule!(rule_ln_1p, ln_1p_f64, ln_1p_f32, Dom::In(-0.8, 10.0));

#[differentiable]
fn rule_sin<T: Real>(x: T) -> T {
    x.sin()
}
unary_rule!(rule_sin, sin_f64, sin_f32, Dom::In(-10.0, 10.0));

#[differentiable]
fn rule_cos<T: Real>(x: T) -> T {
    x.cos()
}
unary_rule!(rule_cos, cos_f64, cos_f32, Dom::In(-10.0, 10.0));

#[differentiable]
fn rule_tan<T: Real>(x: T) -> T {
    x.tan()
}
unary_rule!(rule_tan, tan_f64, tan_f32, Dom::In(-1.2, 1.2));

#[differentiable]
fn rule_asin<T: Real>(x: T) -> T {
    x.asin()
}
unary_rule!(rule_asin, asin_f64, asin_f32, Dom::In(-0.95, 0.95));

#[differentiable]
fn rule_acos<T: Real>(x: T) -> T {
    x.acos()
}
unary_rule!(rule_acos, acos_f64, acos_f32, Dom::In(-0.95, 0.95));

#[differentiable]
fn rule_atan<T: Real>(x: T) -> T {
    x.atan()
}
unary_rule!(rule_atan, atan_f64, atan_f32, Dom::In(-10.0, 10.0));

#[differentiable]
fn rule_sinh<T: Real>(x: T) -> T {
    x.sinh()
}
unary_rule!(rule_sinh, sinh_f64, sinh_f32, Dom::In(-5.0, 5.0));

#[differentiable]
fn rule_cosh<T: Real>(x: T) -> T {
    x.cosh()
}
unary_rule!(rule_cosh, cosh_f64, cosh_f32, Dom::In(-5.0, 5.0));

#[differentiable]
fn rule_tanh<T: Real>(x: T) -> T {
    x.tanh()
}
unary_rule!(rule_tanh, tanh_f64, tanh_f32, Dom::In(-5.0, 5.0));

#[differentiable]
fn rule_asinh<T: Real>(x: T) -> T {
    x.asinh()
}
unary_rule!(rule_asinh, asinh_f64, asinh_f32, Dom::In(-10.0, 10.0));

#[differentiable]
fn rule_acosh<T: Real>(x: T) -> T {
    x.acosh()
}
unary_rule!(rule_acosh, acosh_f64, acosh_f32, Dom::In(1.05, 10.0));

#[differentiable]
fn rule_atanh<T: Real>(x: T) -> T {
    x.atanh()
}
unary_rule!(rule_atanh, atanh_f64, atanh_f32, Dom::In(-0.9, 0.9));

#[differentiable]
fn rule_recip<T: Real>(x: T) -> T {
    x.recip()
}
unary_rule!(rule_recip, recip_f64, recip_f32, Dom::Away(0.2, 5.0));

#[differentiable]
fn rule_abs<T: Real>(x: T) -> T {
    x.abs()
}
unary_rule!(
    rule_abs,
    abs_f64,
    abs_f32,
    Dom::Away(1e-3, 10.0),
    Dom::Away(0.1, 10.0)
);

#[differentiable]
fn rule_signum<T: Real>(x: T) -> T {
    x.signum()
}
unary_rule!(
    rule_signum,
    signum_f64,
    signum_f32,
    Dom::Away(1e-3, 10.0),
    Dom::Away(0.1, 10.0)
);

// ---------------------------------------------------------------------------
// powi: the exponent is an inactive `i32` argument
// ---------------------------------------------------------------------------

#[differentiable]
fn rule_powi<T: Real>(x: T, n: i32) -> T {
    x.powi(n)
}

fn powi_property<T: Float>(x: T, n: i32) -> Result<(), TestCaseError> {
    let (y, dx) = rule_powi::value_and_grad(x, n);
    prop_assert_eq!(y, rule_powi(x, n));
    check(|v| rule_powi(v[0], n), &[x], &[dx])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn powi_f64(x in Dom::Away(0.25, 3.0).f64(), n in -3i32..=4) {
        powi_property(x, n)?;
    }

    #[test]
    fn powi_f32(x in Dom::Away(0.25, 3.0).f32(), n in -3i32..=4) {
        powi_property(x, n)?;
    }
}

// ---------------------------------------------------------------------------
// Two- and three-operand rules, every operand active
// ---------------------------------------------------------------------------

#[differentiable]
fn rule_powf<T: Real>(x: T, p: T) -> T {
    x.powf(p)
}

#[differentiable]
fn rule_log<T: Real>(x: T, base: T) -> T {
    x.log(base)
}

#[differentiable]
fn rule_atan2<T: Real>(y: T, x: T) -> T {
    y.atan2(x)
}

#[differentiable]
fn rule_max<T: Real>(a: T, b: T) -> T {
    a.max(b)
}

#[differentiable]
fn rule_min<T: Real>(a: T, b: T) -> T {
    a.min(b)
}

#[differentiable]
fn rule_hypot<T: Real>(a: T, b: T) -> T {
    a.hypot(b)
}

#[differentiable]
fn rule_mul_add<T: Real>(a: T, b: T, c: T) -> T {
    a.mul_add(b, c)
}

#[differentiable]
fn rule_clamp<T: Real>(x: T, lo: T, hi: T) -> T {
    x.clamp(lo, hi)
}

/// A signed gap of magnitude in `[min, 5)`.
fn gap64(min: f64) -> impl Strategy<Value = f64> {
    prop_oneof![-5.0..-min, min..5.0]
}

fn gap32(min: f32) -> impl Strategy<Value = f32> {
    prop_oneof![-5.0..-min, min..5.0]
}

/// Bases on both sides of 1, away from it (`ln(base)` is in a denominator).
fn base64() -> impl Strategy<Value = f64> {
    prop_oneof![0.1..0.5, 2.0..10.0]
}

fn base32() -> impl Strategy<Value = f32> {
    prop_oneof![0.1f32..0.5, 2.0f32..10.0]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn powf_f64(x in 0.1f64..5.0, p in -2.0f64..3.0) {
        binary(x, p, rule_powf, rule_powf::value_and_grad)?;
    }

    #[test]
    fn powf_f32(x in 0.1f32..5.0, p in -2.0f32..3.0) {
        binary(x, p, rule_powf, rule_powf::value_and_grad)?;
    }

    #[test]
    fn log_f64(x in 0.1f64..10.0, base in base64()) {
        binary(x, base, rule_log, rule_log::value_and_grad)?;
    }

    #[test]
    fn log_f32(x in 0.1f32..10.0, base in base32()) {
        binary(x, base, rule_log, rule_log::value_and_grad)?;
    }

    #[test]
    fn atan2_f64(y in -5.0f64..5.0, x in -5.0f64..5.0) {
        // Away from the origin and from the branch cut (y = 0, x < 0).
        prop_assume!(y.hypot(x) > 0.5 && (x > 0.0 || y.abs() > 1e-3));
        binary(y, x, rule_atan2, rule_atan2::value_and_grad)?;
    }

    #[test]
    fn atan2_f32(y in -5.0f32..5.0, x in -5.0f32..5.0) {
        prop_assume!(y.hypot(x) > 0.5 && (x > 0.0 || y.abs() > 0.1));
        binary(y, x, rule_atan2, rule_atan2::value_and_grad)?;
    }

    #[test]
    fn max_f64(a in -10.0f64..10.0, gap in gap64(1e-3)) {
        binary(a, a + gap, rule_max, rule_max::value_and_grad)?;
    }

    #[test]
    fn max_f32(a in -10.0f32..10.0, gap in gap32(0.1)) {
        binary(a, a + gap, rule_max, rule_max::value_and_grad)?;
    }

    #[test]
    fn min_f64(a in -10.0f64..10.0, gap in gap64(1e-3)) {
        binary(a, a + gap, rule_min, rule_min::value_and_grad)?;
    }

    #[test]
    fn min_f32(a in -10.0f32..10.0, gap in gap32(0.1)) {
        binary(a, a + gap, rule_min, rule_min::value_and_grad)?;
    }

    #[test]
    fn hypot_f64(a in -5.0f64..5.0, b in -5.0f64..5.0) {
        prop_assume!(a.hypot(b) > 0.5);
        binary(a, b, rule_hypot, rule_hypot::value_and_grad)?;
    }

    #[test]
    fn hypot_f32(a in -5.0f32..5.0, b in -5.0f32..5.0) {
        prop_assume!(a.hypot(b) > 0.5);
        binary(a, b, rule_hypot, rule_hypot::value_and_grad)?;
    }

    #[test]
    fn mul_add_f64(a in -5.0f64..5.0, b in -5.0f64..5.0, c in -5.0f64..5.0) {
        ternary(a, b, c, rule_mul_add, rule_mul_add::value_and_grad)?;
    }

    #[test]
    fn mul_add_f32(a in -5.0f32..5.0, b in -5.0f32..5.0, c in -5.0f32..5.0) {
        ternary(a, b, c, rule_mul_add, rule_mul_add::value_and_grad)?;
    }

    #[test]
    fn clamp_f64(x in -8.0f64..8.0, lo in -5.0f64..-0.5, hi in 0.5f64..5.0) {
        prop_assume!((x - lo).abs() > 1e-3 && (x - hi).abs() > 1e-3);
        ternary(x, lo, hi, rule_clamp, rule_clamp::value_and_grad)?;
    }

    #[test]
    fn clamp_f32(x in -8.0f32..8.0, lo in -5.0f32..-0.5, hi in 0.5f32..5.0) {
        prop_assume!((x - lo).abs() > 0.1 && (x - hi).abs() > 0.1);
        ternary(x, lo, hi, rule_clamp, rule_clamp::value_and_grad)?;
    }
}

// ---------------------------------------------------------------------------
// Concrete types and the path forms of the elementary functions
// ---------------------------------------------------------------------------

#[differentiable]
fn sin_method_f64(x: f64) -> f64 {
    x.sin()
}

#[differentiable]
fn sin_path_f64(x: f64) -> f64 {
    f64::sin(x)
}

#[differentiable]
fn sin_path_real(x: f64) -> f64 {
    Real::sin(x)
}

#[differentiable]
fn sin_path_qualified<T: Real>(x: T) -> T {
    <T as Real>::sin(x)
}

#[differentiable]
fn sin_path_t<T: Real>(x: T) -> T {
    T::sin(x)
}

#[differentiable]
fn cos_method_f32(x: f32) -> f32 {
    x.cos()
}

#[differentiable]
fn ln_path_f32(x: f32) -> f32 {
    f32::ln(x)
}

#[differentiable]
fn powi_path_t<T: Real>(x: T, n: i32) -> T {
    T::powi(x, n)
}

#[differentiable]
fn atan2_path_f64(y: f64, x: f64) -> f64 {
    f64::atan2(y, x)
}

#[differentiable]
fn hypot_method_f32(a: f32, b: f32) -> f32 {
    a.hypot(b)
}

#[differentiable]
fn max_path_real(a: f64, b: f64) -> f64 {
    Real::max(a, b)
}

#[differentiable]
fn mul_add_path_f64(a: f64, b: f64, c: f64) -> f64 {
    f64::mul_add(a, b, c)
}

#[differentiable]
fn clamp_path_qualified<T: Real>(x: T, lo: T, hi: T) -> T {
    <T as Real>::clamp(x, lo, hi)
}

#[differentiable]
fn powf_path_crate_real(x: f64, p: f64) -> f64 {
    causalgrad::Real::powf(x, p)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sin_forms_f64(x in -10.0f64..10.0) {
        let expected = x.cos();
        for (name, vg) in [
            ("x.sin()", sin_method_f64::value_and_grad as fn(f64) -> (f64, f64)),
            ("f64::sin(x)", sin_path_f64::value_and_grad),
            ("Real::sin(x)", sin_path_real::value_and_grad),
            ("<T as Real>::sin(x)", sin_path_qualified::value_and_grad),
            ("T::sin(x)", sin_path_t::value_and_grad),
        ] {
            let (y, dx) = vg(x);
            prop_assert_eq!(y, x.sin(), "{}", name);
            prop_assert_eq!(dx, expected, "{}", name);
        }
        unary(x, sin_method_f64, sin_method_f64::value_and_grad)?;
        unary(x, sin_path_f64, sin_path_f64::value_and_grad)?;
        unary(x, sin_path_real, sin_path_real::value_and_grad)?;
    }

    #[test]
    fn sin_forms_f32(x in -10.0f32..10.0) {
        unary(x, sin_path_qualified, sin_path_qualified::value_and_grad)?;
        unary(x, sin_path_t, sin_path_t::value_and_grad)?;
    }

    #[test]
    fn cos_method_concrete_f32(x in -10.0f32..10.0) {
        unary(x, cos_method_f32, cos_method_f32::value_and_grad)?;
    }

    #[test]
    fn ln_path_concrete_f32(x in 0.05f32..10.0) {
        unary(x, ln_path_f32, ln_path_f32::value_and_grad)?;
    }

    #[test]
    fn powi_path_f64(x in Dom::Away(0.25, 3.0).f64(), n in -3i32..=4) {
        let (y, dx) = powi_path_t::value_and_grad(x, n);
        prop_assert_eq!(y, x.powi(n));
        check(|v| powi_path_t(v[0], n), &[x], &[dx])?;
    }

    #[test]
    fn atan2_path_concrete_f64(y in -5.0f64..5.0, x in 0.5f64..5.0) {
        binary(y, x, atan2_path_f64, atan2_path_f64::value_and_grad)?;
    }

    #[test]
    fn hypot_method_concrete_f32(a in 0.5f32..5.0, b in -5.0f32..5.0) {
        binary(a, b, hypot_method_f32, hypot_method_f32::value_and_grad)?;
    }

    #[test]
    fn max_path_concrete_f64(a in -10.0f64..10.0, gap in gap64(1e-3)) {
        binary(a, a + gap, max_path_real, max_path_real::value_and_grad)?;
    }

    #[test]
    fn mul_add_path_concrete_f64(a in -5.0f64..5.0, b in -5.0f64..5.0, c in -5.0f64..5.0) {
        ternary(a, b, c, mul_add_path_f64, mul_add_path_f64::value_and_grad)?;
    }

    #[test]
    fn clamp_path_f64(x in -8.0f64..8.0, lo in -5.0f64..-0.5, hi in 0.5f64..5.0) {
        prop_assume!((x - lo).abs() > 1e-3 && (x - hi).abs() > 1e-3);
        ternary(x, lo, hi, clamp_path_qualified, clamp_path_qualified::value_and_grad)?;
    }

    #[test]
    fn powf_path_concrete_f64(x in 0.1f64..5.0, p in -2.0f64..3.0) {
        binary(x, p, powf_path_crate_real, powf_path_crate_real::value_and_grad)?;
    }
}

// ---------------------------------------------------------------------------
// Conventions at non-differentiable points
// ---------------------------------------------------------------------------

#[test]
fn abs_at_zero_has_zero_derivative() {
    assert_eq!(rule_abs::value_and_grad(0.0f64), (0.0, 0.0));
    assert_eq!(rule_abs::value_and_grad(-0.0f64), (0.0, 0.0));
    assert_eq!(rule_abs::value_and_grad(0.0f32), (0.0, 0.0));
    // Either side of zero, the slope is -1 / +1.
    assert_eq!(rule_abs::value_and_grad(-1e-300f64).1, -1.0);
    assert_eq!(rule_abs::value_and_grad(1e-300f64).1, 1.0);
}

#[test]
fn max_tie_splits_the_cotangent_half_half() {
    for a in [0.0f64, -2.5, 1.0, 7.25] {
        assert_eq!(rule_max::value_and_grad(a, a), (a, (0.5, 0.5)));
    }
    assert_eq!(rule_max::value_and_grad(3.0f32, 3.0), (3.0, (0.5, 0.5)));
    assert_eq!(rule_max::value_and_grad(3.0f64, 2.0).1, (1.0, 0.0));
    assert_eq!(rule_max::value_and_grad(2.0f64, 3.0).1, (0.0, 1.0));
}

#[test]
fn min_tie_splits_the_cotangent_half_half() {
    for a in [0.0f64, -2.5, 1.0, 7.25] {
        assert_eq!(rule_min::value_and_grad(a, a), (a, (0.5, 0.5)));
    }
    assert_eq!(rule_min::value_and_grad(3.0f32, 3.0), (3.0, (0.5, 0.5)));
    assert_eq!(rule_min::value_and_grad(3.0f64, 2.0).1, (0.0, 1.0));
    assert_eq!(rule_min::value_and_grad(2.0f64, 3.0).1, (1.0, 0.0));
}

#[test]
fn clamp_at_a_bound_gives_half_to_x_and_half_to_the_bound() {
    // x == lo: half to x, half to lo, nothing to hi.
    assert_eq!(
        rule_clamp::value_and_grad(-1.0f64, -1.0, 2.0),
        (-1.0, (0.5, 0.5, 0.0))
    );
    // x == hi: half to x, half to hi, nothing to lo.
    assert_eq!(
        rule_clamp::value_and_grad(2.0f64, -1.0, 2.0),
        (2.0, (0.5, 0.0, 0.5))
    );
    assert_eq!(
        rule_clamp::value_and_grad(2.0f32, -1.0, 2.0),
        (2.0, (0.5, 0.0, 0.5))
    );
    // Strictly inside, below and above.
    assert_eq!(
        rule_clamp::value_and_grad(0.5f64, -1.0, 2.0),
        (0.5, (1.0, 0.0, 0.0))
    );
    assert_eq!(
        rule_clamp::value_and_grad(-3.0f64, -1.0, 2.0),
        (-1.0, (0.0, 1.0, 0.0))
    );
    assert_eq!(
        rule_clamp::value_and_grad(3.0f64, -1.0, 2.0),
        (2.0, (0.0, 0.0, 1.0))
    );
}

#[test]
fn signum_has_zero_derivative_everywhere() {
    for x in [0.0f64, -0.0, 1e-300, -1e-300, 1.0, -3.5, 1e10] {
        let (y, dx) = rule_signum::value_and_grad(x);
        assert_eq!(y, x.signum());
        assert_eq!(dx, 0.0, "signum'({x})");
    }
    assert_eq!(rule_signum::value_and_grad(0.0f32), (1.0, 0.0));
}

// ---------------------------------------------------------------------------
// Pullbacks are linear in the seed: pull(s) == s * grad
// ---------------------------------------------------------------------------

fn close(a: f64, b: f64) -> bool {
    approx::relative_eq!(a, b, epsilon = 1e-14, max_relative = 1e-12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn pullback_scales_with_the_seed_unary(x in 0.1f64..0.9, s in -10.0f64..10.0) {
        type Vg = fn(f64) -> (f64, f64);
        type Pull = fn(f64, f64) -> f64;
        let rules: [(&str, Vg, Pull); 5] = [
            ("sin", rule_sin::value_and_grad, |x, s| rule_sin::pullback(x).1.pull(s)),
            ("sqrt", rule_sqrt::value_and_grad, |x, s| rule_sqrt::pullback(x).1.pull(s)),
            ("atanh", rule_atanh::value_and_grad, |x, s| rule_atanh::pullback(x).1.pull(s)),
            ("tanh", rule_tanh::value_and_grad, |x, s| rule_tanh::pullback(x).1.pull(s)),
            ("recip", rule_recip::value_and_grad, |x, s| rule_recip::pullback(x).1.pull(s)),
        ];
        for (name, vg, pull) in rules {
            let (_, g) = vg(x);
            let pulled = pull(x, s);
            prop_assert!(
                close(pulled, s * g),
                "{}: pull({}) = {} but s * grad = {}", name, s, pulled, s * g
            );
        }
    }

    #[test]
    fn pullback_scales_with_the_seed_powi(x in 0.25f64..3.0, n in -3i32..=4, s in -10.0f64..10.0) {
        let (y, g) = rule_powi::value_and_grad(x, n);
        let (y2, pb) = rule_powi::pullback(x, n);
        prop_assert_eq!(y, y2);
        prop_assert!(close(pb.pull(s), s * g));
    }

    #[test]
    fn pullback_scales_with_the_seed_binary(
        a in 0.5f64..5.0,
        b in 0.5f64..5.0,
        s in -10.0f64..10.0,
    ) {
        let (_, (da, db)) = rule_atan2::value_and_grad(a, b);
        let (_, pb) = rule_atan2::pullback(a, b);
        let (pa, pb_) = pb.pull(s);
        prop_assert!(close(pa, s * da) && close(pb_, s * db));

        let (_, (da, db)) = rule_powf::value_and_grad(a, b);
        let (y, pb) = rule_powf::pullback(a, b);
        prop_assert_eq!(y, a.powf(b));
        let (pa, pb_) = pb.pull(s);
        prop_assert!(close(pa, s * da) && close(pb_, s * db));
    }

    #[test]
    fn pullback_scales_with_the_seed_ternary(
        x in -8.0f64..8.0,
        lo in -5.0f64..-0.5,
        hi in 0.5f64..5.0,
        s in -10.0f64..10.0,
    ) {
        let (_, (dx, dlo, dhi)) = rule_clamp::value_and_grad(x, lo, hi);
        let (_, pb) = rule_clamp::pullback(x, lo, hi);
        let (px, plo, phi) = pb.pull(s);
        prop_assert!(close(px, s * dx) && close(plo, s * dlo) && close(phi, s * dhi));

        let (_, (da, db, dc)) = rule_mul_add::value_and_grad(x, lo, hi);
        let (_, pb) = rule_mul_add::pullback(x, lo, hi);
        let (pa, pb_, pc) = pb.pull(s);
        prop_assert!(close(pa, s * da) && close(pb_, s * db) && close(pc, s * dc));
    }

    #[test]
    fn pullback_scales_with_the_seed_f32(x in 0.1f32..0.9, s in -10.0f32..10.0) {
        let (_, g) = rule_asin::value_and_grad(x);
        let (_, pb) = rule_asin::pullback(x);
        assert_relative_eq!(pb.pull(s), s * g, epsilon = 1e-6, max_relative = 1e-6);
    }
}

// ---------------------------------------------------------------------------
// The harness itself catches a wrong derivative
// ---------------------------------------------------------------------------

#[test]
fn harness_rejects_a_wrong_derivative() {
    // cos(x) is right; -cos(x), sin(x) and a slightly scaled cos(x) (beyond
    // the relative tolerance: 1e-6 in f64, 1e-2 in f32) must all be caught.
    let x = 0.7f64;
    assert!(check::<f64>(|v| v[0].sin(), &[x], &[x.cos()]).is_ok());
    for wrong in [-x.cos(), x.sin(), 1.0001 * x.cos()] {
        assert!(check::<f64>(|v| v[0].sin(), &[x], &[wrong]).is_err());
    }
    let x = 0.7f32;
    assert!(check::<f32>(|v| v[0].sin(), &[x], &[x.cos()]).is_ok());
    for wrong in [-x.cos(), x.sin(), 1.05 * x.cos()] {
        assert!(check::<f32>(|v| v[0].sin(), &[x], &[wrong]).is_err());
    }
}
