//! Data sets: named columns of numbers or of categories, read from CSV or
//! built from arrays.
//!
//! A [`Dataset`] holds finite `f64` columns of equal length. A column is
//! either **numeric** or **categorical**: a categorical column holds the
//! integer codes `0..L` (as `f64`), each an index into the column's list
//! of `L` labels ([`Dataset::labels`]). Models read every column through
//! [`Dataset::column`], so a categorical column reaches them as its codes;
//! the labels travel with the data (through [`Dataset::take_rows`],
//! [`Dataset::split`], [`Dataset::head`]) and come back out when it is
//! written (the CLI's `write_csv`).
//!
//! Every value is checked when it enters: a missing, unnamed or repeated
//! header column, an empty cell, NaN or infinity, a number beyond `f64`
//! (`1e400`), a row of the wrong length or an empty file is a
//! [`DataError`] naming the file, the row and the column. Names and cells
//! are trimmed of surrounding whitespace (quoted or not), a UTF-8
//! byte-order mark (as Excel and `to_csv(encoding="utf-8-sig")` write it)
//! is skipped, CRLF line ends are accepted, and blank lines are skipped.
//! No input makes the loader panic (`tests/fuzz_parsers.rs`).
//!
//! **Categorical columns in CSV.** A column whose cells are all numbers is
//! numeric. A column with a cell that is not a number (`red`, `treated`)
//! is categorical, and its distinct cells are its labels, with two
//! exceptions:
//!
//! - *The typo guard.* A column with more than 20 distinct numbers whose
//!   other cells are under 5% of its rows is taken for a numeric column
//!   with typos (`1.5`, `2.25`, `2..5`): it is [`DataError::NotNumeric`]
//!   for its first non-number, and the message says how to declare the
//!   column categorical if it is one.
//! - *Missing values stay errors.* An empty cell is
//!   [`DataError::EmptyCell`]; `NaN`, `inf` and their spellings are
//!   [`DataError::NotFinite`]; a cell spanning lines is
//!   [`DataError::NotNumeric`] (its quote is probably not closed), in
//!   every column.
//!
//! In a detected categorical column a cell that is a number is labelled by
//! its value's shortest form ([`number_label`]: `1`, `1.0` and `01` are all
//! the label `1`), as [`Dataset::to_categorical`] and
//! [`Dataset::with_levels`] label numbers. A column declared categorical
//! with [`CsvOptions::categorical`] keeps every cell's text as written
//! (`007` stays `007`), and the typo guard does not apply to it. A column
//! declared numeric with [`CsvOptions::numeric`] (a variable a model
//! treats as continuous) never turns categorical: its first non-number is
//! [`DataError::NotNumeric`].
//!
//! **Level order.** The labels of a column read from CSV are sorted, so two
//! files with the same labels give the same codes whatever the order of
//! their rows: labels that are numbers come first, by value (`2` before
//! `10`), then the others in lexicographic (byte) order (`blue`, `green`,
//! `red`). Numbers are ordered by value so that a column of numbers read
//! as categorical has the codes [`Dataset::to_categorical`] gives it. Use
//! [`Dataset::with_levels`] to impose another order, such as a fitted
//! model's.
//!
//! [`guide`] walks through these rules with examples.
//!
//! Reading stays streaming: a numeric column keeps only its numbers, and a
//! categorical one its codes and one copy of each distinct label.
//!
//! **Index columns.** When the first header cell is empty or is exactly
//! `Unnamed: 0`, the first column is a row index, as pandas'
//! `df.to_csv()` writes it (and as `pd.read_csv` names it when such a file
//! is read and written again): it is dropped, and its cells are not read,
//! so string or date indices do no harm. Any other empty header cell is
//! [`DataError::UnnamedColumn`].
//!
//! ```
//! use causalgrad::data::Dataset;
//!
//! let data = Dataset::from_csv_str("x,y\n1.0,2.0\n3.0,4.5\n")?;
//! assert_eq!(data.column("y")?, [2.0, 4.5]);
//! let bad = Dataset::from_csv_str("x,y\n1.0,NaN\n").unwrap_err();
//! assert_eq!(bad.to_string(), "<csv>: row 1, column `y`: NaN is not a finite number; remove or impute the row");
//!
//! let data = Dataset::from_csv_str("color,y\nred,1\nblue,2\nred,3\n")?;
//! assert_eq!(data.labels("color")?, Some(&["blue".to_string(), "red".to_string()][..]));
//! assert_eq!(data.column("color")?, [1.0, 0.0, 1.0]); // codes into the labels
//! assert_eq!(data.labels("y")?, None); // numeric
//! # Ok::<(), causalgrad::data::DataError>(())
//! ```

