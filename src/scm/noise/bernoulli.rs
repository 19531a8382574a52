//! A binary (0/1) variable with a logit mechanism.

use super::special::{sigmoid, softplus};
use super::{discrete_abduct, normal_cdf, Likelihood};

/// `P(x = 1 | η) = sigmoid(η)`; `x = 1` when `Φ(e) > 1 − P(x = 1)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bernoulli;

impl Bernoulli {
    fn cdf(p: f64, x: f64) -> f64 {
        if x < 1.0 {
            1.0 - p
        } else {
            1.0
        }
    }
}

impl Likelihood for Bernoulli {
    fn name(&self) -> &'static str {
        "bernoulli"
    }

    fn params(&self) -> Vec<f32> {
        Vec::new()
    }

    fn set_params(&mut self, _: &[f32]) {}

    fn nll(&self, eta: &[f64], x: f64, d_eta: &mut [f64], _: &mut [f64]) -> f64 {
        d_eta[0] += sigmoid(eta[0]) - x;
        softplus(eta[0]) - x * eta[0]
    }

    fn sample(&self, eta: &[f64], e: f64) -> f64 {
        // Φ(e) > 1 − p ⇔ Φ(−e) < p, precise for small p.
        f64::from(u8::from(normal_cdf(-e) < sigmoid(eta[0])))
    }

    fn abduct(&self, eta: &[f64], x: f64, u: f64) -> f64 {
        let p = sigmoid(eta[0]);
        discrete_abduct(x, u, |k| Bernoulli::cdf(p, k))
    }

    fn expectation(&self, eta: &[f64]) -> f64 {
        sigmoid(eta[0])
    }

    fn check(&self, x: f64) -> Result<(), String> {
        if x == 0.0 || x == 1.0 {
            Ok(())
        } else {
            Err(format!(
                "{x} is not 0 or 1; a binary variable takes only those"
            ))
        }
    }

    fn is_discrete(&self) -> bool {
        true
    }
}
