//! What a context fit reports: per-context losses, the fitted contexts,
//! per-context gradients.

use super::super::config::StopReason;
use crate::context::FittedContexts;

/// The loss of every context at one evaluation.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ContextEvaluation {
    /// The step (after it was taken).
    pub step: usize,
    /// Each context's mean negative log-likelihood per row (on its
    /// validation rows when there is a validation split, else on its
    /// training rows), in declaration order; 0 for a context without
    /// likelihood terms (an initial time step).
    pub contexts: Vec<(String, f64)>,
    /// The tie penalty.
    pub penalty: f64,
    /// The contexts' losses weighted as in the objective (contexts without
    /// likelihood terms weigh 0), plus the tie penalty.
    pub objective: f64,
}

/// What a fit over a context graph did, and the fitted contexts.
#[derive(Clone, Debug)]
pub struct ContextFitReport {
    /// The objective (weighted negative log-likelihood plus tie penalty)
    /// at each step, on that step's mini-batch.
    pub losses: Vec<f64>,
    /// Every context's loss at each evaluation (every `eval_every` steps
    /// and at the last step).
    pub evaluations: Vec<ContextEvaluation>,
    /// Why it stopped.
    pub stop: StopReason,
    /// Whether the objective was no longer improving at the last step
    /// (see [`FitReport::converged`](crate::fit::FitReport::converged)).
    pub converged: bool,
    /// The fitted model per context.
    pub fitted: FittedContexts,
}

/// The gradient of one context's loss with respect to the parameters one
/// variable reads there.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamGradient {
    /// The variable.
    pub variable: String,
    /// Whether the parameters are the context's own (else the shared ones).
    pub own: bool,
    /// `d loss / d (mechanism parameters.., ln sigma)`.
    pub values: Vec<f32>,
}
