//! The joint trainer over a context graph: one burn training loop over the
//! sum of every context's negative log-likelihood, under that context's
//! parameters and interventions, plus the tie penalties.
//!
//! The full-batch terms are pooled across contexts ([`PooledTerm`]): a
//! variable's terms in every context where it reads the same parameter set
//! become one term over those contexts' rows (a shifted mean is folded
//! into the target), weighted by the contexts' summed weights. With
//! weights proportional to the rows, that is exactly the sum of the
//! contexts' weighted terms, and one mechanism call over many rows runs
//! in parallel chunks where one call per context would run each on one
//! core and pay autodiff's cost per operation 50 times. Contexts drawing
//! mini-batches keep their own terms; evaluation and per-context gradients
//! build each context's own batch when they run, so the training rows are
//! held once on the device.

mod pooled;
mod prepare;
mod report;
mod ties;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::config::{FitConfig, FitError, StepProgress, StopReason};
use super::device::autodiff_device;
use super::loss::Term;
use super::optim::{optimizer, scheduler};
use super::params::read;
use super::standardize::standardize;
use crate::context::{
    context_columns, parse_lag, ContextGraph, ContextIntervention, FittedContext, FittedContexts,
    Weighting,
};
use crate::scm::Scm;

use pooled::{pooled_terms, PooledTerm};
use prepare::{batch, split, tensor1, ContextBatch, Prepared, Role};
pub use report::{ContextEvaluation, ContextFitReport, ParamGradient};
use ties::Ties;

/// The learnable values of a context fit: one flat set per variable
/// (shared) and per changed variable of each context (own), each the
/// mechanism's parameters followed by the noise parameters (`ln σ` of a
/// Gaussian; none for a discrete family).
#[derive(Module, Debug)]
struct ContextParams {
    sets: Vec<Param<Tensor<1>>>,
}

/// A fit over a context graph in progress, advanced one step at a time.
///
/// [`Scm::fit_contexts`] drives one to the end.
pub struct ContextTrainer<'m> {
    scm: &'m mut Scm,
    device: Device,
    params: ContextParams,
    /// Parameter count of each variable's mechanism.
    sizes: Vec<usize>,
    /// Own sets: (context, variable) of sets `sizes.len()..`.
    owners: Vec<(usize, usize)>,
    contexts: Vec<Prepared>,
    pooled: Vec<PooledTerm>,
    ties: Option<Ties>,
    optim: burn::optim::ModuleOptimizer,
    schedule: burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler,
    rng: rand::rngs::StdRng,
    step: usize,
    losses: Vec<f64>,
    evaluations: Vec<ContextEvaluation>,
    last_good: (usize, f64, Vec<Vec<f32>>),
    interventions: Vec<Vec<(String, ContextIntervention)>>,
    /// [`FitConfig::steps`], [`FitConfig::eval_every`] and
    /// [`FitConfig::patience`].
    config_steps: usize,
    eval_every: usize,
    patience: Option<usize>,
    /// [`FitConfig::plateau_decay`].
    plateau: Option<(f64, usize)>,
    /// Per context, what turns its loss in the model's units into the
    /// data's (`Σ ln scale` over its likelihood terms).
    units: Vec<f64>,
    /// The best evaluated objective and its parameter sets, and the
    /// evaluations since it (for early stopping).
    best: Option<(f64, Vec<Vec<f32>>)>,
    since_best: usize,
}

