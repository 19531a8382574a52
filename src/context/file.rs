//! A model fitted over a context graph, saved in one model file: the shared
//! model as [`Scm::save`] writes it, plus each context's interventions and
//! own parameters.
//!
//! The metadata key `causalgrad.contexts` holds a JSON list of the contexts
//! (name, interventions, the variables with their own parameters); the
//! tensors `context.<i>.params.<variable>` and
//! `context.<i>.noise.<variable>` hold context `i`'s own values as exact
//! `f32`; with ensemble members, the shared model's members as
//! [`Scm::save`] writes them and each member's own values in
//! `member.<k>.context.<i>.params.<variable>` and
//! `member.<k>.context.<i>.noise.<variable>`. [`Scm::load`] reads such a
//! file as the shared model.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{ContextIntervention, FittedContext, FittedContexts};
use crate::pack::Pack;
use crate::scm::file::{finite_vector, pack_error, read_pack};
use crate::scm::{ModelFileError, Scm};

const CONTEXTS_KEY: &str = "causalgrad.contexts";

#[derive(Debug, Serialize, Deserialize)]
struct ContextEntry {
    name: String,
    interventions: Vec<(String, InterventionEntry)>,
    own: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum InterventionEntry {
    Do(f64),
    Shift(f64),
    Changed,
}

fn params_key(context: usize, variable: &str) -> String {
    format!("context.{context}.params.{variable}")
}

fn noise_key(context: usize, variable: &str) -> String {
    format!("context.{context}.noise.{variable}")
}

fn member_params_key(member: usize, context: usize, variable: &str) -> String {
    format!("member.{member}.context.{context}.params.{variable}")
}

fn member_noise_key(member: usize, context: usize, variable: &str) -> String {
    format!("member.{member}.context.{context}.noise.{variable}")
}

impl FittedContexts {
    /// Saves the shared model and every context's interventions and own
    /// parameters to `path` (atomically). [`FittedContexts::load`] restores
    /// them; [`Scm::load`] reads the same file as the shared model.
    ///
    /// ```
    /// use causalgrad::context::{Context, ContextGraph, FittedContexts};
    /// use causalgrad::fit::FitConfig;
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::Scm;
    ///
    /// let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
    /// let truth = Scm::builder(graph.clone()).build()?;
    /// let contexts = ContextGraph::builder()
    ///     .context(Context::new("obs", truth.sample(200, 1)?))
    ///     .context(Context::new("x=2", truth.intervene(&[("x", 2.0)])?.sample(200, 2)?).set("x", 2.0))
    ///     .build()?;
    /// let mut model = Scm::builder(graph).build()?;
    /// let fitted = model.fit_contexts(&contexts, &FitConfig::adam(0.05).with_steps(20))?.fitted;
    /// let path = std::env::temp_dir().join("causalgrad-doc-contexts.cg");
    /// fitted.save(&path)?;
    /// let loaded = FittedContexts::load(&path)?;
    /// assert_eq!(loaded.in_context("x=2")?.sample(50, 3)?, fitted.in_context("x=2")?.sample(50, 3)?);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelFileError> {
        let path = path.as_ref();
        let mut pack = self.shared().to_pack()?;
        let mut entries = Vec::with_capacity(self.contexts().len());
        for (index, context) in self.contexts().iter().enumerate() {
            for (variable, params, noise) in &context.own {
                pack.vectors
                    .insert(params_key(index, variable), params.clone());
                pack.vectors
                    .insert(noise_key(index, variable), noise.clone());
            }
            entries.push(ContextEntry {
                name: context.name.clone(),
                interventions: context
                    .interventions
                    .iter()
                    .map(|(variable, intervention)| {
                        let entry = match *intervention {
                            ContextIntervention::Do(value) => InterventionEntry::Do(value),
                            ContextIntervention::Shift(value) => InterventionEntry::Shift(value),
                            ContextIntervention::Changed => InterventionEntry::Changed,
                        };
                        (variable.clone(), entry)
                    })
                    .collect(),
                own: context.own.iter().map(|(v, ..)| v.clone()).collect(),
            });
        }
        for (k, member) in self.member_own().iter().enumerate() {
            for (index, own) in member.iter().enumerate() {
                for (variable, params, noise) in own {
                    pack.vectors
                        .insert(member_params_key(k, index, variable), params.clone());
                    pack.vectors
                        .insert(member_noise_key(k, index, variable), noise.clone());
                }
            }
        }
        let description =
            serde_json::to_string(&entries).expect("the context description serialises");
        pack.metadata.insert(CONTEXTS_KEY.to_string(), description);
        pack.write(path).map_err(|e| pack_error(path, e))
    }

