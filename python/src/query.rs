//! Interventions as Python gives them (constants and column functions)
//! and the queries that take them: samples, counterfactuals, effects.

use causalgrad::data::Dataset;
use causalgrad::scm::Scm;
use causalgrad::uncertainty::Estimate;
use numpy::{IntoPyArray, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::Error;

/// An intervention's value as Python gives it: a number or a label.
pub enum Value {
    /// A number (a binary variable's 0 or 1, a count, a real value).
    Number(f64),
    /// A categorical variable's label.
    Label(String),
}

impl<'a, 'py> FromPyObject<'a, 'py> for Value {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(text) = value.extract::<String>() {
            return Ok(Value::Label(text));
        }
        Ok(Value::Number(value.extract::<f64>()?))
    }
}

/// Constant interventions as Python gives them: `(variable, value)`.
pub type Constants = Vec<(String, Value)>;
/// Column functions as Python gives them: `(variable, function)`.
pub type Functions = Vec<(String, Py<PyAny>)>;
/// One arm of an effect: its constants and its functions.
pub type Arm = (Constants, Functions);

/// Interventions on a model: `do(variable = constant)` and
/// `variable = f(its column)`, with `f` a Python function from a float64
/// array to one of the same length.
pub struct Interventions {
    /// `do(x = value)`, the value coded for the model.
    pub constants: Vec<(String, f64)>,
    /// Column functions.
    pub functions: Vec<(String, Py<PyAny>)>,
}

impl Interventions {
    /// Reads the constants against `scm` (a label is coded, a number
    /// checked to be one the variable takes).
    pub fn new(
        scm: &Scm,
        constants: Constants,
        functions: Functions,
    ) -> Result<Interventions, Error> {
        let constants = constants
            .into_iter()
            .map(|(variable, value)| {
                let text = match value {
                    Value::Number(number) => {
                        if !number.is_finite() {
                            return Err(Error::Model(causalgrad::scm::ScmError::BadIntervention {
                                variable,
                                value: number,
                            }));
                        }
                        causalgrad::data::number_label(number)
                    }
                    Value::Label(label) => label,
                };
                let value = scm.value_of(&variable, &text)?;
                Ok((variable, value))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        for (variable, _) in &functions {
            scm.kind(variable)?;
        }
        Ok(Interventions {
            constants,
            functions,
        })
    }

    fn names(&self) -> Vec<&str> {
        self.functions
            .iter()
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Calls the function for `variable` on `column` (with the GIL).
    fn call(&self, variable: &str, column: Vec<f64>) -> Result<Vec<f64>, Error> {
        let function = self
            .functions
            .iter()
            .find(|(name, _)| name == variable)
            .map(|(_, f)| f)
            .expect("the library calls back only for the variables it was given");
        Python::attach(|py| {
            let result = function.call1(py, (column.into_pyarray(py),))?;
            let array: PyReadonlyArray1<'_, f64> = result.extract(py)?;
            if !array.is_aligned() {
                return Err(Error::Usage(format!(
                    "the intervention on `{variable}` returned an array that is not aligned in memory"
                )));
            }
            Ok(array.as_array().to_vec())
        })
    }

    /// `n` samples from `scm` under the interventions (seeded).
    pub fn sample(&self, scm: &Scm, n: usize, seed: u64) -> Result<Dataset, Error> {
        let model = scm.intervene(&self.constant_refs())?;
        model.sample_mapped(n, seed, &self.names(), |v, c| self.call(v, c))
    }

    /// The observed rows under the interventions: what they do not reach
    /// keeps its observed values (DoWhy's `observed_data=`).
    pub fn sample_from(&self, scm: &Scm, observed: &Dataset, seed: u64) -> Result<Dataset, Error> {
        let model = scm.intervene(&self.constant_refs())?;
        model.sample_mapped_from(observed, seed, &self.names(), |v, c| self.call(v, c))
    }

    /// Counterfactuals of the observed rows.
    pub fn counterfactual(&self, scm: &Scm, observed: &Dataset) -> Result<Dataset, Error> {
        scm.counterfactual_mapped(observed, &self.constant_refs(), &self.names(), |v, c| {
            self.call(v, c)
        })
    }

    fn constant_refs(&self) -> Vec<(&str, f64)> {
        self.constants
            .iter()
            .map(|(name, value)| (name.as_str(), *value))
            .collect()
    }
}

/// `E[target | alternative] − E[target | reference]` from `n` paired
/// samples (the same noise in both arms) of `scm`, and its Monte-Carlo
/// standard error.
fn paired_effect(
    scm: &Scm,
    target: &str,
    alternative: &Interventions,
    reference: &Interventions,
    n: usize,
    seed: u64,
) -> Result<(f64, f64), Error> {
    let a = alternative.sample(scm, n, seed)?;
    let b = reference.sample(scm, n, seed)?;
    let diffs: Vec<f64> = a
        .column(target)?
        .iter()
        .zip(b.column(target)?)
        .map(|(a, b)| a - b)
        .collect();
    let count = diffs.len().max(1) as f64;
    let mean = diffs.iter().sum::<f64>() / count;
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (count - 1.0).max(1.0);
    Ok((mean, (var / count).sqrt()))
}

/// The average causal effect with its interval at `level`: the model's
/// answer, and the same query asked of each ensemble member
/// ([`Estimate::new`]; a model without members gives the Monte-Carlo
/// interval).
pub fn effect(
    scm: &Scm,
    target: &str,
    alternative: &Interventions,
    reference: &Interventions,
    n: usize,
    seed: u64,
    level: f64,
) -> Result<Estimate, Error> {
    if !(level > 0.0 && level < 1.0) {
        return Err(causalgrad::scm::ScmError::BadLevel { level }.into());
    }
    scm.kind(target)?;
    let (estimate, stderr) = paired_effect(scm, target, alternative, reference, n, seed)?;
    let members = scm
        .member_answers(n, |member, n| {
            Ok::<_, Error>(vec![paired_effect(
                member,
                target,
                alternative,
                reference,
                n,
                seed,
            )?])
        })?
        .into_iter()
        .map(|values| values[0])
        .collect();
    Ok(Estimate::new(estimate, stderr, members, level))
}
