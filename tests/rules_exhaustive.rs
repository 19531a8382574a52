//! Every elementary rule of the derivative table (`macros/src/rules.rs`)
//! and every arithmetic operator, against high-accuracy finite
//! differences in `f64`, with relative tolerance `1e-6`.
//!
//! The numerical derivative is Ridders' method: central differences at
//! steps shrinking by 1.4, extrapolated to step zero through a Richardson
//! table, keeping the entry with the smallest error estimate. It reaches
//! about 1e-10 relative accuracy on smooth functions, so `1e-6` is a real
//! bound. A component passes when
//! `|analytic - numeric| <= 1e-6 * max(|analytic|, |numeric|) + 1e-10`
//! (the absolute floor only matters where the derivative crosses zero).
//!
//! Domains keep each function well-conditioned: away from poles, branch
//! cuts and kinks by more than the largest finite-difference step
//! (`0.01 * max(1, |x|)`), so no difference straddles one.
//!
//! Each rule runs 200 cases in the normal suite; `all_rules_10000`
//! (`#[ignore]`) runs 10,000 per rule:
//! `cargo test --release --test rules_exhaustive -- --ignored`.

use causalgrad::{differentiable, Real};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Ridders' extrapolated central difference of `f` at `x`, from initial
/// step `h`: `(derivative, error estimate)`.
fn ridders(f: impl Fn(f64) -> f64, x: f64, h: f64) -> (f64, f64) {
    const SHRINK: f64 = 1.4;
    const TABLE: usize = 10;
    let difference = |h: f64| {
        let (up, down) = (x + h, x - h);
        (f(up) - f(down)) / (up - down)
    };
    let mut table = [[0.0f64; TABLE]; TABLE];
    let mut step = h;
    table[0][0] = difference(step);
    let (mut best, mut error) = (table[0][0], f64::INFINITY);
    for i in 1..TABLE {
        step /= SHRINK;
        table[0][i] = difference(step);
        let mut factor = SHRINK * SHRINK;
        for j in 1..=i {
            table[j][i] = (table[j - 1][i] * factor - table[j - 1][i - 1]) / (factor - 1.0);
            factor *= SHRINK * SHRINK;
            let estimate = (table[j][i] - table[j - 1][i])
                .abs()
                .max((table[j][i] - table[j - 1][i - 1]).abs());
            if estimate <= error {
                error = estimate;
                best = table[j][i];
            }
        }
        // Higher orders got worse: rounding dominates from here on.
        if (table[i][i] - table[i - 1][i - 1]).abs() >= 2.0 * error {
            break;
        }
    }
    (best, error)
}

/// Compares `grad` with Ridders' differences of `f` at `point`.
fn check(f: impl Fn(&[f64]) -> f64, point: &[f64], grad: &[f64]) -> Result<(), TestCaseError> {
    for (i, &analytic) in grad.iter().enumerate() {
        let along = |t: f64| {
            let mut moved = point.to_vec();
            moved[i] = t;
            f(&moved)
        };
        let h = 0.01 * point[i].abs().max(1.0);
        let (numeric, estimate) = ridders(along, point[i], h);
        let tolerance = 1e-6 * analytic.abs().max(numeric.abs()) + 1e-10;
        prop_assert!(
            (analytic - numeric).abs() <= tolerance,
            "d/d(arg {}) at {:?}: analytic {:e}, numeric {:e} (error estimate {:e})",
            i,
            point,
            analytic,
            numeric,
            estimate
        );
    }
    Ok(())
}

/// A gradient as a list, whatever the arity.
trait Components {
    fn components(self) -> Vec<f64>;
}

impl Components for f64 {
    fn components(self) -> Vec<f64> {
        vec![self]
    }
}

impl Components for (f64, f64) {
    fn components(self) -> Vec<f64> {
        vec![self.0, self.1]
    }
}

impl Components for (f64, f64, f64) {
    fn components(self) -> Vec<f64> {
        vec![self.0, self.1, self.2]
    }
}

/// Runs `cases` points of `points` through `property`.
fn run(
    name: &str,
    cases: u32,
    points: impl Strategy<Value = Vec<f64>>,
    property: impl Fn(&[f64]) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&points, |point| property(&point))
        .unwrap_or_else(|failure| panic!("{name}: {failure}"));
}

// ---------------------------------------------------------------------------
// Domains
// ---------------------------------------------------------------------------

/// One argument in `[lo, hi)`.
fn within(lo: f64, hi: f64) -> BoxedStrategy<Vec<f64>> {
    (lo..hi).prop_map(|x| vec![x]).boxed()
}

