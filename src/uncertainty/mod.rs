//! How sure an answer is: intervals that cover the model's uncertainty,
//! not only the Monte-Carlo error of the sampler.
//!
//! A model fitted with members ([`Scm::fit_members`]) answers a query once
//! with its own parameters (the estimate) and once with each member's;
//! the members' spread is the fit's uncertainty (bootstrap resamples for
//! the parameters, fresh initial weights for the function away from the
//! data). The interval is the estimate ± `t · sqrt(s² + m²)`, with `s`
//! the members' standard deviation, `m` the estimate's Monte-Carlo
//! standard error and `t` the Student-t quantile with (members − 1)
//! degrees of freedom, which widens a level's interval for the few
//! members a fit makes (`t` = 2.78 for 5 members at 95%, against the
//! normal 1.96). Why this method, and the coverage it reaches, is in
//! `docs/uncertainty.md`.
//!
//! A model without members gives the Monte-Carlo interval only
//! ([`IntervalMethod::MonteCarlo`]), which says nothing about the fit.
//!
//! ```
//! use causalgrad::graph::CausalGraph;
//! use causalgrad::scm::{Mechanism, Scm};
//! use causalgrad::uncertainty::IntervalMethod;
//!
//! let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
//! let mut scm = Scm::builder(graph).mechanism("y", Mechanism::linear(1)).build()?;
//! scm.set_params("y", &[0.0, 2.0])?;
//! let effect = scm.ate_interval("x", "y", 0.0, 1.0, 10_000, 0, 0.95)?;
//! assert!((effect.estimate - 2.0).abs() < 1e-6);
//! // No members: the interval is the Monte-Carlo error's, and says so.
//! assert_eq!(effect.method, IntervalMethod::MonteCarlo);
//! assert!(effect.low <= effect.estimate && effect.estimate <= effect.high);
//! # Ok::<(), causalgrad::Error>(())
//! ```

#[cfg(feature = "burn")]
pub mod coverage;
mod extrapolation;

pub use extrapolation::{Extrapolation, SupportView, DIAGNOSTIC_SAMPLES, WARN_SHARE};

use rayon::prelude::*;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::data::Dataset;
use crate::scm::{Scm, ScmError};

/// The interval level `causalgrad effect` reports by default.
pub const DEFAULT_LEVEL: f64 = 0.95;

/// The Monte-Carlo samples each ensemble member answers a query with, at
/// most ([`Scm::member_answers`]): the members measure the fit's spread,
/// and at the default effect's 100 000 samples the members' answers would
/// otherwise cost five times the estimate's.
pub const MEMBER_SAMPLES: usize = 2000;

/// What an interval accounts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalMethod {
    /// The fit's uncertainty from its ensemble members (and the
    /// Monte-Carlo error), with a Student-t quantile.
    Ensemble,
    /// The Monte-Carlo error of the sampler only (a model without
    /// members).
    MonteCarlo,
}

impl IntervalMethod {
    /// Its name in outputs (`"ensemble"`, `"monte_carlo"`).
    pub fn name(self) -> &'static str {
        match self {
            IntervalMethod::Ensemble => "ensemble",
            IntervalMethod::MonteCarlo => "monte_carlo",
        }
    }
}

/// A query's answer with an interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// The answer with the model's own parameters.
    pub estimate: f64,
    /// Its Monte-Carlo standard error.
    pub mc_stderr: f64,
    /// The members' standard deviation (0 without members).
    pub model_stderr: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end.
    pub high: f64,
    /// The interval's level, e.g. 0.95.
    pub level: f64,
    /// What the interval accounts for.
    pub method: IntervalMethod,
    /// Each member's answer.
    pub members: Vec<f64>,
}

