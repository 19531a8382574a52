//! Fits over context graphs: one model fitted jointly to data sets from
//! several environments or experimental conditions, each with the
//! interventions active there (`causalgrad.ContextGraph` in Python,
//! `causalgrad fit --contexts` on the command line).

use std::time::Instant;

use causalgrad::context::{Context, ContextGraph, ContextIntervention, FittedContexts, Weighting};
use causalgrad::data::Dataset;
use causalgrad::fit::StopReason;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{detached, Error};
use crate::frame::{ColumnIn, Columns};
use crate::query::{Constants, Value};
use crate::settings::FitSettings;
use crate::spec::Spec;

/// One context as Python hands it over: its name, its columns, its hard
/// interventions (`do`: variable and value), its known mean shifts and the
/// variables whose mechanism changed in an unknown way.
pub type ContextIn<'py> = (
    String,
    Vec<ColumnIn<'py>>,
    Constants,
    Vec<(String, f64)>,
    Vec<String>,
);

/// A context copied out of Python, ready to build without the GIL.
pub struct ContextParts {
    name: String,
    columns: Columns,
    set: Constants,
    shift: Vec<(String, f64)>,
    changed: Vec<String>,
}

/// What a fit over contexts did.
pub struct ContextSummary {
    steps: usize,
    stop: &'static str,
    converged: bool,
    seconds: f64,
    members: usize,
    /// Each context's final loss (mean negative log-likelihood per row, on
    /// its held-out rows when there is a validation split).
    losses: Vec<(String, f64)>,
    objective: Option<f64>,
}

impl ContextSummary {
    /// The summary for Python.
    pub fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("steps", self.steps)?;
        dict.set_item("stop", self.stop)?;
        dict.set_item("converged", self.converged)?;
        dict.set_item("seconds", self.seconds)?;
        dict.set_item("members", self.members)?;
        dict.set_item("losses", self.losses.clone())?;
        dict.set_item("objective", self.objective)?;
        Ok(dict)
    }
}

/// Reads a weighting's name.
pub fn weighting(text: &str) -> Result<Weighting, Error> {
    match text {
        "proportional" => Ok(Weighting::Proportional),
        "equal" => Ok(Weighting::Equal),
        other => Err(Error::Usage(format!(
            "the weighting `{other}` is not \"proportional\" (each context by its rows) or \"equal\" (each context alike)"
        ))),
    }
}

/// Fits a model of `spec` jointly over `contexts`, with `ties` (pairs of
/// contexts whose own parameters are pulled together, with a strength)
/// and `weighting`; the fitted contexts and the fit's summary. Each
/// variable's kind comes from all contexts' rows pooled.
pub fn fit(
    py: Python<'_>,
    spec: &Spec,
    contexts: Vec<ContextIn<'_>>,
    ties: Vec<(String, String, f64)>,
    weighting: &str,
    settings: FitSettings,
) -> Result<(FittedContexts, ContextSummary), Error> {
    let weighting = self::weighting(weighting)?;
    if contexts.is_empty() {
        return Err(Error::Usage(
            "a context graph needs at least one context (a DataFrame per environment)".into(),
        ));
    }
    let parts = copy(contexts)?;
    detached(py, move || {
        let columns: Vec<Columns> = parts.iter().map(|p| p.columns.clone()).collect();
        let mut pooled = Columns::pooled(&columns)?.into_dataset()?;
        pooled.require(spec.graph.variables())?;
        let kinds = spec.kinds(&mut pooled)?;
        let mut scm = spec.build(&kinds, settings.seed)?;
        let code = |mut data: Dataset| {
            data.require(spec.graph.variables())?;
            for (name, kind) in &kinds {
                if let Some(levels) = kind.levels() {
                    data = data.with_levels(name, levels)?;
                }
            }
            Ok(data)
        };
        let value_of = |variable: &str, value: Value| {
            let text = match value {
                Value::Number(number) => causalgrad::data::number_label(number),
                Value::Label(label) => label,
            };
            Ok(scm.value_of(variable, &text)?)
        };
        let graph = build(parts, ties, weighting, code, value_of)?;
        let config = settings.config();
        let started = Instant::now();
        let report = scm.fit_contexts(&graph, &config)?;
        let mut fitted = report.fitted;
        if let Some(members) = settings.members() {
            fitted.fit_members(&graph, &config, &members)?;
        }
        let last = report.evaluations.last();
        let summary = ContextSummary {
            steps: report.losses.len(),
            stop: match report.stop {
                StopReason::Completed => "completed",
                StopReason::EarlyStopped { .. } => "early_stopped",
            },
            converged: report.converged,
            seconds: started.elapsed().as_secs_f64(),
            members: fitted.shared().members(),
            losses: last.map(|e| e.contexts.clone()).unwrap_or_default(),
            objective: last.map(|e| e.objective),
        };
        Ok((fitted, summary))
    })
}

