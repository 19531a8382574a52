//! Reading CSV: streaming rows into columns, numeric or categorical (the
//! rules are in the [module docs](super)).
//!
//! Each kept column is parsed as its cells stream in, into one `Vec<f64>`.
//! A cell that is not a number is stored in that vector as a NaN whose
//! payload is the index of its text among the column's distinct texts
//! (real NaNs are rejected as they are read, so every NaN in the vector is
//! such a placeholder). A column of numbers therefore costs what it cost
//! before categorical columns existed; a column that turns categorical
//! mid-file keeps its earlier numbers, which are labelled at the end by
//! [`number_label`], when the whole column is known.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;

use super::labels::{number_label, sort_levels};
use super::{DataError, Dataset};

/// More distinct numbers than this in a column...
const GUARD_DISTINCT_NUMBERS: usize = 20;
/// ...with fewer than one non-number in this many rows: typos, not labels.
const GUARD_ROWS_PER_TEXT: usize = 20;

/// Which columns to keep, by name.
type Select<'a> = Box<dyn Fn(&str) -> bool + 'a>;

/// How to read a CSV file: which columns to keep and which to read as
/// categorical whatever their cells look like.
///
/// [`Dataset::from_csv`] and [`Dataset::from_csv_selecting`] are shortcuts
/// for the common cases.
///
/// ```
/// use causalgrad::data::CsvOptions;
///
/// let text = "id,zip,y\nC1,02134,1.5\nC2,10001,2.5\n";
/// let (data, left_out) = CsvOptions::new()
///     .select(|name| name != "id")
///     .categorical(["zip"])
///     .read_str(text)?;
/// assert_eq!(left_out, ["id"]);
/// // Declared categorical: labels are the cells' text, leading zero kept.
/// assert_eq!(data.labels("zip")?, Some(&["02134".to_string(), "10001".to_string()][..]));
/// assert_eq!(data.column("zip")?, [0.0, 1.0]);
/// # Ok::<(), causalgrad::data::DataError>(())
/// ```
#[derive(Default)]
pub struct CsvOptions<'a> {
    keep: Option<Select<'a>>,
    categorical: Vec<String>,
    numeric: Vec<String>,
}

impl std::fmt::Debug for CsvOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvOptions")
            .field("select", &self.keep.as_ref().map(|_| "<fn>"))
            .field("categorical", &self.categorical)
            .field("numeric", &self.numeric)
            .finish()
    }
}

impl<'a> CsvOptions<'a> {
    /// Every column kept, none declared categorical or numeric.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps only the columns whose names `keep` accepts (a model's
    /// variables): the other columns' cells are never parsed, and their
    /// names come back beside the data.
    pub fn select(mut self, keep: impl Fn(&str) -> bool + 'a) -> Self {
        self.keep = Some(Box::new(keep));
        self
    }

    /// Declares columns categorical: every cell is a label, kept as
    /// written (trimmed), and the typo guard does not apply. Names the file
    /// does not have (or that [`CsvOptions::select`] leaves out) are
    /// ignored. May be called more than once.
    pub fn categorical<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.categorical.extend(names.into_iter().map(Into::into));
        self
    }

    /// Declares columns numeric (variables a model treats as continuous):
    /// their first cell that is not a number is [`DataError::NotNumeric`]
    /// at once, as before categorical columns existed, instead of making
    /// the column categorical. Names also declared categorical are read as
    /// categorical; names the file does not have are ignored. May be called
    /// more than once.
    ///
    /// ```
    /// use causalgrad::data::CsvOptions;
    ///
    /// let text = "x,y\n1,2\n3,oops\n";
    /// let err = CsvOptions::new().numeric(["y"]).read_str(text).unwrap_err();
    /// assert_eq!(err.to_string(), "<csv>: row 2, column `y`: `oops` is not a number");
    /// assert!(CsvOptions::new().read_str(text).is_ok()); // `y` categorical
    /// ```
    pub fn numeric<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.numeric.extend(names.into_iter().map(Into::into));
        self
    }

    /// Reads a CSV file: the kept columns, and the names of the others in
    /// file order.
    pub fn read(&self, path: impl AsRef<Path>) -> Result<(Dataset, Vec<String>), DataError> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.read_reader(file, &path.display().to_string())
    }

    /// Reads CSV text (errors name it `<csv>`).
    pub fn read_str(&self, text: &str) -> Result<(Dataset, Vec<String>), DataError> {
        self.read_reader(text.as_bytes(), "<csv>")
    }

    /// Reads CSV from any reader; `source_name` names it in errors.
    pub fn read_reader(
        &self,
        reader: impl std::io::Read,
        source_name: &str,
    ) -> Result<(Dataset, Vec<String>), DataError> {
        let keep: &dyn Fn(&str) -> bool = match &self.keep {
            Some(keep) => keep.as_ref(),
            None => &|_| true,
        };
        read_csv(reader, source_name, keep, &self.categorical, &self.numeric)
    }
}