    /// Loads a file saved with [`FittedContexts::save`] whose mechanisms are
    /// all built in (linear, additive, MLP). A plain model file (no
    /// contexts) is [`ModelFileError::NoContexts`].
    pub fn load(path: impl AsRef<Path>) -> Result<FittedContexts, ModelFileError> {
        let path = path.as_ref();
        let pack = read_pack(path)?;
        let shared = Scm::from_pack(path, &pack)?;
        read_contexts(path, &pack, shared)
    }

    /// Loads a file saved with [`FittedContexts::save`] into `model`, which
    /// was rebuilt by the code that made it (for mechanisms from user code,
    /// as [`Scm::load_parameters`] does for one model).
    pub fn load_into(model: Scm, path: impl AsRef<Path>) -> Result<FittedContexts, ModelFileError> {
        let path = path.as_ref();
        let pack = read_pack(path)?;
        let mut shared = model;
        shared.load_pack(path, &pack)?;
        read_contexts(path, &pack, shared)
    }
}

/// The contexts described in `pack`, checked against the shared model.
fn read_contexts(path: &Path, pack: &Pack, shared: Scm) -> Result<FittedContexts, ModelFileError> {
    let corrupt = |reason: String| ModelFileError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let description =
        pack.metadata
            .get(CONTEXTS_KEY)
            .ok_or_else(|| ModelFileError::NoContexts {
                path: path.to_path_buf(),
            })?;
    let entries: Vec<ContextEntry> = serde_json::from_str(description)
        .map_err(|e| corrupt(format!("the context description is not valid: {e}")))?;
    let mut contexts = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        if contexts
            .iter()
            .any(|c: &FittedContext| c.name == entry.name)
        {
            return Err(corrupt(format!("context `{}` appears twice", entry.name)));
        }
        let mut interventions = Vec::with_capacity(entry.interventions.len());
        for (variable, intervention) in entry.interventions {
            shared
                .mechanism(&variable)
                .map_err(|_| corrupt(unknown(&entry.name, &variable)))?;
            let intervention = match intervention {
                InterventionEntry::Do(value) => ContextIntervention::Do(value),
                InterventionEntry::Shift(value) => ContextIntervention::Shift(value),
                InterventionEntry::Changed => ContextIntervention::Changed,
            };
            if let ContextIntervention::Do(value) | ContextIntervention::Shift(value) = intervention
            {
                if !value.is_finite() {
                    return Err(corrupt(format!(
                        "context `{}` intervenes on `{variable}` with {value}",
                        entry.name
                    )));
                }
            }
            interventions.push((variable, intervention));
        }
        let mut own = Vec::with_capacity(entry.own.len());
        for variable in entry.own {
            let expected = shared
                .params(&variable)
                .map_err(|_| corrupt(unknown(&entry.name, &variable)))?
                .len();
            let params = finite_vector(path, pack, &params_key(index, &variable), expected)?;
            let count = shared
                .noise(&variable)
                .map_err(|_| corrupt(unknown(&entry.name, &variable)))?
                .params()
                .len();
            let noise = finite_vector(path, pack, &noise_key(index, &variable), count)?;
            own.push((variable, params.to_vec(), noise.to_vec()));
        }
        contexts.push(FittedContext {
            name: entry.name,
            interventions,
            own,
        });
    }
    // Each member's own values of the variables each context changes.
    let mut member_own = Vec::with_capacity(shared.members());
    for k in 0..shared.members() {
        let mut member = Vec::with_capacity(contexts.len());
        for (index, context) in contexts.iter().enumerate() {
            let mut own = Vec::with_capacity(context.own.len());
            for (variable, params, noise) in &context.own {
                let read = |key: String, len: usize| -> Result<Vec<f32>, ModelFileError> {
                    Ok(finite_vector(path, pack, &key, len)?.to_vec())
                };
                own.push((
                    variable.clone(),
                    read(member_params_key(k, index, variable), params.len())?,
                    read(member_noise_key(k, index, variable), noise.len())?,
                ));
            }
            member.push(own);
        }
        member_own.push(member);
    }
    let members = (0..shared.members())
        .map(|k| shared.member(k).expect("a member").as_member())
        .collect();
    let mut fitted = FittedContexts::new(shared, contexts);
    fitted.set_members(members, member_own);
    Ok(fitted)
}

