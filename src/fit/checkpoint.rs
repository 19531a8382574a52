//! Checkpoints: the model, the optimiser's state and the fit's progress in
//! one file, written atomically every K steps and at the end, from which a
//! fit resumes exactly where it stopped.
//!
//! A checkpoint is a model file ([`Scm::save`]'s format, so
//! [`Scm::load`]/[`Scm::load_parameters`] read it as the model at that
//! step) with three additions: `causalgrad.training` (the step, the loss
//! curve, the validation history, the mini-batch position and the settings
//! it was made with), the optimiser's state (burn's own record, as a byte
//! blob) and, with early stopping, the best parameters so far.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::config::{FitConfig, FitError, Schedule};
use crate::pack::{Pack, BLOB_PREFIX};
use crate::scm::file::pack_error;
use crate::scm::Scm;

const TRAINING_KEY: &str = "causalgrad.training";
const OPTIMIZER_BLOB: &str = "optimizer";

/// A fit's progress, as saved in a checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Progress {
    /// Steps taken.
    pub step: usize,
    /// The loss at each step.
    pub losses: Vec<f64>,
    /// The validation loss at each evaluation, with its step.
    pub validation: Vec<(usize, f64)>,
    /// The best validation loss so far.
    pub best_loss: Option<f64>,
    /// Evaluations since the best.
    pub since_best: usize,
    /// Epoch shuffles of the mini-batch order done so far.
    pub shuffles: usize,
    /// Position in the current epoch's order.
    pub cursor: usize,
    /// The training rows.
    pub rows: usize,
    /// The settings that decide the loss curve (a checkpoint made under
    /// others is refused).
    pub settings: String,
}

/// The settings a resumed fit must share with the checkpoint's fit (the
/// number of steps only where the schedule depends on it).
pub(crate) fn settings_fingerprint(config: &FitConfig) -> String {
    let horizon = match config.schedule {
        Schedule::Constant => None,
        Schedule::Cosine { .. } => Some(config.steps),
    };
    format!(
        "optimizer={:?} rate={} schedule={:?} horizon={:?} batch={:?} seed={} validation={} clip={:?} plateau={:?}",
        config.optimizer,
        config.learning_rate,
        config.schedule,
        horizon,
        config.batch_size,
        config.seed,
        config.validation_fraction,
        config.clip_norm,
        config.plateau
    )
}

/// What a checkpoint holds besides the model.
pub(crate) struct Saved {
    pub progress: Progress,
    pub optimizer: Vec<u8>,
    /// The best parameters so far (as a model), with early stopping.
    pub best: Option<Scm>,
}

/// Writes `model` (with the current parameters), the progress, the
/// optimiser's record and the best model so far to `path`, atomically.
pub(crate) fn write(
    path: &Path,
    model: &Scm,
    progress: &Progress,
    optimizer: Vec<u8>,
    best: Option<&Scm>,
) -> Result<(), FitError> {
    let mut pack = model.to_pack()?;
    if let Some(best) = best {
        let best = best.to_pack()?;
        for (name, values) in best.vectors {
            pack.vectors.insert(format!("best.{name}"), values);
        }
    }
    pack.metadata.insert(
        TRAINING_KEY.to_string(),
        serde_json::to_string(progress).expect("progress serialises"),
    );
    pack.blobs
        .insert(format!("{BLOB_PREFIX}{OPTIMIZER_BLOB}"), optimizer);
    pack.write(path).map_err(|e| pack_error(path, e).into())
}

/// Reads the checkpoint at `path` into `model` (which must be the model
/// the checkpoint was made for) and returns the rest of what it holds.
pub(crate) fn read(path: &Path, model: &mut Scm) -> Result<Saved, FitError> {
    let mut pack = Pack::read(path).map_err(|e| pack_error(path, e))?;
    let corrupt = |reason: &str| FitError::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let progress: Progress = match pack.metadata.get(TRAINING_KEY) {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| corrupt(&format!("its training state is not valid: {e}")))?,
        None => return Err(corrupt("it is a model file without a training state")),
    };
    let optimizer = pack
        .blobs
        .remove(&format!("{BLOB_PREFIX}{OPTIMIZER_BLOB}"))
        .ok_or_else(|| corrupt("it has no optimiser state"))?;
    let best_vectors: Vec<(String, Vec<f32>)> = pack
        .vectors
        .iter()
        .filter_map(|(name, values)| {
            name.strip_prefix("best.")
                .map(|rest| (rest.to_string(), values.clone()))
        })
        .collect();
    let best = if best_vectors.is_empty() {
        None
    } else {
        let mut best_pack = Pack {
            metadata: pack.metadata.clone(),
            ..Pack::default()
        };
        best_pack.vectors.extend(best_vectors);
        let mut best = model.clone();
        best.load_pack(path, &best_pack)?;
        Some(best)
    };
    model.load_pack(path, &pack)?;
    Ok(Saved {
        progress,
        optimizer,
        best,
    })
}

/// Refuses a checkpoint made under other settings or for other data.
pub(crate) fn check(
    path: &Path,
    progress: &Progress,
    config: &FitConfig,
    rows: usize,
) -> Result<(), FitError> {
    let refuse = |reason: String| FitError::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    if progress.settings != settings_fingerprint(config) {
        return Err(refuse(format!(
            "it was made with other settings ({}); resume with the same optimiser, learning rate, schedule, batch size, seed, validation split and clipping",
            progress.settings
        )));
    }
    if progress.rows != rows {
        return Err(refuse(format!(
            "it was fitted on {} training rows, these data have {rows}",
            progress.rows
        )));
    }
    if progress.cursor > rows || progress.losses.len() != progress.step {
        return Err(refuse("its training state is inconsistent".to_string()));
    }
    Ok(())
}