use std::collections::HashMap;

mod csv;
mod labels;

pub use self::csv::CsvOptions;
pub use self::labels::number_label;

/// A guide to data sets with categorical columns (`docs/data.md`).
#[doc = include_str!("../../docs/data.md")]
pub mod guide {}

/// Errors reading or using a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file has no header or no rows.
    #[error("{source_name}: the file is empty; a header line naming the columns and at least one row are required")]
    Empty {
        /// The file (or `<csv>`).
        source_name: String,
    },
    /// A row has another number of cells than the header.
    #[error("{source_name}: row {row} has {found} cells but the header names {expected} columns")]
    Ragged {
        /// The file (or `<csv>`).
        source_name: String,
        /// 1-based data row (the header is row 0).
        row: usize,
        /// Cells in the header.
        expected: usize,
        /// Cells in this row.
        found: usize,
    },
    /// A cell is not a number where one is needed: a typo in a numeric
    /// column (see the typo guard in the [module docs](self)), or a cell
    /// spanning lines (a quote not closed). `hint` says which.
    #[error("{source_name}: row {row}, column `{column}`: `{}` is not a number{hint}", shown(.value))]
    NotNumeric {
        /// The file (or `<csv>`).
        source_name: String,
        /// 1-based data row.
        row: usize,
        /// The column's name.
        column: String,
        /// The cell's text.
        value: String,
        /// The end of the message: why the cell is not a label, and what
        /// to do (empty when there is nothing to add).
        hint: String,
    },
    /// A cell is empty.
    #[error(
        "{source_name}: row {row}, column `{column}`: the cell is empty; remove or impute the row"
    )]
    EmptyCell {
        /// The file (or `<csv>`).
        source_name: String,
        /// 1-based data row.
        row: usize,
        /// The column's name.
        column: String,
    },
    /// A cell is a number too large for `f64` (e.g. `1e400`).
    #[error(
        "{source_name}: row {row}, column `{column}`: `{}` is too large for a 64-bit float", shown(.value)
    )]
    OutOfRange {
        /// The file (or `<csv>`).
        source_name: String,
        /// 1-based data row.
        row: usize,
        /// The column's name.
        column: String,
        /// The cell's text.
        value: String,
    },
    /// A column of the header has no name.
    #[error("{source_name}: the header's column {column} has no name; name every column")]
    UnnamedColumn {
        /// The file (or `<csv>`).
        source_name: String,
        /// 1-based column.
        column: usize,
    },
    /// A cell is NaN or infinite.
    #[error("{source_name}: row {row}, column `{column}`: {value} is not a finite number; remove or impute the row")]
    NotFinite {
        /// The file (or `<csv>`, `<array>`).
        source_name: String,
        /// 1-based data row.
        row: usize,
        /// The column's name.
        column: String,
        /// The value.
        value: f64,
    },
    /// Two columns have the same name.
    #[error("{source_name}: the column `{column}` appears twice in the header, as columns {first} and {second}; rename one of them")]
    DuplicateColumn {
        /// The file (or `<csv>`, `<array>`).
        source_name: String,
        /// The repeated name.
        column: String,
        /// 1-based position of its first appearance (in the file, counting
        /// a dropped index column).
        first: usize,
        /// 1-based position of its second appearance.
        second: usize,
    },
    /// A column the caller needs is not there.
    #[error("{source_name}: no column `{column}`; the columns are: {}", .available.join(", "))]
    MissingColumn {
        /// The file (or `<csv>`, `<array>`).
        source_name: String,
        /// The missing name.
        column: String,
        /// The columns there are.
        available: Vec<String>,
    },
    /// Names and array columns disagree.
    #[error("{names} column names for an array with {columns} columns")]
    Shape {
        /// How many names were given.
        names: usize,
        /// How many columns the array has.
        columns: usize,
    },
    /// A malformed CSV record (e.g. an unterminated quote).
    #[error("{source_name}: row {row}: {message}")]
    Csv {
        /// The file (or `<csv>`).
        source_name: String,
        /// 1-based data row.
        row: usize,
        /// The CSV reader's message.
        message: String,
    },
    /// A row's label is not one of the levels it must be coded by
    /// ([`Dataset::with_levels`]).
    #[error("{source_name}: row {row}, column `{column}`: the label `{}` is not one of the column's {} levels: {}", shown(.label), .levels.len(), listed(.levels))]
    UnknownLabel {
        /// Where the data came from.
        source_name: String,
        /// 1-based data row (its first row with this label).
        row: usize,
        /// The column's name.
        column: String,
        /// The row's label.
        label: String,
        /// The levels it should be one of.
        levels: Vec<String>,
    },
    /// A label asked for by name is not a level of the column
    /// ([`Dataset::code_of`]). Unlike [`DataError::UnknownLabel`] no row
    /// holds it.
    #[error("{source_name}: column `{column}` has no level `{}`; its {} levels are: {}", shown(.label), .levels.len(), listed(.levels))]
    UnknownLevel {
        /// Where the data came from.
        source_name: String,
        /// The column's name.
        column: String,
        /// The label asked for.
        label: String,
        /// The column's levels.
        levels: Vec<String>,
    },
    /// A categorical operation on a numeric column ([`Dataset::code_of`]).
    #[error("{source_name}: column `{column}` is numeric, not categorical; it has no levels (make it categorical with `to_categorical`, `with_labels` or `with_levels`)")]
    NotCategorical {
        /// Where the data came from.
        source_name: String,
        /// The column's name.
        column: String,
    },
    /// A value of a column being labelled is not a code of its labels
    /// ([`Dataset::with_labels`]).
    #[error("{source_name}: row {row}, column `{column}`: {value} is not a code of its {labels} labels (an integer from 0 to {})", .labels.saturating_sub(1))]
    NotACode {
        /// Where the data came from.
        source_name: String,
        /// 1-based data row.
        row: usize,
        /// The column's name.
        column: String,
        /// The value.
        value: f64,
        /// How many labels there are.
        labels: usize,
    },
    /// A label list names a label twice.
    #[error("{source_name}: column `{column}`: the label `{}` is given twice; labels must be distinct", shown(.label))]
    DuplicateLabel {
        /// Where the data came from.
        source_name: String,
        /// The column's name.
        column: String,
        /// The repeated label.
        label: String,
    },
    /// A label that would not read back from CSV as itself: empty,
    /// surrounded by whitespace, spanning lines, or NaN, infinite or too
    /// large as a number.
    #[error("{source_name}: column `{column}`: the label `{}` {problem}", shown(.label))]
    BadLabel {
        /// Where the data came from.
        source_name: String,
        /// The column's name.
        column: String,
        /// The label.
        label: String,
        /// What is wrong with it.
        problem: &'static str,
    },
}

