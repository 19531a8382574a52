//! Structure learning by gradient: a weighted DAG learned from data by
//! minimising a score plus an L1 penalty under DAGMA's log-det
//! acyclicity (Bello, Aragam & Ravikumar, NeurIPS 2022), for linear
//! mechanisms and for per-variable MLPs (DAGMA-MLP), over one data set or
//! a [`ContextGraph`] of interventional conditions.
//!
//! ```text
//! min_θ  μ_t · (score(θ) + λ₁ ‖A(θ)‖₁) + h_{s_t}(E(θ)),  h_s(E) = −ln det(sI − E) + d ln s
//! ```
//!
//! - **Acyclicity** ([`log_det_acyclicity`]): the log-det, not NOTEARS'
//!   `tr e^{W∘W} − d`: it is exact (zero on DAGs only), its gradient
//!   `(sI − E)^{-T}` costs one LU factorisation, and its gradients do not
//!   vanish on long cycles the way the matrix exponential's tail does.
//!   It is written once and chained through each family's `E(θ)`.
//! - **Schedule** ([`CentralPath`]): DAGMA's central path, `μ` decreased
//!   geometrically, each stage warm-started and solved by Adam or (for
//!   the linear family, [`CentralPath::linear_quasi_newton`]) by a
//!   projected L-BFGS on the split `W = W⁺ − W⁻`; see
//!   [`CentralPath::linear`] and [`CentralPath::mlp`] for the defaults
//!   and why.
//! - **Scores** ([`Score`]): least squares (DAGMA's default) or the
//!   Gaussian likelihood with each variable's noise variance profiled out.
//! - **Contexts**: in a context with a hard `do` on a variable, that
//!   variable's term drops the context's rows; a mechanism changed in an
//!   unknown way (`shifted` in the TOML) gets its own intercept there (and
//!   its own variance under the likelihood); a known shift is subtracted
//!   from its target. Each context's data enters every other variable's
//!   term as usual, which is what lets interventions orient edges.
//! - **Output**: thresholded greedily into a graph that is acyclic by
//!   construction, respecting [`Knowledge`] (required, forbidden edges,
//!   tiers); [`bootstrap`] gives each edge's stability.
//!
//! Gradients are written by hand (each family's score, the log-det) and
//! checked against central finite differences in the tests.
//!
//! ```
//! use causalgrad::data::Dataset;
//! use causalgrad::discover::{discover, DiscoverConfig};
//! use rand::SeedableRng;
//! use rand_distr::{Distribution, StandardNormal};
//!
//! // x -> y -> z, linear with Gaussian noise.
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let mut noise = || -> f64 { StandardNormal.sample(&mut rng) };
//! let (mut x, mut y, mut z) = (vec![], vec![], vec![]);
//! for _ in 0..1000 {
//!     let a = noise();
//!     let b = 1.5 * a + noise();
//!     z.push(-b + noise());
//!     x.push(a);
//!     y.push(b);
//! }
//! let data = Dataset::from_columns([("x", x), ("y", y), ("z", z)])?;
//! let found = discover(&data, &DiscoverConfig::linear())?;
//! let graph = found.graph()?; // a CausalGraph, ready for Scm::builder
//! assert!(graph.edges().count() >= 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod accuracy;
mod acyclicity;
mod bootstrap;
mod error;
mod knowledge;
mod lbfgs;
mod linalg;
mod linear;
mod mlp;
mod model;
mod path;
mod problem;
mod result;
mod split;
mod threshold;

#[cfg(test)]
mod tests;

pub use accuracy::{accuracy, Accuracy};
pub use acyclicity::log_det_acyclicity;
pub use bootstrap::{bootstrap, Input};
pub use error::DiscoverError;
pub use knowledge::Knowledge;
pub use model::Score;
pub use path::{CentralPath, PathProgress, Solver, StageReport};
pub use result::{Discovered, Edge};

use crate::context::ContextGraph;
use crate::data::Dataset;
use problem::Problem;

/// The mechanism family searched over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// `x_j = Σ_i W_ij x_i + ε`; the edge strength is `W_ij`.
    Linear,
    /// One-hidden-layer perceptron per variable with `hidden` logistic
    /// units; the edge strength is the norm of the first-layer weights
    /// from the parent.
    Mlp {
        /// Hidden units per variable.
        hidden: usize,
    },
}

