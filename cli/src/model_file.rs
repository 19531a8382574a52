//! Model files and the fit reports beside them: the one place the CLI
//! saves and loads models.
//!
//! The model is a causalgrad model file ([`Scm::save`], written atomically
//! by the library). `fit` also writes `<model>.report.json`, the fit's
//! settings and loss curves, which `plot` draws.

use std::path::{Path, PathBuf};

use causalgrad::context::{ContextError, FittedContexts};
use causalgrad::scm::{ModelFileError, Scm};
use clap::Args;
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

/// The model a query runs on: a model file and, for a model fitted over a
/// context graph, one of its contexts (`--model`, `--context`).
#[derive(Debug, Args)]
pub struct ModelChoice {
    /// A model written by `causalgrad fit`.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// For a model fitted with `fit --contexts`: answer in this context
    /// (its interventions and its own mechanisms); without it the shared
    /// mechanisms answer.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

impl ModelChoice {
    /// Loads the model, in the chosen context if there is one.
    pub fn load(&self) -> Result<Scm, CliError> {
        let Some(name) = &self.context else {
            return load(&self.model);
        };
        let fitted = FittedContexts::load(&self.model).map_err(|source| match source {
            ModelFileError::NoContexts { .. } => CliError::NoContexts {
                model: self.model.clone(),
                context: name.clone(),
            },
            source => CliError::ModelFile { source },
        })?;
        fitted.in_context(name).map_err(|error| match error {
            ContextError::UnknownContext { name, known } => CliError::UnknownContext {
                model: self.model.clone(),
                name,
                known,
            },
            source => CliError::Contexts { source },
        })
    }

    /// The context's name for JSON output (`null` without one).
    pub fn context_json(&self) -> serde_json::Value {
        self.context
            .clone()
            .map_or(serde_json::Value::Null, Into::into)
    }

    /// " in context NAME" for text output, or nothing.
    pub fn context_text(&self) -> String {
        self.context
            .as_ref()
            .map_or_else(String::new, |name| format!(" in context `{name}`"))
    }
}

/// What `fit` did, saved beside the model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FitRecord {
    /// The training data (for a fit over contexts, the contexts file).
    pub data: PathBuf,
    /// Whether `data` is a contexts file (`fit --contexts`).
    #[serde(default)]
    pub contexts: bool,
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
    /// Whether the fit converged (`causalgrad::fit::FitReport::converged`);
    /// reports written before this field read as converged.
    #[serde(default = "converged_by_default")]
    pub converged: bool,
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

/// The `converged` of a report that does not say.
fn converged_by_default() -> bool {
    true
}
