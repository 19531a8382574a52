//! An overdispersed count: negative binomial with mean `exp(η)` and
//! variance `μ + α μ²`.

use statrs::distribution::{DiscreteCDF, NegativeBinomial as NegativeBinomialDistribution};

use super::poisson::MAX_LOG_MEAN;
use super::special::{digamma, ln_gamma};
use super::{check_count, discrete_abduct, discrete_quantile, Likelihood};

/// The range of `ln α` a fit reads.
const LOG_DISPERSION_RANGE: (f64, f64) = (-12.0, 8.0);

/// `x ~ NB(μ = exp(η), α)`: `r = 1/α` successes, each trial failing with
/// probability `μ / (r + μ)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NegativeBinomial {
    /// `ln α`.
    pub log_dispersion: f32,
}

impl NegativeBinomial {
    /// `r = 1 / α`.
    fn r(&self) -> f64 {
        (-f64::from(self.log_dispersion).clamp(LOG_DISPERSION_RANGE.0, LOG_DISPERSION_RANGE.1))
            .exp()
    }

    fn cdf(&self, eta: f64) -> impl Fn(f64) -> f64 {
        let (r, mu) = (self.r(), eta.min(MAX_LOG_MEAN).exp());
        let distribution = NegativeBinomialDistribution::new(r, (r / (r + mu)).clamp(1e-300, 1.0))
            .expect("r > 0 and p in (0, 1]");
        move |k: f64| distribution.cdf(k as u64)
    }
}

impl Likelihood for NegativeBinomial {
    fn name(&self) -> &'static str {
        "negative_binomial"
    }

    fn params(&self) -> Vec<f32> {
        vec![self.log_dispersion]
    }

    fn set_params(&mut self, values: &[f32]) {
        self.log_dispersion = values[0];
    }

    fn nll(&self, eta: &[f64], x: f64, d_eta: &mut [f64], d_params: &mut [f64]) -> f64 {
        let eta = eta[0].min(MAX_LOG_MEAN);
        let (r, mu) = (self.r(), eta.exp());
        d_eta[0] += r * (mu - x) / (r + mu);
        let a = f64::from(self.log_dispersion);
        if a > LOG_DISPERSION_RANGE.0 && a < LOG_DISPERSION_RANGE.1 {
            let d_r =
                -digamma(x + r) + digamma(r) + (r + mu).ln() + (r + x) / (r + mu) - r.ln() - 1.0;
            d_params[0] += -r * d_r;
        }
        -ln_gamma(x + r) + ln_gamma(r) + ln_gamma(x + 1.0) + (r + x) * (r + mu).ln()
            - r * r.ln()
            - x * eta
    }

    fn sample(&self, eta: &[f64], e: f64) -> f64 {
        discrete_quantile(e, eta[0].min(MAX_LOG_MEAN).exp(), self.cdf(eta[0]))
    }

    fn abduct(&self, eta: &[f64], x: f64, u: f64) -> f64 {
        discrete_abduct(x, u, self.cdf(eta[0]))
    }

    fn expectation(&self, eta: &[f64]) -> f64 {
        eta[0].min(MAX_LOG_MEAN).exp()
    }

    fn check(&self, x: f64) -> Result<(), String> {
        check_count(x)
    }

    fn is_discrete(&self) -> bool {
        true
    }
}
