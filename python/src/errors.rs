//! The exceptions Python sees: `causalgrad.CausalGradError` and one
//! subclass per area, each carrying the library's message.

use causalgrad::context::ContextError;
use causalgrad::data::DataError as LibDataError;
use causalgrad::discover::DiscoverError;
use causalgrad::fit::FitError as LibFitError;
use causalgrad::graph::GraphError as LibGraphError;
use causalgrad::scm::{ModelFileError, ScmError};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    causalgrad,
    CausalGradError,
    PyException,
    "Any causalgrad error; the message is the library's, naming the variable, row or file."
);
create_exception!(
    causalgrad,
    GraphError,
    CausalGradError,
    "A graph that cannot be read or is not a causal graph (a cycle, an undirected edge, an unknown variable)."
);
create_exception!(
    causalgrad,
    DataError,
    CausalGradError,
    "Data that cannot be used: a missing column, a NaN or infinite cell, a column of objects, a value a variable cannot take."
);
create_exception!(
    causalgrad,
    ModelError,
    CausalGradError,
    "A model or query that does not fit together: a mechanism for the wrong number of parents, an intervention value a variable cannot take, a model not fitted yet."
);
create_exception!(
    causalgrad,
    FitError,
    CausalGradError,
    "A fit that cannot run or failed (bad settings, a loss that is not finite)."
);
create_exception!(
    causalgrad,
    FileError,
    CausalGradError,
    "A model file that cannot be read or written (missing, truncated, of another format or version)."
);

/// Adds the exceptions to the module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("CausalGradError", py.get_type::<CausalGradError>())?;
    module.add("GraphError", py.get_type::<GraphError>())?;
    module.add("DataError", py.get_type::<DataError>())?;
    module.add("ModelError", py.get_type::<ModelError>())?;
    module.add("FitError", py.get_type::<FitError>())?;
    module.add("FileError", py.get_type::<FileError>())?;
    Ok(())
}

/// An error of a call into the library: the library's, one a Python
/// callback raised, or a panic caught before it reached Python.
#[derive(Debug)]
pub enum Error {
    /// A graph error.
    Graph(LibGraphError),
    /// A data error.
    Data(LibDataError),
    /// A model or query error.
    Model(ScmError),
    /// A fit error.
    Fit(LibFitError),
    /// A model file error.
    File(ModelFileError),
    /// A context graph error.
    Context(ContextError),
    /// A structure-learning error.
    Discover(DiscoverError),
    /// A message for [`ModelError`] from the bindings themselves.
    Usage(String),
    /// An exception raised by Python code the library called back.
    Python(PyErr),
    /// A panic inside the library (a bug), caught.
    Panic(String),
}

impl From<LibGraphError> for Error {
    fn from(error: LibGraphError) -> Self {
        Error::Graph(error)
    }
}

impl From<LibDataError> for Error {
    fn from(error: LibDataError) -> Self {
        Error::Data(error)
    }
}

impl From<ScmError> for Error {
    fn from(error: ScmError) -> Self {
        match error {
            ScmError::Graph(error) => Error::Graph(error),
            ScmError::Data(error) => Error::Data(error),
            other => Error::Model(other),
        }
    }
}

impl From<LibFitError> for Error {
    fn from(error: LibFitError) -> Self {
        Error::Fit(error)
    }
}

impl From<ModelFileError> for Error {
    fn from(error: ModelFileError) -> Self {
        Error::File(error)
    }
}

impl From<ContextError> for Error {
    fn from(error: ContextError) -> Self {
        Error::Context(error)
    }
}

impl From<DiscoverError> for Error {
    fn from(error: DiscoverError) -> Self {
        Error::Discover(error)
    }
}

impl From<PyErr> for Error {
    fn from(error: PyErr) -> Self {
        Error::Python(error)
    }
}

impl From<Error> for PyErr {
    fn from(error: Error) -> PyErr {
        match error {
            Error::Graph(e) => GraphError::new_err(e.to_string()),
            Error::Data(e) => DataError::new_err(e.to_string()),
            Error::Model(e @ (ScmError::UnknownLevel { .. } | ScmError::BadValue { .. })) => {
                DataError::new_err(e.to_string())
            }
            Error::Model(e) => ModelError::new_err(e.to_string()),
            Error::Fit(LibFitError::Scm(e)) => Error::from(e).into(),
            Error::Fit(e) => FitError::new_err(e.to_string()),
            Error::File(e) => FileError::new_err(e.to_string()),
            Error::Context(ContextError::Data(e)) => Error::Data(e).into(),
            Error::Context(ContextError::Scm(e)) => Error::from(e).into(),
            Error::Context(
                e @ (ContextError::EmptyContext { .. }
                | ContextError::UnknownDataVariable { .. }
                | ContextError::MissingVariable { .. }
                | ContextError::BadInterventionValue { .. }),
            ) => DataError::new_err(e.to_string()),
            Error::Context(e) => ModelError::new_err(e.to_string()),
            Error::Discover(e @ DiscoverError::Data { .. }) => DataError::new_err(e.to_string()),
            Error::Discover(
                e @ (DiscoverError::Config { .. } | DiscoverError::NonFinite { .. }),
            ) => FitError::new_err(e.to_string()),
            Error::Discover(e) => GraphError::new_err(e.to_string()),
            Error::Usage(message) => ModelError::new_err(message),
            Error::Python(e) => e,
            Error::Panic(message) => CausalGradError::new_err(format!(
                "internal error (a bug in causalgrad; please report it): {message}"
            )),
        }
    }
}

/// Runs `work` with the GIL released (other Python threads run
/// meanwhile), turning a panic into [`Error::Panic`].
pub fn detached<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T, Error> + Send,
) -> Result<T, Error> {
    py.detach(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|payload| {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            Err(Error::Panic(message))
        })
    })
}
