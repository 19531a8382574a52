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
#[cfg(feature = "burn")]
pub(crate) mod file;
mod mechanism;
mod query;
mod scaling;
mod spec;

#[cfg(feature = "burn")]
pub use activation_ops::{
    fast_activation, fast_gelu, fast_relu, fast_sigmoid, fast_silu, fast_tanh, fused_mlp,
    FastActivationBackwardOps, FastActivationOps, FusedMlpBackwardOps, FusedMlpGrads, FusedMlpOps,
};
#[cfg(feature = "burn")]
pub use file::{ModelFileError, FORMAT_VERSION};
#[cfg(feature = "burn")]
pub(crate) use mechanism::neural;
pub use mechanism::{Mechanism, MechanismKernel, DEFAULT_HIDDEN};
#[cfg(feature = "burn")]
pub use mechanism::{Mlp, MlpConfig, NeuralMean, TensorMechanism};
pub use query::Effect;
pub use scaling::Scaling;
pub use spec::{Activation, MechanismSpec};

use std::collections::HashMap;

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

/// The noise model of a variable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Noise {
    /// Additive Gaussian noise with a learned log-scale.
    Gaussian {
        /// `ln sigma`.
        log_scale: f32,
    },
}

impl Noise {
    /// Gaussian noise starting at scale 1 (learned during fitting).
    pub fn gaussian() -> Self {
        Noise::Gaussian { log_scale: 0.0 }
    }

    /// The standard deviation.
    pub fn scale(&self) -> f64 {
        match self {
            Noise::Gaussian { log_scale } => f64::from(*log_scale).exp(),
        }
    }

    /// The same noise in units `factor` times larger.
    pub(crate) fn rescaled(self, factor: f64) -> Self {
        match self {
            Noise::Gaussian { log_scale } => Noise::Gaussian {
                log_scale: (f64::from(log_scale) + factor.ln()) as f32,
            },
        }
    }
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
}

impl Node {
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
}

/// Builds an [`Scm`]: a mechanism and a noise model per variable.
pub struct ScmBuilder {
    graph: CausalGraph,
    mechanisms: Vec<(String, Mechanism)>,
    noises: Vec<(String, Noise)>,
    default_noise: Noise,
}

impl ScmBuilder {
    /// Uses `mechanism` for `variable` (default: [`Mechanism::linear`]).
    pub fn mechanism(mut self, variable: &str, mechanism: Mechanism) -> Self {
        self.mechanisms.push((variable.to_string(), mechanism));
        self
    }

    /// Uses `noise` for `variable`.
    pub fn noise(mut self, variable: &str, noise: Noise) -> Self {
        self.noises.push((variable.to_string(), noise));
        self
    }

    /// The noise of every variable without its own.
    pub fn noise_default(mut self, noise: Noise) -> Self {
        self.default_noise = noise;
        self
    }

    /// Checks the mechanisms against the graph and builds the model.
    pub fn build(self) -> Result<Scm, ScmError> {
        let mut mechanisms: HashMap<String, Mechanism> = HashMap::new();
        for (name, mechanism) in self.mechanisms {
            if !self.graph.contains(&name) {
                return Err(self.graph.unknown(&name).into());
            }
            mechanisms.insert(name, mechanism);
        }
        let mut noises: HashMap<String, Noise> = HashMap::new();
        for (name, noise) in self.noises {
            if !self.graph.contains(&name) {
                return Err(self.graph.unknown(&name).into());
            }
            noises.insert(name, noise);
        }
        let order = self.graph.topological_order().to_vec();
        let position: HashMap<&str, usize> = order
            .iter()
            .enumerate()
            .map(|(i, name)| (name.as_str(), i))
            .collect();
        let mut nodes = Vec::with_capacity(order.len());
        for name in &order {
            let parent_names = self.graph.parents(name)?;
            let mechanism = mechanisms
                .remove(name)
                .unwrap_or_else(|| Mechanism::linear(parent_names.len()));
            if mechanism.arity() != parent_names.len() {
                return Err(ScmError::Arity {
                    variable: name.clone(),
                    kind: mechanism.describe(),
                    arity: mechanism.arity(),
                    parents: parent_names.len(),
                    parent_names: parent_names.iter().map(|p| p.to_string()).collect(),
                });
            }
            if parent_names.is_empty() && mechanism.params().len() != 1 {
                return Err(ScmError::RootMechanism {
                    variable: name.clone(),
                    kind: mechanism.describe(),
                });
            }
            nodes.push(Node {
                name: name.clone(),
                parents: parent_names.iter().map(|p| position[p]).collect(),
                mechanism,
                noise: noises.get(name).copied().unwrap_or(self.default_noise),
                intervention: None,
                scaling: Scaling::IDENTITY,
            });
        }
        Ok(Scm {
            graph: self.graph,
            nodes,
        })
    }
}

impl Scm {
    /// Starts building a model on `graph`.
    pub fn builder(graph: CausalGraph) -> ScmBuilder {
        ScmBuilder {
            graph,
            mechanisms: Vec::new(),
            noises: Vec::new(),
            default_noise: Noise::gaussian(),
        }
    }

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
    /// `b + Σ w_i x_i`; the other kinds' act on standardised values when
    /// the variable is standardised (see [`Scm::scaling`]).
    pub fn params(&self, variable: &str) -> Result<Vec<f32>, ScmError> {
        let index = self.node_index(variable)?;
        let params = self.nodes[index].mechanism.params();
        Ok(match self.linear_scalings(index) {
            Some((own, parents)) => scaling::linear_to_data(params, own, &parents),
            None => params.to_vec(),
        })
    }

