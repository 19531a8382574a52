//! The typed context graph and its builder.

use std::collections::{HashMap, HashSet};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use super::ContextError;
use crate::data::Dataset;

/// What a context does to one variable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ContextIntervention {
    /// A hard intervention `do(x = value)`: the variable contributes no
    /// likelihood term in this context, and its parameters get no gradient
    /// from this context's data.
    Do(f64),
    /// A known soft intervention: the mechanism's mean is shifted by a
    /// constant. The mechanism's parameters stay shared.
    Shift(f64),
    /// The mechanism changed in an unknown way: the context gets its own
    /// parameters for the variable (mechanism and noise scale), initialised
    /// from the shared ones.
    Changed,
}

/// How contexts of different sizes are weighted, and how mini-batch rows are
/// split between them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Weighting {
    /// Each context in proportion to its rows: the objective is the mean
    /// negative log-likelihood per row over all contexts' rows pooled.
    #[default]
    Proportional,
    /// Each context equally: the objective is the mean over contexts of each
    /// context's mean negative log-likelihood per row.
    Equal,
}

/// A data node: a data set observed in one context, with the interventions
/// active there.
#[derive(Clone, Debug)]
pub struct DataNode {
    /// The context's name.
    pub name: String,
    /// Its data.
    pub data: Dataset,
    /// The interventions active in it, one per variable.
    pub interventions: Vec<(String, ContextIntervention)>,
}

/// Whose parameters a parameter node holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamScope {
    /// The shared parameters: every variable's mechanism and noise scale,
    /// read by every context that has no parameters of its own for it.
    Shared,
    /// One context's own parameters.
    Context(String),
}

/// A parameter node: learnable values that mechanisms read.
#[derive(Clone, Debug)]
pub struct ParamNode {
    /// Whose they are.
    pub scope: ParamScope,
    /// The variables it holds parameters for (empty for the shared node,
    /// which holds all of them).
    pub variables: Vec<String>,
}

/// A time node: one step of an ordered index.
#[derive(Clone, Debug)]
pub struct TimeNode {
    /// The step's name.
    pub name: String,
}

/// A node of a [`ContextGraph`].
#[derive(Clone, Debug)]
pub enum ContextNode {
    /// A data set in one context.
    Data(DataNode),
    /// Learnable parameters.
    Params(ParamNode),
    /// A time step.
    Time(TimeNode),
}

/// An edge of a [`ContextGraph`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ContextEdge {
    /// data → parameters: this context reads these parameters.
    Uses,
    /// parameters ↔ parameters: a penalty `strength * ||θ_a − θ_b||²`
    /// pulls the two sets together.
    Tied {
        /// The penalty's weight.
        strength: f64,
    },
    /// time → time: the next step.
    Next,
    /// data → time: the data were observed at this step.
    ObservedAt,
}

/// A typed graph of contexts (data nodes), the parameters they read, and
/// time steps, checked when built.
///
/// Every context gets a parameter node of its own (holding the variables it
/// [`changed`](ContextIntervention::Changed); possibly none) and reads the
/// shared parameter node for the rest.
///
/// ```
/// use causalgrad::context::{Context, ContextGraph};
/// use causalgrad::data::Dataset;
///
/// let obs = Dataset::from_columns([("x", vec![0.1, 0.4]), ("y", vec![1.0, 1.3])])?;
/// let clamped = Dataset::from_columns([("x", vec![1.0, 1.0]), ("y", vec![2.1, 1.9])])?;
/// let graph = ContextGraph::builder()
///     .context(Context::new("baseline", obs))
///     .context(Context::new("x-clamped", clamped).set("x", 1.0))
///     .tie("baseline", "x-clamped", 10.0)
///     .build()?;
/// assert_eq!(graph.contexts().count(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ContextGraph {
    graph: DiGraph<ContextNode, ContextEdge>,
    shared: NodeIndex,
    /// Data nodes in declaration order.
    contexts: Vec<NodeIndex>,
    /// Each context's own parameter node, in the same order.
    own_params: Vec<NodeIndex>,
    weighting: Weighting,
}

impl ContextGraph {
    /// Starts building a context graph.
    pub fn builder() -> ContextGraphBuilder {
        ContextGraphBuilder::default()
    }

    /// The underlying petgraph graph.
    pub fn graph(&self) -> &DiGraph<ContextNode, ContextEdge> {
        &self.graph
    }

