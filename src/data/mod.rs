//! Data sets: named numeric columns, read from CSV or built from arrays.
//!
//! Every value is checked when it enters: a missing, unnamed or repeated
//! header column, a non-numeric or empty cell, NaN or infinity, a number
//! beyond `f64` (`1e400`), a row of the wrong length or an empty file is a
//! [`DataError`] naming the file, the row and the column. Names and cells
//! are trimmed of surrounding whitespace (quoted or not), a UTF-8
//! byte-order mark (as Excel and `to_csv(encoding="utf-8-sig")` write it)
//! is skipped, CRLF line ends are accepted, and blank lines are skipped.
//! No input makes the loader panic (`tests/fuzz_parsers.rs`).
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
//! # Ok::<(), causalgrad::data::DataError>(())
//! ```

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Errors reading or using a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
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
    /// A cell is not a number.
    #[error("{source_name}: row {row}, column `{column}`: `{}` is not a number{}", shown(.value), if .value.contains('\n') { "; a quote is probably not closed" } else { "" })]
    NotNumeric {
        /// The file (or `<csv>`).
        source_name: String,
        /// 1-based data row.
        row: usize,
        /// The column's name.
        column: String,
        /// The cell's text.
        value: String,
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
}

/// A table of finite `f64` values in named columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    source: String,
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
    index: HashMap<String, usize>,
}

impl Dataset {
    /// Builds a data set from named columns of equal length.
    pub fn from_columns<S: Into<String>>(
        columns: impl IntoIterator<Item = (S, Vec<f64>)>,
    ) -> Result<Self, DataError> {
        let (names, columns): (Vec<String>, Vec<Vec<f64>>) =
            columns.into_iter().map(|(n, c)| (n.into(), c)).unzip();
        Self::build("<columns>".to_string(), names, columns)
    }

    /// Builds a data set from an `ndarray` with one column per name.
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

    /// Reads a CSV file with a header line.
    pub fn from_csv(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_csv_reader(file, &path.display().to_string())
    }

    /// Reads CSV text with a header line (errors name it `<csv>`).
    pub fn from_csv_str(text: &str) -> Result<Self, DataError> {
        Self::from_csv_reader(text.as_bytes(), "<csv>")
    }

    /// Reads CSV from any reader; `source_name` names it in errors. A
    /// leading byte-order mark is skipped and an index column dropped (see
    /// the [module docs](self)).
    pub fn from_csv_reader(
        reader: impl std::io::Read,
        source_name: &str,
    ) -> Result<Self, DataError> {
        Ok(Self::read_csv(reader, source_name, &|_| true)?.0)
    }

    /// Reads a CSV file keeping only the columns whose names `keep` accepts
    /// (a model's variables): the other columns' cells are never parsed,
    /// so an id or a label column does no harm. Returns the data and the
    /// names of the columns left out, in file order. The header is checked
    /// as a whole (empty and repeated names are errors either way).
    ///
    /// ```
    /// use causalgrad::data::Dataset;
    ///
    /// let path = std::env::temp_dir().join("causalgrad-doc-selecting.csv");
    /// std::fs::write(&path, "id,x,y\nC001,1,2\nC002,3,4\n")?;
    /// let (data, left_out) = Dataset::from_csv_selecting(&path, |name| name != "id")?;
    /// assert_eq!(data.names(), ["x", "y"]);
    /// assert_eq!(left_out, ["id"]);
    /// assert!(Dataset::from_csv(&path).is_err()); // `C001` is not a number
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_csv_selecting(
        path: impl AsRef<Path>,
        keep: impl Fn(&str) -> bool,
    ) -> Result<(Self, Vec<String>), DataError> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::read_csv(file, &path.display().to_string(), &keep)
    }

    /// The CSV reader behind the constructors: the kept columns, and the
    /// names of the others.
    fn read_csv(
        reader: impl std::io::Read,
        source_name: &str,
        keep: &dyn Fn(&str) -> bool,
    ) -> Result<(Self, Vec<String>), DataError> {
        let source = source_name.to_string();
        let mut reader = std::io::BufReader::new(reader);
        match reader.fill_buf() {
            Ok(start) if start.starts_with(b"\xef\xbb\xbf") => reader.consume(3),
            Ok(_) => {}
            Err(error) => {
                return Err(DataError::Csv {
                    source_name: source,
                    row: 0,
                    message: error.to_string(),
                })
            }
        }
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(reader);
        let header: Vec<String> = match csv.headers() {
            Ok(headers) => headers.iter().map(str::to_string).collect(),
            Err(error) => return Err(csv_error(&source, 0, error)),
        };
        if header.is_empty() || header.iter().all(String::is_empty) {
            return Err(DataError::Empty {
                source_name: source,
            });
        }
        // pandas' index column: dropped, its cells never read.
        let skip = usize::from(header.len() > 1 && matches!(header[0].as_str(), "" | "Unnamed: 0"));
        let names = header[skip..].to_vec();
        if let Some(position) = names.iter().position(String::is_empty) {
            return Err(DataError::UnnamedColumn {
                source_name: source,
                column: skip + position + 1,
            });
        }
        let mut seen = HashMap::new();
        for (position, name) in names.iter().enumerate() {
            if let Some(first) = seen.insert(name, skip + position + 1) {
                return Err(DataError::DuplicateColumn {
                    source_name: source,
                    column: name.clone(),
                    first,
                    second: skip + position + 1,
                });
            }
        }
        // One record buffer for every row: rows are parsed as they stream
        // in, and only the parsed columns are kept.
        let kept: Vec<bool> = names.iter().map(|name| keep(name)).collect();
        let mut columns = vec![Vec::new(); kept.iter().filter(|&&k| k).count()];
        let mut record = csv::StringRecord::new();
        let mut rows = 0;
        for row in 1.. {
            match csv.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => return Err(csv_error(&source, row, error)),
            }
            if record.len() != header.len() {
                return Err(DataError::Ragged {
                    source_name: source,
                    row,
                    expected: header.len(),
                    found: record.len(),
                });
            }
            let cells = record.iter().skip(skip).zip(&names).zip(&kept);
            let kept_cells = cells.filter_map(|(cell, &kept)| kept.then_some(cell));
            for ((cell, name), column) in kept_cells.zip(&mut columns) {
                column.push(parse_cell(cell, &source, row, name)?);
            }
            rows = row;
        }
        if rows == 0 {
            return Err(DataError::Empty {
                source_name: source,
            });
        }
        let (mut kept_names, mut left_out) = (Vec::new(), Vec::new());
        for (name, kept) in names.into_iter().zip(kept) {
            if kept {
                kept_names.push(name);
            } else {
                left_out.push(name);
            }
        }
        Ok((Self::build(source, kept_names, columns)?, left_out))
    }

    fn build(
        source: String,
        names: Vec<String>,
        columns: Vec<Vec<f64>>,
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

    /// The values of a column, or [`DataError::MissingColumn`].
    pub fn column(&self, name: &str) -> Result<&[f64], DataError> {
        self.index
            .get(name)
            .map(|&position| self.columns[position].as_slice())
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

    /// The rows at `rows`, in that order.
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
            index: self.index.clone(),
        }
    }

    /// Splits the rows at random into (train, validation), with
    /// `validation_fraction` of them (rounded) in the second part.
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

