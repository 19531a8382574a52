//! Reading criterion's estimates (`<group>/<function>/<parameter>/new/estimates.json`).

use std::path::{Path, PathBuf};

/// An error reading a benchmark result.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A result file that is not there: the benchmark has not been run.
    #[error("{}: not found; run `cargo bench --bench {bench}` first", .path.display())]
    Missing {
        /// The file.
        path: PathBuf,
        /// The benchmark that writes it.
        bench: &'static str,
    },
    /// A result file that cannot be read or parsed.
    #[error("{}: {message}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The figure could not be drawn or written.
    #[error("{}: {message}", .path.display())]
    Plot {
        /// The figure's path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

#[derive(serde::Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(serde::Deserialize)]
struct Estimate {
    point_estimate: f64,
}

/// The median time of one iteration, in milliseconds, of benchmark
/// `group/function/parameter` of `bench` under `criterion` (criterion's
/// output folder).
pub fn mean_ms(
    criterion: &Path,
    bench: &'static str,
    group: &str,
    function: &str,
    parameter: usize,
) -> Result<f64, ReportError> {
    let path = criterion
        .join(group)
        .join(function)
        .join(parameter.to_string())
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => ReportError::Missing {
            path: path.clone(),
            bench,
        },
        _ => ReportError::Unreadable {
            path: path.clone(),
            message: error.to_string(),
        },
    })?;
    let estimates: Estimates =
        serde_json::from_str(&text).map_err(|error| ReportError::Unreadable {
            path: path.clone(),
            message: error.to_string(),
        })?;
    Ok(estimates.median.point_estimate / 1e6)
}
