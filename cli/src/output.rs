//! What a command prints, and writing files atomically: a temporary file
//! in the destination's directory renamed over it only once complete, so a
//! failed command never leaves a partial output behind.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;

use causalgrad::data::Dataset;
use tempfile::NamedTempFile;

use crate::error::CliError;

/// A command's result: a human-readable text and the same as one JSON object.
pub struct Output {
    /// Printed on stdout without `--json`.
    pub text: String,
    /// Printed on stdout (one line) with `--json`.
    pub json: serde_json::Value,
}

impl Output {
    /// Prints the text, or the JSON object when `json` is set.
    pub fn print(&self, json: bool) {
        if json {
            println!("{}", self.json);
        } else {
            print!("{}", self.text);
        }
    }
}

/// Writes `path` through `write`: to a temporary file beside it, renamed
/// over `path` only when `write` succeeded.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), CliError> {
    let error = |source| CliError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = NamedTempFile::new_in(dir).map_err(error)?;
    {
        let mut writer = BufWriter::new(file.as_file_mut());
        write(&mut writer).map_err(error)?;
        writer.flush().map_err(error)?;
    }
    // Temporary files are private (0600); outputs get the usual 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(error)?;
    }
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

/// Writes `data` as CSV (a header line, then one line per row): numeric
/// columns as numbers (the shortest text that reads back exactly),
/// categorical columns as their labels (quoted by the csv crate where
/// needed: commas, quotes, leading spaces). Read back, the file gives the
/// same values and labels: a categorical column's labels come back sorted
/// (see `causalgrad::data`), so re-code it with `Dataset::with_levels` to
/// keep another order, and a column whose labels are all numbers reads
/// back numeric unless declared with `CsvOptions::categorical`.
pub fn write_csv(path: &Path, data: &Dataset) -> Result<(), CliError> {
    enum Column<'a> {
        Numbers(&'a [f64]),
        Labels(&'a [f64], &'a [String]),
    }
    let columns: Vec<Column> = data
        .names()
        .iter()
        .map(|name| {
            let values = data.column(name).expect("the data set's own column");
            match data.labels(name).expect("the data set's own column") {
                Some(labels) => Column::Labels(values, labels),
                None => Column::Numbers(values),
            }
        })
        .collect();
    write_atomically(path, |out| {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(data.names())?;
        let mut number = String::new();
        for row in 0..data.n_rows() {
            for column in &columns {
                match column {
                    Column::Numbers(values) => {
                        number.clear();
                        write!(number, "{}", values[row]).expect("writing to a String");
                        csv.write_field(&number)?;
                    }
                    // A categorical column's values are codes into its labels.
                    Column::Labels(codes, labels) => {
                        csv.write_field(&labels[codes[row] as usize])?;
                    }
                }
            }
            csv.write_record(None::<&[u8]>)?;
        }
        csv.flush()?;
        Ok(())
    })
}

/// Writes `value` as pretty JSON.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), CliError> {
    write_atomically(path, |out| {
        serde_json::to_writer_pretty(&mut *out, value)?;
        out.write_all(b"\n")
    })
}

/// The mean of a column.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// A column's summary: its mean, or for a categorical column the share of
/// each level (`{"blue": 0.2, "red": 0.8}`), with its text
/// (`mean 1.2500`, `blue 0.2000, red 0.8000`).
pub fn summary(data: &Dataset, name: &str) -> Result<(String, serde_json::Value), CliError> {
    let error = |source| CliError::Data { source };
    let values = data.column(name).map_err(error)?;
    match data.labels(name).map_err(error)? {
        Some(labels) => {
            let shares: Vec<f64> = (0..labels.len())
                .map(|l| values.iter().filter(|&&v| v == l as f64).count() as f64)
                .map(|count| count / values.len().max(1) as f64)
                .collect();
            let text: Vec<String> = labels
                .iter()
                .zip(&shares)
                .map(|(label, share)| format!("{label} {share:.4}"))
                .collect();
            let json = labels
                .iter()
                .cloned()
                .zip(shares.iter().map(|&s| s.into()))
                .collect();
            Ok((text.join(", "), serde_json::Value::Object(json)))
        }
        None => {
            let mean = mean(values);
            Ok((format!("mean {mean:.4}"), mean.into()))
        }
    }
}

