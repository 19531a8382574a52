//! Standardisation inside the model: each continuous variable is computed
//! in its own standardised units, `z = (x − location) / scale`, and every
//! value that crosses the model's boundary (data in, samples, effects and
//! counterfactuals out, intervention values, noise scales, linear
//! coefficients) is converted in `f64`, before any cast to the `f32` the
//! kernels compute in. A column near `1e6` keeps its digits (its `f32`
//! spacing there is `0.06`), and one learning rate suits data in any
//! units.
//!
//! A fit sets the scalings from its training data the first time it runs
//! on a model ([`FitConfig::with_standardize`](crate::fit::FitConfig::with_standardize),
//! on by default), for the variables the built-in mechanisms (linear,
//! additive, MLP, a root's mean) read and produce: a variable is
//! standardised when its own mechanism is built in and so are its
//! children's. A mechanism from user code (`#[differentiable]` functions,
//! user burn modules) sees its parents and produces its mean in the data's
//! own units, so a formula written for the data stays true, unless it opts
//! in with [`Mechanism::with_standardized_units`](crate::scm::Mechanism::with_standardized_units);
//! a model of user mechanisms only is not rescaled at all.

use serde::{Deserialize, Serialize};

/// The affine map between a variable's data units and the units the model
/// computes it in: `model = (data − location) / scale`.
///
/// ```
/// use causalgrad::scm::Scaling;
///
/// let scaling = Scaling::from_values(&[1.0e6 + 1.0, 1.0e6 + 3.0]);
/// assert_eq!(scaling.location, 1.0e6 + 2.0);
/// assert_eq!(scaling.to_model(1.0e6 + 3.0), 1.0);
/// assert_eq!(scaling.to_data(-1.0), 1.0e6 + 1.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// Subtracted first (the column's mean).
    pub location: f64,
    /// Divided by next (the column's standard deviation).
    pub scale: f64,
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling::IDENTITY
    }
}

impl Scaling {
    /// No rescaling.
    pub const IDENTITY: Scaling = Scaling {
        location: 0.0,
        scale: 1.0,
    };

    /// The mean and (population) standard deviation of `values`, in `f64`;
    /// a constant or empty column gets scale 1.
    pub fn from_values(values: &[f64]) -> Scaling {
        Scaling::from_parts(&[values])
    }

    /// [`Scaling::from_values`] of the parts laid end to end (a variable's
    /// rows pooled over contexts), without copying them.
    pub fn from_parts(parts: &[&[f64]]) -> Scaling {
        let n = parts.iter().map(|p| p.len()).sum::<usize>().max(1) as f64;
        let location = parts.iter().flat_map(|p| p.iter()).sum::<f64>() / n;
        let variance = parts
            .iter()
            .flat_map(|p| p.iter())
            .map(|v| (v - location).powi(2))
            .sum::<f64>()
            / n;
        let scale = variance.sqrt();
        Scaling {
            location,
            scale: if scale > 0.0 && scale.is_finite() {
                scale
            } else {
                1.0
            },
        }
    }

    /// Whether this is [`Scaling::IDENTITY`].
    pub fn is_identity(&self) -> bool {
        *self == Scaling::IDENTITY
    }

    /// A value in data units, in model units.
    pub fn to_model(&self, value: f64) -> f64 {
        (value - self.location) / self.scale
    }

    /// A value in model units, in data units.
    pub fn to_data(&self, value: f64) -> f64 {
        self.location + self.scale * value
    }

    /// A shift of the variable's mean (a soft intervention) in data units,
    /// in model units: the location cancels, the scale divides.
    pub(crate) fn shift_to_model(&self, delta: f64) -> f32 {
        (delta / self.scale) as f32
    }

    /// A column in data units, in model units as the kernels read it.
    pub(crate) fn column_to_model(&self, values: &[f64]) -> Vec<f32> {
        values.iter().map(|&v| self.to_model(v) as f32).collect()
    }

    /// A column in model units, in data units.
    pub(crate) fn column_to_data(&self, values: &[f32]) -> Vec<f64> {
        values.iter().map(|&v| self.to_data(f64::from(v))).collect()
    }
}

/// A linear mechanism's `[b, w_1, .., w_k]` in model units (of the
/// variable `own` and its parents), in data units: `x = b' + Σ w'_i p_i`.
pub(crate) fn linear_to_data(params: &[f32], own: Scaling, parents: &[Scaling]) -> Vec<f32> {
    let mut bias = f64::from(params[0]);
    let mut out = vec![0.0f32];
    for (w, parent) in params[1..].iter().zip(parents) {
        let w = f64::from(*w);
        bias -= w * parent.location / parent.scale;
        out.push((own.scale * w / parent.scale) as f32);
    }
    out[0] = own.to_data(bias) as f32;
    out
}

/// The inverse of [`linear_to_data`].
pub(crate) fn linear_to_model(params: &[f32], own: Scaling, parents: &[Scaling]) -> Vec<f32> {
    let mut bias = own.to_model(f64::from(params[0]));
    let mut out = vec![0.0f32];
    for (w, parent) in params[1..].iter().zip(parents) {
        let w = f64::from(*w) * parent.scale / own.scale;
        bias += w * parent.location / parent.scale;
        out.push(w as f32);
    }
    out[0] = bias as f32;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_keep_the_digits_of_large_offsets() {
        let values: Vec<f64> = (0..100).map(|i| 1.0e6 + 0.01 * i as f64).collect();
        let scaling = Scaling::from_values(&values);
        let model = scaling.column_to_model(&values);
        let back = scaling.column_to_data(&model);
        for (a, b) in values.iter().zip(&back) {
            assert!((a - b).abs() < 1e-7, "{a} vs {b}");
        }
        assert_eq!(Scaling::from_values(&[3.0, 3.0]).scale, 1.0);
    }

    /// `y = 2 + 3 x` in data units, with x and y rescaled.
    #[test]
    fn linear_coefficients_convert_both_ways() {
        let x = Scaling {
            location: 10.0,
            scale: 4.0,
        };
        let y = Scaling {
            location: -5.0,
            scale: 0.5,
        };
        let model = linear_to_model(&[2.0, 3.0], y, &[x]);
        // z_y = b + w z_x must give y = 2 + 3 x at x = 14 (z_x = 1).
        let zy = f64::from(model[0]) + f64::from(model[1]);
        assert!((y.to_data(zy) - 44.0).abs() < 1e-4, "{zy}");
        let back = linear_to_data(&model, y, &[x]);
        assert!((back[0] - 2.0).abs() < 1e-5 && (back[1] - 3.0).abs() < 1e-5);
    }
}
