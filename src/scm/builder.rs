//! Building a model: a mechanism, a kind and a noise model per variable,
//! checked against the graph.

use std::collections::HashMap;

use super::{Mechanism, Node, Noise, Scaling, Scm, ScmError, VariableKind};
use crate::graph::CausalGraph;

impl Scm {
    /// Starts building a model on `graph`.
    pub fn builder(graph: CausalGraph) -> ScmBuilder {
        ScmBuilder {
            graph,
            mechanisms: Vec::new(),
            noises: Vec::new(),
            kinds: Vec::new(),
            default_noise: Noise::mixture(),
        }
    }
}

/// Builds an [`Scm`]: a mechanism, a kind and a noise model per variable.
pub struct ScmBuilder {
    graph: CausalGraph,
    mechanisms: Vec<(String, Mechanism)>,
    noises: Vec<(String, Noise)>,
    kinds: Vec<(String, VariableKind)>,
    default_noise: Noise,
}

impl ScmBuilder {
    /// Uses `mechanism` for `variable` (default: [`Mechanism::linear`]).
    ///
    /// A mechanism reads one column per parent, except a categorical
    /// parent with `L` levels, which it reads as `L − 1` indicator columns
    /// ([`VariableKind::input_width`]). A categorical variable with `L`
    /// levels takes `L − 1` outputs ([`Mechanism::heads`]); given a
    /// mechanism with one output, it gets `L − 1` copies of it.
    pub fn mechanism(mut self, variable: &str, mechanism: Mechanism) -> Self {
        self.mechanisms.push((variable.to_string(), mechanism));
        self
    }

    /// Uses `noise` for `variable` (default: its kind's,
    /// [`VariableKind::default_noise`]).
    pub fn noise(mut self, variable: &str, noise: Noise) -> Self {
        self.noises.push((variable.to_string(), noise));
        self
    }

    /// The noise of every continuous variable without its own (default:
    /// [`VariableKind::default_noise`], the mixture).
    pub fn noise_default(mut self, noise: Noise) -> Self {
        self.default_noise = noise;
        self
    }

    /// Declares what values `variable` takes (default: continuous).
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::{Noise, Scm, VariableKind};
    ///
    /// let graph = CausalGraph::new(["t", "y"], [("t", "y")])?;
    /// let scm = Scm::builder(graph).kind("t", VariableKind::Binary).build()?;
    /// assert_eq!(scm.noise("t")?, Noise::Bernoulli);
    /// # Ok::<(), causalgrad::Error>(())
    /// ```
    pub fn kind(mut self, variable: &str, kind: VariableKind) -> Self {
        self.kinds.push((variable.to_string(), kind));
        self
    }

    /// Checks the mechanisms, kinds and noise models against the graph and
    /// builds the model.
    pub fn build(self) -> Result<Scm, ScmError> {
        let mechanisms = by_variable(&self.graph, self.mechanisms)?;
        let mut noises = by_variable(&self.graph, self.noises)?;
        let mut kinds = by_variable(&self.graph, self.kinds)?;
        let mut mechanisms = mechanisms;
        let order = self.graph.topological_order().to_vec();
        let position: HashMap<&str, usize> = order
            .iter()
            .enumerate()
            .map(|(i, name)| (name.as_str(), i))
            .collect();
        let mut nodes: Vec<Node> = Vec::with_capacity(order.len());
        for name in &order {
            let kind = kinds.remove(name).unwrap_or(VariableKind::Continuous);
            if let VariableKind::Categorical { levels } = &kind {
                if levels.len() < 2 || has_repeats(levels) {
                    return Err(ScmError::BadValue {
                        variable: name.clone(),
                        kind: kind.name().into(),
                        reason: format!(
                            "a categorical variable needs at least two distinct levels; got {}",
                            levels.join(", ")
                        ),
                    });
                }
            }
            let noise = noises.remove(name).unwrap_or(match kind {
                VariableKind::Continuous => self.default_noise,
                ref other => other.default_noise(),
            });
            if !kind.allows(&noise) {
                return Err(ScmError::NoiseKind {
                    variable: name.clone(),
                    kind: kind.name().into(),
                    noise: noise.name().into(),
                    hint: format!(
                        "use {} noise or declare another kind",
                        kind.default_noise().name()
                    ),
                });
            }
            let parent_names = self.graph.parents(name)?;
            let parents: Vec<usize> = parent_names.iter().map(|p| position[p]).collect();
            let widths: Vec<usize> = parents
                .iter()
                .map(|&p| nodes[p].kind.input_width())
                .collect();
            let width: usize = widths.iter().sum();
            let mechanism = mechanisms
                .remove(name)
                .unwrap_or_else(|| Mechanism::linear(width));
            if mechanism.arity() != width {
                return Err(ScmError::Arity {
                    variable: name.clone(),
                    kind: mechanism.describe(),
                    arity: mechanism.arity(),
                    parents: width,
                    parent_names: parents
                        .iter()
                        .map(|&p| match nodes[p].kind.levels() {
                            Some(levels) => format!(
                                "{} ({} levels: {} indicator columns)",
                                nodes[p].name,
                                levels.len(),
                                levels.len() - 1
                            ),
                            None => nodes[p].name.clone(),
                        })
                        .collect(),
                });
            }
            let mechanism = with_outputs(name, mechanism, noise.outputs())?;
            if parents.is_empty() && mechanism.params().len() != mechanism.outputs() {
                return Err(ScmError::RootMechanism {
                    variable: name.clone(),
                    kind: mechanism.describe(),
                });
            }
            let levels = parents
                .iter()
                .map(|&p| nodes[p].kind.levels().map_or(0, <[String]>::len))
                .collect();
            nodes.push(Node {
                name: name.clone(),
                parents,
                mechanism: mechanism.with_one_hot(levels),
                noise,
                intervention: None,
                scaling: Scaling::IDENTITY,
                kind,
                base: Vec::new(),
            });
        }
        Ok(Scm {
            graph: self.graph,
            nodes,
            members: Vec::new(),
            support: None,
        })
    }
}

/// The entries keyed by variable (the last for a repeated one), or the
/// error for the first that is not in `graph`.
fn by_variable<T>(
    graph: &CausalGraph,
    entries: Vec<(String, T)>,
) -> Result<HashMap<String, T>, ScmError> {
    let mut map = HashMap::new();
    for (name, value) in entries {
        if !graph.contains(&name) {
            return Err(graph.unknown(&name).into());
        }
        map.insert(name, value);
    }
    Ok(map)
}

fn has_repeats(levels: &[String]) -> bool {
    let mut sorted: Vec<&String> = levels.iter().collect();
    sorted.sort();
    sorted.windows(2).any(|w| w[0] == w[1])
}

/// `mechanism` with `outputs` outputs: as it is when it has them, else
/// (one output given for several) that many copies of it.
fn with_outputs(
    variable: &str,
    mechanism: Mechanism,
    outputs: usize,
) -> Result<Mechanism, ScmError> {
    match mechanism.outputs() {
        n if n == outputs => Ok(mechanism),
        1 => Mechanism::heads(vec![mechanism; outputs]),
        n => Err(ScmError::Outputs {
            variable: variable.to_string(),
            found: n,
            expected: outputs,
        }),
    }
}
