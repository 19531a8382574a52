//! Mechanism choice by held-out likelihood: fit several candidate models
//! of one graph in parallel and keep, per variable, the mechanism and
//! noise family whose fitted conditional density scores best on the fit's
//! held-out rows.
//!
//! The log-likelihood of an SCM given observed data is a sum of one term
//! per variable (its density given its parents' observed values), and
//! each term depends on that variable's parameters only. So one fit of a
//! candidate model fits every variable's candidate at once, and the
//! variables' choices are independent: the selected model takes each
//! variable's node (mechanism, fitted parameters, noise, scaling) from the
//! candidate that scored best for it. Every candidate is standardised on
//! the same rows and validated on the same held-out split, so the scores
//! are comparable, in the data's units.
//!
//! It runs in two stages. First the candidate models (one per mechanism
//! family, each variable with its kind's default noise, except that a
//! continuous variable whose noise is the default mixture and not kept
//! ([`SelectConfig::keeping_noise`]) starts from the simplest, Gaussian)
//! are fitted in parallel and each variable takes its mechanism from the
//! best. Then, for each other noise family of [`SelectConfig::noises`]
//! (by default the three-component mixture), the selected model is
//! refitted from its
//! fitted values with that family on every continuous variable, and a
//! variable keeps the new family where it scores better. The second stage
//! starts from fitted mechanisms, so it costs one short fit per family
//! instead of one fit per (mechanism, noise) pair.
//!
//! Candidates are tried in order, simplest first; a variable keeps the
//! first candidate whose score is within [`SelectConfig::tolerance`] of
//! the best (parsimony: between mechanisms that fit the data equally
//! well, the simpler one extrapolates more tamely).

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::config::{FitConfig, FitError, FitReport};
use crate::data::Dataset;
use crate::graph::CausalGraph;
use crate::scm::{Activation, Mechanism, Noise, Scm, ScmError, VariableKind, DEFAULT_HIDDEN};

/// The tolerance of [`SelectConfig::default`], in nats per row.
pub const DEFAULT_TOLERANCE: f64 = 0.002;

/// A family of mechanisms for a variable with parents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Family {
    /// `b + Σ w_i x_i` ([`Mechanism::linear`]).
    Linear,
    /// `b + Σ f_i(x_i)`, one small tanh network per parent
    /// ([`Mechanism::additive`]).
    Additive {
        /// Hidden units per parent.
        hidden: usize,
    },
    /// A tanh multilayer perceptron of all the parents ([`Mechanism::mlp`]).
    Mlp {
        /// Hidden layer widths.
        hidden: Vec<usize>,
    },
}

impl Family {
    /// The mechanism of this family over `arity` inputs, its weights
    /// drawn from `seed`.
    ///
    /// ```
    /// use causalgrad::fit::select::Family;
    ///
    /// assert_eq!(Family::Linear.mechanism(2, 0).params().len(), 3);
    /// assert_eq!(Family::Mlp { hidden: vec![16] }.mechanism(2, 0).params().len(), 65);
    /// ```
    pub fn mechanism(&self, arity: usize, seed: u64) -> Mechanism {
        match self {
            Family::Linear => Mechanism::linear(arity),
            Family::Additive { hidden } => Mechanism::additive(arity, *hidden, seed),
            Family::Mlp { hidden } => Mechanism::mlp(arity, hidden, Activation::Tanh, seed),
        }
    }

    /// A short name: `linear`, `additive(8)`, `mlp(16)`, `mlp(32, 32)`.
    pub fn name(&self) -> String {
        match self {
            Family::Linear => "linear".into(),
            Family::Additive { hidden } => format!("additive({hidden})"),
            Family::Mlp { hidden } => {
                let widths: Vec<String> = hidden.iter().map(usize::to_string).collect();
                format!("mlp({})", widths.join(", "))
            }
        }
    }
}

/// Which candidates [`default_candidates`] makes, which noise families
/// [`select`] tries after them, and how a variable chooses.
///
/// ```
/// use causalgrad::fit::select::SelectConfig;
///
/// let config = SelectConfig::default();
/// assert_eq!(config.families().len(), 3);
/// assert_eq!(config.noises().len(), 1);
/// let config = config.keeping_noise(["y"]);
/// assert!(config.keeps_noise("y"));
/// ```
#[derive(Clone, Debug)]
pub struct SelectConfig {
    families: Vec<Family>,
    noises: Vec<Noise>,
    tolerance: f64,
    keep_noise: Vec<String>,
}

