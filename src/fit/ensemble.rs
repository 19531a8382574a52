//! Ensemble members: refits of a fitted model on resampled rows from
//! fresh initial weights, run in parallel on all cores, which the
//! interval queries of [`crate::uncertainty`] read.
//!
//! Each member is the same model (graph, mechanism kinds, noise families,
//! the fitted model's scalings and base rates, so all are in one set of
//! units), fitted with the same settings to a bootstrap resample of the
//! fit's training rows (drawn with replacement, as many as there are),
//! validated and stopped early on the same held-out rows, and started
//! from fresh random weights where the mechanism has a random
//! initialisation ([`Mechanism::initial_params`](crate::scm::Mechanism::initial_params)).
//! The resample carries the parameters' sampling uncertainty; the fresh
//! start carries the function's: away from the data, networks started
//! differently extrapolate differently, and the members disagree there.

use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use super::config::{FitConfig, FitError, FitReport};
use super::device::autodiff_device;
use super::standardize::standardize;
use super::train::Trainer;
use super::ContextFitReport;
use crate::context::{ContextGraph, FittedContexts};
use crate::data::Dataset;
use crate::scm::Scm;

/// The number of members `causalgrad fit` makes by default.
pub const DEFAULT_MEMBERS: usize = 5;

/// How [`Scm::fit_members`] makes its members.
///
/// ```
/// use causalgrad::fit::MemberConfig;
///
/// let config = MemberConfig::new(8).with_seed(3);
/// assert_eq!(config.count(), 8);
/// assert!(config.resamples() && config.reinitializes());
/// let seeds_only = MemberConfig::new(8).without_resampling();
/// assert!(!seeds_only.resamples());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberConfig {
    count: usize,
    seed: u64,
    resample: bool,
    reinitialize: bool,
}

impl MemberConfig {
    /// `count` members, each fitted to a bootstrap resample of the rows
    /// from fresh initial weights, seed 0.
    pub fn new(count: usize) -> Self {
        MemberConfig {
            count,
            seed: 0,
            resample: true,
            reinitialize: true,
        }
    }

    /// The seed of the resamples and of the members' initial weights.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Every member fits all the training rows (a deep ensemble: only the
    /// initial weights and the batches differ).
    pub fn without_resampling(mut self) -> Self {
        self.resample = false;
        self
    }

    /// Every member starts from the fitted model's values (a bootstrap
    /// around the fit; the function's uncertainty away from the data is
    /// then mostly missed).
    pub fn without_reinitialization(mut self) -> Self {
        self.reinitialize = false;
        self
    }

    /// The number of members.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether each member fits a bootstrap resample of the rows.
    pub fn resamples(&self) -> bool {
        self.resample
    }

    /// Whether each member starts from fresh initial weights.
    pub fn reinitializes(&self) -> bool {
        self.reinitialize
    }

    /// `fit(seed, model, config)` for every member, in parallel: `model`
    /// is `base` with fresh initial weights from the member's seed (when
    /// reinitialising), `config` the fit's settings with that seed and no
    /// checkpoints.
    fn fit_each<R: Send>(
        &self,
        base: &Scm,
        config: &FitConfig,
        fit: impl Fn(u64, Scm, &FitConfig) -> Result<R, FitError> + Sync,
    ) -> Result<Vec<R>, FitError> {
        let mut member_config = config.clone();
        member_config.checkpoint = None;
        (0..self.count)
            .into_par_iter()
            .map(|k| {
                let seed = self.member_seed(k);
                let mut model = base.clone();
                if self.reinitialize {
                    reinitialize(&mut model, seed);
                }
                fit(seed, model, &member_config.clone().with_seed(seed))
            })
            .collect()
    }

