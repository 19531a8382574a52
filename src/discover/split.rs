//! One stage of the central path by the projected quasi-Newton method
//! ([`Solver::QuasiNewton`](super::path::Solver::QuasiNewton)) on the
//! split of each free parameter into its positive and negative parts,
//! `θ_k = θ⁺_k − θ⁻_k` with `θ±_k ≥ 0`:
//!
//! ```text
//! min  μ (fit(θ⁺ − θ⁻) + Σ_k λ_k (θ⁺_k + θ⁻_k)) + h_s(E(θ⁺ − θ⁻))   over θ± ≥ 0
//! ```
//!
//! The L1 term becomes linear and the objective smooth, so a bound-
//! constrained L-BFGS ([`super::lbfgs`]) applies; at a minimiser at most
//! one of `θ⁺_k, θ⁻_k` is positive where `λ_k > 0`, and the problem is the
//! stage's own. A trial point where `sI − E` is not an M-matrix is
//! rejected by the line search, so the iterates stay in the domain.

use std::cell::Cell;

use super::acyclicity::log_det_acyclicity;
use super::lbfgs::{self, Settings};
use super::model::{Model, Separable};
use super::path::{CentralPath, Inner, PathProgress, StageReport};
use super::DiscoverError;

/// The largest change of a parameter in a steepest-descent step (the
/// first step of a stage, and after the curvature pairs are dropped).
const FIRST_STEP: f64 = 0.1;

/// Runs one stage from `params`, leaving its solution there; `None` when
/// the starting point lies outside the stage's domain.
pub(super) fn minimise(
    model: &dyn Model,
    separable: &dyn Separable,
    params: &mut [f64],
    inner: &Inner,
    path: &CentralPath,
    progress: &mut dyn FnMut(PathProgress),
) -> Result<Option<StageReport>, DiscoverError> {
    let free = separable.l1_weights();
    let m = free.len();
    let mut x = vec![0.0; 2 * m];
    for (k, &(p, _)) in free.iter().enumerate() {
        x[k] = params[p].max(0.0);
        x[m + k] = (-params[p]).max(0.0);
    }
    let mu = inner.mu;
    let mut theta = params.to_vec();
    let mut grad_theta = vec![0.0; params.len()];
    // The score (with the L1 norm of θ) and h of the latest evaluation,
    // which is the accepted point whenever an iteration is reported.
    let latest = Cell::new((f64::NAN, f64::NAN));
    let non_finite = Cell::new(false);
    let mut objective = |x: &[f64], grad: &mut [f64]| -> Option<f64> {
        for (k, &(p, _)) in free.iter().enumerate() {
            theta[p] = x[k] - x[m + k];
        }
        let (h, dh_de) = log_det_acyclicity(&model.edges(&theta), inner.s)?;
        grad_theta.fill(0.0);
        let fit = separable.fit(&theta, &mut grad_theta);
        for g in grad_theta.iter_mut() {
            *g *= mu;
        }
        model.chain_edges(&theta, &dh_de, &mut grad_theta);
        let (mut split_l1, mut l1) = (0.0, 0.0);
        for (k, &(p, lambda)) in free.iter().enumerate() {
            split_l1 += lambda * (x[k] + x[m + k]);
            l1 += lambda * theta[p].abs();
            grad[k] = grad_theta[p] + mu * lambda;
            grad[m + k] = -grad_theta[p] + mu * lambda;
        }
        let value = mu * (fit + split_l1) + h;
        if !value.is_finite() {
            non_finite.set(true);
            return None;
        }
        latest.set((fit + l1, h));
        Some(value)
    };
    let settings = Settings {
        memory: path.memory,
        max_iterations: inner.iterations,
        tolerance: path.tolerance,
        gradient_tolerance: 0.0,
        first_step: FIRST_STEP,
    };
    let mut ran = 0;
    let mut report = |iteration: usize, _value: f64| {
        ran = iteration;
        if iteration % path.checkpoint == 0 {
            let (score, h) = latest.get();
            progress(PathProgress {
                iteration: inner.done + iteration,
                total: inner.total,
                stage: inner.stage + 1,
                score,
                h,
            });
        }
    };
    // Each part's preconditioner: the inverse of μ times the fit's
    // curvature in its parameter.
    let curvature = separable.curvature();
    let scale: Vec<f64> = curvature
        .iter()
        .chain(&curvature)
        .map(|c| 1.0 / (mu * c))
        .collect();
    let outcome = lbfgs::minimise(&mut objective, &mut x, &scale, settings, &mut report);
    let Some(outcome) = outcome else {
        if non_finite.get() {
            return Err(DiscoverError::NonFinite {
                stage: inner.stage + 1,
                iteration: 0,
            });
        }
        return Ok(None);
    };
    for (k, &(p, _)) in free.iter().enumerate() {
        params[p] = x[k] - x[m + k];
    }
    // The score and h at the final point (the latest evaluation may have
    // been a rejected trial).
    let (h, _) =
        log_det_acyclicity(&model.edges(params), inner.s).ok_or(DiscoverError::NonFinite {
            stage: inner.stage + 1,
            iteration: outcome.iterations,
        })?;
    let score = model.score(params, &mut vec![0.0; params.len()]);
    progress(PathProgress {
        iteration: inner.done + ran,
        total: inner.total,
        stage: inner.stage + 1,
        score,
        h,
    });
    Ok(Some(StageReport {
        mu,
        s: inner.s,
        iterations: outcome.iterations,
        score,
        h,
    }))
}
