//! A count with Poisson noise: rate `exp(η)`.

use statrs::distribution::{DiscreteCDF, Poisson as PoissonDistribution};

use super::special::ln_gamma;
use super::{check_count, discrete_abduct, discrete_quantile, Likelihood};

/// The largest `η` a fit reads (a rate of about 10¹³).
pub(super) const MAX_LOG_MEAN: f64 = 30.0;

/// `x ~ Poisson(exp(η))`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Poisson;

fn rate(eta: f64) -> f64 {
    eta.min(MAX_LOG_MEAN).exp()
}

fn cdf(lambda: f64) -> impl Fn(f64) -> f64 {
    let distribution = PoissonDistribution::new(lambda.max(1e-300)).expect("a positive rate");
    move |k: f64| distribution.cdf(k as u64)
}

impl Likelihood for Poisson {
    fn name(&self) -> &'static str {
        "poisson"
    }

    fn params(&self) -> Vec<f32> {
        Vec::new()
    }

    fn set_params(&mut self, _: &[f32]) {}

    fn nll(&self, eta: &[f64], x: f64, d_eta: &mut [f64], _: &mut [f64]) -> f64 {
        let eta = eta[0].min(MAX_LOG_MEAN);
        let lambda = eta.exp();
        d_eta[0] += lambda - x;
        lambda - x * eta + ln_gamma(x + 1.0)
    }

    fn sample(&self, eta: &[f64], e: f64) -> f64 {
        let lambda = rate(eta[0]);
        discrete_quantile(e, lambda, cdf(lambda))
    }

    fn abduct(&self, eta: &[f64], x: f64, u: f64) -> f64 {
        discrete_abduct(x, u, cdf(rate(eta[0])))
    }

    fn expectation(&self, eta: &[f64]) -> f64 {
        rate(eta[0])
    }

    fn check(&self, x: f64) -> Result<(), String> {
        check_count(x)
    }

    fn is_discrete(&self) -> bool {
        true
    }
}
