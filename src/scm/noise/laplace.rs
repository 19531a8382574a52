//! Additive Laplace noise: heavier tails than a Gaussian.

use super::gaussian::MIN_LOG_SCALE;
use super::{normal_cdf, normal_quantile, Likelihood};

/// `x = η + b · L(e)` with `L` the standard Laplace quantile of `Φ(e)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Laplace {
    /// `ln b`.
    pub log_scale: f32,
}

impl Laplace {
    fn b(&self) -> f64 {
        f64::from(self.log_scale).max(MIN_LOG_SCALE).exp()
    }
}

impl Likelihood for Laplace {
    fn name(&self) -> &'static str {
        "laplace"
    }

    fn params(&self) -> Vec<f32> {
        vec![self.log_scale]
    }

    fn set_params(&mut self, values: &[f32]) {
        self.log_scale = values[0];
    }

    fn nll(&self, eta: &[f64], x: f64, d_eta: &mut [f64], d_params: &mut [f64]) -> f64 {
        let s = f64::from(self.log_scale).max(MIN_LOG_SCALE);
        let b = s.exp();
        let d = x - eta[0];
        let a = d.abs() / b;
        // The subgradient 0 at d = 0.
        d_eta[0] -= d.signum() * f64::from(u8::from(d != 0.0)) / b;
        if f64::from(self.log_scale) > MIN_LOG_SCALE {
            d_params[0] += 1.0 - a;
        }
        std::f64::consts::LN_2 + s + a
    }

    fn sample(&self, eta: &[f64], e: f64) -> f64 {
        // The tail probability beyond e, in the precise (small) form.
        let tail = normal_cdf(-e.abs());
        eta[0] + e.signum() * -self.b() * (2.0 * tail).ln()
    }

    fn abduct(&self, eta: &[f64], x: f64, _: f64) -> f64 {
        let d = x - eta[0];
        let tail = 0.5 * (-d.abs() / self.b()).exp();
        d.signum() * -normal_quantile(tail)
    }

    fn expectation(&self, eta: &[f64]) -> f64 {
        eta[0]
    }

    fn check(&self, _: f64) -> Result<(), String> {
        Ok(())
    }
}
