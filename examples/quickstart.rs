//! Quickstart: annotate a causal mechanism, get its gradient, check it.
//!
//! Run with `cargo run --release --example quickstart`.
//!
//! The mechanism is the one for `x5` in the bundled 5-variable model:
//! `x5 = f * exp(-g * x3²) + h * x4`. `#[differentiable]` generates its
//! reverse-mode gradient at compile time; the example prints it, applies a
//! pullback, and checks the gradient against central finite differences.

use causalgrad::check::GradCheck;
use causalgrad::{differentiable, DiffFn, Pullback, Real};

/// The mean of `x5` given its parents `x3`, `x4` and parameters `f, g, h`.
#[differentiable]
fn mechanism_x5<T: Real>(f: T, g: T, h: T, x3: T, x4: T) -> T {
    f * (-g * x3 * x3).exp() + h * x4
}

/// The Gaussian negative log-likelihood of one observation of `x5`, with
/// the mechanism's parameters and a log noise scale as the active inputs.
#[differentiable(wrt(f, g, h, log_sigma))]
fn nll_x5(f: f64, g: f64, h: f64, log_sigma: f64, x3: f64, x4: f64, x5: f64) -> f64 {
    let mean = f * (-g * x3 * x3).exp() + h * x4;
    let z = (x5 - mean) / log_sigma.exp();
    0.5 * z * z + log_sigma + 0.5 * (2.0 * std::f64::consts::PI).ln()
}

fn main() {
    let (f, g, h, x3, x4) = (2.0, 0.5, -0.7, 0.3, 1.1);

    let (y, (df, dg, dh, dx3, dx4)) = mechanism_x5::value_and_grad(f, g, h, x3, x4);
    println!("mechanism_x5({f}, {g}, {h}, {x3}, {x4}) = {y:.6}");
    println!(
        "  d/df = {df:.6}  d/dg = {dg:.6}  d/dh = {dh:.6}  d/dx3 = {dx3:.6}  d/dx4 = {dx4:.6}"
    );

    // The same gradient through the generic DiffFn interface, and a pullback
    // applied to a cotangent of 0.5 (a vector-Jacobian product).
    let (_, pullback) = mechanism_x5::Function.pullback((f, g, h, x3, x4));
    let scaled = pullback.pull(0.5);
    println!("  pullback(0.5) = {scaled:.6?}");

    let point = [f, g, h, x3, x4];
    let report = GradCheck::f64()
        .check(
            |v| mechanism_x5(v[0], v[1], v[2], v[3], v[4]),
            &point,
            &[df, dg, dh, dx3, dx4],
        )
        .unwrap_or_else(|error| panic!("gradient check failed: {error}"));
    println!("gradient check against central finite differences:\n{report}");

    let (loss, (df, dg, dh, dlog_sigma)) = nll_x5::value_and_grad(f, g, h, -1.0, x3, x4, 1.2);
    println!("nll_x5 = {loss:.6}, gradient (f, g, h, log_sigma) = ({df:.6}, {dg:.6}, {dh:.6}, {dlog_sigma:.6})");
    let report = GradCheck::f64()
        .check(
            |v| nll_x5(v[0], v[1], v[2], v[3], x3, x4, 1.2),
            &[f, g, h, -1.0],
            &[df, dg, dh, dlog_sigma],
        )
        .unwrap_or_else(|error| panic!("gradient check failed: {error}"));
    println!("worst component: {:?}", report.worst());
}
