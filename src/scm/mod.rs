//! Structural causal models: a causal graph, a mechanism and a noise model
//! per variable.
//!
//! Each variable is `x_j = mean_j(parents of x_j) + sigma_j * e_j` with
//! independent standard normal `e_j` and a learned log-scale per variable.
//! Additive noise makes abduction exact, so counterfactuals are exact too.
//!
//! ```
//! use causalgrad::graph::CausalGraph;
//! use causalgrad::scm::{Mechanism, Scm};
//!
//! let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
//! let mut scm = Scm::builder(graph).mechanism("y", Mechanism::linear(1)).build()?;
//! scm.set_params("y", &[1.0, 2.0])?; // y = 1 + 2 x + noise
//! let data = scm.sample(1000, 7)?;
//! let shifted = scm.intervene(&[("x", 1.0)])?.sample(1000, 7)?;
//! let mean = |c: &[f64]| c.iter().sum::<f64>() / c.len() as f64;
//! assert!((mean(shifted.column("y")?) - 3.0).abs() < 0.1);
//! # let _ = data;
//! # Ok::<(), causalgrad::Error>(())
//! ```

#[cfg(feature = "burn")]
mod activation_ops;
mod builder;
#[cfg(feature = "burn")]
pub(crate) mod file;
mod kind;
mod mapped;
mod mechanism;
mod members;
pub(crate) use members::Member;
mod noise;
mod query;
mod region;
mod scaling;
mod spec;
mod support;
mod values;

#[cfg(feature = "burn")]
pub use activation_ops::{
    fast_activation, fast_gelu, fast_relu, fast_sigmoid, fast_silu, fast_tanh, fused_mlp,
    FastActivationBackwardOps, FastActivationOps, FusedMlpBackwardOps, FusedMlpGrads, FusedMlpOps,
};
pub use builder::ScmBuilder;
#[cfg(feature = "burn")]
pub use file::{ModelFileError, FORMAT_VERSION};
pub use kind::VariableKind;
#[cfg(feature = "burn")]
pub(crate) use mechanism::neural;
pub use mechanism::{Mechanism, MechanismKernel, RowLoss, RowLossFn, DEFAULT_HIDDEN};
#[cfg(feature = "burn")]
pub use mechanism::{Mlp, MlpConfig, NeuralMean, TensorMechanism};
pub use noise::{
    Bernoulli, Categorical, Gaussian, Heteroscedastic, Laplace, Likelihood, Mixture,
    NegativeBinomial, Noise, Poisson, StudentT, COMPONENTS,
};
pub use query::{Effect, LevelEffect};
pub use scaling::Scaling;
pub use spec::{Activation, MechanismSpec};
pub use support::SUPPORT_ROWS;

use noise::ResidualTable;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use crate::data::{DataError, Dataset};
use crate::graph::{CausalGraph, GraphError};

