//! Model files: a fitted [`Scm`] saved with its graph, variable names,
//! mechanism kinds, parameters and noise scales.
//!
//! The container is burn's burnpack format, written atomically. Its
//! metadata holds `causalgrad.format = "scm"`, `causalgrad.version`
//! ([`FORMAT_VERSION`]) and `causalgrad.model` (a JSON description of
//! every variable: parents, mechanism kind, parameter count, intervention,
//! the variable's kind (with a categorical's labels) and noise family);
//! its tensors hold each variable's parameters (`params.<name>`) and noise
//! parameters (`noise.<name>`: `[ln σ]` of a Gaussian, empty for a
//! Bernoulli) as exact `f32` values, so a loaded model samples bit for bit
//! like the saved one.
//!
//! Models whose mechanisms are all built in (linear, additive, MLP) load
//! with [`Scm::load`] alone. A model with mechanisms from user code
//! (`#[differentiable]` functions, user burn modules) is rebuilt by that
//! code, and [`Scm::load_parameters`] fills in the saved values after
//! checking that the file was made for the same graph and mechanisms.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Intervention, Mechanism, MechanismSpec, Noise, Scaling, Scm, VariableKind};
use crate::graph::CausalGraph;
use crate::pack::{Pack, PackError};

/// The version of the model-file layout this build writes and reads (4:
/// the mixture noise's means are centred, so version-3 files would read
/// their mixtures differently).
pub const FORMAT_VERSION: u32 = 4;

const FORMAT_KEY: &str = "causalgrad.format";
const VERSION_KEY: &str = "causalgrad.version";
const MODEL_KEY: &str = "causalgrad.model";
const FORMAT_NAME: &str = "scm";

/// Errors saving or loading a model file. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    /// The file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a complete model file (truncated, or another format).
    #[error("{}: not a complete causalgrad model file ({reason}); it may be truncated or come from another program", .path.display())]
    NotAModelFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A model file written by an incompatible version of causalgrad.
    #[error("{}: model file format version {found}, but this build reads version {supported}; refit the model or use the causalgrad version that wrote it", .path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: String,
        /// The version this build reads.
        supported: u32,
    },
    /// The file's contents contradict each other.
    #[error("{}: corrupt model file: {reason}", .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is inconsistent.
        reason: String,
    },
    /// The file was made for another graph than the model it is loaded into.
    #[error("{}: the file was saved for another graph ({reason})", .path.display())]
    GraphMismatch {
        /// The file.
        path: PathBuf,
        /// How the graphs differ.
        reason: String,
    },
    /// A variable's mechanism differs between the file and the model.
    #[error("{}: `{variable}` has mechanism {found} with {found_params} parameters in the file, but {expected} with {expected_params} in the model", .path.display())]
    MechanismMismatch {
        /// The file.
        path: PathBuf,
        /// The variable.
        variable: String,
        /// The model's mechanism.
        expected: String,
        /// Its parameter count.
        expected_params: usize,
        /// The file's mechanism.
        found: String,
        /// Its parameter count.
        found_params: usize,
    },
    /// A mechanism from user code, which a file cannot rebuild.
    #[error("{}: `{variable}` has a mechanism from user code ({kind}); build the model with that code and call `load_parameters`", .path.display())]
    CustomMechanism {
        /// The file.
        path: PathBuf,
        /// The variable.
        variable: String,
        /// The mechanism's description.
        kind: String,
    },
    /// A plain model file was given where a model fitted over a context
    /// graph was expected.
    #[error("{}: the model was not fitted over a context graph, so it has no contexts; fit it over one (`Scm::fit_contexts`, or `causalgrad fit --contexts`) and save the result", .path.display())]
    NoContexts {
        /// The file.
        path: PathBuf,
    },
    /// A model with a replaced mechanism cannot be saved.
    #[error("`{variable}` has a replaced mechanism (a soft intervention), which model files do not hold; save the model before intervening")]
    ReplacedMechanism {
        /// The variable.
        variable: String,
    },
}

