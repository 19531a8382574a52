//! Additive Student-t noise with learned degrees of freedom.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::gaussian::MIN_LOG_SCALE;
use super::special::{digamma, ln_gamma};
use super::{normal_cdf, normal_quantile, Likelihood};

/// The range of `ln ν` a fit reads (`ν ∈ [1, 1000]`).
const LOG_DF_RANGE: (f64, f64) = (0.0, 6.907_755_278_982_137);

/// `x = η + σ t`, `t` Student-t with `ν` degrees of freedom.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StudentT {
    /// `ln σ`.
    pub log_scale: f32,
    /// `ln ν`.
    pub log_df: f32,
}

impl StudentT {
    /// `ν`, clamped into its range.
    pub fn df(&self) -> f64 {
        f64::from(self.log_df)
            .clamp(LOG_DF_RANGE.0, LOG_DF_RANGE.1)
            .exp()
    }

    fn sigma(&self) -> f64 {
        f64::from(self.log_scale).max(MIN_LOG_SCALE).exp()
    }

    fn standard(&self) -> StudentsT {
        StudentsT::new(0.0, 1.0, self.df()).expect("ν is in [1, 1000]")
    }
}

/// A Student-t's per-row constants, computed once per batch.
pub(crate) struct PreparedStudentT {
    sigma: f64,
    nu: f64,
    /// `−lnΓ((ν+1)/2) + lnΓ(ν/2) + ½ ln(νπ) + ln σ`.
    constant: f64,
    /// `−½ψ((ν+1)/2) + ½ψ(ν/2) + 1/(2ν)`, or `None` when `ln ν` is clamped.
    d_nu_constant: Option<f64>,
    free_scale: bool,
}

impl StudentT {
    /// The constants [`PreparedStudentT::nll`] reads.
    pub(crate) fn prepared(&self) -> PreparedStudentT {
        let s = f64::from(self.log_scale).max(MIN_LOG_SCALE);
        let nu = self.df();
        let log_df = f64::from(self.log_df);
        PreparedStudentT {
            sigma: s.exp(),
            nu,
            constant: -ln_gamma(0.5 * (nu + 1.0))
                + ln_gamma(0.5 * nu)
                + 0.5 * (nu * std::f64::consts::PI).ln()
                + s,
            d_nu_constant: (log_df > LOG_DF_RANGE.0 && log_df < LOG_DF_RANGE.1)
                .then(|| -0.5 * digamma(0.5 * (nu + 1.0)) + 0.5 * digamma(0.5 * nu) + 0.5 / nu),
            free_scale: f64::from(self.log_scale) > MIN_LOG_SCALE,
        }
    }
}

impl PreparedStudentT {
    /// [`Likelihood::nll`] of the Student-t.
    pub(crate) fn nll(&self, eta: &[f64], x: f64, d_eta: &mut [f64], d_params: &mut [f64]) -> f64 {
        let (sigma, nu) = (self.sigma, self.nu);
        let z = (x - eta[0]) / sigma;
        let q = nu + z * z;
        let log_term = (z * z / nu).ln_1p();
        d_eta[0] -= (nu + 1.0) * z / (q * sigma);
        if self.free_scale {
            d_params[0] += 1.0 - (nu + 1.0) * z * z / q;
        }
        if let Some(constant) = self.d_nu_constant {
            let d_nu = constant + 0.5 * log_term - (nu + 1.0) * z * z / (2.0 * nu * q);
            d_params[1] += d_nu * nu;
        }
        self.constant + 0.5 * (nu + 1.0) * log_term
    }
}

impl Likelihood for StudentT {
    fn name(&self) -> &'static str {
        "student_t"
    }

    fn params(&self) -> Vec<f32> {
        vec![self.log_scale, self.log_df]
    }

    fn set_params(&mut self, values: &[f32]) {
        self.log_scale = values[0];
        self.log_df = values[1];
    }

    fn nll(&self, eta: &[f64], x: f64, d_eta: &mut [f64], d_params: &mut [f64]) -> f64 {
        self.prepared().nll(eta, x, d_eta, d_params)
    }

    fn sample(&self, eta: &[f64], e: f64) -> f64 {
        // By symmetry, from the smaller tail (precise far out).
        let t = -self.standard().inverse_cdf(normal_cdf(-e.abs()));
        eta[0] + self.sigma() * e.signum() * t
    }

    fn abduct(&self, eta: &[f64], x: f64, _: f64) -> f64 {
        let z = (x - eta[0]) / self.sigma();
        let tail = self.standard().cdf(-z.abs());
        z.signum() * -normal_quantile(tail)
    }

    fn expectation(&self, eta: &[f64]) -> f64 {
        eta[0]
    }

    fn check(&self, _: f64) -> Result<(), String> {
        Ok(())
    }
}