impl Dataset {
    /// Reads a CSV file with a header line.
    pub fn from_csv(path: impl AsRef<Path>) -> Result<Self, DataError> {
        Ok(CsvOptions::new().read(path)?.0)
    }

    /// Reads CSV text with a header line (errors name it `<csv>`).
    pub fn from_csv_str(text: &str) -> Result<Self, DataError> {
        Self::from_csv_reader(text.as_bytes(), "<csv>")
    }

    /// Reads CSV from any reader; `source_name` names it in errors. A
    /// leading byte-order mark is skipped and an index column dropped (see
    /// the [module docs](super)).
    pub fn from_csv_reader(
        reader: impl std::io::Read,
        source_name: &str,
    ) -> Result<Self, DataError> {
        Ok(CsvOptions::new().read_reader(reader, source_name)?.0)
    }

    /// Reads a CSV file keeping only the columns whose names `keep` accepts
    /// (a model's variables): the other columns' cells are never parsed,
    /// so an id column costs nothing. Returns the data and the
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
    /// // Read, `id` is a categorical column with a label per row.
    /// assert_eq!(Dataset::from_csv(&path)?.labels("id")?.map(<[String]>::len), Some(2));
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_csv_selecting(
        path: impl AsRef<Path>,
        keep: impl Fn(&str) -> bool,
    ) -> Result<(Self, Vec<String>), DataError> {
        CsvOptions::new().select(keep).read(path)
    }
}

/// The CSV reader behind the constructors: the kept columns, and the
/// names of the others.
fn read_csv(
    reader: impl std::io::Read,
    source_name: &str,
    keep: &dyn Fn(&str) -> bool,
    categorical: &[String],
    numeric: &[String],
) -> Result<(Dataset, Vec<String>), DataError> {
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
    let mut csv = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(::csv::Trim::All)
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
    let mut columns: Vec<Column> = names
        .iter()
        .zip(&kept)
        .filter(|(_, &kept)| kept)
        .map(|(name, _)| {
            Column::new(if categorical.contains(name) {
                Kind::Categorical
            } else if numeric.contains(name) {
                Kind::Numeric
            } else {
                Kind::Detect
            })
        })
        .collect();
    let mut record = ::csv::StringRecord::new();
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
            if let Err(problem) = column.push(cell, row) {
                return Err(problem.into_error(source, row, name, cell));
            }
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
    let mut values = Vec::with_capacity(columns.len());
    let mut labels = Vec::with_capacity(columns.len());
    for (column, name) in columns.into_iter().zip(&kept_names) {
        let (v, l) = column.finish(&source, name, rows)?;
        values.push(v);
        labels.push(l);
    }
    Ok((
        Dataset::build_labelled(source, kept_names, values, labels)?,
        left_out,
    ))
}

/// Why a cell was refused (turned into a [`DataError`] by the caller, who
/// knows the names: the hot path allocates nothing).
enum Refused {
    Empty,
    /// Not a number where one is needed (declared numeric, or spanning
    /// lines, which no label may).
    NotNumber,
    OutOfRange,
    NotFinite(f64),
}

impl Refused {
    fn into_error(self, source_name: String, row: usize, column: &str, cell: &str) -> DataError {
        let column = column.to_string();
        match self {
            Refused::Empty => DataError::EmptyCell {
                source_name,
                row,
                column,
            },
            Refused::NotNumber => DataError::NotNumeric {
                source_name,
                row,
                column,
                value: cell.to_string(),
                hint: if cell.contains(['\n', '\r']) {
                    "; a quote is probably not closed".to_string()
                } else {
                    String::new()
                },
            },
            Refused::OutOfRange => DataError::OutOfRange {
                source_name,
                row,
                column,
                value: cell.to_string(),
            },
            Refused::NotFinite(value) => DataError::NotFinite {
                source_name,
                row,
                column,
                value,
            },
        }
    }
}

/// How a column's cells are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Numeric unless a cell is not a number (and the typo guard agrees).
    Detect,
    /// Declared numeric: a non-number is an error.
    Numeric,
    /// Declared categorical: every cell is a label.
    Categorical,
}

/// The quiet NaN whose payload holds a text's index.
const TEXT_TAG: u64 = 0x7ff8_0000_0000_0000;
const TEXT_INDEX: u64 = (1 << 51) - 1;

