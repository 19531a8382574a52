//! The model being served: loaded from its file (with its contexts, for a
//! model fitted over a context graph), swapped atomically on reload.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use causalgrad::context::{ContextError, ContextIntervention, FittedContexts};
use causalgrad::scm::{ModelFileError, Scm, FORMAT_VERSION};
use serde_json::{json, Value};

use crate::{ApiError, Limits};

/// One loaded model file: the model (the shared one, for a fit over
/// contexts) and the model of each context.
pub struct LoadedModel {
    scm: Scm,
    contexts: Vec<(String, Scm)>,
    description: Value,
    generation: u64,
}

impl LoadedModel {
    /// Reads the model file at `path`; a file with contexts gives each
    /// context's model too. `generation` numbers the loads.
    fn read(path: &Path, generation: u64) -> Result<Self, ModelFileError> {
        let (scm, contexts, context_json) = match FittedContexts::load(path) {
            Ok(fitted) => {
                let mut contexts = Vec::with_capacity(fitted.contexts().len());
                let mut described = Vec::with_capacity(fitted.contexts().len());
                for context in fitted.contexts() {
                    let model = fitted
                        .in_context(&context.name)
                        .map_err(|e| corrupt(path, e))?;
                    contexts.push((context.name.clone(), model));
                    described.push(context_json(&context.name, &context.interventions));
                }
                (fitted.shared().clone(), contexts, described)
            }
            Err(ModelFileError::NoContexts { .. }) => (Scm::load(path)?, Vec::new(), Vec::new()),
            Err(error) => return Err(error),
        };
        let description = describe(&scm, path, generation, context_json);
        Ok(LoadedModel {
            scm,
            contexts,
            description,
            generation,
        })
    }

    /// The model that answers in `context` (`None`: the model itself, or
    /// the shared model of a fit over contexts); an unknown context is a
    /// bad request naming the known ones.
    pub fn in_context(&self, context: Option<&str>) -> Result<&Scm, ApiError> {
        let Some(name) = context else {
            return Ok(&self.scm);
        };
        self.contexts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, scm)| scm)
            .ok_or_else(|| {
                let known: Vec<&str> = self.contexts.iter().map(|(n, _)| n.as_str()).collect();
                ApiError::field(
                    "context",
                    if known.is_empty() {
                        format!("unknown context `{name}`: the model was not fitted over contexts")
                    } else {
                        format!(
                            "unknown context `{name}`; the model's contexts are: {}",
                            known.join(", ")
                        )
                    },
                )
            })
    }

    /// What `GET /v1/model` answers.
    pub fn description(&self) -> &Value {
        &self.description
    }

    /// Which load this is (1 for the first, one more per reload).
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// A context's model that cannot be built is a file that does not hold
/// together.
fn corrupt(path: &Path, error: ContextError) -> ModelFileError {
    ModelFileError::Corrupt {
        path: path.to_path_buf(),
        reason: error.to_string(),
    }
}

/// `{"name": .., "interventions": {"x2": {"do": 1.0}, "x3": "changed"}}`.
fn context_json(name: &str, interventions: &[(String, ContextIntervention)]) -> Value {
    let interventions: serde_json::Map<String, Value> = interventions
        .iter()
        .map(|(variable, intervention)| {
            let value = match intervention {
                ContextIntervention::Do(value) => json!({"do": value}),
                ContextIntervention::Shift(delta) => json!({"shift": delta}),
                ContextIntervention::Changed => json!("changed"),
            };
            (variable.clone(), value)
        })
        .collect();
    json!({"name": name, "interventions": interventions})
}

/// The model's variables (kind, levels, parents, mechanism, noise), its
/// contexts, members and file.
fn describe(scm: &Scm, path: &Path, generation: u64, contexts: Vec<Value>) -> Value {
    let variables: Vec<Value> = scm
        .variables()
        .map(|v| {
            let kind = scm.kind(v).ok();
            json!({
                "name": v,
                "kind": kind.as_ref().map(|k| k.name()),
                "levels": kind.as_ref().and_then(|k| k.levels()),
                "parents": scm.graph().parents(v).unwrap_or_default(),
                "mechanism": scm.mechanism(v).ok().map(|m| m.describe()),
                "noise": scm.noise(v).ok().map(|n| n.name()),
            })
        })
        .collect();
    json!({
        "file": path,
        "format_version": FORMAT_VERSION,
        "generation": generation,
        "members": scm.members(),
        "support_rows": scm.support_rows(),
        "variables": variables,
        "contexts": contexts,
    })
}

/// The model being served, where it came from and the limits on what a
/// request may ask.
pub struct Served {
    model: ArcSwap<LoadedModel>,
    path: PathBuf,
    limits: Limits,
    /// Held while a reload reads the file, so reloads take turns.
    reloading: Mutex<()>,
}

impl Served {
    /// Loads the model file at `path` (a plain model, or one fitted over
    /// contexts).
    pub fn load(path: impl Into<PathBuf>, limits: Limits) -> Result<Arc<Self>, ModelFileError> {
        let path = path.into();
        let model = LoadedModel::read(&path, 1)?;
        Ok(Arc::new(Served {
            model: ArcSwap::from_pointee(model),
            path,
            limits,
            reloading: Mutex::new(()),
        }))
    }

    /// Re-reads the model file and swaps it in atomically: requests that
    /// hold the old model finish on it. On an error the old model keeps
    /// serving. Returns the new model's generation.
    pub fn reload(&self) -> Result<u64, ApiError> {
        let _turn = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let generation = self.model.load().generation + 1;
        let model = LoadedModel::read(&self.path, generation)
            .map_err(|source| ApiError::Reload { source })?;
        self.model.store(Arc::new(model));
        Ok(generation)
    }

    /// The model now serving.
    pub fn model(&self) -> Arc<LoadedModel> {
        self.model.load_full()
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}
