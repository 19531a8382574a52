//! Noise models: how a variable's value follows from its mechanism's
//! output, one likelihood family per file.
//!
//! A mechanism gives each row one output `η` (several for a categorical
//! variable: a logit per level after the first). The family turns it into
//! a distribution for the variable:
//!
//! | family | variable kind | `η` is | learned parameters |
//! |---|---|---|---|
//! | [`Noise::Gaussian`] | continuous | the mean | `ln σ` |
//! | [`Noise::Laplace`] | continuous | the median | `ln b` |
//! | [`Noise::StudentT`] | continuous | the centre | `ln σ`, `ln ν` |
//! | [`Noise::Mixture`] | continuous | the location | 3 Gaussians' weights, means and `ln σ` |
//! | [`Noise::Heteroscedastic`] | continuous | the mean and `ln σ` (two outputs) | none |
//! | [`Noise::Bernoulli`] | binary | the logit of `P(x = 1)` | none |
//! | [`Noise::Categorical`] | categorical | `L − 1` logits against level 0 | none |
//! | [`Noise::Poisson`] | count | `ln λ` | none |
//! | [`Noise::NegativeBinomial`] | count | `ln μ` | `ln α` (variance `μ + α μ²`) |
//!
//! Every family implements [`Likelihood`]: the negative log-density and
//! its gradient (what a fit minimises), sampling from a standard normal
//! exogenous noise `e` by the inverse CDF (`x = F⁻¹(Φ(e) | η)`, so one `e`
//! per row drives every family and paired samples stay paired; a
//! mixture's, for many rows at once, read from a checked table of
//! `F⁻¹ ∘ Φ`, `mixture_table.rs`), and
//! abduction, the noise given an observed value (exact for the continuous
//! families; for the discrete ones a draw from its posterior, uniform on
//! the CDF's step at the observed value), which makes counterfactuals.
//!
//! Continuous families work in the model's units (standardised when the
//! fit standardises the variable); the discrete ones read the data as
//! they are (0/1, level codes, counts).

mod bernoulli;
mod categorical;
mod gaussian;
mod group;
mod heteroscedastic;
mod lane_mixture;
mod laplace;
mod mixture;
mod mixture_table;
mod negative_binomial;
mod poisson;
mod special;
mod student_t;

pub use bernoulli::Bernoulli;
pub use categorical::Categorical;
pub use gaussian::Gaussian;
pub use heteroscedastic::Heteroscedastic;
pub use laplace::Laplace;
pub use mixture::{Mixture, COMPONENTS};
pub use negative_binomial::NegativeBinomial;
pub use poisson::Poisson;
pub use student_t::StudentT;

pub(crate) use mixture_table::ResidualTable;
pub(crate) use special::{normal_cdf, normal_quantile};

/// One likelihood family with its parameters.
///
/// `eta` is one row's mechanism outputs ([`Likelihood::outputs`] values).
/// Values and gradients are `f64`; a fit sums them over rows.
pub trait Likelihood {
    /// The family's name as model files and `model.toml` write it.
    fn name(&self) -> &'static str;
    /// Mechanism outputs per row (`1`, or `L − 1` for `L` levels).
    fn outputs(&self) -> usize {
        1
    }
    /// The learned parameters, in the order of [`Likelihood::set_params`].
    fn params(&self) -> Vec<f32>;
    /// Replaces the learned parameters (`params().len()` values).
    fn set_params(&mut self, values: &[f32]);
    /// `−ln p(x | η)`; adds `∂/∂η` to `d_eta` and `∂/∂params` to
    /// `d_params`.
    fn nll(&self, eta: &[f64], x: f64, d_eta: &mut [f64], d_params: &mut [f64]) -> f64;
    /// The value that standard normal noise `e` gives: `F⁻¹(Φ(e) | η)`.
    fn sample(&self, eta: &[f64], e: f64) -> f64;
    /// The standard normal noise behind an observed `x`: exact for a
    /// continuous family; for a discrete one, the draw at `u ∈ (0, 1)` of
    /// its posterior (uniform on `(F(x⁻), F(x))` in `Φ` units).
    fn abduct(&self, eta: &[f64], x: f64, u: f64) -> f64;
    /// `E[x | η]` (for a categorical variable, of its level code).
    fn expectation(&self, eta: &[f64]) -> f64;
    /// Whether `x` is a value the family gives (`Err` says what is).
    fn check(&self, x: f64) -> Result<(), String>;
    /// Whether the family is discrete.
    fn is_discrete(&self) -> bool {
        false
    }
}