impl<'m> ContextTrainer<'m> {
    fn new(
        scm: &'m mut Scm,
        graph: &ContextGraph,
        config: &FitConfig,
        device: &Device,
    ) -> Result<Self, FitError> {
        config.check()?;
        if config.checkpoint.is_some() {
            return Err(FitError::Config(
                "checkpoints are not available for context fits yet; remove `checkpoint` from the settings".into(),
            ));
        }
        graph.check_variables(scm.graph())?;
        for context in graph.contexts() {
            scm.check_data(&context.data)?;
        }
        super::loss::check_device(scm, device)?;
        standardize(scm, config, |name| {
            graph
                .contexts()
                .filter_map(|context| context.data.column(name).ok())
                .collect()
        });
        let nodes = scm.nodes();
        let sizes: Vec<usize> = nodes.iter().map(|n| n.mechanism.params().len()).collect();
        let mut sets: Vec<Vec<f32>> = nodes
            .iter()
            .map(|node| {
                let mut set = node.mechanism.params().to_vec();
                set.extend(node.noise.params());
                set
            })
            .collect();
        let mut owners = Vec::new();
        let mut contexts = Vec::new();
        let mut interventions = Vec::new();
        for (c, data) in graph.contexts().enumerate() {
            let columns = context_columns(graph, c, scm)?;
            let mut slots: Vec<usize> = (0..nodes.len()).collect();
            let mut roles: Vec<Role> = nodes
                .iter()
                .map(|node| match (&columns, parse_lag(&node.name)) {
                    (Some(_), None) => Role::Term { shift: 0.0 },
                    _ => Role::Skip,
                })
                .collect();
            for (variable, intervention) in &data.interventions {
                let j = scm.node_index(variable)?;
                match *intervention {
                    ContextIntervention::Do(_) => roles[j] = Role::Skip,
                    ContextIntervention::Shift(delta) => {
                        if let Role::Term { shift } = &mut roles[j] {
                            *shift = nodes[j].scaling.shift_to_model(delta);
                        }
                    }
                    ContextIntervention::Changed => {
                        slots[j] = sets.len();
                        sets.push(sets[j].clone());
                        owners.push((c, j));
                    }
                }
            }
            let columns = columns.unwrap_or_else(|| vec![Vec::new(); nodes.len()]);
            let rows = columns.first().map_or(0, Vec::len);
            let (train, valid) = split(columns, rows, config.validation_fraction, config.seed);
            contexts.push(Prepared {
                name: data.name.clone(),
                order: (0..train.first().map_or(0, Vec::len)).collect(),
                columns: train,
                valid,
                roles,
                slots,
                weight: 0.0,
                batch_rows: None,
                cursor: usize::MAX,
            });
            interventions.push(data.interventions.clone());
        }
        let active: Vec<usize> = (0..contexts.len())
            .filter(|&c| {
                !contexts[c].order.is_empty()
                    && contexts[c]
                        .roles
                        .iter()
                        .any(|r| matches!(r, Role::Term { .. }))
            })
            .collect();
        if active.is_empty() {
            return Err(FitError::Config(
                "no context contributes a likelihood term (every variable is intervened on, lagged, or without training rows)".into(),
            ));
        }
        let total: usize = active.iter().map(|&c| contexts[c].order.len()).sum();
        for &c in &active {
            let rows = contexts[c].order.len();
            let (weight, share) = match graph.weighting() {
                Weighting::Proportional => (rows as f64 / total as f64, rows as f64 / total as f64),
                Weighting::Equal => (1.0 / active.len() as f64, 1.0 / active.len() as f64),
            };
            contexts[c].weight = weight;
            contexts[c].batch_rows = config
                .batch_size
                .map(|size| ((size as f64 * share).round() as usize).max(1))
                .filter(|&size| size < rows);
        }
        // Each variable's set: its mechanism's and its noise's parameters.
        let set_sizes: Vec<usize> = sets[..nodes.len()].iter().map(Vec::len).collect();
        let params = ContextParams {
            sets: sets
                .into_iter()
                .map(|s| Param::from_tensor(tensor1(s, device)))
                .collect(),
        };
        let pooled = pooled_terms(scm, &contexts, graph.weighting(), device);
        let units = contexts
            .iter()
            .map(|prepared| scm.log_scale_units(|j| matches!(prepared.roles[j], Role::Term { .. })))
            .collect();
        let ties = Ties::new(&graph.ties(), &contexts, &set_sizes, device);
        let last_good = (0, f64::NAN, snapshot(&params));
        Ok(ContextTrainer {
            device: device.clone(),
            params,
            sizes,
            owners,
            contexts,
            pooled,
            ties,
            optim: optimizer(config),
            schedule: scheduler(config)?,
            rng: rand::rngs::StdRng::seed_from_u64(config.seed),
            step: 0,
            losses: Vec::with_capacity(config.steps.min(100_000)),
            evaluations: Vec::new(),
            last_good,
            interventions,
            config_steps: config.steps,
            eval_every: config.eval_every,
            patience: config.patience,
            plateau: config.plateau,
            units,
            best: None,
            since_best: 0,
            scm,
        })
    }

