//! What a search returns: the continuous solution, the DAG kept from it,
//! and how to write it for `fit` (DOT) and for programs (JSON).

use ndarray::Array2;

use super::linear::Linear;
use super::mlp::Mlp;
use super::model::Model;
use super::path::{solve, PathProgress, StageReport};
use super::problem::Problem;
use super::threshold::to_dag;
use super::{DiscoverConfig, DiscoverError, Method};
use crate::graph::{CausalGraph, GraphError};

/// One edge of the learned DAG.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Edge {
    /// The parent.
    pub from: String,
    /// The child.
    pub to: String,
    /// Its strength: the linear weight (signed, in standardised units
    /// when the data were standardised), or the MLP's first-layer norm.
    pub weight: f64,
    /// The share of bootstrap resamples whose DAG has this edge, when a
    /// bootstrap was run.
    pub stability: Option<f64>,
    /// Whether the edge was required by the prior knowledge.
    pub required: bool,
}

/// A learned DAG.
#[derive(Clone, Debug)]
pub struct Discovered {
    /// The variables, in the data's column order.
    pub variables: Vec<String>,
    /// The continuous solution: `weights[[i, j]]` for `i -> j`.
    pub weights: Array2<f64>,
    /// The DAG's edges, strongest first (required ones first of all).
    pub edges: Vec<Edge>,
    /// Each stage of the central path.
    pub stages: Vec<StageReport>,
    /// `stability[[i, j]]`: the share of bootstrap resamples with `i -> j`.
    pub stability: Option<Array2<f64>>,
}

impl Discovered {
    /// The DAG as a causal graph (every variable, the learned edges).
    pub fn graph(&self) -> Result<CausalGraph, GraphError> {
        CausalGraph::new(
            self.variables.iter().map(String::as_str),
            self.edges.iter().map(|e| (e.from.as_str(), e.to.as_str())),
        )
    }

    /// The edges as `(from, to)` name pairs.
    pub fn edge_names(&self) -> Vec<(&str, &str)> {
        self.edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect()
    }

    /// Sets each edge's stability from a bootstrap's share matrix.
    pub fn with_stability(mut self, stability: Array2<f64>) -> Self {
        for edge in &mut self.edges {
            let i = self.variables.iter().position(|v| *v == edge.from);
            let j = self.variables.iter().position(|v| *v == edge.to);
            if let (Some(i), Some(j)) = (i, j) {
                edge.stability = Some(stability[[i, j]]);
            }
        }
        self.stability = Some(stability);
        self
    }

    /// DOT text that `CausalGraph::from_dot_str` (and `causalgrad fit`)
    /// reads back: every variable, each edge with `weight` (and
    /// `stability`) attributes.
    pub fn to_dot(&self) -> String {
        let quote = |name: &str| format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""));
        let mut out = String::from("// learned by causalgrad discover\ndigraph learned {\n");
        for v in &self.variables {
            out.push_str(&format!("  {};\n", quote(v)));
        }
        for e in &self.edges {
            let mut attributes = format!("weight={:.4}", e.weight);
            if let Some(s) = e.stability {
                attributes.push_str(&format!(", stability={s:.3}"));
            }
            if e.required {
                attributes.push_str(", required=true");
            }
            out.push_str(&format!(
                "  {} -> {} [{attributes}];\n",
                quote(&e.from),
                quote(&e.to)
            ));
        }
        out.push_str("}\n");
        out
    }
}

/// Runs the search on a prepared problem.
pub(crate) fn run(
    problem: &Problem,
    config: &DiscoverConfig,
    progress: &mut dyn FnMut(PathProgress),
) -> Result<Discovered, DiscoverError> {
    let masks = config.knowledge.resolve(&problem.names)?;
    let model: Box<dyn Model> = match config.method {
        Method::Linear => Box::new(Linear::new(
            problem,
            masks.clone(),
            config.score,
            config.lambda1,
        )),
        Method::Mlp { hidden } => Box::new(Mlp::new(
            problem,
            masks.clone(),
            config.score,
            hidden,
            config.lambda1,
            config.lambda2,
        )),
    };
    let (params, stages) = solve(model.as_ref(), &config.path, config.seed, progress)?;
    let weights = model.weights(&params);
    let edges = to_dag(&weights, config.threshold, &masks)
        .into_iter()
        .map(|(i, j, weight)| Edge {
            from: problem.names[i].clone(),
            to: problem.names[j].clone(),
            weight,
            stability: None,
            required: masks.required[[i, j]],
        })
        .collect();
    Ok(Discovered {
        variables: problem.names.clone(),
        weights,
        edges,
        stages,
        stability: None,
    })
}
