//! Data between Python and the library: columns as float64 numpy arrays,
//! a categorical column as its level codes beside its labels. The Python
//! side (`causalgrad._frame`) turns pandas DataFrames into these columns
//! and back, keeping the names and dtypes.

use causalgrad::data::Dataset;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
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
pub struct Columns(Vec<(String, Vec<f64>, Option<Vec<String>>)>);

impl Columns {
    /// Copies the columns' values.
    pub fn copy(columns: Vec<ColumnIn<'_>>) -> Result<Columns, Error> {
        columns
            .into_iter()
            .map(|(name, values, labels)| {
                let values = values
                    .as_slice()
                    .map(<[f64]>::to_vec)
                    .unwrap_or_else(|_| values.as_array().iter().copied().collect());
                Ok((name, values, labels))
            })
            .collect::<Result<_, Error>>()
            .map(Columns)
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
