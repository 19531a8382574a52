//! Mechanism selection for Python (`causalgrad.Model.select`, and
//! `causalgrad.gcm.auto.assign_causal_mechanisms`): the candidates of
//! `causalgrad::fit::select`, one per mechanism family, fitted in
//! parallel, each variable keeping the simplest whose held-out
//! log-likelihood is within the tolerance of the best, then other noise
//! families tried on the continuous variables; the selected model is then
//! fitted on from there, as `causalgrad fit --select` does.

use std::time::Instant;

use causalgrad::fit::select::{select, Candidate, Family, SelectConfig};
use causalgrad::scm::{Noise, Scm};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{detached, Error};
use crate::frame::{ColumnIn, Columns};
use crate::settings::FitSettings;
use crate::spec::{parse_noise, MechanismChoice, Spec};

/// What selection chose for one variable.
pub struct Choice {
    variable: String,
    /// The label of the candidate it took its node from (`mlp(16)`,
    /// `mixture noise`).
    chosen: String,
    /// Its mechanism as a declaration reads it (`None` for a formula).
    mechanism: Option<String>,
    /// Its noise family.
    noise: &'static str,
    /// Its held-out score under every candidate, in the labels' order.
    scores: Vec<f64>,
    /// Its score under the chosen candidate.
    score: f64,
}

/// What a selection did.
pub struct Outcome {
    labels: Vec<String>,
    choices: Vec<Choice>,
    selection_seconds: f64,
    validation_log_likelihood: f64,
    /// The fit's summary after the selection (`Model.fit`'s keys).
    pub fit: crate::model::Summary,
}

impl Outcome {
    /// The outcome for Python.
    pub fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let choices = self
            .choices
            .iter()
            .map(|choice| {
                let dict = PyDict::new(py);
                dict.set_item("variable", &choice.variable)?;
                dict.set_item("chosen", &choice.chosen)?;
                dict.set_item("mechanism", &choice.mechanism)?;
                dict.set_item("noise", choice.noise)?;
                dict.set_item("score", choice.score)?;
                dict.set_item("scores", choice.scores.clone())?;
                Ok(dict)
            })
            .collect::<PyResult<Vec<_>>>()?;
        let dict = PyDict::new(py);
        dict.set_item("labels", self.labels.clone())?;
        dict.set_item("choices", choices)?;
        dict.set_item("seconds", self.selection_seconds)?;
        dict.set_item("validation_log_likelihood", self.validation_log_likelihood)?;
        dict.set_item("fit", self.fit.to_dict(py)?)?;
        Ok(dict)
    }
}

/// Reads the candidate families and noise families, and checks the tolerance.
pub fn settings(
    families: &[String],
    noises: &[String],
    tolerance: f64,
) -> Result<(Vec<Family>, Vec<Noise>), Error> {
    let families = families
        .iter()
        .map(|text| MechanismChoice::family("a candidate", text))
        .collect::<Result<Vec<_>, Error>>()?;
    if families.is_empty() {
        return Err(Error::Usage(
            "mechanism selection needs at least one candidate family, e.g. [\"linear\", \"mlp\"]"
                .into(),
        ));
    }
    let noises = noises
        .iter()
        .map(|text| parse_noise("a candidate", text))
        .collect::<Result<Vec<_>, Error>>()?;
    if !(tolerance >= 0.0 && tolerance.is_finite()) {
        return Err(Error::Usage(format!(
            "the tolerance {tolerance} is not a non-negative number of nats per row"
        )));
    }
    Ok((families, noises))
}

/// Selects every undeclared variable's mechanism (and a continuous
/// variable's noise, unless declared) among `families` and `noises`, then
/// fits the selected model on from its fitted values (and its members);
/// the model and the outcome. `spec` gets each choice declared, so a
/// later fit keeps it.
pub fn run(
    py: Python<'_>,
    spec: &mut Spec,
    columns: Vec<ColumnIn<'_>>,
    settings: FitSettings,
    families: Vec<Family>,
    noises: Vec<Noise>,
    tolerance: f64,
) -> Result<(Scm, Outcome), Error> {
    let columns = Columns::copy(columns)?;
    let base: &Spec = spec;
    let (scm, outcome) = detached(py, move || {
        let mut data = columns.into_dataset()?;
        data.require(base.graph.variables())?;
        let kinds = base.kinds(&mut data)?;
        let config = settings.config();
        let candidates = families
            .iter()
            .map(|family| {
                Ok(Candidate {
                    label: family.name(),
                    model: base.build_with(
                        &kinds,
                        settings.seed,
                        &MechanismChoice::from(family),
                    )?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let select_config = SelectConfig::default()
            .with_families(families)
            .with_noises(noises)
            .with_tolerance(tolerance)
            .keeping_noise(base.noises.keys().cloned());
        let started = Instant::now();
        let selection = select(candidates, &data, &config, &select_config)?;
        let selection_seconds = started.elapsed().as_secs_f64();
        let mut scm = selection.model.clone();
        let fit = crate::model::fit_scm(&mut scm, &data, &settings)?;
        let choices = selection
            .variables
            .iter()
            .map(|choice| {
                Ok(Choice {
                    variable: choice.variable.clone(),
                    chosen: selection.labels[choice.chosen].clone(),
                    mechanism: MechanismChoice::name_of(scm.mechanism(&choice.variable)?.spec()),
                    noise: choice.noise,
                    score: choice.scores[choice.chosen],
                    scores: choice.scores.clone(),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let outcome = Outcome {
            labels: selection.labels.clone(),
            validation_log_likelihood: selection.validation_log_likelihood(),
            choices,
            selection_seconds,
            fit,
        };
        Ok((scm, outcome))
    })?;
    for choice in &outcome.choices {
        let variable = choice.variable.as_str();
        let has_parents = !spec.graph.parents(variable)?.is_empty();
        if has_parents && !spec.mechanisms.contains_key(variable) {
            if let Some(name) = &choice.mechanism {
                let declared = MechanismChoice::parse(variable, name)?;
                spec.mechanisms.insert(variable.to_string(), declared);
            }
        }
        let kind = scm.kind(variable)?;
        let changed = kind.default_noise().name() != choice.noise;
        if kind.name() == "continuous" && changed && !spec.noises.contains_key(variable) {
            if let Ok(noise) = parse_noise(variable, choice.noise) {
                spec.noises.insert(variable.to_string(), noise);
            }
        }
    }
    Ok((scm, outcome))
}
