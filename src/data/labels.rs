//! Categorical columns: their labels, and turning columns into them.
//!
//! A categorical column stores codes `0..L` as `f64`; its labels are kept
//! beside it in code order. Every label reads back from CSV as itself (no
//! empty labels, no surrounding whitespace or line breaks, no NaN or
//! infinity spellings), and the labels of a column are distinct; the
//! methods here check both, so a data set written as CSV reads back with
//! the same labels (see the [module docs](super) for how CSV labels
//! numbers).

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use super::{DataError, Dataset};

/// The label of a number, as [`Dataset::to_categorical`],
/// [`Dataset::with_levels`] and CSV reading write it: the shortest text
/// that reads back as the same `f64`, without a trailing `.0`, and `0` for
/// `-0`.
///
/// ```
/// use causalgrad::data::number_label;
///
/// assert_eq!(number_label(1.0), "1");
/// assert_eq!(number_label(2.5), "2.5");
/// assert_eq!(number_label(-0.0), "0");
/// assert_eq!(number_label(1e30), "1e30");
/// assert_eq!(number_label(0.1 + 0.2), "0.30000000000000004");
/// ```
pub fn number_label(value: f64) -> String {
    let text = format!("{:?}", value + 0.0);
    match text.strip_suffix(".0") {
        Some(integer) => integer.to_string(),
        None => text,
    }
}

