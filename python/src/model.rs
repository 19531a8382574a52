//! `causalgrad._causalgrad.RawModel`: a graph, its declared choices and,
//! once fitted, the library's model. The Python class `causalgrad.Model`
//! wraps it with pandas in and out.

use std::time::Instant;

use causalgrad::context::FittedContexts;
use causalgrad::data::Dataset;
use causalgrad::fit::StopReason;
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{MechanismSpec, ModelFileError, Scm};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::contexts::{self, ContextIn};
use crate::discover::{self, DiscoverSettings};
use crate::errors::{detached, Error};
use crate::frame::{self, ColumnIn, ColumnOut, Columns};
use crate::query::{self, Arm, Constants, Functions, Interventions};
use crate::select;
use crate::settings::FitSettings;
use crate::spec::{parse_kind, parse_noise, MechanismChoice, Spec, FORMULA_DEFAULT_INIT};

/// A structural causal model on a graph; see `causalgrad.Model`.
#[pyclass(module = "causalgrad._causalgrad")]
pub struct RawModel {
    spec: Spec,
    fitted: Option<Scm>,
    /// The fit over a context graph, when the model was fitted over one.
    contexts: Option<FittedContexts>,
}

impl RawModel {
    fn scm(&self) -> Result<&Scm, Error> {
        self.fitted.as_ref().ok_or_else(|| {
            Error::Usage(
                "the model is not fitted yet: call fit(data) first (gcm.fit(model, data) in causalgrad.gcm)"
                    .into(),
            )
        })
    }

    fn from_scm(scm: Scm) -> RawModel {
        RawModel {
            spec: Spec::of_scm(&scm),
            fitted: Some(scm),
            contexts: None,
        }
    }

    fn unfitted(graph: CausalGraph) -> RawModel {
        RawModel {
            spec: Spec::new(graph),
            fitted: None,
            contexts: None,
        }
    }

    /// A model file's model: with its contexts when it was fitted over a
    /// context graph.
    fn from_file(path: &std::path::Path) -> Result<RawModel, Error> {
        match FittedContexts::load(path) {
            Ok(contexts) => Ok(RawModel {
                spec: Spec::of_scm(contexts.shared()),
                fitted: Some(contexts.shared().clone()),
                contexts: Some(contexts),
            }),
            Err(ModelFileError::NoContexts { .. }) => Ok(RawModel::from_scm(Scm::load(path)?)),
            Err(error) => Err(error.into()),
        }
    }

    /// Writes the model file (with the contexts, if any).
    fn write(&self, path: &std::path::Path) -> Result<(), Error> {
        match &self.contexts {
            Some(contexts) => Ok(contexts.save(path)?),
            None => Ok(self.scm()?.save(path)?),
        }
    }
}

/// Fits `scm` to `data` with `settings` (and its ensemble members); what
/// the fit did.
pub fn fit_scm(scm: &mut Scm, data: &Dataset, settings: &FitSettings) -> Result<Summary, Error> {
    let config = settings.config();
    let started = Instant::now();
    let report = scm.fit(data, &config)?;
    if let Some(members) = settings.members() {
        scm.fit_members(data, &config, &members)?;
    }
    Ok(Summary {
        steps: report.losses.len(),
        stop: match report.stop {
            StopReason::Completed => "completed",
            StopReason::EarlyStopped { .. } => "early_stopped",
        }
        .to_string(),
        converged: report.converged,
        loss: -scm.log_likelihood(data)?,
        validation_loss: report.final_validation_loss,
        seconds: started.elapsed().as_secs_f64(),
        members: scm.members(),
    })
}

/// A graph from DOT, dagitty or GML text, told apart by the content.
fn graph_from_text(text: &str) -> Result<CausalGraph, Error> {
    let first = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .unwrap_or("");
    let gml = first.starts_with("Creator")
        || first.starts_with("Version")
        || first
            .strip_prefix("graph")
            .is_some_and(|rest| rest.trim_start().starts_with('['));
    Ok(if gml {
        CausalGraph::from_gml_str(text)?
    } else {
        CausalGraph::from_dot_str(text)?
    })
}

#[pymethods]
impl RawModel {
    /// A model on a graph given as DOT/dagitty/GML text.
    #[staticmethod]
    fn from_text(text: &str) -> PyResult<RawModel> {
        Ok(RawModel::unfitted(graph_from_text(text)?))
    }

