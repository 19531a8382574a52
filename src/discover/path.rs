//! The central path of DAGMA: a sequence of unconstrained problems
//!
//! ```text
//! min_θ  μ_t · (score(θ) + penalties(θ)) + h_{s_t}(E(θ)),   μ_{t+1} = μ_t · factor
//! ```
//!
//! each solved from the previous solution, by Adam (DAGMA's solver) or by
//! a projected quasi-Newton method on the split `θ = θ⁺ − θ⁻`
//! ([`Solver::QuasiNewton`], for the linear family: far fewer
//! iterations). As `μ → 0` the minimisers approach a DAG (the log-det is a
//! barrier that stays finite only inside the M-matrix domain, and `h = 0`
//! exactly on DAGs), while the early stages with a large `μ` let the data
//! place the edges first. An Adam step that leaves the domain is undone
//! and retried with half the learning rate (DAGMA's rule); the
//! quasi-Newton line search rejects such steps.

use super::acyclicity::log_det_acyclicity;
use super::model::Model;
use super::split;
use super::DiscoverError;

/// The optimiser of each stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Solver {
    /// Adam with [`CentralPath::learning_rate`], `beta1`, `beta2`; the
    /// relative change of the objective is checked every `checkpoint`
    /// iterations (DAGMA's solver and rule).
    #[default]
    Adam,
    /// Projected L-BFGS with [`CentralPath::memory`] curvature pairs on
    /// the split `θ = θ⁺ − θ⁻`, `θ± ≥ 0`, where the L1 penalty is linear
    /// (NOTEARS' formulation), its line search rejecting steps that leave
    /// the log-det domain; the relative change of the objective is checked
    /// every iteration. For families whose only non-smooth term is the L1
    /// penalty on their parameters (the linear one).
    QuasiNewton,
}

/// The schedule and the inner optimiser's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct CentralPath {
    /// The optimiser of each stage.
    pub solver: Solver,
    /// `μ` of the first stage.
    pub mu_init: f64,
    /// `μ` is multiplied by this after each stage.
    pub mu_factor: f64,
    /// `s` per stage (the last value repeats when there are more stages).
    pub s: Vec<f64>,
    /// Number of stages `T`.
    pub stages: usize,
    /// Iterations per stage before the last, at most.
    pub warm_iterations: usize,
    /// Iterations of the last stage, at most.
    pub last_iterations: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Adam's first-moment decay.
    pub beta1: f64,
    /// Adam's second-moment decay.
    pub beta2: f64,
    /// Curvature pairs kept by [`Solver::QuasiNewton`].
    pub memory: usize,
    /// Iterations between progress reports (and Adam's convergence checks).
    pub checkpoint: usize,
    /// A stage stops when the objective's relative change over a
    /// checkpoint (Adam) or over an iteration (quasi-Newton) is at most
    /// this.
    pub tolerance: f64,
}

impl CentralPath {
    /// DAGMA's linear schedule (`DagmaLinear.fit`'s defaults): five
    /// stages, `μ` from 1 down by 10×, `s` = 1, 0.9, .., 0.6, Adam with
    /// 30 000 warm and 60 000 last iterations at most, learning rate
    /// 3·10⁻⁴.
    pub fn linear() -> Self {
        CentralPath {
            solver: Solver::Adam,
            mu_init: 1.0,
            mu_factor: 0.1,
            s: vec![1.0, 0.9, 0.8, 0.7, 0.6],
            stages: 5,
            warm_iterations: 30_000,
            last_iterations: 60_000,
            learning_rate: 3e-4,
            beta1: 0.99,
            beta2: 0.999,
            memory: 10,
            checkpoint: 1000,
            tolerance: 1e-6,
        }
    }

    /// The same five stages solved by [`Solver::QuasiNewton`] (10 pairs,
    /// at most 2 000 iterations per stage, 4 000 in the last, relative
    /// tolerance 10⁻⁶ per iteration): several times fewer evaluations
    /// than Adam, at some cost in accuracy on raw (varsortable) data at
    /// d ≥ 50 (docs/discover.md).
    pub fn linear_quasi_newton() -> Self {
        CentralPath {
            solver: Solver::QuasiNewton,
            warm_iterations: 2_000,
            last_iterations: 4_000,
            checkpoint: 10,
            tolerance: 1e-6,
            ..Self::linear()
        }
    }