/// A variable as described in the file.
#[derive(Debug, Serialize, Deserialize)]
struct VariableEntry {
    name: String,
    parents: Vec<String>,
    mechanism: String,
    spec: Option<MechanismSpec>,
    params: usize,
    intervention: Option<InterventionEntry>,
    /// The variable's standardisation (exact: JSON numbers round-trip f64).
    scaling: Scaling,
    /// What values it takes.
    kind: VariableKind,
    /// Its noise family ([`Noise::name`]).
    noise: String,
    /// Its base on the link scale (exact: JSON numbers round-trip f32).
    base: Vec<f32>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum InterventionEntry {
    Set(f64),
    Shift(f64),
}

#[derive(Debug, Serialize, Deserialize)]
struct ModelEntry {
    /// The graph's variables in declaration order. Parents are ordered by
    /// it (and mechanisms read their parents in that order), so the loaded
    /// graph is declared in the same order, whatever the topological order.
    declared: Vec<String>,
    /// Every variable, in topological order.
    variables: Vec<VariableEntry>,
    /// Ensemble members held beside the model's own parameters
    /// (`member.<k>.params.<variable>`, `member.<k>.noise.<variable>`).
    #[serde(default)]
    members: usize,
    /// Rows of the support sample (`support.<variable>`).
    #[serde(default)]
    support_rows: usize,
}

impl Scm {
    /// Saves the model to `path` (atomically: an existing file is replaced
    /// only once the new one is complete).
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::{Mechanism, Scm};
    ///
    /// let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
    /// let mut scm = Scm::builder(graph).mechanism("y", Mechanism::linear(1)).build()?;
    /// scm.set_params("y", &[1.0, 2.0])?;
    /// let path = std::env::temp_dir().join("causalgrad-doc-save.cg");
    /// scm.save(&path)?;
    /// let loaded = Scm::load(&path)?;
    /// assert_eq!(loaded.params("y")?, [1.0, 2.0]);
    /// assert_eq!(loaded.sample(100, 3)?, scm.sample(100, 3)?);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelFileError> {
        let path = path.as_ref();
        self.to_pack()?.write(path).map_err(|e| pack_error(path, e))
    }

