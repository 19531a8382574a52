//! Data between Python and the library: columns as float64 numpy arrays,
//! a categorical column as its level codes beside its labels. The Python
//! side (`causalgrad._frame`) turns pandas DataFrames into these columns
//! and back, keeping the names and dtypes.

use causalgrad::data::Dataset;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::Error;

/// One column as Python hands it over: its name, its values (codes for a
/// categorical column) and, for a categorical column, its labels in code
/// order.
pub type ColumnIn<'py> = (String, PyReadonlyArray1<'py, f64>, Option<Vec<String>>);

/// One column as Python gets it back.
pub type ColumnOut<'py> = (String, Bound<'py, PyArray1<f64>>, Option<Vec<String>>);

/// Columns copied out of Python (with the GIL), ready to become a
/// [`Dataset`] without it.
#[derive(Clone)]
pub struct Columns(Vec<(String, Vec<f64>, Option<Vec<String>>)>);

impl Columns {
    /// Copies the columns' values.
    pub fn copy(columns: Vec<ColumnIn<'_>>) -> Result<Columns, Error> {
        columns
            .into_iter()
            .map(|(name, values, labels)| {
                if !values.is_aligned() {
                    // Reading an unaligned buffer as f64 is undefined; the
                    // Python side hands over aligned copies.
                    return Err(Error::Usage(format!(
                        "column `{name}`: its float64 array is not aligned in memory; pass numpy.require(values, requirements=\"A\")"
                    )));
                }
                let values = values
                    .as_slice()
                    .map(<[f64]>::to_vec)
                    .unwrap_or_else(|_| values.as_array().iter().copied().collect());
                Ok((name, values, labels))
            })
            .collect::<Result<_, Error>>()
            .map(Columns)
    }

    /// The rows of every part, one after another (the data sets of all
    /// contexts pooled, to tell each variable's kind from all its values).
    /// The parts must have the same columns and, for a categorical column,
    /// the same labels (the Python side codes every context alike).
    pub fn pooled(parts: &[Columns]) -> Result<Columns, Error> {
        let Some(first) = parts.first() else {
            return Ok(Columns(Vec::new()));
        };
        let mut pooled = first.0.clone();
        for part in &parts[1..] {
            for (name, values, labels) in &mut pooled {
                let (_, more, their_labels) = part
                    .0
                    .iter()
                    .find(|(other, _, _)| other == name)
                    .ok_or_else(|| Error::Usage(format!("a context has no column `{name}`")))?;
                if their_labels != labels {
                    return Err(Error::Usage(format!(
                        "the contexts code `{name}` with different labels; give every context's column the same categories"
                    )));
                }
                values.extend_from_slice(more);
            }
        }
        Ok(Columns(pooled))
    }

    /// The data set: every value finite, every categorical column's codes
    /// valid for its labels (errors name the column and the row).
    pub fn into_dataset(self) -> Result<Dataset, Error> {
        let mut labelled = Vec::new();
        let numbers: Vec<(String, Vec<f64>)> = self
            .0
            .into_iter()
            .map(|(name, values, labels)| {
                if let Some(labels) = labels {
                    labelled.push((name.clone(), labels));
                }
                (name, values)
            })
            .collect();
        let mut data = Dataset::from_columns(numbers)?;
        for (name, labels) in labelled {
            data = data.with_labels(&name, labels)?;
        }
        Ok(data)
    }
}

/// The data set's columns for Python.
pub fn to_python<'py>(py: Python<'py>, data: &Dataset) -> Result<Vec<ColumnOut<'py>>, Error> {
    data.names()
        .iter()
        .map(|name| {
            let values = data.column(name)?.to_vec().into_pyarray(py);
            let labels = data.labels(name)?.map(<[String]>::to_vec);
            Ok((name.clone(), values, labels))
        })
        .collect()
}