    /// The data nodes, in declaration order.
    pub fn contexts(&self) -> impl Iterator<Item = &DataNode> {
        self.contexts.iter().map(|&index| match &self.graph[index] {
            ContextNode::Data(data) => data,
            _ => unreachable!("context indices point at data nodes"),
        })
    }

    /// Every context's data, in declaration order, to rewrite in place
    /// (for instance to code a categorical column of every context in one
    /// level order, [`Dataset::with_levels`](crate::data::Dataset::with_levels)).
    pub fn datasets_mut(&mut self) -> Vec<&mut Dataset> {
        let contexts = &self.contexts;
        self.graph
            .node_indices()
            .zip(self.graph.node_weights_mut())
            .filter(|(index, _)| contexts.contains(index))
            .filter_map(|(_, node)| match node {
                ContextNode::Data(data) => Some(&mut data.data),
                _ => None,
            })
            .collect()
    }

    /// The context named `name`.
    pub fn context(&self, name: &str) -> Result<&DataNode, ContextError> {
        self.contexts()
            .find(|data| data.name == name)
            .ok_or_else(|| self.unknown(name))
    }

    pub(crate) fn unknown(&self, name: &str) -> ContextError {
        ContextError::UnknownContext {
            name: name.to_string(),
            known: self.contexts().map(|c| c.name.clone()).collect(),
        }
    }

    /// How contexts are weighted in the objective and the mini-batches.
    pub fn weighting(&self) -> Weighting {
        self.weighting
    }

    /// The ties, as pairs of context positions (declaration order) and strengths.
    pub fn ties(&self) -> Vec<(usize, usize, f64)> {
        let position: HashMap<NodeIndex, usize> = self
            .own_params
            .iter()
            .enumerate()
            .map(|(i, &node)| (node, i))
            .collect();
        self.graph
            .edge_references()
            .filter_map(|edge| match edge.weight() {
                ContextEdge::Tied { strength } => Some((
                    position[&edge.source()],
                    position[&edge.target()],
                    *strength,
                )),
                _ => None,
            })
            .collect()
    }

    /// The time step a context was observed at, if any.
    pub fn observed_at(&self, context: usize) -> Option<&str> {
        self.time_of(context).map(|node| self.time_name(node))
    }

    fn time_of(&self, context: usize) -> Option<NodeIndex> {
        self.graph
            .edges_directed(self.contexts[context], Direction::Outgoing)
            .find(|edge| *edge.weight() == ContextEdge::ObservedAt)
            .map(|edge| edge.target())
    }

    fn time_name(&self, node: NodeIndex) -> &str {
        match &self.graph[node] {
            ContextNode::Time(time) => &time.name,
            _ => unreachable!("observed-at edges point at time nodes"),
        }
    }

    /// The contexts observed `lag` steps before `context`'s step (following
    /// `next` edges backwards); `None` if the chain is shorter than `lag`.
    pub(crate) fn contexts_lagged(&self, context: usize, lag: usize) -> Option<Vec<usize>> {
        let mut step = self.time_of(context)?;
        for _ in 0..lag {
            step = self
                .graph
                .edges_directed(step, Direction::Incoming)
                .find(|edge| *edge.weight() == ContextEdge::Next)?
                .source();
        }
        Some(
            (0..self.contexts.len())
                .filter(|&c| self.time_of(c) == Some(step))
                .collect(),
        )
    }

    /// The shared parameter node.
    pub fn shared_params(&self) -> NodeIndex {
        self.shared
    }
}

/// One context for [`ContextGraphBuilder::context`]: a name, its data and
/// its interventions.
#[derive(Clone, Debug)]
pub struct Context {
    name: String,
    data: Dataset,
    interventions: Vec<(String, ContextIntervention)>,
    time: Option<String>,
}

impl Context {
    /// A context without interventions (observational data).
    pub fn new(name: impl Into<String>, data: Dataset) -> Self {
        Context {
            name: name.into(),
            data,
            interventions: Vec::new(),
            time: None,
        }
    }

    /// A hard intervention `do(variable = value)` is active in this context.
    pub fn set(self, variable: &str, value: f64) -> Self {
        self.intervention(variable, ContextIntervention::Do(value))
    }