    /// A model on a graph given as its variables and edges.
    #[staticmethod]
    fn from_edges(variables: Vec<String>, edges: Vec<(String, String)>) -> PyResult<RawModel> {
        let graph = CausalGraph::new(variables, edges).map_err(Error::from)?;
        Ok(RawModel::unfitted(graph))
    }

    /// Loads a model file (as `causalgrad fit` writes it).
    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<RawModel> {
        Ok(detached(py, || RawModel::from_file(&path))?)
    }

    /// A model from the bytes of a model file.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, bytes: Vec<u8>) -> PyResult<RawModel> {
        Ok(detached(py, || {
            let file = temporary_file()?;
            std::fs::write(file.path(), &bytes).map_err(|e| Error::Usage(e.to_string()))?;
            RawModel::from_file(file.path())
        })?)
    }

    /// Saves the fitted model (the format `causalgrad` commands read).
    fn save(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        self.scm()?;
        Ok(detached(py, || self.write(&path))?)
    }

    /// The declared choices, to declare again on a new model (a pickled
    /// unfitted model): per variable its mechanism's name (or formulas and
    /// parameters with starting values), noise family and kind, each
    /// `None` where nothing is declared.
    fn declarations<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.spec
            .graph
            .variables()
            .map(|name| {
                let entry = PyDict::new(py);
                entry.set_item("variable", name)?;
                let mechanism = self.spec.mechanisms.get(name);
                entry.set_item("mechanism", mechanism.and_then(MechanismChoice::name))?;
                if let Some(MechanismChoice::Formula { formulas, params }) = mechanism {
                    entry.set_item("formulas", formulas.clone())?;
                    entry.set_item("params", params.clone())?;
                }
                entry.set_item("noise", self.spec.noises.get(name).map(|n| n.name()))?;
                entry.set_item("kind", self.spec.kinds.get(name).map(|k| k.name()))?;
                Ok(entry)
            })
            .collect()
    }

    /// The bytes of the model file.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.scm()?;
        let bytes = detached(py, || {
            let file = temporary_file()?;
            self.write(file.path())?;
            std::fs::read(file.path()).map_err(|e| Error::Usage(e.to_string()))
        })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Declares `variable`'s mechanism, noise family or kind (each `None`
    /// to leave it); the fitted model, if any, is dropped.
    #[pyo3(signature = (variable, mechanism=None, noise=None, kind=None))]
    fn declare(
        &mut self,
        variable: &str,
        mechanism: Option<&str>,
        noise: Option<&str>,
        kind: Option<&str>,
    ) -> PyResult<()> {
        self.spec.check_variable(variable)?;
        if let Some(text) = mechanism {
            let choice = MechanismChoice::parse(variable, text)?;
            self.spec.mechanisms.insert(variable.into(), choice);
        }
        if let Some(text) = noise {
            let noise = parse_noise(variable, text)?;
            self.spec.noises.insert(variable.into(), noise);
        }
        if let Some(text) = kind {
            let kind = parse_kind(variable, text)?;
            self.spec.kinds.insert(variable.into(), kind);
        }
        self.fitted = None;
        self.contexts = None;
        Ok(())
    }

    /// Declares `variable`'s mechanism a formula (one per output, or one
    /// for all) with these parameters, each with its starting value
    /// (`None`: 0.1); the formula is compiled at the fit.
    fn declare_formula(
        &mut self,
        variable: &str,
        formulas: Vec<String>,
        params: Vec<(String, Option<f64>)>,
    ) -> PyResult<()> {
        self.spec.check_variable(variable)?;
        if formulas.is_empty() {
            return Err(
                Error::Usage(format!("`{variable}`'s formula mechanism needs a formula")).into(),
            );
        }
        let params = params
            .into_iter()
            .map(|(name, value)| match value {
                None => Ok((name, FORMULA_DEFAULT_INIT)),
                Some(value) if value.is_finite() => Ok((name, value as f32)),
                Some(value) => Err(Error::Usage(format!(
                    "the starting value of `{name}` in `{variable}`'s formula must be a finite number, not {value}"
                ))),
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let choice = MechanismChoice::Formula { formulas, params };
        self.spec.mechanisms.insert(variable.into(), choice);
        self.fitted = None;
        self.contexts = None;
        Ok(())
    }

    /// Fits the model to the columns; returns a summary dict.
    #[pyo3(signature = (columns, steps, learning_rate, seed, validation, patience, batch_size, members))]
    #[allow(clippy::too_many_arguments)] // the fit's settings, each a keyword in Python
    fn fit<'py>(
        &mut self,
        py: Python<'py>,
        columns: Vec<ColumnIn<'py>>,
        steps: usize,
        learning_rate: f64,
        seed: u64,
        validation: f64,
        patience: usize,
        batch_size: Option<usize>,
        members: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        let settings = FitSettings {
            steps,
            learning_rate,
            seed,
            validation,
            patience,
            batch_size,
            members,
        };
        let columns = Columns::copy(columns)?;
        let spec = &self.spec;
        let (scm, summary) = detached(py, move || {
            let mut data = columns.into_dataset()?;
            data.require(spec.graph.variables())?;
            let kinds = spec.kinds(&mut data)?;
            let mut scm = spec.build(&kinds, seed)?;
            let summary = fit_scm(&mut scm, &data, &settings)?;
            Ok((scm, summary))
        })?;
        self.fitted = Some(scm);
        self.contexts = None;
        summary.to_dict(py)
    }

    /// Fits `settings.members` ensemble members around the fitted model
    /// (replacing any it had), as `fit` does after the model itself;
    /// returns a summary dict (the model's own steps are 0).
    fn fit_members<'py>(
        &mut self,
        py: Python<'py>,
        columns: Vec<ColumnIn<'py>>,
        settings: FitSettings,
    ) -> PyResult<Bound<'py, PyDict>> {
        if self.contexts.is_some() {
            return Err(Error::Usage(
                "the model was fitted over contexts: give fit_contexts(.., members=K) instead"
                    .into(),
            )
            .into());
        }
        let mut scm = self.scm()?.without_members();
        let columns = Columns::copy(columns)?;
        let spec = &self.spec;
        let (scm, summary) = detached(py, move || {
            let mut data = columns.into_dataset()?;
            data.require(spec.graph.variables())?;
            spec.kinds(&mut data)?;
            let started = Instant::now();
            if let Some(members) = settings.members() {
                scm.fit_members(&data, &settings.config(), &members)?;
            }
            let summary = Summary {
                steps: 0,
                stop: "completed".into(),
                converged: true,
                loss: -scm.log_likelihood(&data)?,
                validation_loss: None,
                seconds: started.elapsed().as_secs_f64(),
                members: scm.members(),
            };
            Ok((scm, summary))
        })?;
        self.fitted = Some(scm);
        summary.to_dict(py)
    }

    /// Chooses each undeclared variable's mechanism among `families` and a
    /// continuous variable's noise among `noises` by held-out
    /// log-likelihood, then fits the selected model; returns the choices.
    fn select<'py>(
        &mut self,
        py: Python<'py>,
        columns: Vec<ColumnIn<'py>>,
        settings: FitSettings,
        families: Vec<String>,
        noises: Vec<String>,
        tolerance: f64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (families, noises) = select::settings(&families, &noises, tolerance)?;
        let mut spec = self.spec.clone();
        let (scm, outcome) = select::run(
            py, &mut spec, columns, settings, families, noises, tolerance,
        )?;
        self.spec = spec;
        self.fitted = Some(scm);
        self.contexts = None;
        outcome.to_dict(py)
    }

    /// Fits the model jointly over contexts (data sets with the
    /// interventions active in each); returns a summary dict.
    fn fit_contexts<'py>(
        &mut self,
        py: Python<'py>,
        contexts: Vec<ContextIn<'py>>,
        ties: Vec<(String, String, f64)>,
        weighting: &str,
        settings: FitSettings,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (fitted, summary) = contexts::fit(py, &self.spec, contexts, ties, weighting, settings)?;
        self.fitted = Some(fitted.shared().clone());
        self.contexts = Some(fitted);
        summary.to_dict(py)
    }

    /// The names of the contexts the model was fitted over (empty when it
    /// was fitted to one data set).
    fn context_names(&self) -> Vec<String> {
        self.contexts
            .iter()
            .flat_map(|c| c.contexts().iter().map(|c| c.name.clone()))
            .collect()
    }

    /// The model in a context, or in a new context combining several
    /// known ones (their interventions and changed mechanisms).
    fn in_context(&self, py: Python<'_>, names: Vec<String>) -> PyResult<RawModel> {
        let contexts = self.contexts.as_ref().ok_or_else(|| {
            Error::Usage("the model was not fitted over contexts: fit it with fit_contexts(ContextGraph(..)) first".into())
        })?;
        let scm = detached(py, || {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            Ok(contexts.predict_context(&names)?)
        })?;
        Ok(RawModel::from_scm(scm))
    }

    /// Learns a DAG from the columns; an unfitted model on it and the
    /// search's result (edges, weights, stabilities, DOT).
    #[staticmethod]
    fn discover<'py>(
        py: Python<'py>,
        columns: Vec<ColumnIn<'py>>,
        settings: DiscoverSettings,
    ) -> PyResult<(RawModel, Bound<'py, PyDict>)> {
        let found = discover::run(py, columns, settings)?;
        let graph = found.graph().map_err(Error::from)?;
        Ok((RawModel::unfitted(graph), discover::to_dict(py, &found)?))
    }

    /// [`RawModel::discover`] over contexts (`causalgrad discover
    /// --contexts`): their interventions tell directions apart.
    #[staticmethod]
    fn discover_contexts<'py>(
        py: Python<'py>,
        contexts: Vec<ContextIn<'py>>,
        ties: Vec<(String, String, f64)>,
        weighting: &str,
        settings: DiscoverSettings,
    ) -> PyResult<(RawModel, Bound<'py, PyDict>)> {
        let found = discover::run_contexts(py, contexts, ties, weighting, settings)?;
        let graph = found.graph().map_err(Error::from)?;
        Ok((RawModel::unfitted(graph), discover::to_dict(py, &found)?))
    }

    /// `n` samples under interventions (constants and column functions).
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: u64,
        constants: Constants,
        functions: Functions,
    ) -> PyResult<Vec<ColumnOut<'py>>> {
        let scm = self.scm()?;
        let interventions = Interventions::new(scm, constants, functions)?;
        let data = detached(py, || interventions.sample(scm, n, seed))?;
        Ok(frame::to_python(py, &data)?)
    }

    /// The observed rows under interventions (DoWhy's `observed_data=`).
    fn sample_from<'py>(
        &self,
        py: Python<'py>,
        observed: Vec<ColumnIn<'py>>,
        seed: u64,
        constants: Constants,
        functions: Functions,
    ) -> PyResult<Vec<ColumnOut<'py>>> {
        let scm = self.scm()?;
        let interventions = Interventions::new(scm, constants, functions)?;
        let observed = Columns::copy(observed)?;
        let data = detached(py, || {
            let observed = coded(scm, observed.into_dataset()?)?;
            interventions.sample_from(scm, &observed, seed)
        })?;
        Ok(frame::to_python(py, &data)?)
    }

    /// Counterfactuals of the observed rows under interventions.
    fn counterfactual<'py>(
        &self,
        py: Python<'py>,
        observed: Vec<ColumnIn<'py>>,
        constants: Constants,
        functions: Functions,
    ) -> PyResult<Vec<ColumnOut<'py>>> {
        let scm = self.scm()?;
        let interventions = Interventions::new(scm, constants, functions)?;
        let observed = Columns::copy(observed)?;
        let data = detached(py, || {
            let observed = coded(scm, observed.into_dataset()?)?;
            interventions.counterfactual(scm, &observed)
        })?;
        Ok(frame::to_python(py, &data)?)
    }

    /// The average causal effect of `alternative` against `reference` on
    /// `target`, with its interval; a dict.
    #[pyo3(signature = (target, alternative, reference, n, seed, level))]
    #[allow(clippy::too_many_arguments)] // two arms of constants and functions
    fn effect<'py>(
        &self,
        py: Python<'py>,
        target: &str,
        alternative: Arm,
        reference: Arm,
        n: usize,
        seed: u64,
        level: f64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let scm = self.scm()?;
        let alternative = Interventions::new(scm, alternative.0, alternative.1)?;
        let reference = Interventions::new(scm, reference.0, reference.1)?;
        let estimate = detached(py, || {
            query::effect(scm, target, &alternative, &reference, n, seed, level)
        })?;
        let dict = PyDict::new(py);
        dict.set_item("estimate", estimate.estimate)?;
        dict.set_item("low", estimate.low)?;
        dict.set_item("high", estimate.high)?;
        dict.set_item("level", estimate.level)?;
        dict.set_item("mc_stderr", estimate.mc_stderr)?;
        dict.set_item("model_stderr", estimate.model_stderr)?;
        dict.set_item("method", estimate.method.name())?;
        dict.set_item("members", estimate.members)?;
        Ok(dict)
    }

    /// The mean log-likelihood per row of the columns.
    fn log_likelihood(&self, py: Python<'_>, columns: Vec<ColumnIn<'_>>) -> PyResult<f64> {
        let scm = self.scm()?;
        let columns = Columns::copy(columns)?;
        Ok(detached(py, || {
            let data = coded(scm, columns.into_dataset()?)?;
            Ok(scm.log_likelihood(&data)?)
        })?)
    }

    /// The variables in topological order.
    fn variables(&self) -> Vec<String> {
        self.spec.graph.topological_order().to_vec()
    }

    /// The graph's edges.
    fn edges(&self) -> Vec<(String, String)> {
        self.spec
            .graph
            .edges()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// The parents of `variable`.
    fn parents(&self, variable: &str) -> PyResult<Vec<String>> {
        Ok(self
            .spec
            .graph
            .parents(variable)
            .map_err(Error::from)?
            .into_iter()
            .map(str::to_string)
            .collect())
    }

    /// The graph in DOT.
    fn to_dot(&self) -> String {
        self.spec.graph.to_dot()
    }

    /// Whether the model is fitted.
    fn is_fitted(&self) -> bool {
        self.fitted.is_some()
    }

    /// The fitted kind of `variable` and its levels (categorical only).
    fn kind(&self, variable: &str) -> PyResult<(String, Option<Vec<String>>)> {
        let kind = self.scm()?.kind(variable).map_err(Error::from)?;
        Ok((
            kind.name().to_string(),
            kind.levels().map(<[String]>::to_vec),
        ))
    }

    /// The fitted mechanism of `variable`, described.
    fn mechanism(&self, variable: &str) -> PyResult<String> {
        Ok(self
            .scm()?
            .mechanism(variable)
            .map_err(Error::from)?
            .describe())
    }

    /// The fitted noise family of `variable`.
    fn noise(&self, variable: &str) -> PyResult<String> {
        Ok(self
            .scm()?
            .noise(variable)
            .map_err(Error::from)?
            .name()
            .to_string())
    }

    /// The fitted parameters of `variable`'s mechanism, and their names
    /// for a formula (`None` for the other kinds).
    fn params(&self, variable: &str) -> PyResult<(Vec<f32>, Option<Vec<String>>)> {
        let mechanism = self.scm()?.mechanism(variable).map_err(Error::from)?;
        let names = match mechanism.spec() {
            Some(MechanismSpec::Formula { params, .. }) => Some(params),
            _ => None,
        };
        Ok((mechanism.params().to_vec(), names))
    }

    /// The number of ensemble members the fitted model carries.
    fn members(&self) -> PyResult<usize> {
        Ok(self.scm()?.members())
    }
}

