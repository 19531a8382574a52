//! Reading the inputs the commands share: graphs, CSV data checked
//! against a model's variables, and `--do VAR=VALUE` interventions.

use std::path::Path;

use causalgrad::answer::value_json;
use causalgrad::data::{DataError, Dataset};
use causalgrad::graph::{CausalGraph, GraphError};
use causalgrad::scm::Scm;
#[cfg(test)]
use causalgrad::scm::VariableKind;

use crate::error::CliError;

/// Reads a graph file: DOT, dagitty or GML, told apart by its content.
pub fn graph(path: &Path) -> Result<CausalGraph, CliError> {
    CausalGraph::from_file(path).map_err(|error| match error {
        GraphError::Io { path, source } => CliError::Read { path, source },
        source => CliError::Graph { source },
    })
}

/// Reads a CSV file and checks it has a column for every variable of
/// `variables`, which come from `model` (a graph or model file). Only
/// those columns are parsed; the names of the others come back beside the
/// data (an id or label column is no error).
pub fn data<'a>(
    path: &Path,
    model: &Path,
    variables: impl IntoIterator<Item = &'a str>,
) -> Result<(Dataset, Vec<String>), CliError> {
    let variables: Vec<&str> = variables.into_iter().collect();
    let (data, left_out) = Dataset::from_csv_selecting(path, |name| variables.contains(&name))
        .map_err(|error| match error {
            DataError::Io { path, source } => CliError::Read { path, source },
            source => CliError::Data { source },
        })?;
    let missing: Vec<String> = variables
        .iter()
        .filter(|name| data.column(name).is_err())
        .map(|name| name.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(CliError::Columns {
            data: path.to_path_buf(),
            model: model.to_path_buf(),
            missing,
            available: data.names().iter().chain(&left_out).cloned().collect(),
        });
    }
    Ok((data, left_out))
}

/// One `--do VAR=VALUE`: a number, or a categorical variable's label.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// The variable.
    pub variable: String,
    /// The value as given (`1.5`, `green`).
    pub value: String,
}

/// Parses `VAR=VALUE` (clap's value parser for `--do`); the value is read
/// against the model's variable by [`check_assignments`].
pub fn parse_assignment(text: &str) -> Result<Assignment, String> {
    let (variable, value) = text.split_once('=').ok_or_else(|| {
        format!("`{text}` is not VAR=VALUE, e.g. `--do x2=1.0` or `--do colour=green`")
    })?;
    let (variable, value) = (variable.trim(), value.trim());
    if variable.is_empty() {
        return Err(format!("`{text}` names no variable, e.g. `--do x2=1.0`"));
    }
    if value.is_empty() {
        return Err(format!(
            "`{text}` gives `{variable}` no value, e.g. `--do {variable}=1.0`"
        ));
    }
    Ok(Assignment {
        variable: variable.to_string(),
        value: value.to_string(),
    })
}

/// The value `text` sets `variable` of `scm` to: a number, or a
/// categorical variable's label (its code); `origin` names the flag in
/// errors.
pub fn value_of(scm: &Scm, variable: &str, text: &str, origin: &str) -> Result<f64, CliError> {
    let known: Vec<String> = scm.variables().map(str::to_string).collect();
    if !known.iter().any(|k| k == variable) {
        return Err(CliError::UnknownVariable {
            origin: origin.to_string(),
            variable: variable.to_string(),
            known,
        });
    }
    scm.value_of(variable, text)
        .map_err(|source| CliError::Value {
            origin: origin.to_string(),
            source: Box::new(source),
        })
}

/// Reads every assignment against `scm`: an unknown variable, a value that
/// is not a number (or, for a categorical variable, not one of its labels)
/// or not one the variable takes are errors naming the flag.
pub fn check_assignments<'a>(
    assignments: &'a [Assignment],
    scm: &Scm,
) -> Result<Vec<(&'a str, f64)>, CliError> {
    assignments
        .iter()
        .map(|a| {
            let origin = format!("--do {}={}", a.variable, a.value);
            Ok((
                a.variable.as_str(),
                value_of(scm, &a.variable, &a.value, &origin)?,
            ))
        })
        .collect()
}

/// The assignments as a JSON object `{"x2": 1.0, "colour": "green"}`.
pub fn assignments_json(assignments: &[Assignment]) -> serde_json::Value {
    serde_json::Value::Object(
        assignments
            .iter()
            .map(|a| (a.variable.clone(), value_json(&a.value)))
            .collect(),
    )
}

/// The assignments as text, `do(x2 = 1, x3 = 0)`, or `no intervention`.
pub fn assignments_text(assignments: &[Assignment]) -> String {
    if assignments.is_empty() {
        return "no intervention".to_string();
    }
    let parts: Vec<String> = assignments
        .iter()
        .map(|a| format!("{} = {}", a.variable, a.value))
        .collect();
    format!("do({})", parts.join(", "))
}

/// `data` with each categorical variable of `scm` coded by label: a column
/// of numbers for such a variable is read as its labels (`1` → `"1"`).
pub fn coded_for(scm: &Scm, mut data: Dataset) -> Result<Dataset, CliError> {
    for name in scm.variables() {
        let levels = scm.kind(name)?.levels().map(<[String]>::to_vec);
        if let (Some(levels), Ok(None)) = (levels, data.labels(name)) {
            data = data
                .with_levels(name, &levels)
                .map_err(|source| CliError::Data { source })?;
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_parse_and_are_checked() {
        assert_eq!(
            parse_assignment("x2=-1.5").unwrap(),
            Assignment {
                variable: "x2".into(),
                value: "-1.5".into()
            }
        );
        assert!(parse_assignment("x2").unwrap_err().contains("VAR=VALUE"));
        assert!(parse_assignment("=1").unwrap_err().contains("no variable"));
        assert!(parse_assignment("x=").unwrap_err().contains("no value"));
        let graph = CausalGraph::new(["x1", "x2", "c"], [("x1", "x2")]).unwrap();
        let scm = Scm::builder(graph)
            .kind("c", VariableKind::categorical(["blue", "red"]))
            .build()
            .unwrap();
        let checked = |text: &str| {
            let assignment = [parse_assignment(text).unwrap()];
            check_assignments(&assignment, &scm)
                .map(|values| values[0].1)
                .map_err(|e| e.to_string())
        };
        assert_eq!(checked("x2=1"), Ok(1.0));
        assert_eq!(checked("c=red"), Ok(1.0));
        let err = checked("x9=1").unwrap_err();
        assert!(
            err.contains("unknown variable `x9`") && err.contains("x1, x2"),
            "{err}"
        );
        assert!(checked("x2=abc").unwrap_err().contains("not a number"));
        assert!(checked("x2=inf").unwrap_err().contains("finite"));
        let err = checked("c=green").unwrap_err();
        assert!(
            err.contains("--do c=green")
                && err.contains("no level `green`")
                && err.contains("blue, red"),
            "{err}"
        );
    }
}
