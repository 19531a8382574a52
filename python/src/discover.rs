//! Structure learning for Python: a DAG learned from a DataFrame by
//! `causalgrad::discover` (DAGMA's log-det acyclicity, linear or MLP
//! mechanisms), with prior knowledge and bootstrap edge stability, as
//! `causalgrad discover` runs it.

use causalgrad::discover::{
    bootstrap, discover, discover_contexts, DiscoverConfig, Discovered, Input, Knowledge, Method,
    Score,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::contexts::ContextIn;
use crate::errors::{detached, Error};
use crate::frame::{ColumnIn, Columns};
use crate::query::Value;

/// The search's settings, read from a dict (`causalgrad.discover`'s
/// keywords; `None` keeps the method's default).
#[derive(Clone, Debug, FromPyObject)]
#[pyo3(from_item_all)]
pub struct DiscoverSettings {
    /// `"linear"` or `"mlp"`.
    pub method: String,
    /// Hidden units per variable of `"mlp"`.
    pub hidden: usize,
    /// `"least_squares"` or `"likelihood"`.
    pub score: String,
    /// The L1 penalty.
    pub lambda1: Option<f64>,
    /// The ridge penalty of `"mlp"`.
    pub lambda2: Option<f64>,
    /// Edges weaker than this are dropped.
    pub threshold: f64,
    /// Standardise every column first.
    pub standardize: bool,
    /// Seed of the MLP's weights and of the bootstrap.
    pub seed: u64,
    /// Edges that must be in the graph.
    pub require: Vec<(String, String)>,
    /// Edges that must not be.
    pub forbid: Vec<(String, String)>,
    /// Tiers, earliest first: no edge from a later tier into an earlier one.
    pub tiers: Vec<Vec<String>>,
    /// Bootstrap resamples for edge stability (`None`: none).
    pub bootstrap: Option<usize>,
}

impl DiscoverSettings {
    fn config(&self) -> Result<DiscoverConfig, Error> {
        let mut config = match self.method.as_str() {
            "linear" => DiscoverConfig::linear(),
            "mlp" => DiscoverConfig::mlp(),
            other => {
                return Err(Error::Usage(format!(
                    "the method `{other}` is not \"linear\" or \"mlp\""
                )))
            }
        };
        if let Method::Mlp { .. } = config.method {
            config.method = Method::Mlp {
                hidden: self.hidden,
            };
        }
        config.score = match self.score.as_str() {
            "least_squares" => Score::LeastSquares,
            "likelihood" => Score::GaussianLikelihood,
            other => {
                return Err(Error::Usage(format!(
                    "the score `{other}` is not \"least_squares\" or \"likelihood\""
                )))
            }
        };
        if let Some(lambda1) = self.lambda1 {
            config.lambda1 = lambda1;
        }
        if let Some(lambda2) = self.lambda2 {
            config.lambda2 = lambda2;
        }
        config.threshold = self.threshold;
        config.standardize = self.standardize;
        config.seed = self.seed;
        let mut knowledge = Knowledge::new();
        for (from, to) in &self.require {
            knowledge = knowledge.require(from.clone(), to.clone());
        }
        for (from, to) in &self.forbid {
            knowledge = knowledge.forbid(from.clone(), to.clone());
        }
        for tier in &self.tiers {
            knowledge = knowledge.tier(tier.iter().cloned());
        }
        config.knowledge = knowledge;
        Ok(config)
    }
}

/// Learns a DAG over the columns; the result, with each edge's stability
/// when a bootstrap was asked for.
pub fn run(
    py: Python<'_>,
    columns: Vec<ColumnIn<'_>>,
    settings: DiscoverSettings,
) -> Result<Discovered, Error> {
    let config = settings.config()?;
    let columns = Columns::copy(columns)?;
    detached(py, move || {
        let data = columns.into_dataset()?;
        let found = discover(&data, &config)?;
        Ok(match settings.bootstrap {
            Some(resamples) => {
                found.with_stability(bootstrap(Input::Data(&data), &config, resamples)?)
            }
            None => found,
        })
    })
}

/// Learns a DAG over the variables of the first context's columns from
/// data observed in several contexts (as `causalgrad discover
/// --contexts`): a context's `do` targets drop out of their own
/// likelihood terms there, its changed variables get their own
/// mechanisms. A `do` value must be a number (the search reads numbers).
pub fn run_contexts(
    py: Python<'_>,
    contexts: Vec<ContextIn<'_>>,
    ties: Vec<(String, String, f64)>,
    weighting: &str,
    settings: DiscoverSettings,
) -> Result<Discovered, Error> {
    let config = settings.config()?;
    let weighting = crate::contexts::weighting(weighting)?;
    let parts = crate::contexts::copy(contexts)?;
    detached(py, move || {
        let number = |variable: &str, value: Value| {
            match value {
            Value::Number(number) => Ok(number),
            Value::Label(label) => Err(Error::Usage(format!(
                "discover reads numbers: the do value of `{variable}` must be a number, not the label `{label}`"
            ))),
        }
        };
        let graph = crate::contexts::build(parts, ties, weighting, Ok, number)?;
        let variables: Vec<String> = graph
            .contexts()
            .next()
            .map(|c| c.data.names().to_vec())
            .unwrap_or_default();
        let found = discover_contexts(&graph, &variables, &config, &mut |_| {})?;
        Ok(match settings.bootstrap {
            Some(resamples) => found.with_stability(bootstrap(
                Input::Contexts(&graph, &variables),
                &config,
                resamples,
            )?),
            None => found,
        })
    })
}

/// The result for Python: the variables, the edges (each a dict), the
/// continuous weights and the stabilities (rows of the matrices, `i -> j`
/// at row `i`, column `j`) and the DOT text.
pub fn to_dict<'py>(py: Python<'py>, found: &Discovered) -> PyResult<Bound<'py, PyDict>> {
    let edges = found
        .edges
        .iter()
        .map(|edge| {
            let dict = PyDict::new(py);
            dict.set_item("source", &edge.from)?;
            dict.set_item("target", &edge.to)?;
            dict.set_item("weight", edge.weight)?;
            dict.set_item("stability", edge.stability)?;
            dict.set_item("required", edge.required)?;
            Ok(dict)
        })
        .collect::<PyResult<Vec<_>>>()?;
    let dict = PyDict::new(py);
    dict.set_item("variables", found.variables.clone())?;
    dict.set_item("edges", edges)?;
    let weights: Vec<Vec<f64>> = found
        .weights
        .rows()
        .into_iter()
        .map(|r| r.to_vec())
        .collect();
    let stability: Option<Vec<Vec<f64>>> = found
        .stability
        .as_ref()
        .map(|s| s.rows().into_iter().map(|r| r.to_vec()).collect());
    dict.set_item("weights", weights)?;
    dict.set_item("stability", stability)?;
    dict.set_item("dot", found.to_dot())?;
    Ok(dict)
}