    /// Member `k`'s seed.
    fn member_seed(&self, k: usize) -> u64 {
        // Spread by a large odd constant, so nearby seeds give unrelated streams.
        self.seed
            .wrapping_add(k as u64 + 1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

impl Default for MemberConfig {
    /// [`DEFAULT_MEMBERS`] members, resampled and reinitialised, seed 0.
    fn default() -> Self {
        MemberConfig::new(DEFAULT_MEMBERS)
    }
}

impl Scm {
    /// Fits ensemble members beside this model (call it after
    /// [`Scm::fit`] with the same data and settings): each is a refit as
    /// the module docs describe, all run in parallel, and the model then
    /// carries them ([`Scm::members`]; saved with it). Replaces any
    /// members it had; returns each member's fit report.
    ///
    /// An error of any member's fit is returned and the model keeps the
    /// members it had.
    ///
    /// ```no_run
    /// use causalgrad::data::Dataset;
    /// use causalgrad::fit::{FitConfig, MemberConfig};
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::Scm;
    ///
    /// let graph = CausalGraph::from_dot_file("graph.dot")?;
    /// let data = Dataset::from_csv("train.csv")?;
    /// let mut scm = Scm::builder(graph).build()?;
    /// let config = FitConfig::default();
    /// scm.fit(&data, &config)?;
    /// scm.fit_members(&data, &config, &MemberConfig::default())?;
    /// let effect = scm.ate_interval("x", "y", 0.0, 1.0, 100_000, 0, 0.95)?;
    /// println!("{:.3} in [{:.3}, {:.3}]", effect.estimate, effect.low, effect.high);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fit_members(
        &mut self,
        data: &Dataset,
        config: &FitConfig,
        members: &MemberConfig,
    ) -> Result<Vec<FitReport>, FitError> {
        config.check()?;
        let device = autodiff_device(config.device)?;
        let mut base = self.without_members();
        base.check_data(data)?;
        super::loss::check_device(&base, &device)?;
        standardize(&mut base, config, |name| {
            data.column(name).into_iter().collect()
        });
        let (train, valid) = if config.validation_fraction > 0.0 {
            let (train, valid) = data.split(config.validation_fraction, config.seed);
            (train, Some(valid))
        } else {
            (data.clone(), None)
        };
        let fitted: Vec<_> = members.fit_each(&base, config, |seed, mut model, config| {
            let rows = if members.resample {
                bootstrap_rows(train.n_rows(), seed)
            } else {
                (0..train.n_rows()).collect()
            };
            let resampled = train.take_rows(&rows);
            let report =
                Trainer::on_split(&mut model, &resampled, valid.as_ref(), config, &device)?
                    .run()?;
            Ok((model.as_member(), report))
        })?;
        let (values, reports) = fitted.into_iter().unzip();
        *self = base;
        self.set_members(values);
        Ok(reports)
    }
}

impl FittedContexts {
    /// Fits ensemble members beside a fit over contexts (call it after
    /// [`Scm::fit_contexts`] with the same context graph and settings):
    /// each member is the fit over `graph` again, every context's rows a
    /// bootstrap resample of its own (each resample then split for
    /// validation as the fit splits it), from fresh initial weights, all
    /// run in parallel. The members then answer in every context
    /// ([`FittedContexts::in_context`] gives a model carrying them, so
    /// its intervals cover the fit's uncertainty) and are saved with the
    /// contexts. Replaces any members there were; returns each member's
    /// report. An error of any member's fit is returned and nothing
    /// changes.
    ///
    /// ```
    /// use causalgrad::context::{Context, ContextGraph};
    /// use causalgrad::fit::{FitConfig, MemberConfig};
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::Scm;
    ///
    /// let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
    /// let mut truth = Scm::builder(graph.clone()).build()?;
    /// truth.set_params("y", &[0.0, 2.0])?;
    /// let contexts = ContextGraph::builder()
    ///     .context(Context::new("obs", truth.sample(400, 1)?))
    ///     .context(Context::new("x=1", truth.intervene(&[("x", 1.0)])?.sample(400, 2)?).set("x", 1.0))
    ///     .build()?;
    /// let config = FitConfig::adam(0.05).with_steps(200);
    /// let mut model = Scm::builder(graph).build()?;
    /// let mut fitted = model.fit_contexts(&contexts, &config)?.fitted;
    /// fitted.fit_members(&contexts, &config, &MemberConfig::new(3))?;
    /// let effect = fitted.in_context("obs")?.ate_interval("x", "y", 0.0, 1.0, 2000, 0, 0.95)?;
    /// assert_eq!(effect.members.len(), 3);
    /// assert!(effect.low < 2.0 && 2.0 < effect.high, "{effect:?}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fit_members(
        &mut self,
        graph: &ContextGraph,
        config: &FitConfig,
        members: &MemberConfig,
    ) -> Result<Vec<ContextFitReport>, FitError> {
        config.check()?;
        let base = self.shared().without_members();
        let fitted: Vec<_> = members.fit_each(&base, config, |seed, mut model, config| {
            let mut resampled = graph.clone();
            if members.resample {
                for (i, data) in resampled.datasets_mut().into_iter().enumerate() {
                    let rows = bootstrap_rows(data.n_rows(), seed ^ (i as u64 + 1));
                    *data = data.take_rows(&rows);
                }
            }
            let report = model.fit_contexts(&resampled, config)?;
            let own = report
                .fitted
                .contexts()
                .iter()
                .map(|c| c.own.clone())
                .collect::<Vec<_>>();
            Ok((report.fitted.shared().as_member(), own, report))
        })?;
        let mut shared = Vec::with_capacity(fitted.len());
        let mut own = Vec::with_capacity(fitted.len());
        let mut reports = Vec::with_capacity(fitted.len());
        for (member, member_own, report) in fitted {
            shared.push(member);
            own.push(member_own);
            reports.push(report);
        }
        self.set_members(shared, own);
        Ok(reports)
    }
}

/// Fresh initial weights for every mechanism with a random
/// initialisation, drawn from `seed` and the variable's position.
fn reinitialize(model: &mut Scm, seed: u64) {
    for (j, node) in model.nodes_mut().iter_mut().enumerate() {
        if let Some(init) = node.mechanism.initial_params(seed ^ j as u64) {
            node.mechanism
                .set_params(&init)
                .expect("a kernel's initial parameters fit it");
        }
    }
}

/// `n` row indices drawn uniformly with replacement, sorted.
fn bootstrap_rows(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut rows: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
    rows.sort_unstable();
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bootstrap_draws_with_replacement_and_is_seeded() {
        let rows = bootstrap_rows(1000, 4);
        assert_eq!(rows.len(), 1000);
        assert!(rows.iter().all(|&r| r < 1000));
        let distinct = {
            let mut d = rows.clone();
            d.dedup();
            d.len()
        };
        // About 1 - 1/e of the rows appear at least once.
        assert!((560..700).contains(&distinct), "{distinct}");
        assert_eq!(rows, bootstrap_rows(1000, 4));
        assert_ne!(rows, bootstrap_rows(1000, 5));
    }

    #[test]
    fn member_seeds_differ() {
        let config = MemberConfig::new(4);
        let seeds: Vec<u64> = (0..4).map(|k| config.member_seed(k)).collect();
        for (i, a) in seeds.iter().enumerate() {
            assert!(seeds[i + 1..].iter().all(|b| b != a));
        }
    }
}