    /// The number of steps taken.
    pub fn steps_taken(&self) -> usize {
        self.step
    }

    /// Variable `j`'s mean negative log-likelihood per row (a `[1]`
    /// tensor) under parameter set `slot`, of targets `x` given its parents'
    /// columns.
    fn term_nll(
        &self,
        j: usize,
        slot: usize,
        x: Tensor<1>,
        parents: Option<&Tensor<2>>,
        rows: usize,
    ) -> Tensor<1> {
        let set = self.params.sets[slot].val();
        let size = self.sizes[j];
        let node = &self.scm.nodes()[j];
        let count = node.noise.params().len();
        Term {
            noise: &node.noise,
            base: &node.base,
            kernel: node.mechanism.kernel(),
            theta: set.clone().narrow(0, 0, size),
            noise_params: (count > 0).then(|| set.narrow(0, size, count)),
            parents,
            // A shift is already in `x`.
            target: x,
            shift: 0.0,
            rows,
        }
        .nll()
    }

    /// The mean negative log-likelihood per row of one context's batch, or
    /// `None` when no variable has a term there.
    fn context_nll(&self, c: usize, batch: &ContextBatch) -> Option<Tensor<1>> {
        let prepared = &self.contexts[c];
        let mut total: Option<Tensor<1>> = None;
        for (j, role) in prepared.roles.iter().enumerate() {
            let Role::Term { .. } = role else {
                continue;
            };
            let x = batch.columns[j]
                .clone()
                .expect("a term's column is in the batch");
            let nll = self.term_nll(
                j,
                prepared.slots[j],
                x,
                batch.parents[j].as_ref(),
                batch.rows,
            );
            total = Some(match total {
                Some(total) => total + nll,
                None => nll,
            });
        }
        total
    }

    /// The tie penalty `Σ strength * ||θ_a − θ_b||²` (a `[1]` tensor), or
    /// `None` without ties that differ: every tied pair of sets at once,
    /// as one weighted sum of squares over the sets laid end to end.
    fn penalty(&self) -> Option<Tensor<1>> {
        let ties = self.ties.as_ref()?;
        let side = |pick: fn(&(usize, usize)) -> usize| {
            Tensor::cat(
                ties.pairs
                    .iter()
                    .map(|pair| self.params.sets[pick(pair)].val())
                    .collect(),
                0,
            )
        };
        let diff = side(|pair| pair.0) - side(|pair| pair.1);
        Some((diff.square() * ties.strengths.clone()).sum())
    }

    /// The objective: the pooled terms, and the terms of the contexts
    /// drawing mini-batches on `batches` (context, its batch).
    fn objective(&self, batches: &[(usize, ContextBatch)]) -> Tensor<1> {
        let mut total = self.penalty();
        let mut add = |term: Tensor<1>, weight: f64| {
            let term = term.mul_scalar(weight as f32);
            total = Some(match total.take() {
                Some(total) => total + term,
                None => term,
            });
        };
        for term in &self.pooled {
            let nll = self.term_nll(
                term.variable,
                term.slot,
                term.x.clone(),
                term.parents.as_ref(),
                term.rows,
            );
            add(nll, term.weight);
        }
        for (c, batch) in batches {
            if let Some(nll) = self.context_nll(*c, batch) {
                add(nll, self.contexts[*c].weight);
            }
        }
        total.unwrap_or_else(|| Tensor::zeros([1], &self.device))
    }