impl Default for SelectConfig {
    /// Mechanisms linear, additive (8 units per parent) and the default
    /// tanh MLP of 16 units; then a three-component mixture for the
    /// noise of continuous variables; tolerance [`DEFAULT_TOLERANCE`].
    fn default() -> Self {
        SelectConfig {
            families: vec![
                Family::Linear,
                Family::Additive { hidden: 8 },
                Family::Mlp {
                    hidden: DEFAULT_HIDDEN.to_vec(),
                },
            ],
            noises: vec![Noise::mixture()],
            tolerance: DEFAULT_TOLERANCE,
            keep_noise: Vec::new(),
        }
    }
}

impl SelectConfig {
    /// The mechanism families tried for variables with parents, simplest
    /// first.
    pub fn with_families(mut self, families: Vec<Family>) -> Self {
        self.families = families;
        self
    }

    /// The noise families tried, after the mechanisms, for continuous
    /// variables (each against the noise the candidates gave them).
    pub fn with_noises(mut self, noises: Vec<Noise>) -> Self {
        self.noises = noises;
        self
    }

    /// How much better (in mean log-likelihood per held-out row) a later
    /// candidate must score than an earlier one to be chosen over it.
    pub fn with_tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Variables whose noise the second stage leaves as the candidates
    /// have it (e.g. one the user declared).
    pub fn keeping_noise<S: Into<String>>(
        mut self,
        variables: impl IntoIterator<Item = S>,
    ) -> Self {
        self.keep_noise
            .extend(variables.into_iter().map(Into::into));
        self
    }

    /// The mechanism families.
    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// The noise families of the second stage.
    pub fn noises(&self) -> &[Noise] {
        &self.noises
    }

    /// The tolerance.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }

    /// Whether the second stage leaves `variable`'s noise alone.
    pub fn keeps_noise(&self, variable: &str) -> bool {
        self.keep_noise.iter().any(|v| v == variable)
    }
}

/// One candidate model of a selection.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// What it is, as reports show it (e.g. `mlp(16)`).
    pub label: String,
    /// The model, not yet fitted: the same graph and variable kinds as the
    /// other candidates.
    pub model: Scm,
}

/// What [`select`] chose for one variable.
#[derive(Clone, Debug, PartialEq)]
pub struct VariableChoice {
    /// The variable.
    pub variable: String,
    /// Its mean log-likelihood per held-out row under each candidate, in
    /// the order of [`Selection::labels`] (data units; `-inf` where a
    /// second-stage noise family was not tried for it).
    pub scores: Vec<f64>,
    /// The candidate it takes its node from.
    pub chosen: usize,
    /// The chosen mechanism, as [`Mechanism::describe`] gives it.
    pub mechanism: String,
    /// The chosen noise family's name.
    pub noise: &'static str,
}

/// The result of [`select`].
#[derive(Clone, Debug)]
pub struct Selection {
    /// The selected model, fitted: each variable's node from its chosen
    /// candidate.
    pub model: Scm,
    /// The candidates' labels, then one per second-stage noise family
    /// (`mixture noise`).
    pub labels: Vec<String>,
    /// Each variable's choice, in the model's variable order.
    pub variables: Vec<VariableChoice>,
    /// Each candidate's fit report, in the order of the labels.
    pub reports: Vec<FitReport>,
    /// Each candidate's fit time in seconds (wall clock; the first
    /// stage's candidates are fitted beside each other).
    pub seconds: Vec<f64>,
}

impl Selection {
    /// The mean log-likelihood per held-out row of the selected model (the
    /// sum of the chosen scores).
    pub fn validation_log_likelihood(&self) -> f64 {
        self.variables.iter().map(|v| v.scores[v.chosen]).sum()
    }
}

