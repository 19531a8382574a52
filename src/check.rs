//! Finite-difference gradient checking for your own functions.
//!
//! [`GradCheck`] compares a gradient (from `f::value_and_grad`, or any other
//! source) with central finite differences of the function, component by
//! component, and reports the worst one. The function is seen as a map from
//! a flat `&[f64]` to `f64`; wrap a function of several arguments, or of
//! `f32`, in a closure.
//!
//! ```
//! use causalgrad::check::GradCheck;
//! use causalgrad::differentiable;
//!
//! #[differentiable]
//! fn mechanism(f: f64, g: f64, h: f64, x3: f64, x4: f64) -> f64 {
//!     f * (-g * x3 * x3).exp() + h * x4
//! }
//!
//! let x = [2.0, 0.5, -0.7, 0.3, 1.1];
//! let (_, (df, dg, dh, dx3, dx4)) = mechanism::value_and_grad(x[0], x[1], x[2], x[3], x[4]);
//! let report = GradCheck::f64()
//!     .check(|v| mechanism(v[0], v[1], v[2], v[3], v[4]), &x, &[df, dg, dh, dx3, dx4])
//!     .expect("the generated gradient matches finite differences");
//! assert!(report.worst().rel_error < 1e-6);
//! println!("{report}");
//! ```

use std::fmt;

/// How to compare a gradient with central finite differences.
///
/// Component `i` passes when
/// `|analytic - numeric| <= abs_tol + rel_tol * max(|analytic|, |numeric|)`,
/// where `numeric = (f(x + h e_i) - f(x - h e_i)) / 2h` and
/// `h = step * max(1, |x_i|)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCheck {
    /// Relative finite-difference step.
    pub step: f64,
    /// Relative tolerance.
    pub rel_tol: f64,
    /// Absolute tolerance.
    pub abs_tol: f64,
}

impl GradCheck {
    /// Settings for functions computed in `f64`: step `6e-6` (near the
    /// optimum `eps^(1/3)` of central differences), relative tolerance
    /// `1e-6`, absolute tolerance `1e-8`.
    pub fn f64() -> Self {
        GradCheck {
            step: 6e-6,
            rel_tol: 1e-6,
            abs_tol: 1e-8,
        }
    }

    /// Settings for functions computed in `f32`: step `5e-3` (`eps^(1/3)` for
    /// `f32`), relative tolerance `1e-2`, absolute tolerance `1e-3`.
    pub fn f32() -> Self {
        GradCheck {
            step: 5e-3,
            rel_tol: 1e-2,
            abs_tol: 1e-3,
        }
    }

    /// The same settings with another relative step.
    pub fn with_step(self, step: f64) -> Self {
        GradCheck { step, ..self }
    }

    /// The same settings with other tolerances.
    pub fn with_tolerance(self, rel_tol: f64, abs_tol: f64) -> Self {
        GradCheck {
            rel_tol,
            abs_tol,
            ..self
        }
    }

    /// Compares `gradient` with finite differences of `f` at `point`.
    ///
    /// Returns the full report when every component is within tolerance,
    /// and an error naming the worst component otherwise.
    pub fn check<F>(
        &self,
        f: F,
        point: &[f64],
        gradient: &[f64],
    ) -> Result<GradReport, GradCheckError>
    where
        F: FnMut(&[f64]) -> f64,
    {
        if gradient.len() != point.len() {
            return Err(GradCheckError::Length {
                gradient: gradient.len(),
                point: point.len(),
            });
        }
        let numeric = finite_difference(f, point, self.step)?;
        let components: Vec<Component> = gradient
            .iter()
            .zip(&numeric)
            .enumerate()
            .map(|(index, (&analytic, &numeric))| {
                let abs_error = (analytic - numeric).abs();
                let scale = analytic.abs().max(numeric.abs());
                Component {
                    index,
                    analytic,
                    numeric,
                    abs_error,
                    rel_error: if scale > 0.0 { abs_error / scale } else { 0.0 },
                    passed: abs_error <= self.abs_tol + self.rel_tol * scale
                        && analytic.is_finite(),
                }
            })
            .collect();
        let report = GradReport {
            components,
            settings: *self,
        };
        if report.components.iter().all(|c| c.passed) {
            Ok(report)
        } else {
            Err(GradCheckError::Mismatch(Box::new(report)))
        }
    }
}

/// Central finite differences of `f` at `point`, with relative step `step`.
///
/// Returns an error naming the component if `f` is not finite at a probe.
///
/// ```
/// let g = causalgrad::check::finite_difference(|v| v[0] * v[0] + 3.0 * v[1], &[2.0, 1.0], 1e-5)
///     .unwrap();
/// assert!((g[0] - 4.0).abs() < 1e-8 && (g[1] - 3.0).abs() < 1e-8);
/// ```
pub fn finite_difference<F>(mut f: F, point: &[f64], step: f64) -> Result<Vec<f64>, GradCheckError>
where
    F: FnMut(&[f64]) -> f64,
{
    let mut probe = point.to_vec();
    let mut gradient = Vec::with_capacity(point.len());
    for index in 0..point.len() {
        let x = point[index];
        let h = step * x.abs().max(1.0);
        probe[index] = x + h;
        let plus = f(&probe);
        probe[index] = x - h;
        let minus = f(&probe);
        probe[index] = x;
        if !plus.is_finite() || !minus.is_finite() {
            return Err(GradCheckError::NotFinite { index, plus, minus });
        }
        gradient.push((plus - minus) / (2.0 * h));
    }
    Ok(gradient)
}

