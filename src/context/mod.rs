//! Context graphs: one causal model fitted jointly across environments,
//! experimental conditions and time.
//!
//! A [`ContextGraph`] is a typed petgraph graph:
//!
//! - **data nodes** ([`DataNode`]): a data set observed in one context, with
//!   the interventions active there ([`ContextIntervention`]: a hard `do`, a
//!   known shift of a mechanism's mean, or a mechanism changed in an
//!   unknown way);
//! - **parameter nodes** ([`ParamNode`]): the shared parameters (every
//!   variable's mechanism and noise scale) and each context's own
//!   parameters for the variables it changed;
//! - **time nodes** ([`TimeNode`]): an ordered index that data nodes hang
//!   off, so mechanisms can read their parents at earlier steps
//!   (see [`time`](self#time));
//!
//! with typed edges ([`ContextEdge`]): data → parameters ("uses"),
//! parameters ↔ parameters ("tied", with a strength), time → time ("next")
//! and data → time ("observed at"). Invalid graphs are [`ContextError`]s
//! naming the context, variable or time step.
//!
//! [`Scm::fit_contexts`](crate::scm::Scm::fit_contexts) fits the model over
//! the graph in one burn training loop; the [`FittedContexts`] it returns
//! give the model of each context ([`FittedContexts::in_context`]) and of
//! new combinations of known contexts
//! ([`FittedContexts::predict_context`]).
//!
//! Graphs are built in code ([`ContextGraph::builder`]) or read from TOML
//! ([`ContextGraph::from_toml_file`]):
//!
//! ```toml
//! [[context]]
//! name = "baseline"
//! data = "obs.csv"
//!
//! [[context]]
//! name = "x2-clamped"
//! data = "clamped.csv"
//! do = { x2 = 1.0 }          # hard interventions active in this context
//!
//! [[context]]
//! name = "x3-shifted"
//! data = "shifted.csv"
//! shifted = ["x3"]           # mechanisms changed in an unknown way
//!
//! [[tie]]
//! contexts = ["baseline", "x3-shifted"]
//! strength = 10.0
//! ```
//!
//! Besides these keys a context may have `shift = { x1 = 0.5 }` (known mean
//! shifts) and `observed_at = "t3"`; the file may have `time = ["t0", "t1",
//! ..]` (ordered steps) and `weighting = "equal"` ([`Weighting`]).
//!
//! # Time
//!
//! A lagged model is one time slice unrolled over the steps: its causal
//! graph has, besides the variables at `t`, root variables named `x[t-1]`,
//! `x[t-2]`, .. ([`lag_name`]) for the values of `x` one, two, .. steps
//! earlier, and its mechanisms are shared across steps. A context observed
//! at a step reads those columns from the context observed that many steps
//! earlier (same rows = same units); lagged variables contribute no
//! likelihood term, and steps without enough history only supply lagged
//! values. [`Lagged`] rolls a model forward, with `do` at a step propagating
//! to later steps.

mod error;
#[cfg(feature = "burn")]
mod file;
mod fitted;
mod graph;
mod time;
mod toml;
mod validate;

pub use error::ContextError;
pub use fitted::{FittedContext, FittedContexts};
pub use graph::{
    Context, ContextEdge, ContextGraph, ContextGraphBuilder, ContextIntervention, ContextNode,
    DataNode, ParamNode, ParamScope, TimeNode, Weighting,
};
#[cfg(feature = "burn")]
pub(crate) use time::context_columns;
pub use time::{lag_name, parse_lag, Lagged};