/// A table of finite `f64` values in named columns, each numeric or
/// categorical (see the [module docs](self)).
///
/// Two data sets are equal when their source, names, values and labels
/// are.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    source: String,
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
    /// Per column: its labels when categorical (the values are then codes
    /// into them), `None` when numeric.
    labels: Vec<Option<Vec<String>>>,
    index: HashMap<String, usize>,
}

impl Dataset {
    /// Builds a data set of numeric columns of equal length.
    ///
    /// ```
    /// use causalgrad::data::Dataset;
    ///
    /// let data = Dataset::from_columns([("x", vec![1.0, 2.0]), ("y", vec![0.5, 0.25])])?;
    /// assert_eq!((data.n_rows(), data.names()), (2, &["x".to_string(), "y".to_string()][..]));
    /// # Ok::<(), causalgrad::data::DataError>(())
    /// ```
    pub fn from_columns<S: Into<String>>(
        columns: impl IntoIterator<Item = (S, Vec<f64>)>,
    ) -> Result<Self, DataError> {
        let (names, columns): (Vec<String>, Vec<Vec<f64>>) =
            columns.into_iter().map(|(n, c)| (n.into(), c)).unzip();
        Self::build("<columns>".to_string(), names, columns)
    }

    /// Builds a data set of numeric columns from an `ndarray`, one column
    /// per name.
    pub fn from_array<S: AsRef<str>>(
        names: &[S],
        array: &ndarray::Array2<f64>,
    ) -> Result<Self, DataError> {
        if names.len() != array.ncols() {
            return Err(DataError::Shape {
                names: names.len(),
                columns: array.ncols(),
            });
        }
        let columns = array.columns().into_iter().map(|c| c.to_vec()).collect();
        let names = names.iter().map(|n| n.as_ref().to_string()).collect();
        Self::build("<array>".to_string(), names, columns)
    }

    /// Checks and assembles numeric columns.
    fn build(
        source: String,
        names: Vec<String>,
        columns: Vec<Vec<f64>>,
    ) -> Result<Self, DataError> {
        let labels = vec![None; columns.len()];
        Self::build_labelled(source, names, columns, labels)
    }