    /// `variable`'s mean is shifted by `delta` in this context.
    pub fn shift(self, variable: &str, delta: f64) -> Self {
        self.intervention(variable, ContextIntervention::Shift(delta))
    }

    /// `variable`'s mechanism changed in an unknown way in this context.
    pub fn changed(self, variable: &str) -> Self {
        self.intervention(variable, ContextIntervention::Changed)
    }

    /// Any intervention on `variable`.
    pub fn intervention(mut self, variable: &str, intervention: ContextIntervention) -> Self {
        self.interventions
            .push((variable.to_string(), intervention));
        self
    }

    /// The data were observed at time step `step`.
    pub fn observed_at(mut self, step: &str) -> Self {
        self.time = Some(step.to_string());
        self
    }
}

/// Builds a [`ContextGraph`]; [`ContextGraphBuilder::build`] checks it.
#[derive(Clone, Debug, Default)]
pub struct ContextGraphBuilder {
    contexts: Vec<Context>,
    ties: Vec<(String, String, f64)>,
    steps: Vec<String>,
    next: Vec<(String, String)>,
    weighting: Weighting,
}

impl ContextGraphBuilder {
    /// Adds a context.
    pub fn context(mut self, context: Context) -> Self {
        self.contexts.push(context);
        self
    }

    /// Ties the parameters of two contexts with a penalty
    /// `strength * ||θ_a − θ_b||²` (summed over the variables where either
    /// has parameters of its own; the other reads the shared ones).
    pub fn tie(mut self, a: &str, b: &str, strength: f64) -> Self {
        self.ties.push((a.to_string(), b.to_string(), strength));
        self
    }

    /// Adds a time step.
    pub fn time_step(mut self, name: &str) -> Self {
        self.steps.push(name.to_string());
        self
    }

    /// Step `to` follows step `from`.
    pub fn next(mut self, from: &str, to: &str) -> Self {
        self.next.push((from.to_string(), to.to_string()));
        self
    }

    /// A panel observed over time: one time step `{name}@{t}` and one
    /// context `{name}@{t}` per element of `steps` (row `r` of every step
    /// is the same unit), chained by `next` edges.
    pub fn time_series(mut self, name: &str, steps: Vec<Dataset>) -> Self {
        let mut previous: Option<String> = None;
        for (t, data) in steps.into_iter().enumerate() {
            let step = format!("{name}@{t}");
            self = self
                .time_step(&step)
                .context(Context::new(step.clone(), data).observed_at(&step));
            if let Some(previous) = previous {
                self = self.next(&previous, &step);
            }
            previous = Some(step);
        }
        self
    }

    /// How contexts are weighted (default: [`Weighting::Proportional`]).
    pub fn weighting(mut self, weighting: Weighting) -> Self {
        self.weighting = weighting;
        self
    }

