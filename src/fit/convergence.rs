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

/// The learning-rate factor after the evaluations `values` (in order) under
/// [`FitConfig::with_plateau_decay`](crate::fit::FitConfig::with_plateau_decay)`(factor, evaluations)`:
/// `factor` to the power of the number of times `evaluations` evaluations
/// in a row did not improve on the best value so far. It is a function of
/// the evaluation history alone, so a resumed fit finds it again.
///
/// ```
/// use causalgrad::fit::plateau_factor;
///
/// let values = [3.0, 2.0, 2.5, 2.4, 2.1, 1.0, 1.5];
/// assert_eq!(plateau_factor(values.iter().copied(), 0.5, 3), 0.5);
/// assert_eq!(plateau_factor(values.iter().copied(), 0.5, 1), 0.0625);
/// ```
pub fn plateau_factor(
    values: impl IntoIterator<Item = f64>,
    factor: f64,
    evaluations: usize,
) -> f64 {
    let mut best = f64::INFINITY;
    let mut since = 0;
    let mut scale = 1.0;
    for value in values {
        if value < best {
            best = value;
            since = 0;
        } else {
            since += 1;
            if since % evaluations.max(1) == 0 {
                scale *= factor;
            }
        }
    }
    scale
}

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