impl Estimate {
    /// The interval around `estimate` (Monte-Carlo standard error
    /// `mc_stderr`) from the members' answers `members` at `level` (see
    /// the module docs); with fewer than two members, the Monte-Carlo
    /// interval. `level` must be in (0, 1).
    pub fn new(estimate: f64, mc_stderr: f64, members: Vec<f64>, level: f64) -> Estimate {
        let upper = 0.5 + 0.5 * level;
        let (method, model_stderr, quantile) = if members.len() >= 2 {
            let k = members.len() as f64;
            let mean = members.iter().sum::<f64>() / k;
            let var = members.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (k - 1.0);
            let t = StudentsT::new(0.0, 1.0, k - 1.0).expect("degrees of freedom are positive");
            (IntervalMethod::Ensemble, var.sqrt(), t.inverse_cdf(upper))
        } else {
            let normal = Normal::new(0.0, 1.0).expect("the standard normal");
            (IntervalMethod::MonteCarlo, 0.0, normal.inverse_cdf(upper))
        };
        let half = quantile * (model_stderr.powi(2) + mc_stderr.powi(2)).sqrt();
        Estimate {
            estimate,
            mc_stderr,
            model_stderr,
            low: estimate - half,
            high: estimate + half,
            level,
            method,
            members,
        }
    }

    /// Whether `value` lies in the interval.
    pub fn covers(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }

    /// The interval's width.
    pub fn width(&self) -> f64 {
        self.high - self.low
    }
}

/// `level` checked to be a fraction in (0, 1).
fn check_level(level: f64) -> Result<(), ScmError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(ScmError::BadLevel { level })
    }
}

impl Scm {
    /// The interval around `estimate` (this model's answer to a query,
    /// with Monte-Carlo standard error `mc_stderr`) at `level`, from
    /// `query` asked of every member in parallel.
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::{Mechanism, Scm};
    ///
    /// let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
    /// let scm = Scm::builder(graph).mechanism("y", Mechanism::linear(1)).build()?;
    /// let mean = |m: &Scm| m.interventional_mean("y", &[("x", 1.0)], 1000, 0);
    /// let estimate = scm.interval_around(mean(&scm)?, 0.0, 0.9, mean)?;
    /// assert_eq!(estimate.level, 0.9);
    /// # Ok::<(), causalgrad::Error>(())
    /// ```
    pub fn interval_around(
        &self,
        estimate: f64,
        mc_stderr: f64,
        level: f64,
        query: impl Fn(&Scm) -> Result<f64, ScmError> + Sync,
    ) -> Result<Estimate, ScmError> {
        check_level(level)?;
        let members = (0..self.members())
            .into_par_iter()
            .map(|k| query(&self.member(k).expect("k is below the member count")))
            .collect::<Result<Vec<f64>, ScmError>>()?;
        Ok(Estimate::new(estimate, mc_stderr, members, level))
    }

    /// Every member's answers to `query`, asked in parallel with at most
    /// [`MEMBER_SAMPLES`] of the `samples` Monte-Carlo samples the
    /// estimate used. `query(member, n)` gives one or more quantities, each
    /// as its value and Monte-Carlo standard error from `n` samples; the
    /// result holds, per member, the values.
    ///
    /// The members' answers only measure their spread (the fit's
    /// uncertainty), where a smaller sample costs little: when the members'
    /// Monte-Carlo error (root mean square over members) is at most a
    /// third of their spread, it adds at most 11% to the variance the
    /// interval reads (and widens it, never narrows it). Where it is
    /// larger, for some quantity, every member is asked again with all
    /// `samples`.
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::{Mechanism, Scm};
    ///
    /// let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
    /// let scm = Scm::builder(graph).mechanism("y", Mechanism::linear(1)).build()?;
    /// // No members, no answers.
    /// let answers = scm.member_answers(10_000, |m, n| {
    ///     let e = m.ate("x", "y", 0.0, 1.0, n, 0)?;
    ///     Ok::<_, causalgrad::scm::ScmError>(vec![(e.ate, e.stderr)])
    /// })?;
    /// assert!(answers.is_empty());
    /// # Ok::<(), causalgrad::Error>(())
    /// ```
    pub fn member_answers<E: Send>(
        &self,
        samples: usize,
        query: impl Fn(&Scm, usize) -> Result<Vec<(f64, f64)>, E> + Sync,
    ) -> Result<Vec<Vec<f64>>, E> {
        let ask = |n: usize| {
            (0..self.members())
                .into_par_iter()
                .map(|k| query(&self.member(k).expect("k is below the member count"), n))
                .collect::<Result<Vec<_>, E>>()
        };
        let fewer = samples.min(MEMBER_SAMPLES);
        let mut answers = ask(fewer)?;
        if fewer < samples && !spread_dominates(&answers) {
            answers = ask(samples)?;
        }
        Ok(answers
            .into_iter()
            .map(|quantities| quantities.into_iter().map(|(value, _)| value).collect())
            .collect())
    }