    /// Takes one optimisation step and returns the objective it computed
    /// (before the update). A non-finite objective writes the last
    /// parameters with a finite one into the model and returns
    /// [`FitError::NonFinite`].
    pub fn step(&mut self) -> Result<f64, FitError> {
        self.step += 1;
        let mut batches = Vec::new();
        for c in 0..self.contexts.len() {
            let prepared = &mut self.contexts[c];
            let Some(size) = prepared.batch_rows.filter(|_| prepared.weight > 0.0) else {
                continue;
            };
            let n = prepared.order.len();
            if prepared.cursor.saturating_add(size) > n {
                prepared.order.shuffle(&mut self.rng);
                prepared.cursor = 0;
            }
            let rows = prepared.order[prepared.cursor..prepared.cursor + size].to_vec();
            prepared.cursor += size;
            let prepared = &self.contexts[c];
            batches.push((
                c,
                batch(
                    self.scm,
                    prepared,
                    &prepared.columns,
                    Some(&rows),
                    &self.device,
                ),
            ));
        }
        let loss = self.objective(&batches);
        let units: f64 = self
            .contexts
            .iter()
            .zip(&self.units)
            .filter(|(prepared, _)| prepared.weight > 0.0)
            .map(|(prepared, units)| prepared.weight * units)
            .sum();
        let value = f64::from(loss.clone().into_scalar::<f32>()) + units;
        if !value.is_finite() {
            let (step, good, sets) = self.last_good.clone();
            self.write_shared(&sets);
            return Err(FitError::NonFinite {
                step: self.step,
                loss: value,
                last_good_step: step,
                last_good_loss: good,
            });
        }
        self.last_good = (self.step - 1, value, snapshot(&self.params));
        self.losses.push(value);
        let grads = GradientsParams::from_grads(loss.backward(), &self.params);
        let params = std::mem::replace(&mut self.params, ContextParams { sets: Vec::new() });
        let factor = self.plateau.map_or(1.0, |(factor, evaluations)| {
            super::plateau_factor(
                self.evaluations.iter().map(|e| e.objective),
                factor,
                evaluations,
            )
        });
        let rate = self.schedule.step().base() * factor;
        self.params = self.optim.step(rate, params, grads);
        Ok(value)
    }

    /// Every context's mean negative log-likelihood per row on its
    /// validation rows (or its training rows without a split) and the tie
    /// penalty, recorded in the report.
    pub fn evaluate(&mut self) -> ContextEvaluation {
        let contexts: Vec<(String, f64)> = (0..self.contexts.len())
            .map(|c| {
                let prepared = &self.contexts[c];
                let batch = match &prepared.valid {
                    Some(valid) => batch(self.scm, prepared, valid, None, &self.device),
                    None => batch(self.scm, prepared, &prepared.columns, None, &self.device),
                };
                let has_terms = prepared
                    .roles
                    .iter()
                    .any(|r| matches!(r, Role::Term { .. }));
                let value = if !has_terms {
                    0.0
                } else if batch.rows == 0 {
                    f64::NAN
                } else {
                    self.context_nll(c, &batch)
                        .map_or(0.0, |nll| f64::from(nll.into_scalar::<f32>()))
                        + self.units[c]
                };
                (prepared.name.clone(), value)
            })
            .collect();
        let penalty = self
            .penalty()
            .map_or(0.0, |p| f64::from(p.into_scalar::<f32>()));
        let objective = self
            .contexts
            .iter()
            .zip(&contexts)
            .filter(|(prepared, _)| prepared.weight > 0.0)
            .map(|(prepared, (_, loss))| prepared.weight * loss)
            .sum::<f64>()
            + penalty;
        let evaluation = ContextEvaluation {
            step: self.step,
            contexts,
            penalty,
            objective,
        };
        self.evaluations.push(evaluation.clone());
        evaluation
    }