/// A magnitude in `[lo, hi)`, either sign.
fn magnitude(lo: f64, hi: f64) -> BoxedStrategy<f64> {
    prop_oneof![-hi..-lo, lo..hi].boxed()
}

/// One argument with `|x|` in `[lo, hi)`.
fn away(lo: f64, hi: f64) -> BoxedStrategy<Vec<f64>> {
    magnitude(lo, hi).prop_map(|x| vec![x]).boxed()
}

/// Two independent arguments.
fn pair(a: BoxedStrategy<f64>, b: BoxedStrategy<f64>) -> BoxedStrategy<Vec<f64>> {
    (a, b).prop_map(|(a, b)| vec![a, b]).boxed()
}

/// Two arguments at least 0.2 apart (the kink of `max`/`min`).
fn apart() -> BoxedStrategy<Vec<f64>> {
    (-5.0..5.0, magnitude(0.2, 5.0))
        .prop_map(|(a, gap)| vec![a, a + gap])
        .boxed()
}

/// `(x, lo, hi)` with `lo < hi` and `x` at least 0.2 from both bounds:
/// below, inside or above the interval.
fn clamp_args() -> BoxedStrategy<Vec<f64>> {
    (-5.0..0.0, 1.0..5.0, 0.2..0.8, 0usize..3)
        .prop_map(|(lo, width, t, region)| {
            let hi = lo + width;
            let x = match region {
                0 => lo - 0.2 - 4.0 * t,
                1 => lo + 0.2 + (width - 0.4) * t,
                _ => hi + 0.2 + 4.0 * t,
            };
            vec![x, lo, hi]
        })
        .boxed()
}

/// `(y, x)` with `|y| >= 0.2`: away from the origin and the branch cut.
fn atan2_args() -> BoxedStrategy<Vec<f64>> {
    pair(magnitude(0.2, 5.0), (-5.0..5.0).boxed())
}

/// Logarithm bases on both sides of 1, away from it.
fn log_args() -> BoxedStrategy<Vec<f64>> {
    pair(
        (0.1..10.0).boxed(),
        prop_oneof![0.1..0.5, 2.0..10.0].boxed(),
    )
}

/// Three arguments in `[-5, 5)`.
fn triple() -> BoxedStrategy<Vec<f64>> {
    prop::collection::vec(-5.0..5.0, 3).boxed()
}

// ---------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------

/// `rules! { name(args) in domain => body; .. }`: for each rule a module
/// with the `#[differentiable]` function, `run(cases)`, and a 200-case
/// test; then `RULES`, every rule's `run`.
macro_rules! rules {
    ($($name:ident ($($arg:ident),+) in $domain:expr => $body:expr;)*) => {
        $(
            mod $name {
                use super::*;

                #[differentiable]
                fn f($($arg: f64),+) -> f64 {
                    $body
                }

                pub fn run(cases: u32) {
                    super::run(stringify!($name), cases, $domain, |point| {
                        let &[$($arg),+] = point else { unreachable!() };
                        let (value, grad) = f::value_and_grad($($arg),+);
                        prop_assert_eq!(value.to_bits(), f($($arg),+).to_bits());
                        check(|v| { let &[$($arg),+] = v else { unreachable!() }; f($($arg),+) }, point, &grad.components())
                    });
                }

                #[test]
                fn cases_200() {
                    run(200);
                }
            }
        )*

        /// Every rule, by name.
        const RULES: &[(&str, fn(u32))] = &[$((stringify!($name), $name::run)),*];
    };
}

