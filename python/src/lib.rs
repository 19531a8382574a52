//! The `causalgrad._causalgrad` extension module: the library's models,
//! fits and queries for Python. The Python package `causalgrad` (in
//! `python/causalgrad/`) wraps it with pandas DataFrames in and out, and
//! `causalgrad.gcm` with DoWhy's names.
//!
//! Every fit, sample and query runs with the GIL released
//! (`Python::detach`), so other Python threads run meanwhile; every
//! library error becomes a `causalgrad.CausalGradError` subclass, and a
//! panic is caught before it reaches Python.

use pyo3::prelude::*;

mod contexts;
mod discover;
mod errors;
mod frame;
mod model;
mod query;
mod select;
mod settings;
mod spec;

/// The compiled part of causalgrad; use the `causalgrad` package.
#[pymodule]
fn _causalgrad(module: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(module)?;
    module.add_class::<model::RawModel>()?;
    module.add_function(wrap_pyfunction!(contexts::read_contexts, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