    /// Checks and assembles columns with their labels (which the caller has
    /// checked against the codes).
    fn build_labelled(
        source: String,
        names: Vec<String>,
        columns: Vec<Vec<f64>>,
        labels: Vec<Option<Vec<String>>>,
    ) -> Result<Self, DataError> {
        let mut index = HashMap::new();
        for (position, name) in names.iter().enumerate() {
            if let Some(first) = index.insert(name.clone(), position) {
                return Err(DataError::DuplicateColumn {
                    source_name: source,
                    column: name.clone(),
                    first: first + 1,
                    second: position + 1,
                });
            }
        }
        let rows = columns.first().map_or(0, Vec::len);
        for (column, name) in columns.iter().zip(&names) {
            if column.len() != rows {
                return Err(DataError::Ragged {
                    source_name: source,
                    row: rows.min(column.len()) + 1,
                    expected: rows,
                    found: column.len(),
                });
            }
            if let Some((row, value)) = column.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(DataError::NotFinite {
                    source_name: source,
                    row: row + 1,
                    column: name.clone(),
                    value: *value,
                });
            }
        }
        Ok(Dataset {
            source,
            names,
            columns,
            labels,
            index,
        })
    }

    /// Where the data came from (a file name, `<csv>`, `<array>`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The column names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The number of rows.
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    /// The values of a column, or [`DataError::MissingColumn`]. A
    /// categorical column's values are its codes `0.0, 1.0, ..`, indices
    /// into [`Dataset::labels`].
    pub fn column(&self, name: &str) -> Result<&[f64], DataError> {
        self.position(name)
            .map(|position| self.columns[position].as_slice())
    }

    /// The position of a column, or [`DataError::MissingColumn`].
    fn position(&self, name: &str) -> Result<usize, DataError> {
        self.index
            .get(name)
            .copied()
            .ok_or_else(|| DataError::MissingColumn {
                source_name: self.source.clone(),
                column: name.to_string(),
                available: self.names.clone(),
            })
    }

    /// Checks that every name is a column; the first missing one is an error.
    pub fn require<S: AsRef<str>>(
        &self,
        names: impl IntoIterator<Item = S>,
    ) -> Result<(), DataError> {
        for name in names {
            self.column(name.as_ref())?;
        }
        Ok(())
    }

    /// The rows at `rows`, in that order; categorical columns keep their
    /// labels.
    ///
    /// # Panics
    ///
    /// When a row is out of range (a programming error, not bad input).
    pub fn take_rows(&self, rows: &[usize]) -> Dataset {
        let columns = self
            .columns
            .iter()
            .map(|column| rows.iter().map(|&row| column[row]).collect())
            .collect();
        Dataset {
            source: self.source.clone(),
            names: self.names.clone(),
            columns,
            labels: self.labels.clone(),
            index: self.index.clone(),
        }
    }

    /// Splits the rows at random into (train, validation), with
    /// `validation_fraction` of them (rounded) in the second part. Both
    /// keep the labels of categorical columns.
    ///
    /// ```
    /// use causalgrad::data::Dataset;
    ///
    /// let data = Dataset::from_columns([("x", (0..10).map(f64::from).collect())])?;
    /// let (train, valid) = data.split(0.2, 7);
    /// assert_eq!((train.n_rows(), valid.n_rows()), (8, 2));
    /// assert_eq!(data.split(0.2, 7), (train, valid)); // the same seed, the same split
    /// # Ok::<(), causalgrad::data::DataError>(())
    /// ```
    pub fn split(&self, validation_fraction: f64, seed: u64) -> (Dataset, Dataset) {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;

        let n = self.n_rows();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
        let validation = ((n as f64) * validation_fraction.clamp(0.0, 1.0)).round() as usize;
        let (valid, train) = order.split_at(validation);
        let (mut train, mut valid) = (train.to_vec(), valid.to_vec());
        train.sort_unstable();
        valid.sort_unstable();
        (self.take_rows(&train), self.take_rows(&valid))
    }

    /// The first `n` rows (all of them if there are fewer).
    pub fn head(&self, n: usize) -> Dataset {
        let rows: Vec<usize> = (0..n.min(self.n_rows())).collect();
        self.take_rows(&rows)
    }
}

/// A cell's text for a message: escaped, and cut after 40 characters.
fn shown(cell: &str) -> String {
    let escaped: String = cell.chars().flat_map(char::escape_debug).collect();
    match escaped.char_indices().nth(40) {
        Some((end, _)) => format!("{}...", &escaped[..end]),
        None => escaped,
    }
}

/// Levels for a message: the first 20, then how many more.
fn listed(levels: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = levels
        .iter()
        .take(SHOWN)
        .map(|level| shown(level))
        .collect::<Vec<_>>()
        .join(", ");
    if levels.len() > SHOWN {
        text.push_str(&format!(" and {} more", levels.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests;
