//! The crate-wide error: every area's error in one type, for `?`.

use crate::data::DataError;
use crate::graph::GraphError;
use crate::scm::ScmError;

/// Any causalgrad error. Each area also has its own enum
/// ([`GraphError`], [`DataError`], [`ScmError`], ..) that this wraps.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Building or reading a causal graph.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Reading or using data.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Building or querying a model.
    #[error(transparent)]
    Scm(#[from] ScmError),
    /// Building, loading or querying a context graph.
    #[error(transparent)]
    Context(#[from] crate::context::ContextError),
    /// Fitting a model.
    #[error(transparent)]
    Fit(#[from] crate::fit::FitError),
    /// Saving or loading a model file.
    #[cfg(feature = "burn")]
    #[error(transparent)]
    ModelFile(#[from] crate::scm::ModelFileError),
}