/// The noise model of a variable: a likelihood family and its learned
/// parameters (see the [module docs](self)).
///
/// ```
/// use causalgrad::scm::Noise;
///
/// let noise = Noise::laplace();
/// assert_eq!(noise.name(), "laplace");
/// assert_eq!(noise.scale(), Some(1.0));
/// assert_eq!(Noise::bernoulli().scale(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Noise {
    /// Additive Gaussian noise with a learned log-scale.
    Gaussian {
        /// `ln σ`.
        log_scale: f32,
    },
    /// Additive Laplace noise (heavier tails, the median as centre).
    Laplace {
        /// `ln b`, the log of the scale (the standard deviation is `√2 b`).
        log_scale: f32,
    },
    /// Additive Student-t noise with learned degrees of freedom.
    StudentT {
        /// `ln σ`.
        log_scale: f32,
        /// `ln ν`, read clamped to `ν ∈ [1, 1000]`.
        log_df: f32,
    },
    /// Gaussian noise whose scale depends on the parents: the mechanism
    /// has two outputs, the mean and `ln σ`.
    Heteroscedastic,
    /// Additive noise from a mixture of three Gaussians (skewed,
    /// heavy-tailed or multimodal errors).
    Mixture(Mixture),
    /// A 0/1 variable, `P(x = 1) = sigmoid(η)`.
    Bernoulli,
    /// A variable with `levels` levels coded `0..levels`, softmax of
    /// `(0, η_1, .., η_{L−1})`.
    Categorical {
        /// The number of levels (at least 2).
        levels: usize,
    },
    /// A count, Poisson with rate `exp(η)`.
    Poisson,
    /// A count, negative binomial with mean `μ = exp(η)` and variance
    /// `μ + α μ²`.
    NegativeBinomial {
        /// `ln α`.
        log_dispersion: f32,
    },
}

/// Runs `$body` with `$f` bound to `noise`'s [`Likelihood`].
macro_rules! with_family {
    ($noise:expr, $f:ident => $body:expr) => {
        match *$noise {
            Noise::Gaussian { log_scale } => {
                let $f = Gaussian { log_scale };
                $body
            }
            Noise::Laplace { log_scale } => {
                let $f = Laplace { log_scale };
                $body
            }
            Noise::StudentT { log_scale, log_df } => {
                let $f = StudentT { log_scale, log_df };
                $body
            }
            Noise::Mixture(mixture) => {
                let $f = mixture;
                $body
            }
            Noise::Heteroscedastic => {
                let $f = Heteroscedastic;
                $body
            }
            Noise::Bernoulli => {
                let $f = Bernoulli;
                $body
            }
            Noise::Categorical { levels } => {
                let $f = Categorical { levels };
                $body
            }
            Noise::Poisson => {
                let $f = Poisson;
                $body
            }
            Noise::NegativeBinomial { log_dispersion } => {
                let $f = NegativeBinomial { log_dispersion };
                $body
            }
        }
    };
}

impl Noise {
    /// Gaussian noise starting at scale 1 (learned during fitting).
    pub fn gaussian() -> Self {
        Noise::Gaussian { log_scale: 0.0 }
    }

    /// Laplace noise starting at scale 1.
    pub fn laplace() -> Self {
        Noise::Laplace { log_scale: 0.0 }
    }

    /// Student-t noise starting at scale 1 with `df` degrees of freedom
    /// (both learned).
    pub fn student_t(df: f64) -> Self {
        Noise::StudentT {
            log_scale: 0.0,
            log_df: df.clamp(1.0, 1000.0).ln() as f32,
        }
    }

    /// A mixture of three Gaussians, starting close to a standard normal
    /// (all learned).
    pub fn mixture() -> Self {
        Noise::Mixture(Mixture::start())
    }

    /// A binary (0/1) variable.
    pub fn bernoulli() -> Self {
        Noise::Bernoulli
    }

    /// A categorical variable with `levels` levels.
    pub fn categorical(levels: usize) -> Self {
        Noise::Categorical { levels }
    }

