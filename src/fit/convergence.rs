//! Whether a fit converged: the rule behind `converged` in fit reports.
//!
//! A fit that ran all its steps is *still improving* when its training
//! loss fell by more than [`TOLERANCE`] over the last tenth of the steps
//! (at least [`MIN_WINDOW`] steps), relative to the loss's magnitude (at
//! least 1 nat per row, since a negative log-likelihood can be near zero
//! or negative):
//!
//! `(start − end) / max(|end|, 1) > 1e-3`,
//!
//! where `start` and `end` are the mean losses of the first and last
//! [`SMOOTHING`] steps of that window (mini-batch losses are noisy). A fit
//! stopped early by its validation loss has converged by definition; a fit
//! too short for a window (fewer than `2 · MIN_WINDOW` steps) has not.

/// The relative improvement over the last tenth of the steps above which a
/// fit is still improving.
pub const TOLERANCE: f64 = 1e-3;
/// The shortest window the rule looks at, in steps.
pub const MIN_WINDOW: usize = 20;
/// Steps averaged at each end of the window.
pub const SMOOTHING: usize = 5;

/// Whether the loss curve `losses` (one value per step) was still falling
/// at its end, by the rule above.
///
/// ```
/// use causalgrad::fit::still_improving;
///
/// let falling: Vec<f64> = (0..500).map(|s| 10.0 / (1.0 + s as f64)).collect();
/// assert!(still_improving(&falling));
/// let flat: Vec<f64> = (0..500).map(|s| 1.0 + 0.9f64.powi(s)).collect();
/// assert!(!still_improving(&flat));
/// ```
pub fn still_improving(losses: &[f64]) -> bool {
    let window = (losses.len() / 10).max(MIN_WINDOW);
    if losses.len() < 2 * MIN_WINDOW {
        return true;
    }
    let tail = &losses[losses.len() - window..];
    let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
    let start = mean(&tail[..SMOOTHING]);
    let end = mean(&tail[window - SMOOTHING..]);
    (start - end) / end.abs().max(1.0) > TOLERANCE
}