/// Errors building or querying a structural causal model.
#[derive(Debug, thiserror::Error)]
pub enum ScmError {
    /// A graph error (unknown variable, cycle, ..).
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A data error (missing column, ..).
    #[error(transparent)]
    Data(#[from] DataError),
    /// A mechanism reads another number of parents than the graph gives.
    #[error("the mechanism for `{variable}` ({kind}) takes {arity} parents but `{variable}` has {parents} in the graph ({})", .parent_names.join(", "))]
    Arity {
        /// The variable.
        variable: String,
        /// The mechanism's description.
        kind: String,
        /// Parents the mechanism reads.
        arity: usize,
        /// Parents in the graph.
        parents: usize,
        /// Their names.
        parent_names: Vec<String>,
    },
    /// A root variable given a mechanism other than a learned mean.
    #[error("`{variable}` has no parents, so its mechanism is its mean (one learned parameter, the default); it was given {kind}")]
    RootMechanism {
        /// The variable.
        variable: String,
        /// The mechanism's description.
        kind: String,
    },
    /// Parameters of the wrong length.
    #[error("expected {expected} parameters, got {found}")]
    ParamCount {
        /// The mechanism's parameter count.
        expected: usize,
        /// The number given.
        found: usize,
    },
    /// An intervention value that is not finite.
    #[error("the intervention on `{variable}` sets it to {value}, which is not finite")]
    BadIntervention {
        /// The variable.
        variable: String,
        /// The value.
        value: f64,
    },
    /// A query on a model with no variables.
    #[error("the model has no variables")]
    Empty,
    /// Heads that do not read the same parents.
    #[error("the heads of a mechanism must each have one output and read the same parents; got {}", .described.join(", "))]
    Heads {
        /// The heads' descriptions.
        described: Vec<String>,
    },
    /// A noise family that does not fit the variable's kind.
    #[error("`{variable}` is {kind}, which {noise} noise does not model; {hint}")]
    NoiseKind {
        /// The variable.
        variable: String,
        /// Its kind's name.
        kind: String,
        /// The family's name.
        noise: String,
        /// What fits.
        hint: String,
    },
    /// A value the variable's kind does not take (in data, or in a `do`).
    #[error("`{variable}` is {kind}: {reason}")]
    BadValue {
        /// The variable.
        variable: String,
        /// Its kind's name.
        kind: String,
        /// What is wrong.
        reason: String,
    },
    /// A mechanism with another number of outputs than the noise reads.
    #[error("the mechanism for `{variable}` has {found} outputs but its noise reads {expected} (a categorical variable one logit per level after the first, heteroscedastic noise a mean and a log-scale); give a mechanism with one output, which is copied, or with {expected}")]
    Outputs {
        /// The variable.
        variable: String,
        /// The mechanism's outputs.
        found: usize,
        /// The noise's.
        expected: usize,
    },
    /// A diagnostic that needs the training rows, on a model that has none.
    #[error("the model keeps no sample of its training rows (it was not fitted by this version of causalgrad, or was fitted over contexts), so it cannot tell whether a query extrapolates; refit it")]
    NoSupport,
    /// An interval level that is not a fraction in (0, 1).
    #[error("the interval level {level} is not a fraction in (0, 1); use e.g. 0.95 for 95%")]
    BadLevel {
        /// The level given.
        level: f64,
    },
    /// A label a categorical variable does not have.
    #[error("`{variable}` has no level `{label}`; its levels are: {}", .levels.join(", "))]
    UnknownLevel {
        /// The variable.
        variable: String,
        /// The label asked for.
        label: String,
        /// The levels it has.
        levels: Vec<String>,
    },
}

/// How a variable's value is produced.
#[derive(Clone, Debug)]
pub enum Intervention {
    /// `do(x = value)`: the mechanism and the noise are replaced by a constant.
    Set(f64),
    /// The mechanism's mean is shifted by a constant (a soft intervention).
    Shift(f64),
    /// The mechanism is replaced (a soft intervention; the noise is kept).
    Replace(Mechanism),
}

/// One variable of the model.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub name: String,
    /// Positions of the parents in `Scm::nodes`.
    pub parents: Vec<usize>,
    pub mechanism: Mechanism,
    pub noise: Noise,
    pub intervention: Option<Intervention>,
    /// Its data units against the model's (see [`Scaling`]).
    pub scaling: Scaling,
    /// What values it takes.
    pub kind: VariableKind,
    /// Added to the mechanism's outputs (one per output; empty for none):
    /// a discrete variable's base rate on the link scale, set at its first
    /// fit, as [`Scaling`] centres a continuous one.
    pub base: Vec<f32>,
}

impl Node {
    /// Values from mechanism outputs `eta` (`outputs · n`, see
    /// [`Scm::node_mean`]) and standard normal noise `e` (`n`).
    pub(crate) fn realize(&self, mut eta: Vec<f32>, e: &[f32]) -> Vec<f32> {
        if let Noise::Gaussian { .. } = self.noise {
            let scale = self.noise.scale().unwrap_or(1.0) as f32;
            for (value, e) in eta.iter_mut().zip(e) {
                *value += scale * e;
            }
            return eta;
        }
        if let Noise::Mixture(mixture) = &self.noise {
            // One output per row: `eta` is the column of locations.
            if e.len() >= ResidualTable::WORTHWHILE_ROWS {
                if let Some(table) = ResidualTable::of(mixture) {
                    for (value, e) in eta.iter_mut().zip(e) {
                        *value = (f64::from(*value) + table.residual(f64::from(*e))) as f32;
                    }
                    return eta;
                }
            }
        }
        self.map_rows(&eta, e.len(), |r, row| {
            self.noise.sample(row, f64::from(e[r])) as f32
        })
    }

