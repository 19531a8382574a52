//! Model files and the fit reports beside them: the one place the CLI
//! saves and loads models.
//!
//! The model is a causalgrad model file ([`Scm::save`], written atomically
//! by the library). `fit` also writes `<model>.report.json`, the fit's
//! settings and loss curves, which `plot` draws.

use std::path::{Path, PathBuf};

use causalgrad::scm::Scm;
use serde::{Deserialize, Serialize};

use crate::error::CliError;
use crate::output::write_json;

/// Saves a fitted model.
pub fn save(scm: &Scm, path: &Path) -> Result<(), CliError> {
    scm.save(path)
        .map_err(|source| CliError::ModelFile { source })
}

/// Loads a model written by `causalgrad fit`.
pub fn load(path: &Path) -> Result<Scm, CliError> {
    Scm::load(path).map_err(|source| CliError::ModelFile { source })
}

/// What `fit` did, saved beside the model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FitRecord {
    /// The training data.
    pub data: PathBuf,
    /// The graph.
    pub graph: PathBuf,
    /// The `model.toml`, if one was given.
    pub spec: Option<PathBuf>,
    /// Optimisation steps taken.
    pub steps: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Rows per mini-batch (`None`: full batch).
    pub batch_size: Option<usize>,
    /// The seed of initialisation, batches and the validation split.
    pub seed: u64,
    /// The fraction of rows held out for validation.
    pub validation_fraction: f64,
    /// The training loss (mean negative log-likelihood per row) per step.
    pub losses: Vec<f64>,
    /// `(step, validation loss)` at each evaluation.
    pub validation: Vec<(usize, f64)>,
    /// `"completed"` or `"early_stopped"`.
    pub stop: String,
    /// Wall-clock seconds of the fit.
    pub seconds: f64,
}

/// The report's path beside `model`: `model.cg` → `model.cg.report.json`.
pub fn record_path(model: &Path) -> PathBuf {
    let mut name = model.as_os_str().to_owned();
    name.push(".report.json");
    PathBuf::from(name)
}

/// Writes the report beside `model`.
pub fn save_record(record: &FitRecord, model: &Path) -> Result<(), CliError> {
    write_json(&record_path(model), record)
}

/// The report beside `model`, or `None` when there is none (a model saved
/// by library code).
pub fn load_record(model: &Path) -> Result<Option<FitRecord>, CliError> {
    let path = record_path(model);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(CliError::Read { path, source }),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|error| CliError::Report {
            message: error.to_string(),
            path,
        })
}