/// One kept column as it is read.
struct Column {
    /// Numbers, and NaN placeholders for texts (see the module docs).
    values: Vec<f64>,
    /// Declared categorical (every cell is text), declared numeric (no
    /// cell is), or neither.
    kind: Kind,
    /// Each distinct text and its index, in the order first seen.
    texts: HashMap<String, u64>,
    /// Cells that were texts.
    text_cells: usize,
    /// The first text and its row, for the typo guard's error.
    first_text: Option<(usize, String)>,
}

impl Column {
    fn new(kind: Kind) -> Self {
        Column {
            values: Vec::new(),
            kind,
            texts: HashMap::new(),
            text_cells: 0,
            first_text: None,
        }
    }

    /// Parses and stores one (trimmed) cell.
    #[inline]
    fn push(&mut self, cell: &str, row: usize) -> Result<(), Refused> {
        if cell.is_empty() {
            return Err(Refused::Empty);
        }
        match cell.parse::<f64>() {
            Ok(value) if value.is_finite() => {
                if self.kind == Kind::Categorical {
                    self.push_text(cell, row);
                } else {
                    self.values.push(value);
                }
                Ok(())
            }
            Ok(value) if value.is_infinite() && !cell.to_ascii_lowercase().contains("inf") => {
                Err(Refused::OutOfRange)
            }
            Ok(value) => Err(Refused::NotFinite(value)),
            Err(_) if self.kind == Kind::Numeric || cell.contains(['\n', '\r']) => {
                Err(Refused::NotNumber)
            }
            Err(_) => {
                self.push_text(cell, row);
                Ok(())
            }
        }
    }

    fn push_text(&mut self, cell: &str, row: usize) {
        let next = self.texts.len() as u64;
        let index = match self.texts.get(cell) {
            Some(&index) => index,
            None => {
                self.texts.insert(cell.to_string(), next);
                next
            }
        };
        self.text_cells += 1;
        if self.first_text.is_none() {
            self.first_text = Some((row, cell.to_string()));
        }
        self.values.push(f64::from_bits(TEXT_TAG | index));
    }

    /// The column's values and, when categorical, its sorted labels (the
    /// values then being codes into them); the typo guard's error when it
    /// applies.
    fn finish(
        self,
        source: &str,
        name: &str,
        rows: usize,
    ) -> Result<(Vec<f64>, Option<Vec<String>>), DataError> {
        let Column {
            mut values,
            kind,
            texts,
            text_cells,
            first_text,
        } = self;
        let declared = kind == Kind::Categorical;
        if texts.is_empty() && !declared {
            return Ok((values, None));
        }
        // Distinct numbers (-0 and 0 are one), in no particular order.
        let mut numbers = HashSet::new();
        for &value in values.iter().filter(|v| !v.is_nan()) {
            numbers.insert(canonical_bits(value));
        }
        if !declared
            && numbers.len() > GUARD_DISTINCT_NUMBERS
            && text_cells * GUARD_ROWS_PER_TEXT < rows
        {
            let (row, value) = first_text.unwrap_or_default();
            return Err(DataError::NotNumeric {
                source_name: source.to_string(),
                row,
                column: name.to_string(),
                value,
                hint: format!(
                    "; the column has {} distinct numbers and only {text_cells} of its {rows} cells \
                     are not numbers, so they look like typos: fix them, or declare `{name}` \
                     categorical if it is",
                    numbers.len(),
                ),
            });
        }
        enum Origin {
            Text(u64),
            Number(u64),
        }
        let levels: Vec<(String, Origin)> = texts
            .into_iter()
            .map(|(text, index)| (text, Origin::Text(index)))
            .chain(
                numbers
                    .into_iter()
                    .map(|bits| (number_label(f64::from_bits(bits)), Origin::Number(bits))),
            )
            .collect();
        let levels = sort_levels(levels);
        let mut text_code = vec![0.0; levels.len()];
        let mut number_code = HashMap::new();
        for (code, (_, origin)) in levels.iter().enumerate() {
            match *origin {
                Origin::Text(index) => text_code[index as usize] = code as f64,
                Origin::Number(bits) => {
                    number_code.insert(bits, code as f64);
                }
            }
        }
        for value in &mut values {
            *value = if value.is_nan() {
                text_code[(value.to_bits() & TEXT_INDEX) as usize]
            } else {
                number_code[&canonical_bits(*value)]
            };
        }
        let labels = levels.into_iter().map(|(label, _)| label).collect();
        Ok((values, Some(labels)))
    }
}

/// A number's bits, with -0 as 0.
fn canonical_bits(value: f64) -> u64 {
    (value + 0.0).to_bits()
}

fn csv_error(source: &str, row: usize, error: ::csv::Error) -> DataError {
    DataError::Csv {
        source_name: source.to_string(),
        row,
        message: error.to_string(),
    }
}