    /// The nonlinear schedule: DAGMA-MLP's four stages with `μ` from 0.1
    /// down by 10× and `s = 1`, but a ten times larger learning rate
    /// (2·10⁻³) with a tenth of its iterations (5 000 warm, 8 000 last):
    /// every iteration of an MLP reads all rows, and on the recovery
    /// tests this reaches the same graphs.
    pub fn mlp() -> Self {
        CentralPath {
            solver: Solver::Adam,
            mu_init: 0.1,
            mu_factor: 0.1,
            s: vec![1.0],
            stages: 4,
            warm_iterations: 5_000,
            last_iterations: 8_000,
            learning_rate: 2e-3,
            beta1: 0.99,
            beta2: 0.999,
            memory: 10,
            checkpoint: 500,
            tolerance: 1e-6,
        }
    }

    /// The most iterations the path can take.
    pub fn max_iterations(&self) -> usize {
        self.stages.saturating_sub(1) * self.warm_iterations + self.last_iterations
    }

    pub(crate) fn check(&self) -> Result<(), DiscoverError> {
        let bad = |setting, why: &str| {
            Err(DiscoverError::Config {
                setting,
                why: why.to_string(),
            })
        };
        if self.stages == 0 {
            return bad("stages", "at least one stage");
        }
        if !(self.mu_init > 0.0 && self.mu_init.is_finite()) {
            return bad("mu_init", "a positive number");
        }
        if !(self.mu_factor > 0.0 && self.mu_factor <= 1.0) {
            return bad("mu_factor", "in (0, 1]");
        }
        if self.s.is_empty() || self.s.iter().any(|&s| !(s > 0.0 && s.is_finite())) {
            return bad("s", "one or more positive numbers");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate", "a positive number");
        }
        if !(0.0..1.0).contains(&self.beta1) || !(0.0..1.0).contains(&self.beta2) {
            return bad("beta1/beta2", "in [0, 1)");
        }
        if self.checkpoint == 0 {
            return bad("checkpoint", "at least 1");
        }
        if self.memory == 0 {
            return bad("memory", "at least 1 curvature pair");
        }
        Ok(())
    }
}

/// Where the path is, reported every checkpoint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathProgress {
    /// Iterations done so far, over all stages.
    pub iteration: usize,
    /// The most iterations the path can take.
    pub total: usize,
    /// The stage (1-based).
    pub stage: usize,
    /// The score with penalties (without `μ`).
    pub score: f64,
    /// The acyclicity `h_s`.
    pub h: f64,
}

/// One stage's outcome.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StageReport {
    /// `μ` of the stage.
    pub mu: f64,
    /// `s` of the stage (raised by 0.1 each time a restart was needed).
    pub s: f64,
    /// Iterations run.
    pub iterations: usize,
    /// The score with penalties at its end.
    pub score: f64,
    /// The acyclicity at its end.
    pub h: f64,
}

/// Runs the central path from `model`'s initial point; the final
/// parameters and each stage's report.
pub(crate) fn solve(
    model: &dyn Model,
    path: &CentralPath,
    seed: u64,
    progress: &mut dyn FnMut(PathProgress),
) -> Result<(Vec<f64>, Vec<StageReport>), DiscoverError> {
    path.check()?;
    let separable = match path.solver {
        Solver::Adam => None,
        Solver::QuasiNewton => Some(model.separable().ok_or_else(|| {
            DiscoverError::Config {
                setting: "solver",
                why: "the quasi-Newton solver needs a score whose only non-smooth term is an L1 \
                  penalty on the parameters (the linear family); use Adam"
                    .to_string(),
            }
        })?),
    };
    let total = path.max_iterations();
    let mut params = model.initial(seed);
    let mut reports = Vec::with_capacity(path.stages);
    let mut mu = path.mu_init;
    let mut done = 0;
    for stage in 0..path.stages {
        let iterations = if stage + 1 == path.stages {
            path.last_iterations
        } else {
            path.warm_iterations
        };
        let mut s = path.s[stage.min(path.s.len() - 1)];
        let mut lr = path.learning_rate;
        // DAGMA's restart: a stage whose very first point lies outside the
        // domain, or whose steps cannot be kept inside it, is run again
        // from the same start with a larger `s` and half the rate.
        let report = loop {
            let mut trial = params.clone();
            let inner = Inner {
                mu,
                s,
                lr,
                iterations,
                stage,
                done,
                total,
            };
            let outcome = match separable {
                None => minimise(model, &mut trial, inner, path, progress)?,
                Some(separable) => {
                    split::minimise(model, separable, &mut trial, &inner, path, progress)?
                }
            };
            match outcome {
                Some(report) => {
                    params = trial;
                    break report;
                }
                None => {
                    s += 0.1;
                    lr *= 0.5;
                }
            }
        };
        done += iterations;
        reports.push(report);
        mu *= path.mu_factor;
    }
    Ok((params, reports))
}

