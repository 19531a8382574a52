//! A flexible continuous noise: a mixture of Gaussians on the residual,
//! which fits skewed, heavy-tailed and multimodal errors.

use super::gaussian::MIN_LOG_SCALE;
use super::{normal_cdf, normal_quantile, Likelihood};

/// Mixture components.
pub const COMPONENTS: usize = 3;

/// `ln √(2π)`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

/// `x = η + r`, `r ~ Σ_k π_k N(m_k, σ_k²)` with `π = softmax(0, l_1, l_2)`
/// and the components' means `m_k = μ_k − Σ_j π_j μ_j` centred, so that
/// `E[r] = 0`: the mechanism's output `η` is `E[x | parents]`, as with
/// every other additive family (a linear mechanism's intercept keeps its
/// meaning, a formula's constants theirs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mixture {
    /// `l_1, l_2`: the weights' logits against the first component.
    pub logits: [f32; COMPONENTS - 1],
    /// `μ_k`, before centring (shifting all three by one constant changes
    /// nothing).
    pub means: [f32; COMPONENTS],
    /// `ln σ_k`.
    pub log_scales: [f32; COMPONENTS],
}

impl Mixture {
    /// Components at −0.8, 0 and 0.8 with scale 0.7 and equal weights:
    /// close to a standard normal, asymmetric enough to learn from.
    pub fn start() -> Mixture {
        Mixture {
            logits: [0.0; COMPONENTS - 1],
            means: [-0.8, 0.0, 0.8],
            log_scales: [0.7f32.ln(); COMPONENTS],
        }
    }

    /// `(π_k, m_k, σ_k)`, the means centred (`Σ_k π_k m_k = 0`).
    pub fn components(&self) -> [(f64, f64, f64); COMPONENTS] {
        let top = self
            .logits
            .iter()
            .map(|&l| f64::from(l))
            .fold(0.0, f64::max);
        let mut weights = [0.0f64; COMPONENTS];
        weights[0] = (-top).exp();
        for (w, &l) in weights[1..].iter_mut().zip(&self.logits) {
            *w = (f64::from(l) - top).exp();
        }
        let total: f64 = weights.iter().sum();
        let centre: f64 = (0..COMPONENTS)
            .map(|k| weights[k] / total * f64::from(self.means[k]))
            .sum();
        std::array::from_fn(|k| {
            (
                weights[k] / total,
                f64::from(self.means[k]) - centre,
                f64::from(self.log_scales[k]).max(MIN_LOG_SCALE).exp(),
            )
        })
    }

    /// The residual's CDF.
    fn cdf(&self, r: f64) -> f64 {
        cdf(&self.components(), r)
    }

    /// Its parameters' bits, equal exactly when the mixtures are.
    pub(super) fn params_bits(&self) -> [u32; 3 * COMPONENTS - 1] {
        let mut bits = [0; 3 * COMPONENTS - 1];
        for (b, v) in bits.iter_mut().zip(
            self.logits
                .iter()
                .chain(&self.means)
                .chain(&self.log_scales),
        ) {
            *b = v.to_bits();
        }
        bits
    }

    /// The standard deviation of the residual.
    pub fn standard_deviation(&self) -> f64 {
        standard_deviation(&self.components())
    }
}

/// The standard deviation of a residual with `components` `(π_k, m_k,
/// σ_k)`, its means centred.
pub(super) fn standard_deviation(components: &[(f64, f64, f64); COMPONENTS]) -> f64 {
    components
        .iter()
        .map(|c| c.0 * (c.2 * c.2 + c.1 * c.1))
        .sum::<f64>()
        .sqrt()
}

/// The residual `r` with `F(r) = Φ(e)` for a mixture with `components`:
/// Newton steps kept inside a bracket that bisection narrows, from
/// `start`. Solved in the tail `e` is in (`F(r) = Φ(e)` below the median,
/// `1 − F(r) = Φ(−e)` above), to a relative tolerance there (1e-12,
/// a residual error of about 1e-12 σ, far below `f32`), so deep
/// tails are as exact as the centre.
pub(super) fn quantile(components: &[(f64, f64, f64); COMPONENTS], e: f64, start: f64) -> f64 {
    let spread = components.iter().map(|c| c.2).fold(0.0, f64::max);
    let (mut low, mut high) = components.iter().fold((f64::MAX, f64::MIN), |(lo, hi), c| {
        (lo.min(c.1 - 40.0 * spread), hi.max(c.1 + 40.0 * spread))
    });
    let lower = e <= 0.0;
    let target = normal_cdf(-e.abs());
    let mut r = start.clamp(low, high);
    for _ in 0..100 {
        // `f` grows with `r` in both tails.
        let f = if lower {
            cdf(components, r) - target
        } else {
            target - survival(components, r)
        };
        if f.abs() <= 1e-12 * target {
            break;
        }
        if f > 0.0 {
            high = r;
        } else {
            low = r;
        }
        let step = r - f / density(components, r).max(1e-300);
        r = if step > low && step < high {
            step
        } else {
            0.5 * (low + high)
        };
        if high - low < 1e-13 * (1.0 + r.abs()) {
            break;
        }
    }
    r
}

/// The CDF of a residual with `components` `(π_k, μ_k, σ_k)`.
fn cdf(components: &[(f64, f64, f64); COMPONENTS], r: f64) -> f64 {
    components
        .iter()
        .map(|&(p, m, s)| p * normal_cdf((r - m) / s))
        .sum()
}

/// `1 − F(r)` of a residual with `components` `(π_k, μ_k, σ_k)`, exact
/// in the upper tail.
fn survival(components: &[(f64, f64, f64); COMPONENTS], r: f64) -> f64 {
    components
        .iter()
        .map(|&(p, m, s)| p * normal_cdf((m - r) / s))
        .sum()
}