    /// The gradient of context `name`'s mean negative log-likelihood on
    /// its training rows (no tie penalty, no weight) with respect to the
    /// parameters each variable reads there. A variable without a
    /// likelihood term in the context (under hard `do`, lagged) gets zeros.
    pub fn context_gradients(&self, name: &str) -> Result<Vec<ParamGradient>, FitError> {
        let c = self
            .contexts
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| crate::context::ContextError::UnknownContext {
                name: name.to_string(),
                known: self.contexts.iter().map(|p| p.name.clone()).collect(),
            })?;
        let grads = self
            .context_nll(
                c,
                &batch(
                    self.scm,
                    &self.contexts[c],
                    &self.contexts[c].columns,
                    None,
                    &self.device,
                ),
            )
            .map(|loss| GradientsParams::from_grads(loss.backward(), &self.params));
        Ok(self
            .scm
            .nodes()
            .iter()
            .enumerate()
            .map(|(j, node)| {
                let slot = self.contexts[c].slots[j];
                let param = &self.params.sets[slot];
                let values = grads
                    .as_ref()
                    .and_then(|g| g.get::<1>(param.id))
                    .map_or_else(
                        || vec![0.0; self.sizes[j] + node.noise.params().len()],
                        |g| read(&g),
                    );
                ParamGradient {
                    variable: node.name.clone(),
                    own: slot >= self.sizes.len(),
                    values,
                }
            })
            .collect())
    }

    fn write_shared(&mut self, sets: &[Vec<f32>]) {
        for (node, set) in self.scm.nodes_mut().iter_mut().zip(sets) {
            let (theta, noise) = set.split_at(node.mechanism.params().len());
            node.mechanism
                .set_params(theta)
                .expect("parameter sets keep their length");
            node.noise = node.noise.with_params(noise);
        }
    }

    /// Steps to [`FitConfig::steps`], evaluating every context every
    /// [`FitConfig::eval_every`] steps and at the last, calling `observe`
    /// after every step, then [`ContextTrainer::finish`]es. With
    /// [`FitConfig::with_early_stopping`] it stops once the evaluated
    /// objective (on the validation rows when there is a split) has not
    /// improved for that many evaluations, and keeps the best parameters.
    pub fn run_with(
        mut self,
        mut observe: impl FnMut(&StepProgress),
    ) -> Result<ContextFitReport, FitError> {
        let (steps, every) = (self.config_steps, self.eval_every);
        let mut validation = None;
        while self.step < steps {
            let loss = self.step()?;
            if self.step % every == 0 || self.step == steps {
                let objective = self.evaluate().objective;
                validation = Some(objective);
                match &self.best {
                    Some((best, _)) if objective >= *best => self.since_best += 1,
                    _ => {
                        self.best = Some((objective, snapshot(&self.params)));
                        self.since_best = 0;
                    }
                }
            }
            observe(&StepProgress {
                step: self.step,
                steps,
                loss,
                validation,
            });
            if self.patience.is_some_and(|p| self.since_best >= p) {
                let step = self.step;
                return Ok(self.finish(StopReason::EarlyStopped { step }));
            }
        }
        Ok(self.finish(StopReason::Completed))
    }

    /// Ends the fit: writes the shared parameters into the model and returns
    /// the report with the fitted contexts.
    pub fn finish(mut self, stop: StopReason) -> ContextFitReport {
        let sets = match (&stop, self.best.take()) {
            (StopReason::EarlyStopped { .. }, Some((_, best))) => best,
            _ => snapshot(&self.params),
        };
        self.write_shared(&sets);
        let contexts = self
            .contexts
            .iter()
            .zip(self.interventions)
            .enumerate()
            .map(|(c, (prepared, interventions))| FittedContext {
                name: prepared.name.clone(),
                interventions,
                own: self
                    .owners
                    .iter()
                    .enumerate()
                    .filter(|(_, &(owner, _))| owner == c)
                    .map(|(k, &(_, j))| {
                        let set = &sets[self.sizes.len() + k];
                        let (theta, noise) = set.split_at(self.sizes[j]);
                        (
                            self.scm.nodes()[j].name.clone(),
                            theta.to_vec(),
                            noise.to_vec(),
                        )
                    })
                    .collect(),
            })
            .collect();
        ContextFitReport {
            converged: stop.converged(&self.losses),
            losses: self.losses,
            evaluations: self.evaluations,
            stop,
            fitted: FittedContexts::new(self.scm.clone(), contexts),
        }
    }
}