/// The settings of one stage.
pub(super) struct Inner {
    /// `μ`.
    pub(super) mu: f64,
    /// `s`.
    pub(super) s: f64,
    /// Adam's learning rate.
    pub(super) lr: f64,
    /// The most iterations.
    pub(super) iterations: usize,
    /// The stage (0-based).
    pub(super) stage: usize,
    /// Iterations budgeted to the stages before.
    pub(super) done: usize,
    /// The most iterations of the whole path.
    pub(super) total: usize,
}

/// The objective `μ (score + penalties) + h_s` and its gradient, or `None`
/// outside the domain.
fn objective(
    model: &dyn Model,
    params: &[f64],
    mu: f64,
    s: f64,
    grad: &mut [f64],
) -> Option<(f64, f64)> {
    let e = model.edges(params);
    let (h, dh_de) = log_det_acyclicity(&e, s)?;
    grad.fill(0.0);
    let score = model.score(params, grad);
    for g in grad.iter_mut() {
        *g *= mu;
    }
    model.chain_edges(params, &dh_de, grad);
    model.mask(grad);
    Some((score, h))
}

/// One stage of Adam; `None` when it cannot stay in the domain.
fn minimise(
    model: &dyn Model,
    params: &mut [f64],
    inner: Inner,
    path: &CentralPath,
    progress: &mut dyn FnMut(PathProgress),
) -> Result<Option<StageReport>, DiscoverError> {
    let n = params.len();
    let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
    let mut grad = vec![0.0; n];
    let mut step = vec![0.0; n];
    let mut lr = inner.lr;
    let mut previous = f64::INFINITY;
    let mut last = (f64::NAN, f64::NAN);
    let mut ran = 0;
    for t in 1..=inner.iterations {
        let (score, h) = loop {
            match objective(model, params, inner.mu, inner.s, &mut grad) {
                Some(found) => break found,
                None if t == 1 => return Ok(None),
                None => {
                    // Undo the last step and take half of it.
                    lr *= 0.5;
                    for (p, d) in params.iter_mut().zip(&step) {
                        *p += 0.5 * d;
                    }
                    for d in step.iter_mut() {
                        *d *= 0.5;
                    }
                    if lr <= 1e-16 {
                        return Ok(None);
                    }
                }
            }
        };
        let objective = inner.mu * score + h;
        if !objective.is_finite() {
            return Err(DiscoverError::NonFinite {
                stage: inner.stage + 1,
                iteration: t,
            });
        }
        last = (score, h);
        ran = t;
        if t % path.checkpoint == 0 || t == inner.iterations {
            progress(PathProgress {
                iteration: inner.done + t,
                total: inner.total,
                stage: inner.stage + 1,
                score,
                h,
            });
            if ((previous - objective) / previous).abs() <= path.tolerance {
                break;
            }
            previous = objective;
        }
        if t == inner.iterations {
            // The last point was checked against the domain; keep it.
            break;
        }
        let (c1, c2) = (
            1.0 - path.beta1.powi(t as i32),
            1.0 - path.beta2.powi(t as i32),
        );
        for i in 0..n {
            m[i] = path.beta1 * m[i] + (1.0 - path.beta1) * grad[i];
            v[i] = path.beta2 * v[i] + (1.0 - path.beta2) * grad[i] * grad[i];
            step[i] = -lr * (m[i] / c1) / ((v[i] / c2).sqrt() + 1e-8);
            params[i] += step[i];
        }
    }
    Ok(Some(StageReport {
        mu: inner.mu,
        s: inner.s,
        iterations: ran,
        score: last.0,
        h: last.1,
    }))
}