/// The density of a residual with `components` `(π_k, μ_k, σ_k)`.
pub(super) fn density(components: &[(f64, f64, f64); COMPONENTS], r: f64) -> f64 {
    components
        .iter()
        .map(|&(p, m, s)| {
            let z = (r - m) / s;
            p * (-0.5 * z * z - HALF_LN_2PI).exp() / s
        })
        .sum()
}

/// The derivative of [`density`] in `r`.
pub(super) fn density_slope(components: &[(f64, f64, f64); COMPONENTS], r: f64) -> f64 {
    components
        .iter()
        .map(|&(p, m, s)| {
            let z = (r - m) / s;
            -p * z * (-0.5 * z * z - HALF_LN_2PI).exp() / (s * s)
        })
        .sum()
}

/// A mixture's per-row constants, computed once per batch.
pub(crate) struct PreparedMixture {
    /// `(π_k, μ_k, σ_k, ln π_k − ln σ_k − ln √(2π))`.
    pub(super) components: [(f64, f64, f64, f64); COMPONENTS],
    /// Whether each `ln σ_k` is above its clamp (else it gets no gradient).
    pub(super) free_scale: [bool; COMPONENTS],
}

impl Mixture {
    /// The constants [`PreparedMixture::nll`] reads.
    pub(crate) fn prepared(&self) -> PreparedMixture {
        let components = self.components();
        PreparedMixture {
            components: std::array::from_fn(|k| {
                let (p, m, s) = components[k];
                (p, m, s, p.ln() - s.ln() - HALF_LN_2PI)
            }),
            free_scale: std::array::from_fn(|k| f64::from(self.log_scales[k]) > MIN_LOG_SCALE),
        }
    }
}

impl PreparedMixture {
    /// [`Likelihood::nll`] of the mixture.
    pub(crate) fn nll(&self, eta: &[f64], x: f64, d_eta: &mut [f64], d_params: &mut [f64]) -> f64 {
        let r = x - eta[0];
        // Log-sum-exp of ln π_k + ln N(r; μ_k, σ_k).
        let mut z = [0.0f64; COMPONENTS];
        let mut logs = [0.0f64; COMPONENTS];
        for k in 0..COMPONENTS {
            let (_, m, s, constant) = self.components[k];
            z[k] = (r - m) / s;
            logs[k] = constant - 0.5 * z[k] * z[k];
        }
        let top = logs.iter().copied().fold(f64::MIN, f64::max);
        let scaled: [f64; COMPONENTS] = std::array::from_fn(|k| (logs[k] - top).exp());
        let total: f64 = scaled.iter().sum();
        let log_density = top + total.ln();
        let mut d_r = 0.0;
        let mut d_centred = [0.0; COMPONENTS];
        for k in 0..COMPONENTS {
            let (p, _, s, _) = self.components[k];
            // The responsibility of component k.
            let gamma = scaled[k] / total;
            d_r += gamma * z[k] / s;
            d_centred[k] = -gamma * z[k] / s;
            if self.free_scale[k] {
                d_params[2 * COMPONENTS - 1 + k] -= gamma * (z[k] * z[k] - 1.0);
            }
            if k > 0 {
                d_params[k - 1] -= gamma - p;
            }
        }
        self.add_mean_gradient(&d_centred, d_params);
        d_eta[0] -= d_r;
        -log_density
    }

    /// Adds to `d_params` the gradient of a loss whose gradient with
    /// respect to the centred means `m_k` is `d_centred`: with `G = Σ_k
    /// ∂/∂m_k`, `∂/∂μ_j = ∂/∂m_j − π_j G` and, as the centre `Σ_j π_j μ_j`
    /// moves with the weights, `∂/∂l_j` gains `−G π_j m_j`.
    pub(super) fn add_mean_gradient(&self, d_centred: &[f64; COMPONENTS], d_params: &mut [f64]) {
        let total: f64 = d_centred.iter().sum();
        for k in 0..COMPONENTS {
            let (p, m, _, _) = self.components[k];
            d_params[COMPONENTS - 1 + k] += d_centred[k] - p * total;
            if k > 0 {
                d_params[k - 1] -= total * p * m;
            }
        }
    }
}

impl Likelihood for Mixture {
    fn name(&self) -> &'static str {
        "mixture"
    }

    fn params(&self) -> Vec<f32> {
        self.logits
            .iter()
            .chain(&self.means)
            .chain(&self.log_scales)
            .copied()
            .collect()
    }

    fn set_params(&mut self, values: &[f32]) {
        let (logits, rest) = values.split_at(COMPONENTS - 1);
        let (means, scales) = rest.split_at(COMPONENTS);
        self.logits.copy_from_slice(logits);
        self.means.copy_from_slice(means);
        self.log_scales.copy_from_slice(scales);
    }

    fn nll(&self, eta: &[f64], x: f64, d_eta: &mut [f64], d_params: &mut [f64]) -> f64 {
        self.prepared().nll(eta, x, d_eta, d_params)
    }

    fn sample(&self, eta: &[f64], e: f64) -> f64 {
        // From the quantile of a Gaussian with the mixture's mean (zero)
        // and standard deviation: a few Newton steps away for the
        // mixtures fits give, where a start at the mean took many more
        // (each step three error functions).
        let components = self.components();
        eta[0] + quantile(&components, e, standard_deviation(&components) * e)
    }

    fn abduct(&self, eta: &[f64], x: f64, _: f64) -> f64 {
        normal_quantile(self.cdf(x - eta[0]))
    }

    fn expectation(&self, eta: &[f64]) -> f64 {
        // The residual has mean zero.
        eta[0]
    }

    fn check(&self, _: f64) -> Result<(), String> {
        Ok(())
    }
}
