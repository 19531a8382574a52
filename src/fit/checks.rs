//! What the data must satisfy before a fit, and the range the loss reads
//! log-scales in.
//!
//! A fit runs in `f32`. The checks turn the inputs that would make the
//! loss non-finite or unbounded into a [`FitError`] naming the variable:
//!
//! - fewer than 2 rows: no noise scale can be estimated;
//! - a value beyond [`MAX_ABS`] in magnitude: squared deviations (and their
//!   sums over up to 10^8 rows) would overflow `f32`;
//! - a variable (not under a hard intervention) that is constant once in
//!   `f32`: its noise scale would shrink to zero and the likelihood grow
//!   without bound. A column that varies only far below its offset (e.g.
//!   `1e8 + u` with `|u| < 1`) is constant in `f32` too.

use super::config::FitError;
use crate::scm::{Intervention, Scm};

/// The largest magnitude a value may have in a fit.
pub(crate) const MAX_ABS: f32 = 1e15;

/// The smallest `ln sigma` the loss reads (`sigma` about `4.2e-18`): each
/// log-scale is clamped from below to it, so that `exp(-ln sigma)` stays
/// finite in `f32` when a variable is exactly determined by its parents and
/// its scale is driven towards zero; there the loss settles instead of
/// becoming NaN. Below the bound the log-scale's gradient is zero. There is
/// no upper bound: a huge log-scale only makes `exp(-ln sigma)` zero, and
/// its gradient (1) brings it back.
pub(crate) const MIN_LOG_SCALE: f32 = -40.0;

/// Checks `columns` (the model's variables, in topological order, as the
/// fit will see them) before a fit.
pub(crate) fn check_columns(scm: &Scm, columns: &[Vec<f32>]) -> Result<(), FitError> {
    let rows = columns.first().map_or(0, Vec::len);
    if rows < 2 {
        return Err(FitError::TooFewRows { rows });
    }
    for (node, column) in scm.nodes().iter().zip(columns) {
        if let Some(row) = column.iter().position(|v| v.abs() > MAX_ABS) {
            return Err(FitError::OutOfRange {
                variable: node.name.clone(),
                row: row + 1,
                value: column[row],
                limit: MAX_ABS,
            });
        }
        let noisy = !matches!(node.intervention, Some(Intervention::Set(_)));
        if noisy && column.iter().all(|&v| v == column[0]) {
            return Err(FitError::Constant {
                variable: node.name.clone(),
                value: column[0],
            });
        }
    }
    Ok(())
}