/// The first-stage candidates of `config` for `graph`: one model per
/// mechanism family, every variable with parents taking the family's
/// mechanism (a categorical parent read as its indicator columns, as the
/// builder does) and its kind's default noise. `kinds` gives each
/// variable's kind (missing: continuous). Mechanism weights are drawn
/// from `seed` plus the variable's position in the topological order.
///
/// ```
/// use std::collections::BTreeMap;
/// use causalgrad::fit::select::{default_candidates, SelectConfig};
/// use causalgrad::graph::CausalGraph;
///
/// let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
/// let candidates = default_candidates(&graph, &BTreeMap::new(), &SelectConfig::default(), 0)?;
/// assert_eq!(candidates.len(), 3);
/// assert_eq!(candidates[0].label, "linear");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn default_candidates(
    graph: &CausalGraph,
    kinds: &BTreeMap<String, VariableKind>,
    config: &SelectConfig,
    seed: u64,
) -> Result<Vec<Candidate>, ScmError> {
    let kind_of = |name: &str| kinds.get(name).cloned().unwrap_or(VariableKind::Continuous);
    config
        .families()
        .iter()
        .map(|family| {
            let mut builder = Scm::builder(graph.clone());
            for (index, name) in graph.topological_order().iter().enumerate() {
                let kind = kind_of(name);
                let parents = graph.parents(name)?;
                let arity: usize = parents.iter().map(|p| kind_of(p).input_width()).sum();
                let mechanism = if parents.is_empty() {
                    Mechanism::linear(0)
                } else {
                    family.mechanism(arity, seed.wrapping_add(index as u64))
                };
                builder = builder.kind(name, kind).mechanism(name, mechanism);
            }
            Ok(Candidate {
                label: family.name(),
                model: builder.build()?,
            })
        })
        .collect()
}

/// Fits every candidate to `data` with `config` (in parallel, on all
/// cores), then tries `settings`' noise families, and builds the selected
/// model, as the module docs describe.
///
/// `config` must hold out rows ([`FitConfig::with_validation`]): the
/// scores are held-out log-likelihoods. The candidates must share one
/// graph (their variables in one order). An error of any fit is
/// returned.
///
/// ```no_run
/// use std::collections::BTreeMap;
/// use causalgrad::data::Dataset;
/// use causalgrad::fit::select::{default_candidates, select, SelectConfig};
/// use causalgrad::fit::FitConfig;
/// use causalgrad::graph::CausalGraph;
///
/// let graph = CausalGraph::from_dot_file("graph.dot")?;
/// let data = Dataset::from_csv("train.csv")?;
/// let settings = SelectConfig::default();
/// let candidates = default_candidates(&graph, &BTreeMap::new(), &settings, 0)?;
/// let config = FitConfig::default().with_validation(0.2);
/// let selection = select(candidates, &data, &config, &settings)?;
/// for choice in &selection.variables {
///     println!("{}: {} + {}", choice.variable, choice.mechanism, choice.noise);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn select(
    candidates: Vec<Candidate>,
    data: &Dataset,
    config: &FitConfig,
    settings: &SelectConfig,
) -> Result<Selection, FitError> {
    config.check()?;
    if config.validation_fraction <= 0.0 {
        return Err(FitError::Config(
            "mechanism selection compares held-out log-likelihoods: give the fit a validation split (FitConfig::with_validation, or --validation)".into(),
        ));
    }
    let Some(first) = candidates.first() else {
        return Err(FitError::Config(
            "mechanism selection needs at least one candidate".into(),
        ));
    };
    let variables: Vec<String> = first.model.variables().map(str::to_string).collect();
    if let Some(other) = candidates
        .iter()
        .find(|c| !c.model.variables().eq(variables.iter().map(String::as_str)))
    {
        return Err(FitError::Config(format!(
            "candidate `{}` has other variables than `{}`",
            other.label, first.label
        )));
    }
    let (_, valid) = data.split(config.validation_fraction, config.seed);
    let mut fit_config = config.clone();
    fit_config.checkpoint = None;
    let fit_scored = |mut model: Scm| -> Result<Fitted, FitError> {
        let started = std::time::Instant::now();
        let report = model.fit(data, &fit_config)?;
        let scores = model.log_likelihoods(&valid)?;
        Ok(Fitted {
            model,
            report,
            scores,
            seconds: started.elapsed().as_secs_f64(),
        })
    };

    let mut labels: Vec<String> = candidates.iter().map(|c| c.label.clone()).collect();
    let mut fitted: Vec<Fitted> = candidates
        .into_iter()
        .map(|candidate| gaussian_first(candidate.model, settings))
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(fit_scored)
        .collect::<Result<_, FitError>>()?;
    let chosen: Vec<usize> = (0..variables.len())
        .map(|j| {
            choose(
                &fitted.iter().map(|f| f.scores[j]).collect::<Vec<_>>(),
                settings.tolerance,
            )
        })
        .collect();
    let first_stage = assemble(&fitted, &chosen);

    // The second stage: each other noise family on every continuous
    // variable that may change, started from the first stage's fit.
    let tries: Vec<(String, Scm, Vec<bool>)> = settings
        .noises
        .iter()
        .filter_map(|noise| {
            let mut model = first_stage.clone();
            let changed: Vec<bool> = model
                .nodes_mut()
                .iter_mut()
                .map(|node| {
                    let eligible = node.kind == VariableKind::Continuous
                        && !settings.keeps_noise(&node.name)
                        && node.noise.name() != noise.name()
                        && node.noise.outputs() == noise.outputs();
                    if eligible {
                        let scale = node.noise.scale().unwrap_or(1.0);
                        node.noise = noise.rescaled(scale);
                    }
                    eligible
                })
                .collect();
            changed
                .contains(&true)
                .then(|| (format!("{} noise", noise.name()), model, changed))
        })
        .collect();
    let second: Vec<(Fitted, Vec<bool>)> = tries
        .into_par_iter()
        .map(|(label, model, changed)| Ok((label, fit_scored(model)?, changed)))
        .collect::<Result<Vec<_>, FitError>>()?
        .into_iter()
        .map(|(label, mut fitted, changed)| {
            labels.push(label);
            for (score, &changed) in fitted.scores.iter_mut().zip(&changed) {
                if !changed {
                    *score = f64::NEG_INFINITY;
                }
            }
            (fitted, changed)
        })
        .collect();
    fitted.extend(second.into_iter().map(|(fitted, _)| fitted));

    let choices: Vec<VariableChoice> = variables
        .iter()
        .enumerate()
        .map(|(j, variable)| {
            let scores: Vec<f64> = fitted.iter().map(|f| f.scores[j]).collect();
            let chosen = choose(&scores, settings.tolerance);
            let node = &fitted[chosen].model.nodes()[j];
            VariableChoice {
                variable: variable.clone(),
                mechanism: node.mechanism.describe(),
                noise: node.noise.name(),
                scores,
                chosen,
            }
        })
        .collect();
    let chosen: Vec<usize> = choices.iter().map(|c| c.chosen).collect();
    let model = assemble(&fitted, &chosen);
    let seconds = fitted.iter().map(|f| f.seconds).collect();
    Ok(Selection {
        model,
        labels,
        variables: choices,
        reports: fitted.into_iter().map(|f| f.report).collect(),
        seconds,
    })
}

