//! Time: lagged variables, the lagged columns of a context, and rolling a
//! lagged model forward.
//!
//! A lagged model is an ordinary [`Scm`] over one time slice, unrolled over
//! the steps: besides the variables at time `t` its causal graph has
//! lagged variables named `x[t-1]`, `x[t-2]`, .. ([`lag_name`]) that are
//! roots, each the value of `x` one, two, .. steps earlier. The mechanisms
//! are shared across steps. When fitting over a context graph, a context
//! observed at a time step reads its lagged columns from the context
//! observed `k` steps earlier along the `next` edges (row `r` is the same
//! unit at every step); the lagged variables contribute no likelihood term
//! (the model is conditional on the past), and a step whose history is
//! shorter than a lag it needs is an initial condition: it only provides
//! lagged values to later steps. [`Lagged`] rolls a model forward, with
//! interventions at chosen steps that propagate to later steps through the
//! lags.

use super::{ContextError, ContextGraph};
use crate::data::Dataset;
use crate::scm::{Scm, ScmError};

/// The name of `variable` lagged by `lag` steps: `x[t-2]`.
///
/// ```
/// assert_eq!(causalgrad::context::lag_name("x1", 2), "x1[t-2]");
/// assert_eq!(causalgrad::context::parse_lag("x1[t-2]"), Some(("x1", 2)));
/// assert_eq!(causalgrad::context::parse_lag("x1"), None);
/// ```
pub fn lag_name(variable: &str, lag: usize) -> String {
    format!("{variable}[t-{lag}]")
}

/// The variable and the lag of a lagged variable's name (`x[t-2]`), or
/// `None` for a variable at time `t`.
pub fn parse_lag(name: &str) -> Option<(&str, usize)> {
    let (base, lag) = name.strip_suffix(']')?.rsplit_once("[t-")?;
    let lag: usize = lag.parse().ok()?;
    (lag >= 1 && !base.is_empty()).then_some((base, lag))
}

/// The model's columns for context `context` (in the model's topological
/// order, as f32), lagged columns taken from earlier steps; `Ok(None)` when
/// the context's history is too short for a lag the model needs.
pub(crate) fn context_columns(
    graph: &ContextGraph,
    context: usize,
    scm: &Scm,
) -> Result<Option<Vec<Vec<f32>>>, ContextError> {
    let node = graph.contexts().nth(context).expect("a context position");
    let (name, data) = (&node.name, &node.data);
    let mut columns = Vec::new();
    for (variable, node) in scm.variables().zip(scm.nodes()) {
        if let Ok(column) = data.column(variable) {
            columns.push(node.scaling.column_to_model(column));
            continue;
        }
        let missing = || ContextError::MissingVariable {
            context: name.clone(),
            variable: variable.to_string(),
            available: data.names().to_vec(),
        };
        let Some((base, lag)) = parse_lag(variable) else {
            return Err(missing());
        };
        if graph.observed_at(context).is_none() {
            return Err(missing());
        }
        let Some(sources) = graph.contexts_lagged(context, lag) else {
            return Ok(None);
        };
        let &[source] = sources.as_slice() else {
            return Err(ContextError::BadLag {
                context: name.clone(),
                reason: format!(
                    "`{variable}` needs the data {lag} step(s) earlier, where {} contexts are observed; exactly one is needed",
                    sources.len()
                ),
            });
        };
        let earlier = &graph
            .contexts()
            .nth(source)
            .expect("a context position")
            .data;
        if earlier.n_rows() != data.n_rows() {
            return Err(ContextError::BadLag {
                context: name.clone(),
                reason: format!(
                    "it has {} rows but the context {lag} step(s) earlier has {}; row r must be the same unit at every step",
                    data.n_rows(),
                    earlier.n_rows()
                ),
            });
        }
        columns.push(earlier.column(base)?.iter().map(|&v| v as f32).collect());
    }
    Ok(Some(columns))
}

/// A lagged model rolled forward over time steps.
///
/// ```
/// use causalgrad::context::{lag_name, Lagged};
/// use causalgrad::graph::CausalGraph;
/// use causalgrad::scm::Scm;
///
/// // x_t = 0.8 x_{t-1} + noise
/// let graph = CausalGraph::new(["x[t-1]", "x"], [("x[t-1]", "x")])?;
/// let mut scm = Scm::builder(graph).build()?;
/// scm.set_params("x", &[0.0, 0.8])?;
/// let model = Lagged::new(scm)?;
/// let response = model.impulse_response("x", 1.0, 2, 3, 100, 1)?;
/// // do(x_2 = 1) at step 2 (response row 0), then 0.8, 0.64, 0.512.
/// let x: Vec<f64> = response.iter().map(|row| row[0]).collect();
/// assert!((x[0] - 1.0).abs() < 1e-6 && (x[3] - 0.512).abs() < 1e-5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Lagged {
    scm: Scm,
    /// Per model variable (topological order): `Some((position of the
    /// variable at t, lag))` for a lagged one.
    lags: Vec<Option<(usize, usize)>>,
    /// Positions of the variables at time `t`.
    current: Vec<usize>,
}

