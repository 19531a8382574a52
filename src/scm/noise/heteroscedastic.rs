//! Gaussian noise whose scale is a learned function of the parents.

use super::gaussian::MIN_LOG_SCALE;
use super::Likelihood;

/// `ln √(2π)`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

/// `x = η_1 + exp(η_2) e`: the mechanism's two outputs are the mean and
/// `ln σ`, each a function of the parents (two heads).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Heteroscedastic;

fn log_scale(eta: &[f64]) -> f64 {
    eta[1].max(MIN_LOG_SCALE)
}

impl Likelihood for Heteroscedastic {
    fn name(&self) -> &'static str {
        "heteroscedastic"
    }

    fn outputs(&self) -> usize {
        2
    }

    fn params(&self) -> Vec<f32> {
        Vec::new()
    }

    fn set_params(&mut self, _: &[f32]) {}

    fn nll(&self, eta: &[f64], x: f64, d_eta: &mut [f64], _: &mut [f64]) -> f64 {
        let s = log_scale(eta);
        let sigma = s.exp();
        let z = (x - eta[0]) / sigma;
        d_eta[0] -= z / sigma;
        if eta[1] > MIN_LOG_SCALE {
            d_eta[1] += 1.0 - z * z;
        }
        s + 0.5 * z * z + HALF_LN_2PI
    }

    fn sample(&self, eta: &[f64], e: f64) -> f64 {
        eta[0] + log_scale(eta).exp() * e
    }

    fn abduct(&self, eta: &[f64], x: f64, _: f64) -> f64 {
        (x - eta[0]) / log_scale(eta).exp()
    }

    fn expectation(&self, eta: &[f64]) -> f64 {
        eta[0]
    }

    fn check(&self, _: f64) -> Result<(), String> {
        Ok(())
    }
}
