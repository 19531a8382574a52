//! What a command prints, and writing files atomically: a temporary file
//! in the destination's directory renamed over it only once complete, so a
//! failed command never leaves a partial output behind.

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

/// Writes `data` as CSV (a header line, then one line per row).
pub fn write_csv(path: &Path, data: &Dataset) -> Result<(), CliError> {
    write_atomically(path, |out| {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(data.names())?;
        let columns: Vec<&[f64]> = data
            .names()
            .iter()
            .map(|name| data.column(name).expect("the data set's own column"))
            .collect();
        let mut record = Vec::with_capacity(columns.len());
        for row in 0..data.n_rows() {
            record.clear();
            record.extend(columns.iter().map(|column| column[row].to_string()));
            csv.write_record(&record)?;
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
}