fn snapshot(params: &ContextParams) -> Vec<Vec<f32>> {
    params.sets.iter().map(|p| read(&p.val())).collect()
}

impl Scm {
    /// Fits the model jointly over the contexts of `graph`: one burn
    /// training loop minimising the weighted sum over contexts of each
    /// context's negative log-likelihood per row, under its parameters and
    /// interventions (a variable under hard `do` contributes no term there;
    /// a changed variable reads the context's own parameters, initialised
    /// from the shared ones), plus the tie penalties. Mini-batches
    /// (`config.batch_size`) draw rows from every context as the graph's
    /// [`Weighting`] says.
    ///
    /// The shared parameters are written into `self`; the report holds the
    /// fitted contexts. Interventions already applied to `self` are
    /// ignored: the contexts say which are active. Early stopping
    /// (`config.patience`) keeps the best evaluated parameters; checkpoints
    /// are not available here.
    ///
    /// ```
    /// use causalgrad::context::{Context, ContextGraph};
    /// use causalgrad::fit::FitConfig;
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::{Noise, Scm};
    ///
    /// let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
    /// let mut truth = Scm::builder(graph.clone()).build()?;
    /// truth.set_params("y", &[1.0, 2.0])?;
    /// let contexts = ContextGraph::builder()
    ///     .context(Context::new("obs", truth.sample(500, 1)?))
    ///     .context(Context::new("x=2", truth.intervene(&[("x", 2.0)])?.sample(500, 2)?).set("x", 2.0))
    ///     .build()?;
    /// // Gaussian noise: its mean is zero, so `y[0]` is the intercept.
    /// let mut model = Scm::builder(graph).noise_default(Noise::gaussian()).build()?;
    /// let report = model.fit_contexts(&contexts, &FitConfig::adam(0.05).with_steps(300))?;
    /// let y = model.params("y")?;
    /// assert!((y[0] - 1.0).abs() < 0.1 && (y[1] - 2.0).abs() < 0.1, "{y:?}");
    /// let clamped = report.fitted.in_context("x=2")?;
    /// assert!((clamped.interventional_mean("y", &[], 4000, 3)? - 5.0).abs() < 0.1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fit_contexts(
        &mut self,
        graph: &ContextGraph,
        config: &FitConfig,
    ) -> Result<ContextFitReport, FitError> {
        self.context_trainer(graph, config)?.run_with(|_| {})
    }

    /// A trainer over `graph` under `config`, to advance step by step (on
    /// `config.device`).
    pub fn context_trainer(
        &mut self,
        graph: &ContextGraph,
        config: &FitConfig,
    ) -> Result<ContextTrainer<'_>, FitError> {
        let device = autodiff_device(config.device)?;
        ContextTrainer::new(self, graph, config, &device)
    }
}

#[cfg(test)]
mod tests {
    use crate::context::{Context, ContextGraph, Weighting};
    use crate::fit::FitConfig;
    use crate::graph::CausalGraph;
    use crate::scm::{Intervention, Scm};

