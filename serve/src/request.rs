//! Reading request bodies and the values in them against the model:
//! every error names the request field (and the variable) at fault.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use causalgrad::data::Dataset;
use causalgrad::scm::Scm;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::ApiError;

/// The JSON body as a `T`: a body that is not JSON, or not a `T`, is a bad
/// request naming the field at fault (`samples`, `do.t`, `rows[2]`) and
/// the line and column.
pub fn parse<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| ApiError::Body {
        status: rejection.status(),
        message: rejection.body_text(),
    })?;
    let mut reader = serde_json::Deserializer::from_slice(&bytes);
    let malformed = |path: String, error: serde_json::Error| ApiError::BadRequest {
        message: format!("malformed request body: {error}"),
        // `.` is the whole body; `?` a place the reader could not name.
        field: (!matches!(path.as_str(), "" | "." | "?")).then_some(path),
        variable: None,
    };
    let value = serde_path_to_error::deserialize(&mut reader)
        .map_err(|e| malformed(e.path().to_string(), e.into_inner()))?;
    reader.end().map_err(|e| malformed(String::new(), e))?;
    Ok(value)
}

/// Checks that `name`, given in request field `field`, is a variable of
/// `scm`.
pub fn check_variable(scm: &Scm, field: &str, name: &str) -> Result<(), ApiError> {
    if scm.variables().any(|v| v == name) {
        return Ok(());
    }
    Err(ApiError::variable(
        field,
        name,
        format!(
            "unknown variable `{name}` in `{field}`; the model's variables are: {}",
            scm.variables().collect::<Vec<_>>().join(", ")
        ),
    ))
}

/// The value `value` (a JSON number, or a categorical variable's label)
/// sets `variable` to, read as `causalgrad` reads a command-line value:
/// a label the variable never had, a value it does not take or a number
/// for a categorical variable are bad requests naming `field` and the
/// variable.
pub fn value_of(scm: &Scm, field: &str, variable: &str, value: &Value) -> Result<f64, ApiError> {
    let text = value_text(field, value)?;
    scm.value_of(variable, &text)
        .map_err(|error| ApiError::variable(field, variable, error.to_string()))
}

/// A value as the text a command line would give: a number's shortest
/// spelling that reads back to it, or a label.
pub fn value_text(field: &str, value: &Value) -> Result<String, ApiError> {
    match value {
        Value::Number(number) => Ok(number.to_string()),
        Value::String(label) => Ok(label.clone()),
        other => Err(ApiError::field(
            field,
            format!("`{field}` must be a number or a label, not {other}"),
        )),
    }
}

/// The interventions of a `"do"` object, checked against `scm`.
pub fn interventions(
    scm: &Scm,
    assignments: &BTreeMap<String, Value>,
) -> Result<Vec<(String, f64)>, ApiError> {
    assignments
        .iter()
        .map(|(name, value)| {
            let field = format!("do.{name}");
            check_variable(scm, &field, name)?;
            Ok((name.clone(), value_of(scm, &field, name, value)?))
        })
        .collect()
}

/// Observed rows (objects with a value per model variable; other keys are
/// ignored) as a data set with the model's variables, categorical values
/// as the model's level codes.
pub fn observed_rows(scm: &Scm, rows: &[Map<String, Value>]) -> Result<Dataset, ApiError> {
    let mut columns = Vec::new();
    for name in scm.variables() {
        let column = rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let field = format!("rows[{i}].{name}");
                let value = row.get(name).ok_or_else(|| {
                    ApiError::variable(
                        format!("rows[{i}]"),
                        name,
                        format!("row {i} has no value for `{name}`; a row needs a value for every model variable"),
                    )
                })?;
                value_of(scm, &field, name, value)
            })
            .collect::<Result<Vec<f64>, ApiError>>()?;
        columns.push((name.to_string(), column));
    }
    Dataset::from_columns(columns).map_err(|e| ApiError::field("rows", e.to_string()))
}

/// Column `name` of `data` as JSON values: numbers, or a categorical
/// column's labels.
pub fn column_json(data: &Dataset, name: &str) -> Result<Vec<Value>, ApiError> {
    let internal = |e: causalgrad::data::DataError| ApiError::Query(e.to_string());
    let values = data.column(name).map_err(internal)?;
    Ok(match data.labels(name).map_err(internal)? {
        Some(labels) => values
            .iter()
            .map(|&code| {
                labels
                    .get(code as usize)
                    .map_or(Value::Null, |l| l.as_str().into())
            })
            .collect(),
        None => values.iter().map(|&v| v.into()).collect(),
    })
}