/// `data` with each categorical variable of `scm` coded by the model's
/// levels (a column of numbers is read as labels).
fn coded(
    scm: &Scm,
    mut data: causalgrad::data::Dataset,
) -> Result<causalgrad::data::Dataset, Error> {
    for name in scm.variables() {
        let levels = scm.kind(name)?.levels().map(<[String]>::to_vec);
        if let (Some(levels), Ok(_)) = (levels, data.column(name)) {
            data = data.with_levels(name, &levels)?;
        }
    }
    Ok(data)
}

/// A fresh temporary file (removed when dropped).
fn temporary_file() -> Result<tempfile::NamedTempFile, Error> {
    tempfile::Builder::new()
        .prefix("causalgrad-")
        .suffix(".cg")
        .tempfile()
        .map_err(|e| Error::Usage(format!("cannot create a temporary model file: {e}")))
}

/// What a fit did, for Python.
pub struct Summary {
    steps: usize,
    stop: String,
    converged: bool,
    loss: f64,
    validation_loss: Option<f64>,
    seconds: f64,
    members: usize,
}

impl Summary {
    /// The summary for Python.
    pub fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("steps", self.steps)?;
        dict.set_item("stop", &self.stop)?;
        dict.set_item("converged", self.converged)?;
        dict.set_item("loss", self.loss)?;
        dict.set_item("validation_loss", self.validation_loss)?;
        dict.set_item("seconds", self.seconds)?;
        dict.set_item("members", self.members)?;
        Ok(dict)
    }
}