/// The change of each summary from `before` to `after`: means, or level
/// shares of a categorical column.
pub fn summary_change(
    before: &Dataset,
    after: &Dataset,
    name: &str,
) -> Result<(String, serde_json::Value), CliError> {
    let (_, a) = summary(before, name)?;
    let (_, b) = summary(after, name)?;
    Ok(match (a, b) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            let deltas: serde_json::Map<String, serde_json::Value> = b
                .iter()
                .map(|(label, share)| {
                    let before = a.get(label).and_then(|v| v.as_f64()).unwrap_or(0.0);
                    (
                        label.clone(),
                        (share.as_f64().unwrap_or(0.0) - before).into(),
                    )
                })
                .collect();
            let text: Vec<String> = deltas
                .iter()
                .map(|(label, d)| format!("{label} {:+.4}", d.as_f64().unwrap_or(0.0)))
                .collect();
            (format!("share change {}", text.join(", ")), deltas.into())
        }
        (a, b) => {
            let delta = b.as_f64().unwrap_or(0.0) - a.as_f64().unwrap_or(0.0);
            (format!("mean change {delta:+.4}"), delta.into())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old").unwrap();
        let err = write_atomically(&path, |out| {
            out.write_all(b"partial")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn csv_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        let data = Dataset::from_columns([("a", vec![1.5, -2.0]), ("b", vec![0.1, 3.0])]).unwrap();
        write_csv(&path, &data).unwrap();
        let back = Dataset::from_csv(&path).unwrap();
        assert_eq!(back.column("a").unwrap(), [1.5, -2.0]);
        assert_eq!(back.column("b").unwrap(), [0.1, 3.0]);
    }

    /// `a` and `b` hold the same columns, values and labels.
    fn assert_same(a: &Dataset, b: &Dataset) {
        assert_eq!(a.names(), b.names());
        for name in a.names() {
            assert_eq!(a.column(name).unwrap(), b.column(name).unwrap(), "{name}");
            assert_eq!(a.labels(name).unwrap(), b.labels(name).unwrap(), "{name}");
        }
    }

    #[test]
    fn categorical_columns_round_trip_as_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.csv");
        // In level order (numbers by value, then text in byte order).
        let labels: Vec<String> = [
            "1",
            "a\"quoted\"",
            "a, b",
            "plain",
            "two words",
            "x,\"y\", z",
            "変数 é",
            "🙂",
        ]
        .map(String::from)
        .into();
        let codes: Vec<f64> = (0..20).map(|i| f64::from(i % 8)).collect();
        let y: Vec<f64> = (0..20).map(|i| f64::from(i) * 0.1 - 1.0).collect();
        let data = Dataset::from_columns([("c", codes.clone()), ("y", y)])
            .unwrap()
            .with_labels("c", labels.clone())
            .unwrap();
        write_csv(&path, &data).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"a, b\""), "{text}");
        assert!(text.contains("\"a\"\"quoted\"\"\""), "{text}");
        let back = Dataset::from_csv(&path).unwrap();
        assert_same(&back, &data);

        // Another level order: the same after re-coding to it.
        let mut reversed = labels.clone();
        reversed.reverse();
        let codes: Vec<f64> = codes.iter().map(|c| 7.0 - c).collect();
        let data = Dataset::from_columns([("c", codes)])
            .unwrap()
            .with_labels("c", reversed.clone())
            .unwrap();
        write_csv(&path, &data).unwrap();
        let back = Dataset::from_csv(&path).unwrap();
        assert_eq!(back.labels("c").unwrap().unwrap(), labels);
        assert_same(&back.with_levels("c", &reversed).unwrap(), &data);

        // Labels that are all numbers: numeric unless declared categorical.
        let data = Dataset::from_columns([("k", vec![10.0, 2.0, 1.0, 2.0])])
            .unwrap()
            .to_categorical("k")
            .unwrap();
        write_csv(&path, &data).unwrap();
        let back = Dataset::from_csv(&path).unwrap();
        assert_eq!(back.column("k").unwrap(), [10.0, 2.0, 1.0, 2.0]);
        let (back, _) = causalgrad::data::CsvOptions::new()
            .categorical(["k"])
            .read(&path)
            .unwrap();
        assert_same(&back, &data);
    }
}