    /// `x -> y <- z`, linear.
    fn truth() -> Scm {
        let graph = CausalGraph::new(["x", "z", "y"], [("x", "y"), ("z", "y")]).unwrap();
        let mut scm = Scm::builder(graph).build().unwrap();
        scm.set_params("x", &[0.5]).unwrap();
        scm.set_params("y", &[1.0, 2.0, -1.0]).unwrap();
        scm
    }

    /// The first step's objective against each context's likelihood under
    /// the model with that context's interventions, for contexts whose
    /// terms are pooled (several observational and shifted contexts) and
    /// kept apart (a `do` context, a changed variable).
    #[test]
    fn pooled_terms_give_the_sum_of_the_contexts_terms() {
        let truth = truth();
        let shifted = |delta: f64| {
            truth
                .intervene_with("y", Intervention::Shift(delta))
                .unwrap()
        };
        let data = [
            truth.sample(300, 1).unwrap(),
            truth.sample(120, 2).unwrap(),
            shifted(1.5).sample(200, 3).unwrap(),
            shifted(-0.5).sample(80, 4).unwrap(),
            truth
                .intervene(&[("x", 2.0)])
                .unwrap()
                .sample(100, 5)
                .unwrap(),
            truth.sample(50, 6).unwrap(),
        ];
        for weighting in [Weighting::Proportional, Weighting::Equal] {
            let contexts = ContextGraph::builder()
                .context(Context::new("a", data[0].clone()))
                .context(Context::new("b", data[1].clone()))
                .context(Context::new("c", data[2].clone()).shift("y", 1.5))
                .context(Context::new("d", data[3].clone()).shift("y", -0.5))
                .context(Context::new("e", data[4].clone()).set("x", 2.0))
                .context(Context::new("f", data[5].clone()).changed("y"))
                .tie("a", "f", 0.5)
                .weighting(weighting)
                .build()
                .unwrap();
            let graph = truth.graph().clone();
            let mut model = Scm::builder(graph).build().unwrap();
            model.set_params("y", &[0.3, 1.0, 0.2]).unwrap();
            let models = [
                model.clone(),
                model.clone(),
                model.intervene_with("y", Intervention::Shift(1.5)).unwrap(),
                model
                    .intervene_with("y", Intervention::Shift(-0.5))
                    .unwrap(),
                model.intervene(&[("x", 2.0)]).unwrap(),
                model.clone(),
            ];
            let nll: Vec<f64> = models
                .iter()
                .zip(&data)
                .map(|(m, d)| -m.log_likelihood(d).unwrap())
                .collect();
            let rows: Vec<f64> = data.iter().map(|d| d.n_rows() as f64).collect();
            let total: f64 = rows.iter().sum();
            let expected: f64 = match weighting {
                Weighting::Proportional => nll.iter().zip(&rows).map(|(l, n)| l * n / total).sum(),
                Weighting::Equal => nll.iter().sum::<f64>() / nll.len() as f64,
            };
            // The tie starts at zero: "f" starts from the shared parameters.
            let mut trainer = model
                .context_trainer(
                    &contexts,
                    &FitConfig::adam(0.05).with_steps(10).with_standardize(false),
                )
                .unwrap();
            let evaluated = trainer.evaluate();
            for ((name, loss), want) in evaluated.contexts.iter().zip(&nll) {
                assert!(
                    (loss - want).abs() < 1e-4 * want.abs(),
                    "{name}: {loss} vs {want}"
                );
            }
            let objective = trainer.step().unwrap();
            assert!(
                (objective - expected).abs() < 1e-4 * expected.abs(),
                "{weighting:?}: {objective} vs {expected}"
            );
            // After a step the own set has moved away and the penalty counts.
            trainer.step().unwrap();
            assert!(trainer.evaluate().penalty > 0.0);
        }
    }
}