    /// The model as a container (also the model part of a checkpoint).
    pub(crate) fn to_pack(&self) -> Result<Pack, ModelFileError> {
        let mut pack = Pack::default();
        let mut variables = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let intervention = match &node.intervention {
                None => None,
                Some(Intervention::Set(value)) => Some(InterventionEntry::Set(*value)),
                Some(Intervention::Shift(value)) => Some(InterventionEntry::Shift(*value)),
                Some(Intervention::Replace(_)) => {
                    return Err(ModelFileError::ReplacedMechanism {
                        variable: node.name.clone(),
                    })
                }
            };
            variables.push(VariableEntry {
                name: node.name.clone(),
                parents: node
                    .parents
                    .iter()
                    .map(|&p| self.nodes[p].name.clone())
                    .collect(),
                mechanism: node.mechanism.describe(),
                spec: node.mechanism.spec(),
                params: node.mechanism.params().len(),
                intervention,
                scaling: node.scaling,
                kind: node.kind.clone(),
                noise: node.noise.name().to_string(),
                base: node.base.clone(),
            });
            pack.vectors.insert(
                format!("params.{}", node.name),
                node.mechanism.params().to_vec(),
            );
            pack.vectors
                .insert(format!("noise.{}", node.name), node.noise.params());
        }
        let declared = self.graph.variables().map(str::to_string).collect();
        self.members_to_pack(&mut pack);
        self.support_to_pack(&mut pack);
        let model = serde_json::to_string(&ModelEntry {
            declared,
            variables,
            members: self.members(),
            support_rows: self.support_rows(),
        })
        .expect("the model description serialises");
        pack.metadata
            .insert(FORMAT_KEY.to_string(), FORMAT_NAME.to_string());
        pack.metadata
            .insert(VERSION_KEY.to_string(), FORMAT_VERSION.to_string());
        pack.metadata.insert(MODEL_KEY.to_string(), model);
        Ok(pack)
    }

    /// Loads a model saved with [`Scm::save`] whose mechanisms are all
    /// built in (linear, additive, MLP); see [`Scm::load_parameters`] for
    /// models with mechanisms from user code.
    pub fn load(path: impl AsRef<Path>) -> Result<Scm, ModelFileError> {
        let path = path.as_ref();
        Scm::from_pack(path, &read_pack(path)?)
    }

    /// The model held in `pack` (read from `path`).
    pub(crate) fn from_pack(path: &Path, pack: &Pack) -> Result<Scm, ModelFileError> {
        let model = read_header(path, pack)?;
        let mut declared: Vec<&str> = model.declared.iter().map(String::as_str).collect();
        let mut described: Vec<&str> = model.variables.iter().map(|v| v.name.as_str()).collect();
        let names = declared.clone();
        declared.sort_unstable();
        described.sort_unstable();
        if declared != described {
            return Err(ModelFileError::Corrupt {
                path: path.to_path_buf(),
                reason: "the declared variables differ from the described ones".to_string(),
            });
        }
        let edges: Vec<(&str, &str)> = model
            .variables
            .iter()
            .flat_map(|v| v.parents.iter().map(move |p| (p.as_str(), v.name.as_str())))
            .collect();
        let graph = CausalGraph::new(names, edges).map_err(|e| ModelFileError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("its graph is invalid: {e}"),
        })?;
        let mut builder = Scm::builder(graph);
        for variable in &model.variables {
            let noise = Noise::from_name(&variable.noise, &variable.kind).ok_or_else(|| {
                ModelFileError::Corrupt {
                    path: path.to_path_buf(),
                    reason: format!(
                        "`{}` has the noise `{}`, which is not a family for {} variables",
                        variable.name,
                        variable.noise,
                        variable.kind.name()
                    ),
                }
            })?;
            builder = builder
                .kind(&variable.name, variable.kind.clone())
                .noise(&variable.name, noise);
            if variable.parents.is_empty() {
                continue;
            }
            let mechanism = match &variable.spec {
                Some(spec) => build(spec).map_err(|reason| ModelFileError::Corrupt {
                    path: path.to_path_buf(),
                    reason: format!("`{}`'s mechanism: {reason}", variable.name),
                })?,
                None => {
                    return Err(ModelFileError::CustomMechanism {
                        path: path.to_path_buf(),
                        variable: variable.name.clone(),
                        kind: variable.mechanism.clone(),
                    })
                }
            };
            builder = builder.mechanism(&variable.name, mechanism);
        }
        let mut scm = builder.build().map_err(|e| ModelFileError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        scm.fill_from(path, pack, &model)?;
        Ok(scm)
    }

    /// Loads the parameters, noise scales and interventions saved in
    /// `path` into this model, which must have the same graph and the same
    /// kinds of mechanism (as when the model is rebuilt by the code that
    /// saved it).
    pub fn load_parameters(&mut self, path: impl AsRef<Path>) -> Result<(), ModelFileError> {
        let path = path.as_ref();
        self.load_pack(path, &read_pack(path)?)
    }

    /// [`Scm::load_parameters`] from a container already read.
    pub(crate) fn load_pack(&mut self, path: &Path, pack: &Pack) -> Result<(), ModelFileError> {
        let model = read_header(path, pack)?;
        self.fill_from(path, pack, &model)
    }

    fn fill_from(
        &mut self,
        path: &Path,
        pack: &Pack,
        model: &ModelEntry,
    ) -> Result<(), ModelFileError> {
        let mismatch = |reason: String| ModelFileError::GraphMismatch {
            path: path.to_path_buf(),
            reason,
        };
        let file_names: Vec<&str> = model.variables.iter().map(|v| v.name.as_str()).collect();
        let own_names: Vec<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
        if file_names != own_names {
            return Err(mismatch(format!(
                "variables in order {} in the file, {} in the model",
                file_names.join(", "),
                own_names.join(", ")
            )));
        }
        let mut updates = Vec::with_capacity(self.nodes.len());
        for (node, entry) in self.nodes.iter().zip(&model.variables) {
            let parents: Vec<&str> = node
                .parents
                .iter()
                .map(|&p| self.nodes[p].name.as_str())
                .collect();
            if parents != entry.parents {
                return Err(mismatch(format!(
                    "`{}` has parents [{}] in the file, [{}] in the model",
                    node.name,
                    entry.parents.join(", "),
                    parents.join(", ")
                )));
            }
            let expected_params = node.mechanism.params().len();
            if entry.mechanism != node.mechanism.describe() || entry.params != expected_params {
                return Err(ModelFileError::MechanismMismatch {
                    path: path.to_path_buf(),
                    variable: node.name.clone(),
                    expected: node.mechanism.describe(),
                    expected_params,
                    found: entry.mechanism.clone(),
                    found_params: entry.params,
                });
            }
            let params = finite_vector(
                path,
                pack,
                &format!("params.{}", node.name),
                expected_params,
            )?;
            if entry.kind != node.kind || entry.noise != node.noise.name() {
                return Err(mismatch(format!(
                    "`{}` is {} with {} noise in the file, {} with {} noise in the model",
                    node.name,
                    entry.kind.name(),
                    entry.noise,
                    node.kind.name(),
                    node.noise.name()
                )));
            }
            let noise = finite_vector(
                path,
                pack,
                &format!("noise.{}", node.name),
                node.noise.params().len(),
            )?;
            if !(entry.base.is_empty() || entry.base.len() == node.mechanism.outputs())
                || entry.base.iter().any(|b| !b.is_finite())
            {
                return Err(ModelFileError::Corrupt {
                    path: path.to_path_buf(),
                    reason: format!("`{}` has the base {:?}", node.name, entry.base),
                });
            }
            let intervention = match entry.intervention {
                None => None,
                Some(InterventionEntry::Set(value)) => Some(Intervention::Set(value)),
                Some(InterventionEntry::Shift(value)) => Some(Intervention::Shift(value)),
            };
            let scaling = entry.scaling;
            if !(scaling.scale > 0.0 && scaling.scale.is_finite() && scaling.location.is_finite()) {
                return Err(ModelFileError::Corrupt {
                    path: path.to_path_buf(),
                    reason: format!("`{}` has the scaling {scaling:?}", node.name),
                });
            }
            updates.push((
                params.to_vec(),
                noise.to_vec(),
                intervention,
                scaling,
                entry.base.clone(),
            ));
        }
        // Read before anything changes, so a bad file leaves the model as it was.
        let members = self.members_from_pack(path, pack, model.members)?;
        let support = self.support_from_pack(path, pack, model.support_rows)?;
        for (node, (params, noise, intervention, scaling, base)) in
            self.nodes.iter_mut().zip(updates)
        {
            node.mechanism
                .set_params(&params)
                .expect("lengths were checked");
            node.noise = node.noise.with_params(&noise);
            node.intervention = intervention;
            node.scaling = scaling;
            node.base = base;
        }
        self.set_members(members);
        self.support = support;
        Ok(())
    }
}