/// Everything [`discover`] can be told.
#[derive(Clone, Debug, PartialEq)]
pub struct DiscoverConfig {
    /// The mechanism family.
    pub method: Method,
    /// The data-fit term.
    pub score: Score,
    /// L1 penalty on the edge parameters.
    pub lambda1: f64,
    /// Ridge penalty on the MLP weights (unused by [`Method::Linear`]).
    pub lambda2: f64,
    /// Edges weaker than this (in absolute value) are dropped.
    pub threshold: f64,
    /// Standardise every column (pooled over contexts) first. On by
    /// default: `λ₁` and the threshold are in the data's units, and raw
    /// units (intensities in the thousands, incomes) would make both
    /// meaningless. Off reproduces DAGMA on raw data (whose results can
    /// rest on varsortability, Reisach et al. 2021).
    pub standardize: bool,
    /// The schedule.
    pub path: CentralPath,
    /// Prior knowledge.
    pub knowledge: Knowledge,
    /// Seeds the MLP's initial weights (and the bootstrap).
    pub seed: u64,
}

impl DiscoverConfig {
    /// Linear mechanisms, least squares, DAGMA's `λ₁ = 0.03`, threshold
    /// 0.3, [`CentralPath::linear`].
    pub fn linear() -> Self {
        DiscoverConfig {
            method: Method::Linear,
            score: Score::LeastSquares,
            lambda1: 0.03,
            lambda2: 0.0,
            threshold: 0.3,
            standardize: true,
            path: CentralPath::linear(),
            knowledge: Knowledge::new(),
            seed: 0,
        }
    }

    /// MLP mechanisms with 10 hidden units, least squares, DAGMA-MLP's
    /// `λ₁ = 0.02`, `λ₂ = 0.005`, threshold 0.3, [`CentralPath::mlp`].
    pub fn mlp() -> Self {
        DiscoverConfig {
            method: Method::Mlp { hidden: 10 },
            score: Score::LeastSquares,
            lambda1: 0.02,
            lambda2: 0.005,
            threshold: 0.3,
            standardize: true,
            path: CentralPath::mlp(),
            knowledge: Knowledge::new(),
            seed: 0,
        }
    }

    /// The same with this prior knowledge.
    pub fn with_knowledge(mut self, knowledge: Knowledge) -> Self {
        self.knowledge = knowledge;
        self
    }

    fn check(&self) -> Result<(), DiscoverError> {
        let bad = |setting, why: &str| {
            Err(DiscoverError::Config {
                setting,
                why: why.to_string(),
            })
        };
        if !(self.lambda1 >= 0.0 && self.lambda1.is_finite()) {
            return bad("lambda1", "a non-negative number");
        }
        if !(self.lambda2 >= 0.0 && self.lambda2.is_finite()) {
            return bad("lambda2", "a non-negative number");
        }
        if !(self.threshold >= 0.0 && self.threshold.is_finite()) {
            return bad("threshold", "a non-negative number");
        }
        if let Method::Mlp { hidden: 0 } = self.method {
            return bad("hidden", "at least one hidden unit");
        }
        self.path.check()
    }
}

/// Learns a DAG over all columns of `data` (one observational data set).
pub fn discover(data: &Dataset, config: &DiscoverConfig) -> Result<Discovered, DiscoverError> {
    discover_with_progress(data, config, &mut |_| {})
}

/// [`discover`], calling `progress` at every checkpoint.
pub fn discover_with_progress(
    data: &Dataset,
    config: &DiscoverConfig,
    progress: &mut dyn FnMut(PathProgress),
) -> Result<Discovered, DiscoverError> {
    config.check()?;
    let problem = Problem::from_dataset(data, data.names(), config.standardize)?;
    result::run(&problem, config, progress)
}

/// Learns a DAG over `variables` from every context of `contexts`, with
/// their interventions (see the [module documentation](self)).
pub fn discover_contexts(
    contexts: &ContextGraph,
    variables: &[String],
    config: &DiscoverConfig,
    progress: &mut dyn FnMut(PathProgress),
) -> Result<Discovered, DiscoverError> {
    config.check()?;
    let problem = Problem::from_contexts(contexts, variables, config.standardize)?;
    result::run(&problem, config, progress)
}