    /// `f(r, η_r)` for each row `r` of `n`, where `η_r` is row `r`'s
    /// mechanism outputs from `eta` (`outputs · n`, output `h` at `h · n ..`)
    /// as `f64`.
    pub(crate) fn map_rows<T>(
        &self,
        eta: &[f32],
        n: usize,
        mut f: impl FnMut(usize, &[f64]) -> T,
    ) -> Vec<T> {
        let mut row = vec![0.0f64; self.mechanism.outputs()];
        (0..n)
            .map(|r| {
                for (h, v) in row.iter_mut().enumerate() {
                    *v = f64::from(eta[h * n + r]);
                }
                f(r, &row)
            })
            .collect()
    }

    /// A column of this variable's values in model units, in data units; a
    /// variable under `do(x = v)` gives `v` exactly.
    pub(crate) fn column_to_data(&self, column: &[f32]) -> Vec<f64> {
        match self.intervention {
            Some(Intervention::Set(value)) => vec![value; column.len()],
            _ => self.scaling.column_to_data(column),
        }
    }
}

/// A structural causal model. Cheap to clone (mechanism code is shared).
#[derive(Clone, Debug)]
pub struct Scm {
    graph: CausalGraph,
    /// In topological order.
    nodes: Vec<Node>,
    /// Other fits of the same model (see [`Scm::fit_members`]).
    members: Vec<members::Member>,
    /// Rows of the data it was fitted to (see [`Scm::remember_support`]).
    support: Option<std::sync::Arc<support::Support>>,
}

impl Scm {
    /// The causal graph.
    pub fn graph(&self) -> &CausalGraph {
        &self.graph
    }