/// Copies contexts out of Python (before the GIL is released).
pub fn copy(contexts: Vec<ContextIn<'_>>) -> Result<Vec<ContextParts>, Error> {
    contexts
        .into_iter()
        .map(|(name, columns, set, shift, changed)| {
            Ok(ContextParts {
                name,
                columns: Columns::copy(columns)?,
                set,
                shift,
                changed,
            })
        })
        .collect()
}

/// The context graph of `parts`, each context's data passed through
/// `code` (checked and coded as the model reads it) and each `do` value
/// read by `value_of`; with `ties` and `weighting`.
pub fn build(
    parts: Vec<ContextParts>,
    ties: Vec<(String, String, f64)>,
    weighting: Weighting,
    code: impl Fn(Dataset) -> Result<Dataset, Error>,
    value_of: impl Fn(&str, Value) -> Result<f64, Error>,
) -> Result<ContextGraph, Error> {
    let mut builder = ContextGraph::builder().weighting(weighting);
    for part in parts {
        let mut context = Context::new(part.name, code(part.columns.into_dataset()?)?);
        for (variable, value) in part.set {
            context = context.set(&variable, value_of(&variable, value)?);
        }
        for (variable, delta) in part.shift {
            context = context.shift(&variable, delta);
        }
        for variable in part.changed {
            context = context.changed(&variable);
        }
        builder = builder.context(context);
    }
    for (a, b, strength) in ties {
        builder = builder.tie(&a, &b, strength);
    }
    Ok(builder.build()?)
}

/// A context graph file (`causalgrad fit --contexts`'s TOML) read as the
/// command line reads it, data included, for `ContextGraph.from_toml`:
/// `{"contexts": [{"name", "columns", "do", "shift", "changed"}], "ties":
/// [(a, b, strength)], "weighting"}`. Time steps are refused: the Python
/// context graph has none yet.
#[pyfunction]
pub fn read_contexts<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
) -> PyResult<Bound<'py, PyDict>> {
    let graph = detached(py, || Ok(ContextGraph::from_toml_file(&path)?))?;
    let names: Vec<&str> = graph.contexts().map(|c| c.name.as_str()).collect();
    if let Some(timed) = (0..names.len()).find(|&i| graph.observed_at(i).is_some()) {
        return Err(Error::Usage(format!(
            "{}: context `{}` is observed at a time step; time steps are read by `causalgrad fit --contexts` but not yet by the Python ContextGraph",
            path.display(),
            names[timed]
        ))
        .into());
    }
    let contexts = graph
        .contexts()
        .map(|context| {
            let entry = PyDict::new(py);
            entry.set_item("name", &context.name)?;
            entry.set_item("columns", crate::frame::to_python(py, &context.data)?)?;
            let (mut set, mut shift, mut changed) = (Vec::new(), Vec::new(), Vec::new());
            for (variable, intervention) in &context.interventions {
                match intervention {
                    ContextIntervention::Do(value) => set.push((variable.clone(), *value)),
                    ContextIntervention::Shift(delta) => shift.push((variable.clone(), *delta)),
                    ContextIntervention::Changed => changed.push(variable.clone()),
                }
            }
            entry.set_item("do", set)?;
            entry.set_item("shift", shift)?;
            entry.set_item("changed", changed)?;
            Ok(entry)
        })
        .collect::<PyResult<Vec<_>>>()?;
    let ties: Vec<(&str, &str, f64)> = graph
        .ties()
        .into_iter()
        .map(|(a, b, strength)| (names[a], names[b], strength))
        .collect();
    let out = PyDict::new(py);
    out.set_item("contexts", contexts)?;
    out.set_item("ties", ties)?;
    out.set_item(
        "weighting",
        match graph.weighting() {
            Weighting::Proportional => "proportional",
            Weighting::Equal => "equal",
        },
    )?;
    Ok(out)
}
