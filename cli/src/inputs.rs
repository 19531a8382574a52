//! Reading the inputs the commands share: graphs, CSV data checked
//! against a model's variables, and `--do VAR=VALUE` interventions.

use std::path::Path;

use causalgrad::data::{DataError, Dataset};
use causalgrad::graph::{CausalGraph, GraphError};

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

/// One `--do VAR=VALUE`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// The variable.
    pub variable: String,
    /// The value it is set to.
    pub value: f64,
}

/// Parses `VAR=VALUE` (clap's value parser for `--do`).
pub fn parse_assignment(text: &str) -> Result<Assignment, String> {
    let (variable, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not VAR=VALUE, e.g. `--do x2=1.0`"))?;
    let variable = variable.trim();
    if variable.is_empty() {
        return Err(format!("`{text}` names no variable, e.g. `--do x2=1.0`"));
    }
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("`{}` in `{text}` is not a number", value.trim()))?;
    if !value.is_finite() {
        return Err(format!(
            "`{text}` sets `{variable}` to {value}; use a finite number"
        ));
    }
    Ok(Assignment {
        variable: variable.to_string(),
        value,
    })
}

/// Checks that every variable is in `known`, naming the first that is not.
pub fn check_assignments<'a>(
    assignments: &'a [Assignment],
    known: &[String],
) -> Result<Vec<(&'a str, f64)>, CliError> {
    assignments
        .iter()
        .map(|a| {
            if known.contains(&a.variable) {
                Ok((a.variable.as_str(), a.value))
            } else {
                Err(CliError::UnknownVariable {
                    origin: format!("--do {}={}", a.variable, a.value),
                    variable: a.variable.clone(),
                    known: known.to_vec(),
                })
            }
        })
        .collect()
}

/// The assignments as a JSON object `{"x2": 1.0}`.
pub fn assignments_json(assignments: &[Assignment]) -> serde_json::Value {
    serde_json::Value::Object(
        assignments
            .iter()
            .map(|a| (a.variable.clone(), a.value.into()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_parse_and_are_checked() {
        assert_eq!(
            parse_assignment("x2=-1.5").unwrap(),
            Assignment {
                variable: "x2".into(),
                value: -1.5
            }
        );
        assert!(parse_assignment("x2").unwrap_err().contains("VAR=VALUE"));
        assert!(parse_assignment("x2=abc")
            .unwrap_err()
            .contains("not a number"));
        assert!(parse_assignment("=1").unwrap_err().contains("no variable"));
        assert!(parse_assignment("x=inf").unwrap_err().contains("finite"));
        let known = vec!["x1".to_string(), "x2".to_string()];
        let ok = [parse_assignment("x2=1").unwrap()];
        assert_eq!(check_assignments(&ok, &known).unwrap(), [("x2", 1.0)]);
        let bad = [parse_assignment("x9=1").unwrap()];
        let err = check_assignments(&bad, &known).unwrap_err().to_string();
        assert!(
            err.contains("unknown variable `x9`") && err.contains("x1, x2"),
            "{err}"
        );
    }
}