    /// A Poisson count.
    pub fn poisson() -> Self {
        Noise::Poisson
    }

    /// A negative binomial count starting at dispersion `α = 1`.
    pub fn negative_binomial() -> Self {
        Noise::NegativeBinomial {
            log_dispersion: 0.0,
        }
    }

    /// The family's name (`"gaussian"`, `"laplace"`, `"student_t"`,
    /// `"mixture"`, `"heteroscedastic"`, `"bernoulli"`, `"categorical"`, `"poisson"`,
    /// `"negative_binomial"`).
    pub fn name(&self) -> &'static str {
        with_family!(self, f => f.name())
    }

    /// The scale of an additive continuous family in the units it is
    /// given in (`σ` of a Gaussian or Student-t, `b` of a Laplace, the
    /// standard deviation of a mixture); `None` for the discrete families
    /// and for a scale that depends on the parents.
    pub fn scale(&self) -> Option<f64> {
        match *self {
            Noise::Gaussian { log_scale }
            | Noise::Laplace { log_scale }
            | Noise::StudentT { log_scale, .. } => Some(f64::from(log_scale).exp()),
            Noise::Mixture(mixture) => Some(mixture.standard_deviation()),
            _ => None,
        }
    }

    /// The learned parameters (for instance `[ln σ]`).
    pub fn params(&self) -> Vec<f32> {
        with_family!(self, f => f.params())
    }

    /// The same family with `values` as its parameters; `values` must
    /// have [`Noise::params`]'s length.
    pub fn with_params(mut self, values: &[f32]) -> Self {
        assert_eq!(values.len(), self.params().len(), "noise parameter count");
        match &mut self {
            Noise::Gaussian { log_scale } | Noise::Laplace { log_scale } => {
                *log_scale = values[0];
            }
            Noise::StudentT { log_scale, log_df } => {
                *log_scale = values[0];
                *log_df = values[1];
            }
            Noise::NegativeBinomial { log_dispersion } => *log_dispersion = values[0],
            Noise::Mixture(mixture) => mixture.set_params(values),
            Noise::Bernoulli
            | Noise::Categorical { .. }
            | Noise::Poisson
            | Noise::Heteroscedastic => {}
        }
        self
    }

    /// The family called `name` ([`Noise::name`]) for a variable of
    /// `kind`, with default parameters; `None` when there is none.
    pub(crate) fn from_name(name: &str, kind: &super::VariableKind) -> Option<Noise> {
        let noise = match name {
            "gaussian" => Noise::gaussian(),
            "laplace" => Noise::laplace(),
            "student_t" => Noise::student_t(10.0),
            "mixture" => Noise::mixture(),
            "heteroscedastic" => Noise::Heteroscedastic,
            "bernoulli" => Noise::Bernoulli,
            "categorical" => Noise::categorical(kind.levels()?.len()),
            "poisson" => Noise::Poisson,
            "negative_binomial" => Noise::negative_binomial(),
            _ => return None,
        };
        kind.allows(&noise).then_some(noise)
    }

    /// Mechanism outputs per row the family reads.
    pub fn outputs(&self) -> usize {
        with_family!(self, f => f.outputs())
    }

    /// Whether the family is discrete (binary, categorical, count).
    pub fn is_discrete(&self) -> bool {
        with_family!(self, f => f.is_discrete())
    }

    /// The same noise in units `factor` times larger (the continuous
    /// families' scales; the discrete ones are unchanged).
    pub(crate) fn rescaled(self, factor: f64) -> Self {
        match self {
            Noise::Gaussian { log_scale } => Noise::Gaussian {
                log_scale: (f64::from(log_scale) + factor.ln()) as f32,
            },
            Noise::Laplace { log_scale } => Noise::Laplace {
                log_scale: (f64::from(log_scale) + factor.ln()) as f32,
            },
            Noise::StudentT { log_scale, log_df } => Noise::StudentT {
                log_scale: (f64::from(log_scale) + factor.ln()) as f32,
                log_df,
            },
            Noise::Mixture(mut mixture) => {
                for m in &mut mixture.means {
                    *m = (f64::from(*m) * factor) as f32;
                }
                for s in &mut mixture.log_scales {
                    *s = (f64::from(*s) + factor.ln()) as f32;
                }
                Noise::Mixture(mixture)
            }
            discrete => discrete,
        }
    }

    /// `−ln p(x | η)` with its gradients (see [`Likelihood::nll`]).
    pub(crate) fn nll(&self, eta: &[f64], x: f64, d_eta: &mut [f64], d_params: &mut [f64]) -> f64 {
        with_family!(self, f => f.nll(eta, x, d_eta, d_params))
    }

    /// [`Noise::nll`] with its per-batch constants computed once (a
    /// mixture's weights and scales), for a loop over rows.
    pub(crate) fn row_loss(
        &self,
    ) -> impl Fn(&[f64], f64, &mut [f64], &mut [f64]) -> f64 + Sync + '_ {
        enum Prepared {
            Mixture(mixture::PreparedMixture),
            StudentT(student_t::PreparedStudentT),
            Plain,
        }
        let prepared = match *self {
            Noise::Mixture(mixture) => Prepared::Mixture(mixture.prepared()),
            Noise::StudentT { log_scale, log_df } => {
                Prepared::StudentT(StudentT { log_scale, log_df }.prepared())
            }
            _ => Prepared::Plain,
        };
        move |eta: &[f64], x: f64, d_eta: &mut [f64], d_params: &mut [f64]| match &prepared {
            Prepared::Mixture(prepared) => prepared.nll(eta, x, d_eta, d_params),
            Prepared::StudentT(prepared) => prepared.nll(eta, x, d_eta, d_params),
            Prepared::Plain => self.nll(eta, x, d_eta, d_params),
        }
    }

    /// See [`Likelihood::sample`].
    pub(crate) fn sample(&self, eta: &[f64], e: f64) -> f64 {
        with_family!(self, f => f.sample(eta, e))
    }

    /// See [`Likelihood::abduct`].
    pub(crate) fn abduct(&self, eta: &[f64], x: f64, u: f64) -> f64 {
        with_family!(self, f => f.abduct(eta, x, u))
    }

    /// See [`Likelihood::expectation`].
    pub(crate) fn expectation(&self, eta: &[f64]) -> f64 {
        with_family!(self, f => f.expectation(eta))
    }

    /// See [`Likelihood::check`].
    pub(crate) fn check(&self, x: f64) -> Result<(), String> {
        with_family!(self, f => f.check(x))
    }

    /// The probability of each level (a binary variable's `[P(0), P(1)]`),
    /// `None` for the other families.
    pub(crate) fn probabilities(&self, eta: &[f64]) -> Option<Vec<f64>> {
        match self {
            Noise::Bernoulli => {
                let p = special::sigmoid(eta[0]);
                Some(vec![1.0 - p, p])
            }
            Noise::Categorical { .. } => Some(categorical::softmax(eta)),
            _ => None,
        }
    }
}