/// A built-in mechanism from its spec (its parameters are loaded after),
/// or why the spec does not make one (a formula that does not compile).
fn build(spec: &MechanismSpec) -> Result<Mechanism, String> {
    Ok(match spec {
        MechanismSpec::Linear { arity } => Mechanism::linear(*arity),
        MechanismSpec::Additive { arity, hidden } => Mechanism::additive(*arity, *hidden, 0),
        MechanismSpec::Mlp {
            arity,
            hidden,
            activation,
        } => Mechanism::mlp(*arity, hidden, *activation, 0),
        MechanismSpec::Formula {
            formulas,
            inputs,
            params,
        } => {
            let texts: Vec<&str> = formulas.iter().map(String::as_str).collect();
            let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
            let params: Vec<(&str, f32)> = params.iter().map(|p| (p.as_str(), 0.0)).collect();
            Mechanism::formulas(&texts, &inputs, &params).map_err(|e| e.to_string())?
        }
    })
}

/// Checks the format and version and parses the model description.
fn read_header(path: &Path, pack: &Pack) -> Result<ModelEntry, ModelFileError> {
    let not_ours = |reason: &str| ModelFileError::NotAModelFile {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    match pack.metadata.get(FORMAT_KEY) {
        Some(format) if format == FORMAT_NAME => {}
        Some(other) => return Err(not_ours(&format!("it holds a `{other}`, not a model"))),
        None => return Err(not_ours("it has no causalgrad metadata")),
    }
    let version = pack
        .metadata
        .get(VERSION_KEY)
        .ok_or_else(|| not_ours("it has no format version"))?;
    if version.parse::<u32>() != Ok(FORMAT_VERSION) {
        return Err(ModelFileError::Version {
            path: path.to_path_buf(),
            found: version.clone(),
            supported: FORMAT_VERSION,
        });
    }
    let model = pack
        .metadata
        .get(MODEL_KEY)
        .ok_or_else(|| not_ours("it has no model description"))?;
    serde_json::from_str(model).map_err(|e| ModelFileError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("the model description is not valid: {e}"),
    })
}