rules! {
    add(a, b) in pair((-100.0..100.0).boxed(), (-100.0..100.0).boxed()) => a + b;
    sub(a, b) in pair((-100.0..100.0).boxed(), (-100.0..100.0).boxed()) => a - b;
    mul(a, b) in pair((-100.0..100.0).boxed(), (-100.0..100.0).boxed()) => a * b;
    div(a, b) in pair((-10.0..10.0).boxed(), magnitude(0.1, 10.0)) => a / b;
    neg(a) in within(-100.0, 100.0) => -a;
    powf(x, p) in pair((0.1..5.0).boxed(), (-2.0..3.0).boxed()) => x.powf(p);
    sqrt(x) in within(0.05, 10.0) => x.sqrt();
    cbrt(x) in away(0.05, 10.0) => x.cbrt();
    exp(x) in within(-5.0, 5.0) => x.exp();
    exp2(x) in within(-5.0, 5.0) => x.exp2();
    exp_m1(x) in within(-5.0, 5.0) => x.exp_m1();
    ln(x) in within(0.05, 10.0) => x.ln();
    log(x, base) in log_args() => x.log(base);
    log2(x) in within(0.05, 10.0) => x.log2();
    log10(x) in within(0.05, 10.0) => x.log10();
    ln_1p(x) in within(-0.8, 10.0) => x.ln_1p();
    sin(x) in within(-10.0, 10.0) => x.sin();
    cos(x) in within(-10.0, 10.0) => x.cos();
    tan(x) in within(-1.2, 1.2) => x.tan();
    asin(x) in within(-0.95, 0.95) => x.asin();
    acos(x) in within(-0.95, 0.95) => x.acos();
    atan(x) in within(-10.0, 10.0) => x.atan();
    atan2(y, x) in atan2_args() => y.atan2(x);
    sinh(x) in within(-5.0, 5.0) => x.sinh();
    cosh(x) in within(-5.0, 5.0) => x.cosh();
    tanh(x) in within(-5.0, 5.0) => x.tanh();
    asinh(x) in within(-10.0, 10.0) => x.asinh();
    acosh(x) in within(1.05, 10.0) => x.acosh();
    atanh(x) in within(-0.9, 0.9) => x.atanh();
    abs(x) in away(0.2, 10.0) => x.abs();
    signum(x) in away(0.2, 10.0) => x.signum();
    max(a, b) in apart() => a.max(b);
    min(a, b) in apart() => a.min(b);
    hypot(a, b) in pair(magnitude(0.5, 5.0), (-5.0..5.0).boxed()) => a.hypot(b);
    recip(x) in away(0.2, 5.0) => x.recip();
    mul_add(a, b, c) in triple() => a.mul_add(b, c);
    clamp(x, lo, hi) in clamp_args() => x.clamp(lo, hi);
    sigmoid(x) in within(-10.0, 10.0) => x.sigmoid();
    softplus(x) in within(-10.0, 10.0) => x.softplus();
    powi_m3(x) in away(0.25, 3.0) => x.powi(-3);
    powi_m1(x) in away(0.25, 3.0) => x.powi(-1);
    powi_0(x) in away(0.25, 3.0) => x.powi(0);
    powi_2(x) in away(0.25, 3.0) => x.powi(2);
    powi_5(x) in away(0.25, 3.0) => x.powi(5);
}

/// `powi` with the exponent an inactive `i32` argument.
#[differentiable]
fn powi_n(x: f64, n: i32) -> f64 {
    x.powi(n)
}

fn powi_run(cases: u32) {
    let points = (magnitude(0.25, 3.0), -4i32..=6).prop_map(|(x, n)| vec![x, f64::from(n)]);
    run("powi", cases, points, |point| {
        let (x, n) = (point[0], point[1] as i32);
        let (value, dx) = powi_n::value_and_grad(x, n);
        prop_assert_eq!(value.to_bits(), powi_n(x, n).to_bits());
        check(|v| powi_n(v[0], n), &[x], &[dx])
    });
}

#[test]
fn powi_cases_200() {
    powi_run(200);
}

/// The names of the table's rules, as the crate documents them.
const DOCUMENTED: &str = "powi powf sqrt cbrt exp exp2 exp_m1 ln log log2 log10 ln_1p sin cos \
    tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh abs signum max min hypot recip \
    mul_add clamp sigmoid softplus";

#[test]
fn every_documented_rule_is_covered() {
    for rule in DOCUMENTED.split_whitespace() {
        let covered = rule == "powi" || RULES.iter().any(|(name, _)| *name == rule);
        assert!(covered, "no exhaustive test for `{rule}`");
    }
    for operator in ["add", "sub", "mul", "div", "neg"] {
        assert!(RULES.iter().any(|(name, _)| *name == operator));
    }
}

#[test]
fn ridders_reaches_the_accuracy_the_tolerance_assumes() {
    for x in [-3.0, -0.5, 0.1, 1.0, 2.5] {
        let (numeric, estimate) = ridders(f64::sin, x, 0.01);
        assert!(
            (numeric - x.cos()).abs() < 1e-10,
            "{x}: {numeric} vs {}",
            x.cos()
        );
        assert!(estimate < 1e-8);
        let (numeric, _) = ridders(f64::exp, x, 0.01 * x.abs().max(1.0));
        assert!((numeric / x.exp() - 1.0).abs() < 1e-10);
    }
}

#[test]
#[ignore = "10,000 cases per rule; run with --release -- --ignored"]
fn all_rules_10000() {
    for (name, run) in RULES {
        run(10_000);
        eprintln!("{name}: 10000 cases passed");
    }
    powi_run(10_000);
    eprintln!("powi (n in -4..=6): 10000 cases passed");
}