/// The comparison of one gradient component.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Component {
    /// Position in the flat argument vector.
    pub index: usize,
    /// The gradient being checked.
    pub analytic: f64,
    /// The central finite difference.
    pub numeric: f64,
    /// `|analytic - numeric|`.
    pub abs_error: f64,
    /// `abs_error / max(|analytic|, |numeric|)` (0 when both are 0).
    pub rel_error: f64,
    /// Whether the component is within tolerance.
    pub passed: bool,
}

/// Every component's comparison, with the settings used.
#[derive(Clone, Debug, PartialEq)]
pub struct GradReport {
    /// One entry per component, in order.
    pub components: Vec<Component>,
    /// The settings the comparison used.
    pub settings: GradCheck,
}

impl GradReport {
    /// The component with the largest error relative to its tolerance.
    pub fn worst(&self) -> &Component {
        let excess = |c: &Component| {
            let scale = c.analytic.abs().max(c.numeric.abs());
            let tolerance = self.settings.abs_tol + self.settings.rel_tol * scale;
            if c.abs_error.is_nan() || !c.analytic.is_finite() {
                f64::INFINITY
            } else {
                c.abs_error / tolerance
            }
        };
        self.components
            .iter()
            .max_by(|a, b| excess(a).total_cmp(&excess(b)))
            .expect("a report has at least one component")
    }
}

impl fmt::Display for GradReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>5}  {:>14}  {:>14}  {:>10}  {:>10}",
            "index", "analytic", "finite diff", "abs err", "rel err"
        )?;
        let worst = self.worst().index;
        for c in &self.components {
            let mark = match (c.passed, c.index == worst) {
                (false, _) => "  FAIL",
                (true, true) => "  worst",
                (true, false) => "",
            };
            writeln!(
                f,
                "{:>5}  {:>14.7e}  {:>14.7e}  {:>10.3e}  {:>10.3e}{mark}",
                c.index, c.analytic, c.numeric, c.abs_error, c.rel_error
            )?;
        }
        write!(
            f,
            "tolerance: abs {:.1e} + rel {:.1e}, step {:.1e}",
            self.settings.abs_tol, self.settings.rel_tol, self.settings.step
        )
    }
}

/// Why a gradient check failed.
#[derive(Debug, thiserror::Error)]
pub enum GradCheckError {
    /// The gradient and the point have different lengths.
    #[error("the gradient has {gradient} components but the point has {point}; pass one gradient entry per coordinate")]
    Length {
        /// Length of the gradient.
        gradient: usize,
        /// Length of the point.
        point: usize,
    },
    /// The function is not finite next to the point.
    #[error("the function is not finite at a finite-difference probe of component {index} (f(x+h) = {plus}, f(x-h) = {minus}); check a point further from the edge of its domain or use a smaller step")]
    NotFinite {
        /// The component whose probe failed.
        index: usize,
        /// `f(x + h e_index)`.
        plus: f64,
        /// `f(x - h e_index)`.
        minus: f64,
    },
    /// At least one component is outside the tolerance.
    #[error("gradient mismatch, worst at component {}: analytic {:e} vs finite difference {:e}\n{}", .0.worst().index, .0.worst().analytic, .0.worst().numeric, .0)]
    Mismatch(Box<GradReport>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_correct_gradient_and_names_the_worst_component() {
        let f = |v: &[f64]| v[0].sin() * v[1];
        let x = [0.3, 2.0];
        let report = GradCheck::f64()
            .check(f, &x, &[0.3f64.cos() * 2.0, 0.3f64.sin()])
            .unwrap();
        assert_eq!(report.components.len(), 2);
        assert!(report.components.iter().all(|c| c.passed));
        assert!(report.to_string().contains("worst"));
    }

    #[test]
    fn rejects_a_wrong_component_and_reports_it() {
        let f = |v: &[f64]| v[0] * v[1];
        let err = GradCheck::f64()
            .check(f, &[1.0, 2.0], &[2.0, 1.5])
            .unwrap_err();
        match &err {
            GradCheckError::Mismatch(report) => {
                assert_eq!(report.worst().index, 1);
                assert!(!report.components[1].passed);
                assert!(report.components[0].passed);
            }
            other => panic!("unexpected error {other}"),
        }
        assert!(err.to_string().contains("worst at component 1"));
    }

    #[test]
    fn rejects_length_mismatch_and_non_finite_probes() {
        let err = GradCheck::f64().check(|v| v[0], &[1.0], &[]).unwrap_err();
        assert!(matches!(
            err,
            GradCheckError::Length {
                gradient: 0,
                point: 1
            }
        ));
        let err = GradCheck::f64()
            .check(|v| v[0].ln(), &[0.0], &[1.0])
            .unwrap_err();
        assert!(matches!(err, GradCheckError::NotFinite { index: 0, .. }));
    }

    #[test]
    fn nan_gradient_fails() {
        let err = GradCheck::f64()
            .check(|v| v[0], &[1.0], &[f64::NAN])
            .unwrap_err();
        assert!(matches!(err, GradCheckError::Mismatch(_)));
    }
}