/// Reads the container at `path`.
pub(crate) fn read_pack(path: &Path) -> Result<Pack, ModelFileError> {
    Pack::read(path).map_err(|e| pack_error(path, e))
}

/// The tensor `key` of `pack`, checked to hold `len` finite values; a
/// missing, mis-sized or non-finite tensor is [`ModelFileError::Corrupt`].
pub(crate) fn finite_vector<'p>(
    path: &Path,
    pack: &'p Pack,
    key: &str,
    len: usize,
) -> Result<&'p [f32], ModelFileError> {
    let corrupt = |reason: String| ModelFileError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let values = pack
        .vectors
        .get(key)
        .ok_or_else(|| corrupt(format!("`{key}` is missing")))?;
    if values.len() != len {
        return Err(corrupt(format!(
            "`{key}` holds {} values, expected {len}",
            values.len()
        )));
    }
    if let Some(at) = values.iter().position(|v| !v.is_finite()) {
        return Err(corrupt(format!(
            "`{key}` holds {} at position {at}",
            values[at]
        )));
    }
    Ok(values)
}

/// The model-file error for a container error.
pub(crate) fn pack_error(path: &Path, error: PackError) -> ModelFileError {
    match error {
        PackError::Io(source) => ModelFileError::Io {
            path: path.to_path_buf(),
            source,
        },
        PackError::Format(reason) => ModelFileError::NotAModelFile {
            path: path.to_path_buf(),
            reason,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Scm {
        let graph = CausalGraph::new(["x", "y"], [("x", "y")]).unwrap();
        Scm::builder(graph)
            .mechanism("y", Mechanism::linear(1))
            .build()
            .unwrap()
    }

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("causalgrad-file-{}-{name}", std::process::id()))
    }

    #[test]
    fn a_file_from_another_format_version_is_a_version_error() {
        let path = temp("version.cg");
        let mut pack = model().to_pack().unwrap();
        pack.metadata
            .insert(VERSION_KEY.to_string(), "1".to_string());
        pack.write(&path).unwrap();
        let error = Scm::load(&path).unwrap_err();
        std::fs::remove_file(&path).ok();
        assert!(
            matches!(&error, ModelFileError::Version { found, supported: FORMAT_VERSION, .. } if found == "1"),
            "{error}"
        );
        assert!(error.to_string().contains("version 1"), "{error}");
    }

    #[test]
    fn a_file_holding_something_else_is_not_a_model_file() {
        let path = temp("other.cg");
        let mut pack = model().to_pack().unwrap();
        pack.metadata
            .insert(FORMAT_KEY.to_string(), "checkpoint".to_string());
        pack.write(&path).unwrap();
        let error = Scm::load(&path).unwrap_err();
        std::fs::remove_file(&path).ok();
        assert!(
            matches!(error, ModelFileError::NotAModelFile { .. }),
            "{error}"
        );
    }

    #[test]
    fn a_file_with_a_missing_tensor_is_corrupt() {
        let path = temp("missing.cg");
        let mut pack = model().to_pack().unwrap();
        pack.vectors.remove("params.y");
        pack.write(&path).unwrap();
        let error = Scm::load(&path).unwrap_err();
        std::fs::remove_file(&path).ok();
        assert!(
            error.to_string().contains("`params.y` is missing"),
            "{error}"
        );
    }
}
