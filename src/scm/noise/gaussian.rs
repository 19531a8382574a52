//! Additive Gaussian noise.

use super::Likelihood;

/// The lowest `ln σ` a fit reads (a lower value is clamped, with no
/// gradient), so a variable its parents determine exactly keeps a finite
/// loss.
pub(crate) const MIN_LOG_SCALE: f64 = -40.0;

/// `ln √(2π)`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

/// `x = η + σ e`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gaussian {
    /// `ln σ`.
    pub log_scale: f32,
}

impl Gaussian {
    fn sigma(&self) -> f64 {
        f64::from(self.log_scale).max(MIN_LOG_SCALE).exp()
    }
}

impl Likelihood for Gaussian {
    fn name(&self) -> &'static str {
        "gaussian"
    }

    fn params(&self) -> Vec<f32> {
        vec![self.log_scale]
    }

    fn set_params(&mut self, values: &[f32]) {
        self.log_scale = values[0];
    }

    fn nll(&self, eta: &[f64], x: f64, d_eta: &mut [f64], d_params: &mut [f64]) -> f64 {
        let s = f64::from(self.log_scale).max(MIN_LOG_SCALE);
        let sigma = s.exp();
        let z = (x - eta[0]) / sigma;
        d_eta[0] -= z / sigma;
        if f64::from(self.log_scale) > MIN_LOG_SCALE {
            d_params[0] += 1.0 - z * z;
        }
        s + 0.5 * z * z + HALF_LN_2PI
    }

    fn sample(&self, eta: &[f64], e: f64) -> f64 {
        eta[0] + self.sigma() * e
    }

    fn abduct(&self, eta: &[f64], x: f64, _: f64) -> f64 {
        (x - eta[0]) / self.sigma()
    }

    fn expectation(&self, eta: &[f64]) -> f64 {
        eta[0]
    }

    fn check(&self, _: f64) -> Result<(), String> {
        Ok(())
    }
}