    /// Checks the contexts, ties and time steps and builds the graph.
    ///
    /// Errors: duplicate context or time-step names, a context with no rows,
    /// an intervention given twice or with a non-finite value, a tie naming
    /// an unknown context (or a context and itself, or with a negative or
    /// non-finite strength), unknown time steps, and time steps that branch
    /// or form a cycle. Variables are checked against the causal graph when
    /// fitting ([`ContextGraph::check_variables`]).
    pub fn build(self) -> Result<ContextGraph, ContextError> {
        let mut graph = DiGraph::new();
        let shared = graph.add_node(ContextNode::Params(ParamNode {
            scope: ParamScope::Shared,
            variables: Vec::new(),
        }));
        let mut steps: HashMap<String, NodeIndex> = HashMap::new();
        for name in &self.steps {
            if steps.contains_key(name) {
                return Err(ContextError::DuplicateTimeStep { name: name.clone() });
            }
            let node = graph.add_node(ContextNode::Time(TimeNode { name: name.clone() }));
            steps.insert(name.clone(), node);
        }
        let step = |name: &str, context: Option<&str>| {
            steps
                .get(name)
                .copied()
                .ok_or_else(|| ContextError::UnknownTimeStep {
                    name: name.to_string(),
                    context: context.map(str::to_string),
                })
        };
        for (from, to) in &self.next {
            let (a, b) = (step(from, None)?, step(to, None)?);
            for (node, direction, which) in [
                (a, Direction::Outgoing, "successors"),
                (b, Direction::Incoming, "predecessors"),
            ] {
                if let Some(edge) = graph.edges_directed(node, direction).next() {
                    let other = if direction == Direction::Outgoing {
                        edge.target()
                    } else {
                        edge.source()
                    };
                    let name = |n: NodeIndex| match &graph[n] {
                        ContextNode::Time(t) => t.name.clone(),
                        _ => unreachable!("next edges join time nodes"),
                    };
                    return Err(ContextError::TimeBranch {
                        step: name(node),
                        which,
                        first: name(other),
                        second: if direction == Direction::Outgoing {
                            to.clone()
                        } else {
                            from.clone()
                        },
                    });
                }
            }
            graph.add_edge(a, b, ContextEdge::Next);
        }
        if let Some(cycle) = time_cycle(&self.next) {
            return Err(ContextError::TimeCycle { cycle });
        }
        let mut names = HashSet::new();
        let mut contexts = Vec::new();
        let mut own_params = Vec::new();
        for context in self.contexts {
            if !names.insert(context.name.clone()) {
                return Err(ContextError::DuplicateContext { name: context.name });
            }
            if context.data.n_rows() == 0 {
                return Err(ContextError::EmptyContext {
                    context: context.name,
                });
            }
            let mut seen = HashSet::new();
            for (variable, intervention) in &context.interventions {
                if !seen.insert(variable.as_str()) {
                    return Err(ContextError::DuplicateIntervention {
                        context: context.name.clone(),
                        variable: variable.clone(),
                    });
                }
                if let ContextIntervention::Do(value) | ContextIntervention::Shift(value) =
                    intervention
                {
                    if !value.is_finite() {
                        return Err(ContextError::BadInterventionValue {
                            context: context.name.clone(),
                            variable: variable.clone(),
                            value: *value,
                        });
                    }
                }
            }
            let time = match &context.time {
                Some(name) => Some(step(name, Some(&context.name))?),
                None => None,
            };
            let changed = context
                .interventions
                .iter()
                .filter(|(_, i)| *i == ContextIntervention::Changed)
                .map(|(v, _)| v.clone())
                .collect();
            let params = graph.add_node(ContextNode::Params(ParamNode {
                scope: ParamScope::Context(context.name.clone()),
                variables: changed,
            }));
            let data = graph.add_node(ContextNode::Data(DataNode {
                name: context.name,
                data: context.data,
                interventions: context.interventions,
            }));
            graph.add_edge(data, params, ContextEdge::Uses);
            graph.add_edge(data, shared, ContextEdge::Uses);
            if let Some(time) = time {
                graph.add_edge(data, time, ContextEdge::ObservedAt);
            }
            contexts.push(data);
            own_params.push(params);
        }
        let known: Vec<String> = contexts
            .iter()
            .map(|&c| match &graph[c] {
                ContextNode::Data(d) => d.name.clone(),
                _ => unreachable!("context indices point at data nodes"),
            })
            .collect();
        for (a, b, strength) in self.ties {
            let find = |name: &str| {
                known
                    .iter()
                    .position(|k| k == name)
                    .ok_or_else(|| ContextError::UnknownContext {
                        name: name.to_string(),
                        known: known.clone(),
                    })
            };
            let (i, j) = (find(&a)?, find(&b)?);
            let reason = if i == j {
                Some("a context cannot be tied to itself".to_string())
            } else if !(strength >= 0.0 && strength.is_finite()) {
                Some(format!(
                    "the strength must be finite and at least 0, got {strength}"
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(ContextError::BadTie { a, b, reason });
            }
            graph.add_edge(own_params[i], own_params[j], ContextEdge::Tied { strength });
        }
        Ok(ContextGraph {
            graph,
            shared,
            contexts,
            own_params,
            weighting: self.weighting,
        })
    }
}

/// A cycle of `next` edges, if there is one (each step has at most one
/// successor, so following successors finds it).
fn time_cycle(next: &[(String, String)]) -> Option<Vec<String>> {
    let successor: HashMap<&str, &str> =
        next.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    for (start, _) in next {
        let mut path = vec![start.as_str()];
        let mut current = start.as_str();
        while let Some(&following) = successor.get(current) {
            if let Some(position) = path.iter().position(|&p| p == following) {
                return Some(path[position..].iter().map(|s| s.to_string()).collect());
            }
            path.push(following);
            current = following;
        }
    }
    None
}