    /// Replaces the parameters of `variable`'s mechanism, in the units
    /// [`Scm::params`] gives them in.
    pub fn set_params(&mut self, variable: &str, values: &[f32]) -> Result<(), ScmError> {
        let index = self.node_index(variable)?;
        let values = match self.linear_scalings(index) {
            Some((own, parents)) if values.len() == parents.len() + 1 => {
                scaling::linear_to_model(values, own, &parents)
            }
            _ => values.to_vec(),
        };
        self.nodes[index].mechanism.set_params(&values)
    }

    /// The scalings of a standardised linear variable and its parents.
    fn linear_scalings(&self, index: usize) -> Option<(Scaling, Vec<Scaling>)> {
        let node = &self.nodes[index];
        let linear = matches!(node.mechanism.spec(), Some(MechanismSpec::Linear { .. }));
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

    /// Which variables a fit standardises, in topological order: those
    /// whose own and children's mechanisms are built in (see
    /// [`Scaling`]).
    pub(crate) fn standardizable(&self) -> Vec<bool> {
        let built_in: Vec<bool> = self
            .nodes
            .iter()
            .map(|node| node.mechanism.reads_standardized_units())
            .collect();
        (0..self.nodes.len())
            .map(|j| {
                built_in[j]
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

    /// Sets the noise model of `variable` (its scale in the data's units).
    pub fn set_noise(&mut self, variable: &str, noise: Noise) -> Result<(), ScmError> {
        let index = self.node_index(variable)?;
        let node = &mut self.nodes[index];
        node.noise = noise.rescaled(1.0 / node.scaling.scale);
        Ok(())
    }

    /// The noise scale of every variable in the data's units, in
    /// topological order.
    pub fn noise_scales(&self) -> Vec<(String, f64)> {
        self.nodes
            .iter()
            .map(|node| (node.name.clone(), node.noise.scale() * node.scaling.scale))
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
        model.nodes[index].intervention = Some(intervention);
        Ok(model)
    }

    /// Means of `node` for the rows of `columns` (all variables, f32).
    pub(crate) fn node_mean(&self, index: usize, columns: &[Vec<f32>], out: &mut [f32]) {
        let node = &self.nodes[index];
        let parents: Vec<&[f32]> = node
            .parents
            .iter()
            .map(|&p| columns[p].as_slice())
            .collect();
        match &node.intervention {
            Some(Intervention::Set(value)) => out.fill(node.scaling.to_model(*value) as f32),
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
        let n = noise.first().map_or(0, Vec::len);
        let mut columns: Vec<Vec<f32>> = Vec::with_capacity(self.nodes.len());
        for (index, node) in self.nodes.iter().enumerate() {
            let mut values = vec![0.0f32; n];
            self.node_mean(index, &columns, &mut values);
            if !matches!(node.intervention, Some(Intervention::Set(_))) {
                let scale = node.noise.scale() as f32;
                for (value, e) in values.iter_mut().zip(&noise[index]) {
                    *value += scale * e;
                }
            }
            columns.push(values);
        }
        columns
    }

    pub(crate) fn to_dataset(&self, columns: Vec<Vec<f32>>) -> Result<Dataset, DataError> {
        Dataset::from_columns(
            self.nodes
                .iter()
                .zip(columns)
                .map(|(node, column)| (node.name.clone(), node.column_to_data(&column))),
        )
    }

    /// The model's columns of `data` in model units, as f32, in
    /// topological order.
    pub(crate) fn columns_of(&self, data: &Dataset) -> Result<Vec<Vec<f32>>, ScmError> {
        self.nodes
            .iter()
            .map(|node| Ok(node.scaling.column_to_model(data.column(&node.name)?)))
            .collect()
    }

    /// Each variable's conditional mean given its observed parents in
    /// `data` (one column per variable; roots get their learned mean).
    pub fn conditional_means(&self, data: &Dataset) -> Result<Dataset, ScmError> {
        let columns = self.columns_of(data)?;
        let n = data.n_rows();
        let means = (0..self.nodes.len())
            .map(|index| {
                let mut mean = vec![0.0f32; n];
                self.node_mean(index, &columns, &mut mean);
                mean
            })
            .collect();
        Ok(self.to_dataset(means)?)
    }

    /// The mean log-likelihood per row of `data` (every variable not under
    /// a hard intervention contributes its Gaussian log-density).
    pub fn log_likelihood(&self, data: &Dataset) -> Result<f64, ScmError> {
        let columns = self.columns_of(data)?;
        let n = data.n_rows();
        let mut total = 0.0f64;
        let mut mean = vec![0.0f32; n];
        for (index, node) in self.nodes.iter().enumerate() {
            if matches!(node.intervention, Some(Intervention::Set(_))) {
                continue;
            }
            self.node_mean(index, &columns, &mut mean);
            let Noise::Gaussian { log_scale } = node.noise;
            let inv = (-f64::from(log_scale)).exp();
            let sum: f64 = columns[index]
                .iter()
                .zip(&mean)
                .map(|(&x, &m)| {
                    let z = (f64::from(x) - f64::from(m)) * inv;
                    0.5 * z * z
                })
                .sum();
            // The density of the data's units: the model's over the scale.
            total -= sum / n as f64
                + f64::from(log_scale)
                + node.scaling.scale.ln()
                + 0.5 * (2.0 * std::f64::consts::PI).ln();
        }
        Ok(total)
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