    /// [`Scm::ate`] with an interval at `level` (see the module docs).
    #[allow(clippy::too_many_arguments)] // `Scm::ate`'s arguments and the level
    pub fn ate_interval(
        &self,
        treatment: &str,
        outcome: &str,
        a: f64,
        b: f64,
        samples: usize,
        seed: u64,
        level: f64,
    ) -> Result<Estimate, ScmError> {
        check_level(level)?;
        let effect = self.ate(treatment, outcome, a, b, samples, seed)?;
        let members = self.member_answers(samples, |m, n| {
            let e = m.ate(treatment, outcome, a, b, n, seed)?;
            Ok::<_, ScmError>(vec![(e.ate, e.stderr)])
        })?;
        Ok(Estimate::new(
            effect.ate,
            effect.stderr,
            first_of_each(members),
            level,
        ))
    }

    /// [`Scm::interventional_mean`] with an interval at `level`.
    pub fn interventional_mean_interval(
        &self,
        outcome: &str,
        interventions: &[(&str, f64)],
        samples: usize,
        seed: u64,
        level: f64,
    ) -> Result<Estimate, ScmError> {
        check_level(level)?;
        let query = |m: &Scm, n: usize| -> Result<(f64, f64), ScmError> {
            let model = m.intervene(interventions)?;
            let index = model.node_index(outcome)?;
            let values = model.outcome_values(index, &model.standard_noise(n, seed));
            Ok(mean_and_stderr(&values))
        };
        let (mean, stderr) = query(self, samples)?;
        let members = self.member_answers(samples, |m, n| Ok::<_, ScmError>(vec![query(m, n)?]))?;
        Ok(Estimate::new(mean, stderr, first_of_each(members), level))
    }
}

/// A variable's mean over counterfactual rows, with its interval
/// ([`Scm::counterfactual_mean_intervals`]).
#[derive(Clone, Debug, PartialEq)]
pub struct CounterfactualMean {
    /// The variable.
    pub variable: String,
    /// Its mean over the counterfactual rows (a binary variable's share
    /// of 1), with the interval.
    pub mean: Estimate,
}

impl Scm {
    /// For every variable that is not categorical, its mean over the
    /// counterfactuals of `observed` under `interventions`
    /// ([`Scm::counterfactual_draws`] with `draws` draws, seed `seed`),
    /// with an interval at `level` from the members (each computes the
    /// same counterfactuals with its own fitted values). The Monte-Carlo
    /// error is 0 where the counterfactual is determined by the row (a
    /// continuous variable, by exact abduction; any variable not
    /// downstream of an intervened one, which keeps its observed value)
    /// and, for a discrete variable downstream, whose noise is drawn, the
    /// standard error of the mean over the drawn rows.
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::Scm;
    ///
    /// let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
    /// let mut scm = Scm::builder(graph).build()?;
    /// scm.set_params("y", &[0.0, 2.0])?;
    /// let rows = scm.sample(100, 1)?;
    /// let means = scm.counterfactual_mean_intervals(&rows, &[("x", 1.0)], 1, 0, 0.95)?;
    /// let y = means.iter().find(|m| m.variable == "y").unwrap();
    /// assert!((y.mean.estimate - (2.0 + rows.column("y")?.iter().sum::<f64>() / 100.0
    ///     - 2.0 * rows.column("x")?.iter().sum::<f64>() / 100.0)).abs() < 1e-4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn counterfactual_mean_intervals(
        &self,
        observed: &Dataset,
        interventions: &[(&str, f64)],
        draws: usize,
        seed: u64,
        level: f64,
    ) -> Result<Vec<CounterfactualMean>, ScmError> {
        check_level(level)?;
        // A discrete variable downstream of the intervention is a draw
        // from its noise posterior, so its mean has a Monte-Carlo error;
        // any other variable's counterfactual is determined by its row.
        let touched = self.descendants_of(interventions)?;
        let numeric: Vec<(String, bool)> = self
            .nodes()
            .iter()
            .zip(touched)
            .filter(|(node, _)| node.kind.levels().is_none())
            .map(|(node, touched)| (node.name.clone(), touched && node.noise.is_discrete()))
            .collect();
        let means = |m: &Scm| -> Result<Vec<(f64, f64)>, ScmError> {
            let rows = m.counterfactual_draws(observed, interventions, draws, seed)?;
            numeric
                .iter()
                .map(|(name, _)| Ok(mean_and_stderr(rows.column(name)?)))
                .collect()
        };
        let own = means(self)?;
        let members = (0..self.members())
            .into_par_iter()
            .map(|k| means(&self.member(k).expect("k is below the member count")))
            .collect::<Result<Vec<_>, ScmError>>()?;
        Ok(numeric
            .iter()
            .enumerate()
            .map(|(j, (name, drawn))| {
                let (mean, stderr) = own[j];
                let mc = if *drawn { stderr } else { 0.0 };
                let members = members.iter().map(|m| m[j].0).collect();
                CounterfactualMean {
                    variable: name.clone(),
                    mean: Estimate::new(mean, mc, members, level),
                }
            })
            .collect())
    }
}