/// A value that must be a whole number at least 0 (`what` names it).
fn check_count(x: f64) -> Result<(), String> {
    if x >= 0.0 && x.fract() == 0.0 {
        Ok(())
    } else {
        Err(format!(
            "{x} is not a count (a whole number at least 0); declare the variable continuous if it is a measurement"
        ))
    }
}

/// The value of a discrete family at `Φ(e)`: the smallest `k ≥ 0` with
/// `cdf(k) ≥ Φ(e)`, searched from `start`.
fn discrete_quantile(e: f64, start: f64, cdf: impl Fn(f64) -> f64) -> f64 {
    let u = normal_cdf(e);
    let mut k = start.max(0.0).floor();
    if cdf(k) >= u {
        while k > 0.0 && cdf(k - 1.0) >= u {
            k -= 1.0;
        }
    } else {
        while cdf(k) < u && k < 1e12 {
            k += 1.0;
        }
    }
    k
}

/// The noise behind a discrete observation `x` with `cdf`: `Φ⁻¹` of the
/// point `u` of the way from `F(x − 1)` to `F(x)`.
fn discrete_abduct(x: f64, u: f64, cdf: impl Fn(f64) -> f64) -> f64 {
    let low = if x > 0.0 { cdf(x - 1.0) } else { 0.0 };
    let high = cdf(x);
    normal_quantile(low + u * (high - low))
}

#[cfg(test)]
mod tests;
