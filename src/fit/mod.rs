//! Fitting models through burn.
//!
//! Parameters live in a burn `Module` ([`ScmParams`]); each mechanism enters
//! burn's autodiff graph as one custom operation ([`mechanism`]) whose
//! forward pass runs the mechanism's batched primal and whose backward pass
//! runs its batched pullback; burn's optimisers (Adam, SGD with momentum),
//! gradient clipping and the learning-rate schedule drive the steps.
//!
//! Before the first step the data are checked: fewer than 2 training rows,
//! a value beyond `1e15` in magnitude, or a variable that is constant in
//! `f32` is a typed [`FitError`] naming the variable. The loss reads each
//! `ln sigma` clamped from below at `-40`, so an exactly determined
//! variable settles instead of overflowing; a non-finite loss stops the fit
//! with the parameters of the last finite one ([`FitError::NonFinite`]).
//!
//! [`Scm::fit_data_parallel`](crate::scm::Scm::fit_data_parallel) shares
//! every step's batch out over several devices and combines their
//! gradients with burn's gradient accumulation (`docs/distributed.md`).
//!
//! ```no_run
//! use causalgrad::data::Dataset;
//! use causalgrad::fit::FitConfig;
//! use causalgrad::graph::CausalGraph;
//! use causalgrad::scm::Scm;
//!
//! let graph = CausalGraph::from_dot_file("graph.dot")?;
//! let data = Dataset::from_csv("train.csv")?;
//! let mut scm = Scm::builder(graph).build()?;
//! let report = scm.fit(&data, &FitConfig::adam(1e-2).with_steps(500))?;
//! println!("final loss {}", report.losses.last().unwrap());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "burn")]
mod batch;
#[cfg(feature = "burn")]
mod checkpoint;
#[cfg(feature = "burn")]
mod checks;
mod config;
#[cfg(feature = "burn")]
mod contexts;
mod convergence;
#[cfg(feature = "burn")]
mod device;
#[cfg(feature = "burn")]
mod distributed;
#[cfg(feature = "burn")]
mod ensemble;
#[cfg(feature = "burn")]
mod loss;
#[cfg(feature = "burn")]
mod nll;
#[cfg(feature = "burn")]
mod op;
#[cfg(feature = "burn")]
mod optim;
#[cfg(feature = "burn")]
mod params;
#[cfg(feature = "burn")]
mod row_nll;
#[cfg(feature = "burn")]
pub mod select;
#[cfg(feature = "burn")]
mod standardize;
#[cfg(feature = "burn")]
mod train;

pub use config::{
    Checkpointing, FitConfig, FitDevice, FitError, FitReport, Optimizer, Schedule, StepProgress,
    StopReason,
};
#[cfg(feature = "burn")]
pub use contexts::{ContextEvaluation, ContextFitReport, ContextTrainer, ParamGradient};
pub use convergence::{plateau_factor, still_improving, MIN_WINDOW, SMOOTHING, TOLERANCE};
#[cfg(feature = "burn")]
pub use ensemble::{MemberConfig, DEFAULT_MEMBERS};
#[cfg(feature = "burn")]
pub use nll::{gaussian_nll, GaussianNllGradOps, GaussianNllOps};
#[cfg(feature = "burn")]
pub use op::{
    linearised_on_host, mechanism, mechanism_mean, KernelRef, MechanismBackwardOps, MechanismOps,
};
#[cfg(feature = "burn")]
pub use params::ScmParams;
#[cfg(feature = "burn")]
pub use row_nll::{row_nll, FamilyRef, RowNllGradOps, RowNllOps};
#[cfg(feature = "burn")]
pub use train::Trainer;