/// The mean of `values` and its standard error.
/// Whether the members' spread dominates their Monte-Carlo error for every
/// quantity (see [`Scm::member_answers`]): the root mean square of their
/// standard errors at most a third of their standard deviation.
fn spread_dominates(answers: &[Vec<(f64, f64)>]) -> bool {
    let k = answers.len();
    if k < 2 {
        return true;
    }
    let quantities = answers[0].len();
    (0..quantities).all(|q| {
        let values = answers.iter().map(|a| a[q].0);
        let mean = values.clone().sum::<f64>() / k as f64;
        let spread = values.map(|v| (v - mean).powi(2)).sum::<f64>() / (k as f64 - 1.0);
        let mc = answers.iter().map(|a| a[q].1.powi(2)).sum::<f64>() / k as f64;
        9.0 * mc <= spread
    })
}

/// Each member's first answer.
fn first_of_each(members: Vec<Vec<f64>>) -> Vec<f64> {
    members.into_iter().map(|values| values[0]).collect()
}

fn mean_and_stderr(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_t_times_the_combined_error() {
        let members = vec![1.0, 2.0, 3.0, 4.0];
        let e = Estimate::new(2.0, 0.1, members, 0.95);
        let s = (5.0f64 / 3.0).sqrt(); // sample sd of 1..4
        let t = 3.182_446_305; // t(3) at 0.975
        let half = t * (s * s + 0.01).sqrt();
        assert!((e.model_stderr - s).abs() < 1e-12);
        assert!((e.high - (2.0 + half)).abs() < 1e-6, "{}", e.high);
        assert!((e.low - (2.0 - half)).abs() < 1e-6);
        assert_eq!(e.method, IntervalMethod::Ensemble);
        assert!(e.covers(2.0) && !e.covers(2.0 + half + 1e-3));
    }

    #[test]
    fn without_members_the_interval_is_monte_carlo() {
        let e = Estimate::new(1.0, 0.5, vec![], 0.95);
        assert_eq!(e.method, IntervalMethod::MonteCarlo);
        assert!((e.width() - 2.0 * 1.959_964 * 0.5).abs() < 1e-5);
        assert_eq!(
            Estimate::new(1.0, 0.5, vec![3.0], 0.95).method,
            IntervalMethod::MonteCarlo
        );
    }

    #[test]
    fn a_level_outside_zero_one_is_an_error() {
        let graph = crate::graph::CausalGraph::new(["x"], [] as [(&str, &str); 0]).unwrap();
        let scm = Scm::builder(graph).build().unwrap();
        for level in [0.0, 1.0, 95.0, -0.5, f64::NAN] {
            assert!(matches!(
                scm.interval_around(0.0, 0.0, level, |_| Ok(0.0)),
                Err(ScmError::BadLevel { .. })
            ));
        }
    }
}
