//! The mixture's likelihood on SIMD lanes: sixteen rows at a time, in
//! `f32`, with the two elementary functions it needs written for the
//! ranges they see there.
//!
//! Per row the density is a log-sum-exp of the three components' log
//! densities `l_k`: `ln p = top + ln Σ_k e^{l_k − top}` with `top =
//! max_k l_k`. Every exponent `l_k − top` is at most 0 (the top
//! component's is exactly 0 and its exponential exactly 1), so the sum
//! lies in `[1, 3]`; [`exp_nonpositive`] and [`ln_1_to_3`] are a range
//! reduction and a short polynomial each, without the special cases
//! (overflow, infinities, subnormals, NaN) the general functions check on
//! every call. Per batch the components' constants (`1/σ_k`, `μ_k/σ_k`,
//! `ln π_k − ln σ_k − ln √(2π)`) are computed once ([`LaneMixture::new`]).

use wide::{f32x16, i32x16};

use super::mixture::{Mixture, PreparedMixture, COMPONENTS};
use crate::lanes::F32x16;

const LANES: usize = F32x16::LANES;

/// `1.5 · 2²³`: adding it rounds an `f32` of magnitude below `2²²` to an
/// integer, which then sits in the low bits of the sum's mantissa.
const SHIFTER: f32 = 12_582_912.0;
/// The bits of [`SHIFTER`].
const SHIFTER_BITS: i32 = 0x4B40_0000;
/// `ln 2` as a high part exact in a few bits and the rest (Cody–Waite).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// `e^x` for `x ≤ 0`, to about one unit in the last place; inputs below
/// −87 give `e^−87` (about `1.6e−38`, the smallest normal range), which
/// no sum of the mixture's terms can tell from 0. `e^0` is exactly 1.
#[inline(always)]
pub(super) fn exp_nonpositive(x: f32x16) -> f32x16 {
    let s = f32x16::splat;
    let x = x.fast_max(s(-87.0));
    // n = round(x / ln 2): after adding the shifter, its low mantissa bits.
    let shifted = x.mul_add(s(std::f32::consts::LOG2_E), s(SHIFTER));
    let n = shifted - s(SHIFTER);
    let f = n.mul_neg_add(s(LN2_HI), x);
    let f = n.mul_neg_add(s(LN2_LO), f);
    // e^f for |f| ≤ ln 2 / 2: Taylor to degree 7 (error below 3e−9).
    let p = f.mul_add(s(1.0 / 5040.0), s(1.0 / 720.0));
    let p = f.mul_add(p, s(1.0 / 120.0));
    let p = f.mul_add(p, s(1.0 / 24.0));
    let p = f.mul_add(p, s(1.0 / 6.0));
    let p = f.mul_add(p, s(0.5));
    let p = f.mul_add(p, s(1.0));
    let p = f.mul_add(p, s(1.0));
    // 2^n: n + 127 in the exponent field (n ≥ −126 after the clamp).
    let bits: i32x16 = wide::bytemuck::cast(shifted);
    let exponent = (bits - i32x16::splat(SHIFTER_BITS - 127)) << 23;
    let pow2: f32x16 = wide::bytemuck::cast(exponent);
    p * pow2
}

/// Coefficients of `atanh(t) / t` as a polynomial in `t²` on `t ∈ [0,
/// 1/2]` (Chebyshev interpolation, absolute error of `ln` below 5e−8 in
/// exact arithmetic, 5e−7 in `f32`).
const ATANH_SERIES: [f32; 6] = [
    1.0,
    0.333_338_74,
    0.199_752_36,
    0.146_946_92,
    0.081_472_34,
    0.183_073_25,
];

/// `1 / q` from the hardware estimate and one Newton step (relative
/// error about 1e−7).
#[inline(always)]
fn reciprocal(q: f32x16) -> f32x16 {
    let r = q.recip();
    r * q.mul_neg_add(r, f32x16::splat(2.0))
}

/// `ln s` for `s ∈ [1, 3]`: `2 atanh(t)` with `t = (s − 1)/(s + 1) ∈ [0,
/// 1/2]`.
#[inline(always)]
pub(super) fn ln_1_to_3(s: f32x16) -> f32x16 {
    let one = f32x16::splat(1.0);
    let t = (s - one) * reciprocal(s + one);
    let u = t * t;
    let c = ATANH_SERIES.map(f32x16::splat);
    let p = u.mul_add(c[5], c[4]);
    let p = u.mul_add(p, c[3]);
    let p = u.mul_add(p, c[2]);
    let p = u.mul_add(p, c[1]);
    let p = u.mul_add(p, c[0]);
    (t + t) * p
}

/// A mixture's constants as lanes.
pub(super) struct LaneMixture {
    /// The per-batch constants (for the parameters' gradient).
    prepared: PreparedMixture,
    /// `π_k` (for the weights' gradient).
    weight: [f32; COMPONENTS],
    /// `1 / σ_k`.
    inverse_scale: [f32x16; COMPONENTS],
    /// `μ_k / σ_k`.
    scaled_mean: [f32x16; COMPONENTS],
    /// `ln π_k − ln σ_k − ln √(2π)`.
    constant: [f32x16; COMPONENTS],
}

/// Up to [`LANES`] values from `values[start..]`, zero-padded, and the
/// mask of the lanes that hold one (1 or 0).
#[inline(always)]
pub(super) fn load(values: &[f32], start: usize) -> (f32x16, f32x16) {
    let count = (values.len() - start).min(LANES);
    let lanes = F32x16::load_padded(values, start, count);
    (lanes.0, F32x16::splat(1.0).masked(count).0)
}