/// `model` with Gaussian noise in place of the default mixture on each
/// continuous variable whose noise `settings` does not keep, at the same
/// scale: the first stage's noise, the simplest (the second stage tries
/// the mixture again).
fn gaussian_first(mut model: Scm, settings: &SelectConfig) -> Scm {
    for node in model.nodes_mut() {
        let replace = node.kind == VariableKind::Continuous
            && !settings.keeps_noise(&node.name)
            && matches!(node.noise, Noise::Mixture(_));
        if replace {
            let scale = node.noise.scale().unwrap_or(1.0);
            node.noise = Noise::gaussian().rescaled(scale);
        }
    }
    model
}

/// A fitted candidate with its per-variable held-out scores.
struct Fitted {
    model: Scm,
    report: FitReport,
    scores: Vec<f64>,
    seconds: f64,
}

/// The model whose node `j` is `fitted[chosen[j]]`'s.
fn assemble(fitted: &[Fitted], chosen: &[usize]) -> Scm {
    let mut model = fitted[0].model.clone();
    for (j, &k) in chosen.iter().enumerate() {
        model.nodes_mut()[j] = fitted[k].model.nodes()[j].clone();
    }
    model
}

/// The first index whose score is within `tolerance` of the best finite
/// one (0 when none is finite).
fn choose(scores: &[f64], tolerance: f64) -> usize {
    let best = scores
        .iter()
        .copied()
        .filter(|s| s.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    scores
        .iter()
        .position(|&s| s.is_finite() && s >= best - tolerance)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simplest_candidate_within_the_tolerance_is_chosen() {
        assert_eq!(choose(&[-1.0, -0.5, -0.499], 0.002), 1);
        assert_eq!(choose(&[-0.5005, -0.5, -0.1], 0.002), 2);
        assert_eq!(choose(&[-0.5005, -0.5], 0.002), 0);
        assert_eq!(choose(&[f64::NAN, -2.0], 0.0), 1);
        assert_eq!(choose(&[f64::NAN, f64::NEG_INFINITY], 0.0), 0);
    }

    #[test]
    fn family_names() {
        assert_eq!(Family::Additive { hidden: 8 }.name(), "additive(8)");
        assert_eq!(
            Family::Mlp {
                hidden: vec![32, 32]
            }
            .name(),
            "mlp(32, 32)"
        );
    }
}