fn unknown(context: &str, variable: &str) -> String {
    format!("context `{context}` names `{variable}`, which is not a variable of the model")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Context, ContextGraph};
    use crate::fit::FitConfig;
    use crate::graph::CausalGraph;

    fn fitted() -> FittedContexts {
        let graph = CausalGraph::new(["x", "y"], [("x", "y")]).unwrap();
        let mut truth = Scm::builder(graph.clone()).build().unwrap();
        truth.set_params("y", &[0.5, 1.5]).unwrap();
        let obs = truth.sample(300, 1).unwrap();
        let clamped = truth
            .intervene(&[("x", 2.0)])
            .unwrap()
            .sample(300, 2)
            .unwrap();
        let changed = truth.sample(300, 3).unwrap();
        let contexts = ContextGraph::builder()
            .context(Context::new("obs", obs))
            .context(Context::new("x=2", clamped).set("x", 2.0))
            .context(Context::new("y changed", changed).changed("y"))
            .context(Context::new("y shifted", truth.sample(300, 4).unwrap()).shift("y", 0.25))
            .build()
            .unwrap();
        let mut model = Scm::builder(graph).build().unwrap();
        model
            .fit_contexts(&contexts, &FitConfig::adam(0.05).with_steps(30))
            .unwrap()
            .fitted
    }

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("causalgrad-contexts-{}-{name}", std::process::id()))
    }

    #[test]
    fn every_context_round_trips_exactly() {
        let fitted = fitted();
        let path = temp("round-trip.cg");
        fitted.save(&path).unwrap();
        let loaded = FittedContexts::load(&path).unwrap();
        assert_eq!(loaded.contexts().len(), 4);
        for (a, b) in fitted.contexts().iter().zip(loaded.contexts()) {
            assert_eq!(a.name, b.name);
            assert_eq!(a.interventions, b.interventions);
            assert_eq!(a.own, b.own);
            assert_eq!(
                fitted.in_context(&a.name).unwrap().sample(40, 9).unwrap(),
                loaded.in_context(&b.name).unwrap().sample(40, 9).unwrap()
            );
        }
        let shared = Scm::load(&path).unwrap();
        assert_eq!(
            shared.params("y").unwrap(),
            fitted.shared().params("y").unwrap()
        );
        let rebuilt = FittedContexts::load_into(fitted.shared().clone(), &path).unwrap();
        assert_eq!(rebuilt.contexts()[2].own, fitted.contexts()[2].own);
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn a_plain_model_file_has_no_contexts() {
        let path = temp("plain.cg");
        fitted().shared().save(&path).unwrap();
        let error = FittedContexts::load(&path).unwrap_err();
        assert!(
            matches!(error, ModelFileError::NoContexts { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("plain.cg"), "{error}");
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn a_missing_or_non_finite_context_tensor_is_corrupt() {
        let fitted = fitted();
        let path = temp("corrupt.cg");
        fitted.save(&path).unwrap();
        let mut pack = Pack::read(&path).unwrap();
        let key = params_key(2, "y");
        pack.vectors.get_mut(&key).unwrap()[0] = f32::NAN;
        pack.write(&path).unwrap();
        let error = FittedContexts::load(&path).unwrap_err();
        assert!(error.to_string().contains(&key), "{error}");
        let mut pack = Pack::read(&path).unwrap();
        pack.vectors.remove(&key);
        pack.write(&path).unwrap();
        let error = FittedContexts::load(&path).unwrap_err();
        assert!(error.to_string().contains("missing"), "{error}");
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn a_context_naming_an_unknown_variable_is_corrupt() {
        let fitted = fitted();
        let path = temp("unknown.cg");
        fitted.save(&path).unwrap();
        let mut pack = Pack::read(&path).unwrap();
        let text = pack.metadata[CONTEXTS_KEY].replace("\"x\"", "\"zz\"");
        pack.metadata.insert(CONTEXTS_KEY.to_string(), text);
        pack.write(&path).unwrap();
        let error = FittedContexts::load(&path).unwrap_err();
        assert!(error.to_string().contains("`zz`"), "{error}");
        std::fs::remove_file(&path).ok();
    }
}