    /// Variable names in topological order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|node| node.name.as_str())
    }

    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub(crate) fn nodes_mut(&mut self) -> &mut [Node] {
        &mut self.nodes
    }

    pub(crate) fn node_index(&self, name: &str) -> Result<usize, ScmError> {
        self.nodes
            .iter()
            .position(|node| node.name == name)
            .ok_or_else(|| self.graph.unknown(name).into())
    }

    /// The mechanism of `variable`.
    pub fn mechanism(&self, variable: &str) -> Result<&Mechanism, ScmError> {
        Ok(&self.nodes[self.node_index(variable)?].mechanism)
    }

    /// The parameters of `variable`'s mechanism. A linear mechanism's
    /// (and a root's mean) are in the data's units, `[b, w_1, .., w_k]` of
    /// `b + Σ w_i x_i` (for a binary variable, of its logit; for a count,
    /// of its log mean); the other kinds' act on standardised values when
    /// the variable is standardised (see [`Scm::scaling`]), and on the
    /// link scale less the variable's base rate for a discrete one.
    pub fn params(&self, variable: &str) -> Result<Vec<f32>, ScmError> {
        let index = self.node_index(variable)?;
        let node = &self.nodes[index];
        let params = node.mechanism.params();
        let mut values = match self.linear_scalings(index) {
            Some((own, parents)) => scaling::linear_to_data(params, own, &parents),
            None => params.to_vec(),
        };
        if let (true, Some(base)) = (self.is_plain_linear(index), node.base.first()) {
            values[0] += base;
        }
        Ok(values)
    }

    /// Whether the variable at `index` has a linear mechanism with one
    /// output over its parents as they are (no indicator columns).
    fn is_plain_linear(&self, index: usize) -> bool {
        let node = &self.nodes[index];
        matches!(node.mechanism.spec(), Some(MechanismSpec::Linear { arity }) if arity == node.parents.len())
            && node.mechanism.outputs() == 1
    }

    /// Replaces the parameters of `variable`'s mechanism, in the units
    /// [`Scm::params`] gives them in.
    pub fn set_params(&mut self, variable: &str, values: &[f32]) -> Result<(), ScmError> {
        let index = self.node_index(variable)?;
        let mut values = match self.linear_scalings(index) {
            Some((own, parents)) if values.len() == parents.len() + 1 => {
                scaling::linear_to_model(values, own, &parents)
            }
            _ => values.to_vec(),
        };
        let base = self.nodes[index].base.first().copied();
        if let (true, Some(base), Some(b)) = (self.is_plain_linear(index), base, values.first_mut())
        {
            *b -= base;
        }
        self.nodes[index].mechanism.set_params(&values)
    }

    /// The scalings of a standardised linear variable and its parents.
    fn linear_scalings(&self, index: usize) -> Option<(Scaling, Vec<Scaling>)> {
        let node = &self.nodes[index];
        let linear = self.is_plain_linear(index);
        let parents: Vec<Scaling> = node
            .parents
            .iter()
            .map(|&p| self.nodes[p].scaling)
            .collect();
        let scaled = !node.scaling.is_identity() || parents.iter().any(|s| !s.is_identity());
        (linear && scaled).then_some((node.scaling, parents))
    }

    /// How `variable`'s values are standardised inside the model
    /// ([`Scaling::IDENTITY`] when they are not).
    pub fn scaling(&self, variable: &str) -> Result<Scaling, ScmError> {
        Ok(self.nodes[self.node_index(variable)?].scaling)
    }

    /// Whether a fit (or a model file) has set scalings.
    pub(crate) fn is_scaled(&self) -> bool {
        self.nodes.iter().any(|node| !node.scaling.is_identity())
    }

    /// Which variables a fit standardises, in topological order: the
    /// continuous ones whose own and children's mechanisms are built in
    /// (see [`Scaling`]).
    pub(crate) fn standardizable(&self) -> Vec<bool> {
        let built_in: Vec<bool> = self
            .nodes
            .iter()
            .map(|node| node.mechanism.reads_standardized_units())
            .collect();
        let continuous = |j: usize| self.nodes[j].kind.is_continuous();
        (0..self.nodes.len())
            .map(|j| {
                built_in[j]
                    && continuous(j)
                    && self
                        .nodes
                        .iter()
                        .enumerate()
                        .all(|(c, child)| !child.parents.contains(&j) || built_in[c])
            })
            .collect()
    }

    /// `Σ ln scale` over the variables (topological positions) `with_term`
    /// picks that are not under hard `do`: what a mean negative
    /// log-likelihood per row in model units lacks to be in the data's.
    pub(crate) fn log_scale_units(&self, with_term: impl Fn(usize) -> bool) -> f64 {
        self.nodes
            .iter()
            .enumerate()
            .filter(|&(j, node)| {
                with_term(j) && !matches!(node.intervention, Some(Intervention::Set(_)))
            })
            .map(|(_, node)| node.scaling.scale.ln())
            .sum()
    }

    /// Sets every variable's scaling, in topological order.
    pub(crate) fn set_scalings(&mut self, scalings: &[Scaling]) {
        for (node, scaling) in self.nodes.iter_mut().zip(scalings) {
            node.scaling = *scaling;
        }
    }

    /// The noise model of `variable`, its scale in the data's units.
    pub fn noise(&self, variable: &str) -> Result<Noise, ScmError> {
        let node = &self.nodes[self.node_index(variable)?];
        Ok(node.noise.rescaled(node.scaling.scale))
    }

    /// Sets the noise model of `variable` (its scale in the data's units):
    /// a family its kind takes, reading as many outputs as its mechanism
    /// has (else [`ScmError::NoiseKind`] or [`ScmError::Outputs`]).
    pub fn set_noise(&mut self, variable: &str, noise: Noise) -> Result<(), ScmError> {
        let index = self.node_index(variable)?;
        let node = &mut self.nodes[index];
        if !node.kind.allows(&noise) {
            return Err(ScmError::NoiseKind {
                variable: variable.to_string(),
                kind: node.kind.name().into(),
                noise: noise.name().into(),
                hint: format!(
                    "use {} noise or declare another kind",
                    node.kind.default_noise().name()
                ),
            });
        }
        if noise.outputs() != node.mechanism.outputs() {
            return Err(ScmError::Outputs {
                variable: variable.to_string(),
                found: node.mechanism.outputs(),
                expected: noise.outputs(),
            });
        }
        node.noise = noise.rescaled(1.0 / node.scaling.scale);
        Ok(())
    }

    /// Sets `variable`'s mechanism and noise parameters in the model's own
    /// units (as a fit leaves them).
    pub(crate) fn set_model_values(
        &mut self,
        variable: &str,
        params: &[f32],
        noise: &[f32],
    ) -> Result<(), ScmError> {
        let index = self.node_index(variable)?;
        let node = &mut self.nodes[index];
        if noise.len() != node.noise.params().len() {
            return Err(ScmError::ParamCount {
                expected: node.noise.params().len(),
                found: noise.len(),
            });
        }
        node.mechanism.set_params(params)?;
        node.noise = node.noise.with_params(noise);
        Ok(())
    }

    /// The noise scale of every continuous variable in the data's units
    /// (see [`Noise::scale`]), in topological order; discrete variables
    /// are left out.
    pub fn noise_scales(&self) -> Vec<(String, f64)> {
        self.nodes
            .iter()
            .filter_map(|node| {
                let scale = node.noise.scale()?;
                Some((node.name.clone(), scale * node.scaling.scale))
            })
            .collect()
    }

    /// A copy of the model under hard interventions `do(x = value)`.
    pub fn intervene(&self, interventions: &[(&str, f64)]) -> Result<Scm, ScmError> {
        let mut model = self.clone();
        for &(variable, value) in interventions {
            if !value.is_finite() {
                return Err(ScmError::BadIntervention {
                    variable: variable.to_string(),
                    value,
                });
            }
            let index = model.node_index(variable)?;
            model.check_value(index, value)?;
            model.nodes[index].intervention = Some(Intervention::Set(value));
        }
        Ok(model)
    }

    /// A copy of the model with `intervention` applied to `variable`
    /// (hard `do`, a shifted mean, or a replaced mechanism).
    pub fn intervene_with(
        &self,
        variable: &str,
        intervention: Intervention,
    ) -> Result<Scm, ScmError> {
        let mut model = self.clone();
        let index = model.node_index(variable)?;
        if let Intervention::Replace(mechanism) = &intervention {
            let parents = model.nodes[index].parents.len();
            if mechanism.arity() != parents {
                return Err(ScmError::Arity {
                    variable: variable.to_string(),
                    kind: mechanism.describe(),
                    arity: mechanism.arity(),
                    parents,
                    parent_names: model.nodes[index]
                        .parents
                        .iter()
                        .map(|&p| model.nodes[p].name.clone())
                        .collect(),
                });
            }
        }
        if let Intervention::Set(value) | Intervention::Shift(value) = intervention {
            if !value.is_finite() {
                return Err(ScmError::BadIntervention {
                    variable: variable.to_string(),
                    value,
                });
            }
        }
        match &intervention {
            Intervention::Set(value) => model.check_value(index, *value)?,
            Intervention::Shift(_) if model.nodes[index].noise.is_discrete() => {
                return Err(ScmError::BadValue {
                    variable: variable.to_string(),
                    kind: model.nodes[index].kind.name().into(),
                    reason: "a shifted mean is for continuous variables; set it with `do` or replace its mechanism".into(),
                })
            }
            _ => {}
        }
        model.nodes[index].intervention = Some(intervention);
        Ok(model)
    }

    /// The mechanism outputs of `node` for the rows of `columns` (all
    /// variables, f32): `out` holds `outputs · n` values, output `h` at
    /// `h · n ..`; its base is added. A variable under `do` gives its value.
    pub(crate) fn node_mean(&self, index: usize, columns: &[Vec<f32>], out: &mut [f32]) {
        self.mechanism_outputs(index, columns, out);
        let node = &self.nodes[index];
        if node.base.is_empty() || matches!(node.intervention, Some(Intervention::Set(_))) {
            return;
        }
        let n = out.len() / node.base.len();
        for (chunk, base) in out.chunks_mut(n.max(1)).zip(&node.base) {
            chunk.iter_mut().for_each(|v| *v += base);
        }
    }

    /// [`Scm::node_mean`] for `n` rows, in a new buffer.
    pub(crate) fn outputs_of(&self, index: usize, columns: &[Vec<f32>], n: usize) -> Vec<f32> {
        let mut eta = vec![0.0f32; n * self.nodes[index].mechanism.outputs()];
        self.node_mean(index, columns, &mut eta);
        eta
    }

    /// [`Scm::node_mean`] without the base.
    fn mechanism_outputs(&self, index: usize, columns: &[Vec<f32>], out: &mut [f32]) {
        let node = &self.nodes[index];
        let parents: Vec<&[f32]> = node
            .parents
            .iter()
            .map(|&p| columns[p].as_slice())
            .collect();
        match &node.intervention {
            Some(Intervention::Set(value)) => {
                let n = out.len() / node.mechanism.outputs();
                out[..n].fill(node.scaling.to_model(*value) as f32);
            }
            Some(Intervention::Replace(mechanism)) => mechanism.forward(&parents, out),
            Some(Intervention::Shift(delta)) => {
                node.mechanism.forward(&parents, out);
                let delta = node.scaling.shift_to_model(*delta);
                out.iter_mut().for_each(|v| *v += delta);
            }
            None => node.mechanism.forward(&parents, out),
        }
    }

    /// Draws `n` samples (reproducible from `seed`), one column per variable.
    pub fn sample(&self, n: usize, seed: u64) -> Result<Dataset, ScmError> {
        if self.nodes.is_empty() {
            return Err(ScmError::Empty);
        }
        let noise = self.standard_noise(n, seed);
        let columns = self.propagate(&noise);
        Ok(self.to_dataset(columns)?)
    }

    /// Standard normal noise, one column per variable, from `seed`.
    pub(crate) fn standard_noise(&self, n: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        self.nodes
            .iter()
            .map(|_| {
                (0..n)
                    .map(|_| {
                        let e: f64 = StandardNormal.sample(&mut rng);
                        e as f32
                    })
                    .collect()
            })
            .collect()
    }

    /// Every variable's values from standard noise, in topological order.
    pub(crate) fn propagate(&self, noise: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let mut columns: Vec<Vec<f32>> = Vec::with_capacity(self.nodes.len());
        for (index, e) in noise.iter().enumerate() {
            let values = self.node_values(index, &columns, e);
            columns.push(values);
        }
        columns
    }

    /// The values of the variable at `index` (model units) for standard
    /// normal noise `e`, given the earlier variables' `columns`.
    pub(crate) fn node_values(&self, index: usize, columns: &[Vec<f32>], e: &[f32]) -> Vec<f32> {
        let node = &self.nodes[index];
        let n = e.len();
        let mut eta = self.outputs_of(index, columns, n);
        if matches!(node.intervention, Some(Intervention::Set(_))) {
            eta.truncate(n);
            return eta;
        }
        node.realize(eta, e)
    }

    pub(crate) fn to_dataset(&self, columns: Vec<Vec<f32>>) -> Result<Dataset, DataError> {
        let data = self.to_numbers(columns)?;
        self.with_labels(data)
    }

    /// The columns in the data's units, without labels (means, not codes).
    fn to_numbers(&self, columns: Vec<Vec<f32>>) -> Result<Dataset, DataError> {
        Dataset::from_columns(
            self.nodes
                .iter()
                .zip(columns)
                .map(|(node, column)| (node.name.clone(), node.column_to_data(&column))),
        )
    }

    /// `data` with the model's labels on its categorical variables'
    /// columns (of level codes).
    pub(crate) fn with_labels(&self, mut data: Dataset) -> Result<Dataset, DataError> {
        for node in &self.nodes {
            if let (Some(levels), Ok(None)) = (node.kind.levels(), data.labels(&node.name)) {
                data = data.with_labels(&node.name, levels.to_vec())?;
            }
        }
        Ok(data)
    }

    /// The model's columns of `data` in model units, as f32, in
    /// topological order. A categorical column with labels is read by its
    /// labels, coded in the model's level order (a label the model does
    /// not have is [`ScmError::UnknownLevel`]); one without labels holds
    /// the model's codes.
    pub(crate) fn columns_of(&self, data: &Dataset) -> Result<Vec<Vec<f32>>, ScmError> {
        self.nodes
            .iter()
            .map(|node| {
                let column = data.column(&node.name)?;
                match (node.kind.levels(), data.labels(&node.name)?) {
                    (Some(levels), Some(labels)) if labels != levels => {
                        let codes: Vec<Option<usize>> = labels
                            .iter()
                            .map(|label| levels.iter().position(|l| l == label))
                            .collect();
                        column
                            .iter()
                            .map(|&code| {
                                codes[code as usize].map(|c| c as f32).ok_or_else(|| {
                                    ScmError::UnknownLevel {
                                        variable: node.name.clone(),
                                        label: labels[code as usize].clone(),
                                        levels: levels.to_vec(),
                                    }
                                })
                            })
                            .collect()
                    }
                    _ => Ok(node.scaling.column_to_model(column)),
                }
            })
            .collect()
    }

    /// Each variable's conditional mean given its observed parents in
    /// `data` (one column per variable; roots get their learned mean; a
    /// binary variable its probability of 1, a categorical one its mean
    /// level code).
    pub fn conditional_means(&self, data: &Dataset) -> Result<Dataset, ScmError> {
        let columns = self.columns_of(data)?;
        let n = data.n_rows();
        let means = (0..self.nodes.len())
            .map(|index| {
                let node = &self.nodes[index];
                let mut eta = self.outputs_of(index, &columns, n);
                if let (Noise::Gaussian { .. }, _) | (_, Some(Intervention::Set(_))) =
                    (node.noise, &node.intervention)
                {
                    eta.truncate(n);
                    return eta;
                }
                node.map_rows(&eta, n, |_, row| node.noise.expectation(row) as f32)
            })
            .collect();
        Ok(self.to_numbers(means)?)
    }

    /// The mean log-likelihood per row of `data` (every variable not under
    /// a hard intervention contributes its log-density, or log-probability
    /// for a discrete one, in the data's units).
    pub fn log_likelihood(&self, data: &Dataset) -> Result<f64, ScmError> {
        Ok(self.log_likelihoods(data)?.iter().sum())
    }

    /// Each variable's mean log-likelihood per row of `data`, in the
    /// model's variable order ([`Scm::variables`]): its log-density given
    /// its parents' observed values (log-probability for a discrete one),
    /// in the data's units; 0 for a variable under a hard intervention.
    /// They sum to [`Scm::log_likelihood`].
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::Scm;
    ///
    /// let graph = CausalGraph::new(["a", "b"], [("a", "b")])?;
    /// let scm = Scm::builder(graph).build()?;
    /// let data = scm.sample(1000, 0)?;
    /// let each = scm.log_likelihoods(&data)?;
    /// assert_eq!(each.len(), 2);
    /// assert!((each.iter().sum::<f64>() - scm.log_likelihood(&data)?).abs() < 1e-12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn log_likelihoods(&self, data: &Dataset) -> Result<Vec<f64>, ScmError> {
        self.check_data(data)?;
        let columns = self.columns_of(data)?;
        let n = data.n_rows();
        let mut each = Vec::with_capacity(self.nodes.len());
        for (index, node) in self.nodes.iter().enumerate() {
            if matches!(node.intervention, Some(Intervention::Set(_))) {
                each.push(0.0);
                continue;
            }
            let eta = self.outputs_of(index, &columns, n);
            let noise = node.noise;
            let (mut d_eta, mut d_params) = (
                vec![0.0; node.mechanism.outputs()],
                vec![0.0; noise.params().len()],
            );
            let row_loss = noise.row_loss();
            let sum: f64 = node
                .map_rows(&eta, n, |r, row| {
                    row_loss(row, f64::from(columns[index][r]), &mut d_eta, &mut d_params)
                })
                .iter()
                .sum();
            // The density of the data's units: the model's over the scale.
            each.push(-(sum / n.max(1) as f64 + node.scaling.scale.ln()));
        }
        Ok(each)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Scm {
        let graph = CausalGraph::new(["a", "b", "c"], [("a", "b"), ("b", "c")]).unwrap();
        let mut scm = Scm::builder(graph).build().unwrap();
        scm.set_params("a", &[1.0]).unwrap();
        scm.set_params("b", &[0.5, 2.0]).unwrap();
        scm.set_params("c", &[0.0, -1.0]).unwrap();
        scm
    }

    #[test]
    fn sampling_is_reproducible_and_follows_the_mechanisms() {
        let scm = chain();
        let first = scm.sample(2000, 3).unwrap();
        assert_eq!(first, scm.sample(2000, 3).unwrap());
        let mean = |c: &[f64]| c.iter().sum::<f64>() / c.len() as f64;
        assert!((mean(first.column("a").unwrap()) - 1.0).abs() < 0.1);
        assert!((mean(first.column("b").unwrap()) - 2.5).abs() < 0.15);
        assert!((mean(first.column("c").unwrap()) + 2.5).abs() < 0.2);
    }

    #[test]
    fn arity_and_unknown_variables_are_errors() {
        let graph = CausalGraph::new(["a", "b"], [("a", "b")]).unwrap();
        let err = Scm::builder(graph.clone())
            .mechanism("b", Mechanism::linear(2))
            .build()
            .unwrap_err();
        assert!(
            err.to_string().contains("takes 2 parents but `b` has 1"),
            "{err}"
        );
        let err = Scm::builder(graph)
            .mechanism("z", Mechanism::linear(0))
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("unknown variable `z`"), "{err}");
        assert!(chain().intervene(&[("b", f64::NAN)]).is_err());
    }

    #[test]
    fn likelihood_of_a_hard_intervention_skips_the_variable() {
        let scm = chain();
        let data = scm.sample(500, 1).unwrap();
        let full = scm.log_likelihood(&data).unwrap();
        let without_a = scm
            .intervene(&[("a", 0.0)])
            .unwrap()
            .log_likelihood(&data)
            .unwrap();
        assert!(without_a > full);
    }
}
