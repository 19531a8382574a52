//! Coverage studies: how often an effect's interval covers the truth on
//! replicate data sets from a known model, and how wide it is against the
//! oracle width (what an interval must span given the estimate's actual
//! spread across replicates).
//!
//! Each replicate samples `rows` rows from the true model, fits a fresh
//! model to them with the given settings, makes its members, and asks the
//! effect with an interval. Replicates run in parallel.
//!
//! ```no_run
//! use causalgrad::fit::{FitConfig, MemberConfig};
//! use causalgrad::models::scm5;
//! use causalgrad::uncertainty::coverage::{study, Design};
//!
//! let truth = scm5::Truth::from_json_file(scm5::data_dir().join("truth.json"))?;
//! let design = Design {
//!     truth: scm5::model(&truth.params),
//!     fresh: &scm5::default_model,
//!     rows: 1000,
//!     treatment: "x2".into(),
//!     outcome: "x5".into(),
//!     a: -1.0,
//!     b: 1.0,
//! };
//! let report = study(&design, 40, &FitConfig::default(), &MemberConfig::default(), 0.95)?;
//! println!("coverage {:.2}, width {:.3} against the oracle's {:.3}",
//!     report.coverage(), report.mean_width(), report.oracle_width());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use rayon::prelude::*;

use super::Estimate;
use crate::fit::{FitConfig, FitError, MemberConfig};
use crate::scm::{Scm, ScmError};

/// Samples per arm of the effects a study asks (and of the true effect).
const SAMPLES: usize = 100_000;

/// A replicate design: the true model, the model fitted to its samples,
/// and the effect asked.
pub struct Design<'a> {
    /// The model the data come from.
    pub truth: Scm,
    /// A fresh, unfitted model from a seed (the one a user would fit).
    pub fresh: &'a (dyn Fn(u64) -> Scm + Sync),
    /// Rows per replicate.
    pub rows: usize,
    /// The variable intervened on.
    pub treatment: String,
    /// The outcome.
    pub outcome: String,
    /// The reference value of the treatment.
    pub a: f64,
    /// The value compared with it.
    pub b: f64,
}

/// What went wrong in a study.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// Sampling or a query failed.
    #[error(transparent)]
    Scm(#[from] ScmError),
    /// A fit failed.
    #[error("replicate {replicate}: {source}")]
    Fit {
        /// The replicate.
        replicate: u64,
        /// The fit's error.
        source: Box<FitError>,
    },
}

/// The replicates' estimates against the true effect.
#[derive(Clone, Debug)]
pub struct CoverageReport {
    /// The true effect (by Monte Carlo on the true model, one million
    /// samples per arm).
    pub truth: f64,
    /// One estimate per replicate.
    pub estimates: Vec<Estimate>,
}

impl CoverageReport {
    /// The share of replicates whose interval covers the truth.
    pub fn coverage(&self) -> f64 {
        let covered = self
            .estimates
            .iter()
            .filter(|e| e.covers(self.truth))
            .count();
        covered as f64 / self.estimates.len().max(1) as f64
    }

    /// The intervals' mean width.
    pub fn mean_width(&self) -> f64 {
        mean(self.estimates.iter().map(Estimate::width))
    }

    /// The estimates' standard deviation across replicates.
    pub fn spread(&self) -> f64 {
        let m = mean(self.estimates.iter().map(|e| e.estimate));
        let k = self.estimates.len() as f64;
        (self
            .estimates
            .iter()
            .map(|e| (e.estimate - m).powi(2))
            .sum::<f64>()
            / (k - 1.0).max(1.0))
        .sqrt()
    }

    /// The oracle width at the estimates' level: `2 z σ`, with `σ` the
    /// estimates' spread across replicates and `z` the normal quantile.
    pub fn oracle_width(&self) -> f64 {
        use statrs::distribution::{ContinuousCDF, Normal};
        let level = self.estimates.first().map_or(0.95, |e| e.level);
        let z = Normal::new(0.0, 1.0)
            .expect("the standard normal")
            .inverse_cdf(0.5 + 0.5 * level);
        2.0 * z * self.spread()
    }

    /// The estimates' mean error against the truth.
    pub fn bias(&self) -> f64 {
        mean(self.estimates.iter().map(|e| e.estimate)) - self.truth
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n.max(1) as f64
}

/// Runs `replicates` replicates of `design` (replicate `r` samples with
/// seed `r` and fits from `design.fresh(r)`), each fitted with `fit` and
/// members made with `members` (seeded by the replicate), and asks the
/// effect with an interval at `level`.
pub fn study(
    design: &Design<'_>,
    replicates: u64,
    fit: &FitConfig,
    members: &MemberConfig,
    level: f64,
) -> Result<CoverageReport, StudyError> {
    let effect = |scm: &Scm, samples: usize, seed: u64| {
        scm.ate(
            &design.treatment,
            &design.outcome,
            design.a,
            design.b,
            samples,
            seed,
        )
    };
    let truth = effect(&design.truth, 10 * SAMPLES, u64::MAX)?.ate;
    let estimates = (0..replicates)
        .into_par_iter()
        .map(|r| {
            let data = design.truth.sample(design.rows, r)?;
            let mut scm = (design.fresh)(r);
            let failed = |source| StudyError::Fit {
                replicate: r,
                source: Box::new(source),
            };
            scm.fit(&data, fit).map_err(failed)?;
            let members = members.clone().with_seed(r);
            scm.fit_members(&data, fit, &members).map_err(failed)?;
            let e = effect(&scm, SAMPLES, r)?;
            Ok(scm.interval_around(e.ate, e.stderr, level, |m| Ok(effect(m, SAMPLES, r)?.ate))?)
        })
        .collect::<Result<_, StudyError>>()?;
    Ok(CoverageReport { truth, estimates })
}