impl Lagged {
    /// Checks that every lagged variable names a variable of the model and
    /// is a root.
    pub fn new(scm: Scm) -> Result<Self, ContextError> {
        let names: Vec<String> = scm.variables().map(str::to_string).collect();
        let mut lags = Vec::with_capacity(names.len());
        for name in &names {
            let Some((base, lag)) = parse_lag(name) else {
                lags.push(None);
                continue;
            };
            let bad = |reason: &str| ContextError::BadLagVariable {
                variable: name.clone(),
                reason: reason.to_string(),
            };
            let position = names
                .iter()
                .position(|n| n == base)
                .ok_or_else(|| bad(&format!("lags `{base}`, which is not a variable")))?;
            if !scm
                .graph()
                .parents(name)
                .map_err(ScmError::from)?
                .is_empty()
            {
                return Err(bad(
                    "has parents; a lagged value is given by the past, so it must be a root",
                ));
            }
            lags.push(Some((position, lag)));
        }
        let current = (0..names.len()).filter(|&i| lags[i].is_none()).collect();
        Ok(Lagged { scm, lags, current })
    }

    /// The model over one time slice.
    pub fn scm(&self) -> &Scm {
        &self.scm
    }

    /// The largest lag the model reads (0 for a model without lags).
    pub fn max_lag(&self) -> usize {
        self.lags
            .iter()
            .flatten()
            .map(|&(_, lag)| lag)
            .max()
            .unwrap_or(0)
    }

    /// The variables at time `t`, in topological order.
    pub fn variables(&self) -> Vec<&str> {
        let names: Vec<&str> = self.scm.variables().collect();
        self.current.iter().map(|&i| names[i]).collect()
    }

    /// `steps` time steps of `units` independent units (one data set per
    /// step, a row per unit, the variables at `t` as columns), starting from
    /// a zero state (lagged values before step 0 are 0). Reproducible from
    /// `seed`.
    pub fn simulate(
        &self,
        units: usize,
        steps: usize,
        seed: u64,
    ) -> Result<Vec<Dataset>, ContextError> {
        self.simulate_with(units, steps, seed, &[])
    }

    /// [`Lagged::simulate`] with hard interventions `(step, variable,
    /// value)`: the variable is set at that step, and later steps read the
    /// set value through their lags. The noise does not depend on the
    /// interventions, so two runs with the same seed are paired.
    pub fn simulate_with(
        &self,
        units: usize,
        steps: usize,
        seed: u64,
        interventions: &[(usize, &str, f64)],
    ) -> Result<Vec<Dataset>, ContextError> {
        let mut set: Vec<(usize, usize, f32)> = Vec::new();
        for &(step, variable, value) in interventions {
            let index = self.scm.node_index(variable)?;
            if self.lags[index].is_some() {
                return Err(ContextError::BadLagVariable {
                    variable: variable.to_string(),
                    reason: "cannot be intervened on; intervene on the variable at an earlier step"
                        .to_string(),
                });
            }
            if !value.is_finite() {
                return Err(ScmError::BadIntervention {
                    variable: variable.to_string(),
                    value,
                }
                .into());
            }
            set.push((step, index, value as f32));
        }
        let nodes = self.scm.nodes();
        let mut history: Vec<Vec<Vec<f32>>> = Vec::with_capacity(steps);
        for step in 0..steps {
            let noise = self
                .scm
                .standard_noise(units, seed.wrapping_add(step as u64));
            let mut columns: Vec<Vec<f32>> = Vec::with_capacity(nodes.len());
            for (index, e) in noise.iter().enumerate().take(nodes.len()) {
                let values = if let Some((base, lag)) = self.lags[index] {
                    match step.checked_sub(lag) {
                        Some(earlier) => history[earlier][base].clone(),
                        None => vec![0.0; units],
                    }
                } else if let Some(&(_, _, value)) =
                    set.iter().find(|&&(s, i, _)| s == step && i == index)
                {
                    vec![value; units]
                } else {
                    self.scm.node_values(index, &columns, e)
                };
                columns.push(values);
            }
            history.push(columns);
        }
        history
            .into_iter()
            .map(|columns| {
                Ok(Dataset::from_columns(self.current.iter().map(|&i| {
                    (
                        nodes[i].name.clone(),
                        columns[i].iter().map(|&v| f64::from(v)).collect(),
                    )
                }))?)
            })
            .collect()
    }

    /// The impulse response to `do(variable_at = value)`: for steps `at ..=
    /// at + horizon` (rows), the mean over `units` paired runs of each
    /// variable at `t` ([`Lagged::variables`] order, columns) under
    /// `do(variable_at = value)` minus under `do(variable_at = 0)`. The
    /// noise is the same in both runs, so for a linear model this is the
    /// impulse response exactly.
    pub fn impulse_response(
        &self,
        variable: &str,
        value: f64,
        at: usize,
        horizon: usize,
        units: usize,
        seed: u64,
    ) -> Result<Vec<Vec<f64>>, ContextError> {
        let steps = at + horizon + 1;
        let base = self.simulate_with(units, steps, seed, &[(at, variable, 0.0)])?;
        let treated = self.simulate_with(units, steps, seed, &[(at, variable, value)])?;
        let mean = |data: &Dataset, name: &str| -> Result<f64, ContextError> {
            let column = data.column(name)?;
            Ok(column.iter().sum::<f64>() / column.len().max(1) as f64)
        };
        (at..steps)
            .map(|step| {
                self.variables()
                    .into_iter()
                    .map(|name| Ok(mean(&treated[step], name)? - mean(&base[step], name)?))
                    .collect()
            })
            .collect()
    }
}