/// A cell's number; NaN and infinity are left for [`Dataset::build`] to
/// reject, a finite spelling that overflows is [`DataError::OutOfRange`].
fn parse_cell(cell: &str, source: &str, row: usize, column: &str) -> Result<f64, DataError> {
    let (source_name, column) = (source.to_string(), column.to_string());
    if cell.is_empty() {
        return Err(DataError::EmptyCell {
            source_name,
            row,
            column,
        });
    }
    match cell.parse::<f64>() {
        Err(_) => Err(DataError::NotNumeric {
            source_name,
            row,
            column,
            value: cell.to_string(),
        }),
        Ok(value) if value.is_infinite() && !cell.to_ascii_lowercase().contains("inf") => {
            Err(DataError::OutOfRange {
                source_name,
                row,
                column,
                value: cell.to_string(),
            })
        }
        Ok(value) => Ok(value),
    }
}

fn csv_error(source: &str, row: usize, error: csv::Error) -> DataError {
    DataError::Csv {
        source_name: source.to_string(),
        row,
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_input_is_a_located_error() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("x,y\n", "empty"),
            ("x,y\n1,2\n3\n", "row 2 has 1 cells but the header names 2"),
            ("x,y\n1,abc\n", "row 1, column `y`: `abc` is not a number"),
            (
                "x,y\n1,inf\n",
                "row 1, column `y`: inf is not a finite number",
            ),
            (
                "x,y,x\n1,2,3\n",
                "the column `x` appears twice in the header, as columns 1 and 3",
            ),
            (",x,x\n0,1,2\n", "as columns 2 and 3"),
            ("i,x,\n0,1,2\n", "<csv>: the header's column 3 has no name"),
            ("x,y\n1,\n", "row 1, column `y`: the cell is empty"),
            ("x\n-1e400\n", "row 1, column `x`: `-1e400` is too large"),
            ("x,,z\n1,2,3\n", "<csv>: the header's column 2 has no name"),
        ];
        for (text, expected) in cases {
            let err = Dataset::from_csv_str(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn byte_order_marks_crlf_quotes_and_index_columns() {
        let expected = Dataset::from_csv_str("a,b\n1,2\n3,4\n").unwrap();
        for text in [
            "\u{feff}\"a\",\"b\"\r\n1,2\r\n3,4\r\n",
            ",a,b\n0,1,2\n1,3,4\n",
            "\"\",a,b\nrow one,1,2\nrow two,3,4\n",
            "Unnamed: 0,a,b\n0,1,2\n1,3,4\n",
        ] {
            let data = Dataset::from_csv_str(text).unwrap();
            assert_eq!(
                (data.names(), data.column("b").unwrap()),
                (expected.names(), expected.column("b").unwrap()),
                "{text:?}"
            );
        }
        let err = Dataset::from_csv_str(",a\n0,1\n1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("row 2 has 1 cells but the header names 2"),
            "{err}"
        );
    }

    #[test]
    fn columns_arrays_and_missing_names() {
        let array = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
        let data = Dataset::from_array(&["a", "b"], &array).unwrap();
        assert_eq!(data.column("b").unwrap(), [2.0, 4.0]);
        let err = data.column("c").unwrap_err().to_string();
        assert!(
            err.contains("no column `c`") && err.contains("a, b"),
            "{err}"
        );
        assert!(matches!(
            Dataset::from_array(&["a"], &array),
            Err(DataError::Shape {
                names: 1,
                columns: 2
            })
        ));
        let nan = ndarray::array![[1.0], [f64::NAN]];
        let err = Dataset::from_array(&["a"], &nan).unwrap_err().to_string();
        assert!(err.contains("<array>: row 2, column `a`"), "{err}");
    }

    #[test]
    fn missing_files_name_the_path() {
        let err = Dataset::from_csv("/nonexistent/train.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/train.csv"), "{err}");
    }
}