/// A label's value when it is a finite number.
fn as_number(label: &str) -> Option<f64> {
    label.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The level order: numbers first by value (ties by text), then the other
/// labels in byte order.
fn compare(a: (Option<f64>, &str), b: (Option<f64>, &str)) -> Ordering {
    match (a.0, b.0) {
        (Some(x), Some(y)) => (x + 0.0).total_cmp(&(y + 0.0)).then_with(|| a.1.cmp(b.1)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.1.cmp(b.1),
    }
}

/// Sorts labels (with anything attached) into the level order, parsing
/// each label once.
pub(super) fn sort_levels<T>(levels: Vec<(String, T)>) -> Vec<(String, T)> {
    let mut keyed: Vec<(Option<f64>, (String, T))> = levels
        .into_iter()
        .map(|level| (as_number(&level.0), level))
        .collect();
    keyed.sort_by(|(x, a), (y, b)| compare((*x, &a.0), (*y, &b.0)));
    keyed.into_iter().map(|(_, level)| level).collect()
}

/// Why `label` would not read back from CSV as itself, if it would not.
fn label_problem(label: &str) -> Option<&'static str> {
    if label.is_empty() {
        Some("is empty; an empty cell is a missing value")
    } else if label.trim() != label {
        Some("has surrounding whitespace, which reading CSV trims")
    } else if label.contains(['\n', '\r']) {
        Some("spans lines")
    } else if label.parse::<f64>().is_ok_and(|v| !v.is_finite()) {
        Some("reads as NaN, infinity or a number too large, not as a label")
    } else {
        None
    }
}

/// Checks that `labels` are valid and distinct.
fn check_labels(source: &str, column: &str, labels: &[String]) -> Result<(), DataError> {
    let mut seen = HashSet::with_capacity(labels.len());
    for label in labels {
        if let Some(problem) = label_problem(label) {
            return Err(DataError::BadLabel {
                source_name: source.to_string(),
                column: column.to_string(),
                label: label.clone(),
                problem,
            });
        }
        if !seen.insert(label.as_str()) {
            return Err(DataError::DuplicateLabel {
                source_name: source.to_string(),
                column: column.to_string(),
                label: label.clone(),
            });
        }
    }
    Ok(())
}

impl Dataset {
    /// The labels of a categorical column in code order (code `i` is
    /// `labels[i]`), `None` for a numeric column, or
    /// [`DataError::MissingColumn`].
    ///
    /// ```
    /// use causalgrad::data::Dataset;
    ///
    /// let data = Dataset::from_csv_str("arm,y\ntreated,1\ncontrol,2\n")?;
    /// let labels = data.labels("arm")?.unwrap();
    /// assert_eq!(labels, ["control", "treated"]);
    /// let codes = data.column("arm")?;
    /// assert_eq!(labels[codes[0] as usize], "treated");
    /// assert_eq!(data.labels("y")?, None);
    /// # Ok::<(), causalgrad::data::DataError>(())
    /// ```
    pub fn labels(&self, name: &str) -> Result<Option<&[String]>, DataError> {
        let position = self.position(name)?;
        Ok(self.labels[position].as_deref())
    }

    /// The code of `label` in categorical column `name`:
    /// [`DataError::UnknownLevel`] when it is not one of the column's
    /// levels, [`DataError::NotCategorical`] for a numeric column. (A row
    /// whose label is not a level, met while re-coding data with
    /// [`Dataset::with_levels`], is [`DataError::UnknownLabel`] instead,
    /// which names the row.)
    ///
    /// ```
    /// use causalgrad::data::Dataset;
    ///
    /// let data = Dataset::from_csv_str("color\nred\nblue\n")?;
    /// assert_eq!(data.code_of("color", "red")?, 1);
    /// let err = data.code_of("color", "green").unwrap_err();
    /// assert_eq!(err.to_string(), "<csv>: column `color` has no level `green`; its 2 levels are: blue, red");
    /// # Ok::<(), causalgrad::data::DataError>(())
    /// ```
    pub fn code_of(&self, name: &str, label: &str) -> Result<usize, DataError> {
        let position = self.position(name)?;
        let Some(labels) = &self.labels[position] else {
            return Err(DataError::NotCategorical {
                source_name: self.source.clone(),
                column: name.to_string(),
            });
        };
        labels
            .iter()
            .position(|l| l == label)
            .ok_or_else(|| DataError::UnknownLevel {
                source_name: self.source.clone(),
                column: name.to_string(),
                label: label.to_string(),
                levels: labels.clone(),
            })
    }

    /// Marks column `name`, whose values are the codes `0..labels.len()`,
    /// as categorical with these labels (code `i` is `labels[i]`). A value
    /// that is not such a code is [`DataError::NotACode`]; a repeated label
    /// [`DataError::DuplicateLabel`]; a label that would not read back from
    /// CSV (empty, surrounded by whitespace, spanning lines, a NaN or
    /// infinity spelling) [`DataError::BadLabel`]. An already categorical
    /// column keeps its codes and gets the new labels.
    ///
    /// ```
    /// use causalgrad::data::Dataset;
    ///
    /// let data = Dataset::from_columns([("arm", vec![0.0, 1.0, 1.0])])?
    ///     .with_labels("arm", vec!["control".into(), "treated".into()])?;
    /// assert_eq!(data.labels("arm")?.unwrap(), ["control", "treated"]);
    /// let err = Dataset::from_columns([("arm", vec![0.0, 2.0])])?
    ///     .with_labels("arm", vec!["control".into(), "treated".into()])
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("row 2, column `arm`: 2 is not a code of its 2 labels"));
    /// # Ok::<(), causalgrad::data::DataError>(())
    /// ```
    pub fn with_labels(mut self, name: &str, labels: Vec<String>) -> Result<Dataset, DataError> {
        let position = self.position(name)?;
        check_labels(&self.source, name, &labels)?;
        let count = labels.len();
        let bad = self.columns[position]
            .iter()
            .position(|&v| !(v >= 0.0 && v.fract() == 0.0 && (v as usize) < count));
        if let Some(row) = bad {
            return Err(DataError::NotACode {
                source_name: self.source.clone(),
                row: row + 1,
                column: name.to_string(),
                value: self.columns[position][row],
                labels: count,
            });
        }
        self.labels[position] = Some(labels);
        Ok(self)
    }

    /// Re-codes column `name` to the levels `levels` (code `i` becomes
    /// `levels[i]`), as when new data (rows for counterfactuals, a test
    /// set) must use a fitted model's levels. A categorical column's
    /// labels are mapped to their places in `levels`; a numeric column's
    /// values are first labelled by [`number_label`]
    /// (`1.0` is `"1"`). A row whose label is not in `levels` is
    /// [`DataError::UnknownLabel`], naming the column, the row, the label
    /// and the levels. `levels` may hold labels no row uses; they are
    /// checked as [`Dataset::with_labels`] checks labels.
    ///
    /// ```
    /// use causalgrad::data::Dataset;
    ///
    /// let levels: Vec<String> = ["red", "green", "blue"].map(String::from).into();
    /// let new = Dataset::from_csv_str("color\nblue\nred\n")?; // codes: blue 0, red 1
    /// let new = new.with_levels("color", &levels)?;
    /// assert_eq!(new.column("color")?, [2.0, 0.0]);
    /// assert_eq!(new.labels("color")?.unwrap(), levels);
    ///
    /// let err = Dataset::from_csv_str("color\nred\npurple\n")?
    ///     .with_levels("color", &levels)
    ///     .unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "<csv>: row 2, column `color`: the label `purple` is not one of the column's 3 levels: red, green, blue"
    /// );
    /// # Ok::<(), causalgrad::data::DataError>(())
    /// ```
    pub fn with_levels(mut self, name: &str, levels: &[String]) -> Result<Dataset, DataError> {
        let position = self.position(name)?;
        check_labels(&self.source, name, levels)?;
        let code: HashMap<&str, usize> = levels
            .iter()
            .enumerate()
            .map(|(code, label)| (label.as_str(), code))
            .collect();
        let unknown = |row: usize, label: &str| DataError::UnknownLabel {
            source_name: self.source.clone(),
            row: row + 1,
            column: name.to_string(),
            label: label.to_string(),
            levels: levels.to_vec(),
        };
        let column = &self.columns[position];
        let recoded: Vec<f64> = match &self.labels[position] {
            Some(labels) => {
                let new: Vec<Option<usize>> = labels
                    .iter()
                    .map(|l| code.get(l.as_str()).copied())
                    .collect();
                let mut out = Vec::with_capacity(column.len());
                for (row, &old) in column.iter().enumerate() {
                    match new[old as usize] {
                        Some(c) => out.push(c as f64),
                        None => return Err(unknown(row, &labels[old as usize])),
                    }
                }
                out
            }
            None => {
                let mut seen: HashMap<u64, Option<usize>> = HashMap::new();
                let mut out = Vec::with_capacity(column.len());
                for (row, &value) in column.iter().enumerate() {
                    let found = *seen
                        .entry((value + 0.0).to_bits())
                        .or_insert_with(|| code.get(number_label(value).as_str()).copied());
                    match found {
                        Some(c) => out.push(c as f64),
                        None => return Err(unknown(row, &number_label(value))),
                    }
                }
                out
            }
        };
        self.columns[position] = recoded;
        self.labels[position] = Some(levels.to_vec());
        Ok(self)
    }

    /// Makes numeric column `name` categorical: its distinct values in
    /// ascending order become the levels, labelled by
    /// [`number_label`] (`1.0` is `"1"`, `-0` is
    /// `0`). An already categorical column is returned unchanged.
    ///
    /// ```
    /// use causalgrad::data::Dataset;
    ///
    /// let data = Dataset::from_columns([("dose", vec![3.0, 1.0, 2.0, 1.0, 10.0])])?
    ///     .to_categorical("dose")?;
    /// assert_eq!(data.labels("dose")?.unwrap(), ["1", "2", "3", "10"]);
    /// assert_eq!(data.column("dose")?, [2.0, 0.0, 1.0, 0.0, 3.0]);
    /// # Ok::<(), causalgrad::data::DataError>(())
    /// ```
    pub fn to_categorical(mut self, name: &str) -> Result<Dataset, DataError> {
        let position = self.position(name)?;
        if self.labels[position].is_some() {
            return Ok(self);
        }
        let column = &mut self.columns[position];
        let mut distinct: Vec<f64> = column.iter().map(|v| v + 0.0).collect();
        distinct.sort_unstable_by(f64::total_cmp);
        distinct.dedup();
        for value in column.iter_mut() {
            // Every value is among the distinct ones.
            let code = distinct
                .binary_search_by(|probe| probe.total_cmp(&(*value + 0.0)))
                .unwrap_or_default();
            *value = code as f64;
        }
        self.labels[position] = Some(distinct.into_iter().map(number_label).collect());
        Ok(self)
    }
}
