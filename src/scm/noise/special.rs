//! The special functions the families share (through `statrs`).

use statrs::distribution::{ContinuousCDF, Normal};

/// `Φ(x)`, the standard normal CDF.
pub(crate) fn normal_cdf(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
}

/// `Φ⁻¹(p)`, clamped into the open unit interval so the result is finite.
pub(crate) fn normal_quantile(p: f64) -> f64 {
    let p = p.clamp(1e-300, 1.0 - f64::EPSILON / 2.0);
    Normal::standard().inverse_cdf(p)
}

/// `1 / (1 + e^{−x})`.
pub(super) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^x)` without overflow.
pub(super) fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

pub(super) use statrs::function::gamma::{digamma, ln_gamma};