/// Writes the first lanes of `lanes` to `out[start..]`.
#[inline(always)]
pub(super) fn store(lanes: f32x16, out: &mut [f32], start: usize) {
    let count = (out.len() - start).min(LANES);
    out[start..start + count].copy_from_slice(&lanes.to_array()[..count]);
}

impl LaneMixture {
    /// The lanes' constants of `mixture`.
    pub(super) fn new(mixture: &Mixture) -> LaneMixture {
        let prepared: PreparedMixture = mixture.prepared();
        let splat = |f: &dyn Fn(usize) -> f64| std::array::from_fn(|k| f32x16::splat(f(k) as f32));
        let c = &prepared.components;
        LaneMixture {
            weight: std::array::from_fn(|k| c[k].0 as f32),
            inverse_scale: splat(&|k| 1.0 / c[k].2),
            scaled_mean: splat(&|k| c[k].1 / c[k].2),
            constant: splat(&|k| c[k].3),
            prepared,
        }
    }

    /// The same quantities as [`PreparedMixture::nll`] on `means.len()`
    /// rows, `x − mean − base` their residuals: returns the sum of the
    /// negative log-likelihoods, writes each row's derivative with respect
    /// to its mean to `d_means` and adds the parameters' gradient to
    /// `d_params`.
    ///
    /// With `γ_k` a row's responsibilities and `z_k` its standardised
    /// residuals, the parameters' gradient needs, summed over rows, `Σ
    /// γ_k`, `Σ γ_k z_k` and `Σ γ_k z_k²` per component (the logits': `π_k
    /// · rows − Σ γ_k`; the means': `−Σ γ_k z_k / σ_k`; the log-scales':
    /// `Σ γ_k − Σ γ_k z_k²`); they gather in lanes and are summed once at
    /// the end.
    pub(super) fn loss(
        &self,
        means: &[f32],
        base: f32,
        targets: &[f32],
        d_means: &mut [f32],
        d_params: &mut [f64],
    ) -> f64 {
        let zero = f32x16::splat(0.0);
        let minus_half = f32x16::splat(-0.5);
        let base = f32x16::splat(base);
        let mut log_density = zero;
        let mut gamma_sum = [zero; COMPONENTS];
        let mut gamma_z = [zero; COMPONENTS];
        let mut gamma_z2 = [zero; COMPONENTS];
        for start in (0..means.len()).step_by(LANES) {
            let (mean, mask) = load(means, start);
            let (x, _) = load(targets, start);
            let r = x - mean - base;
            let z: [f32x16; COMPONENTS] =
                std::array::from_fn(|k| r.mul_sub(self.inverse_scale[k], self.scaled_mean[k]));
            let logs: [f32x16; COMPONENTS] =
                std::array::from_fn(|k| (minus_half * z[k]).mul_add(z[k], self.constant[k]));
            let top = logs[0].fast_max(logs[1]).fast_max(logs[2]);
            let scaled: [f32x16; COMPONENTS] =
                std::array::from_fn(|k| exp_nonpositive(logs[k] - top));
            let sum = scaled[0] + scaled[1] + scaled[2];
            log_density += (top + ln_1_to_3(sum)) * mask;
            let inverse_sum = reciprocal(sum) * mask;
            let mut d_r = zero;
            for k in 0..COMPONENTS {
                // The responsibility of component k, zero on padding lanes.
                let gamma = scaled[k] * inverse_sum;
                let gz = gamma * z[k];
                d_r = gz.mul_add(self.inverse_scale[k], d_r);
                gamma_sum[k] += gamma;
                gamma_z[k] += gz;
                gamma_z2[k] = gz.mul_add(z[k], gamma_z2[k]);
            }
            store(-d_r, d_means, start);
        }
        let rows = means.len() as f64;
        // Layout: logits of components 1.., then means, then log-scales.
        let mut d_centred = [0.0; COMPONENTS];
        for k in 0..COMPONENTS {
            let gamma = f64::from(gamma_sum[k].reduce_add());
            if k > 0 {
                d_params[k - 1] += f64::from(self.weight[k]) * rows - gamma;
            }
            let inverse_scale = f64::from(self.inverse_scale[k].to_array()[0]);
            d_centred[k] = -f64::from(gamma_z[k].reduce_add()) * inverse_scale;
            if self.prepared.free_scale[k] {
                d_params[2 * COMPONENTS - 1 + k] += gamma - f64::from(gamma_z2[k].reduce_add());
            }
        }
        self.prepared.add_mean_gradient(&d_centred, d_params);
        -f64::from(log_density.reduce_add())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exponential_matches_on_its_range() {
        let mut worst = 0.0f64;
        for i in 0..=20_000 {
            let x = -90.0 * f64::from(i) / 20_000.0;
            let lanes = exp_nonpositive(f32x16::splat(x as f32)).to_array()[0];
            let want = (x as f32 as f64).max(-87.0).exp();
            worst = worst.max((f64::from(lanes) - want).abs() / want);
        }
        assert!(worst < 3e-7, "relative error {worst}");
        assert_eq!(exp_nonpositive(f32x16::splat(0.0)).to_array()[0], 1.0);
    }

    #[test]
    fn the_logarithm_matches_on_one_to_three() {
        let mut worst = 0.0f64;
        for i in 0..=20_000 {
            let s = 1.0 + 2.0 * f64::from(i) / 20_000.0;
            let lanes = ln_1_to_3(f32x16::splat(s as f32)).to_array()[0];
            worst = worst.max((f64::from(lanes) - (s as f32 as f64).ln()).abs());
        }
        // A few units in the last place of ln 3 (about 1.2e−7 each).
        assert!(worst < 5e-7, "absolute error {worst}");
        assert_eq!(ln_1_to_3(f32x16::splat(1.0)).to_array()[0], 0.0);
    }
}
