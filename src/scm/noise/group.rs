//! The families' likelihoods on groups of rows, for the fused fit
//! operation: one call per group of rows instead of one per row, and, for
//! the families whose density costs the most per row (the mixture's three
//! exponentials and a logarithm) or that the defaults use most (the
//! Bernoulli logit), the density on SIMD lanes in `f32`, summed in `f64`
//! (the mixture's in [`lane_mixture`](super::lane_mixture)).
//! The other families run their `f64` row likelihood in a loop.

use wide::f32x16;

use super::lane_mixture::{load, store, LaneMixture};
use super::Noise;
use crate::lanes::F32x16;

const LANES: usize = F32x16::LANES;

/// `(means, base, targets, d_means, d_params) -> Σ loss`: the negative
/// log-likelihood of each row's `target` given `mean + base`; writes each
/// row's derivative with respect to its mean to `d_means` and adds the
/// rows' gradient with respect to the family's parameters to `d_params`.
pub(crate) type GroupLoss<'a> =
    Box<dyn Fn(&[f32], f32, &[f32], &mut [f32], &mut [f64]) -> f64 + Sync + 'a>;

impl Noise {
    /// The family's likelihood on groups of rows (see [`GroupLoss`]), with
    /// its per-batch constants computed once.
    pub(crate) fn group_loss(&self) -> GroupLoss<'_> {
        match *self {
            Noise::Mixture(mixture) => {
                let lanes = LaneMixture::new(&mixture);
                Box::new(move |means, base, targets, d_means, d_params| {
                    lanes.loss(means, base, targets, d_means, d_params)
                })
            }
            Noise::Bernoulli => Box::new(|means, base, targets, d_means, _| {
                bernoulli_loss(means, base, targets, d_means)
            }),
            _ => {
                let row_loss = self.row_loss();
                Box::new(move |means, base, targets, d_means, d_params| {
                    let mut total = 0.0;
                    for ((&mean, &x), d_mean) in means.iter().zip(targets).zip(d_means) {
                        let mut d_eta = [0.0f64];
                        let eta = [f64::from(mean) + f64::from(base)];
                        total += row_loss(&eta, f64::from(x), &mut d_eta, d_params);
                        *d_mean = d_eta[0] as f32;
                    }
                    total
                })
            }
        }
    }
}

/// The Bernoulli logit likelihood: `softplus(η) − x η`, derivative
/// `sigmoid(η) − x`, with `η = mean + base`.
fn bernoulli_loss(means: &[f32], base: f32, targets: &[f32], d_means: &mut [f32]) -> f64 {
    let zero = f32x16::splat(0.0);
    let one = f32x16::splat(1.0);
    let mut total = 0.0f64;
    for start in (0..means.len()).step_by(LANES) {
        let (mean, mask) = load(means, start);
        let (x, _) = load(targets, start);
        let eta = mean + f32x16::splat(base);
        // e = exp(−|η|) ≤ 1: no overflow on either side.
        let e = (-eta.abs()).exp();
        let softplus = eta.max(zero) + e.ln_1p();
        let s = one / (one + e);
        // sigmoid(η) = s for η ≥ 0 and e·s below.
        let sigmoid = eta.simd_gt(zero).bitselect(s, e * s);
        total += f64::from(((softplus - x * eta) * mask).reduce_add());
        store((sigmoid - x) * mask, d_means, start);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::super::Mixture;
    use super::*;

    /// The group loss of `noise` against its `f64` row likelihood, on rows
    /// that cover both tails and a partial lane group.
    fn agrees_with_rows(noise: Noise, targets: impl Fn(usize) -> f32) {
        let n = 37;
        let means: Vec<f32> = (0..n).map(|i| -3.0 + 0.17 * i as f32).collect();
        let targets: Vec<f32> = (0..n).map(targets).collect();
        let base = 0.25f32;
        let params = noise.params().len();
        let (mut d_means, mut d_params) = (vec![0.0f32; n], vec![0.0f64; params]);
        let total = noise.group_loss()(&means, base, &targets, &mut d_means, &mut d_params);
        let row_loss = noise.row_loss();
        let (mut want_total, mut want_params) = (0.0, vec![0.0f64; params]);
        for r in 0..n {
            let mut d_eta = [0.0f64];
            let eta = [f64::from(means[r]) + f64::from(base)];
            want_total += row_loss(&eta, f64::from(targets[r]), &mut d_eta, &mut want_params);
            assert!(
                (f64::from(d_means[r]) - d_eta[0]).abs() < 2e-5 * (1.0 + d_eta[0].abs()),
                "{} row {r}: {} against {}",
                noise.name(),
                d_means[r],
                d_eta[0]
            );
        }
        assert!(
            (total - want_total).abs() < 1e-5 * (1.0 + want_total.abs()),
            "{}: {total} against {want_total}",
            noise.name()
        );
        for (got, want) in d_params.iter().zip(&want_params) {
            assert!(
                (got - want).abs() < 1e-4 * (1.0 + want.abs()),
                "{}: {d_params:?} against {want_params:?}",
                noise.name()
            );
        }
    }

    #[test]
    fn lane_families_agree_with_their_row_likelihoods() {
        let mut skewed = Mixture::start();
        skewed.logits = [0.4, -1.1];
        skewed.means = [-0.5, 0.3, 2.0];
        skewed.log_scales = [-0.3, 0.1, 0.6];
        agrees_with_rows(Noise::Mixture(skewed), |i| (i as f32 * 0.61).sin() * 3.0);
        agrees_with_rows(Noise::Mixture(Mixture::start()), |i| i as f32 * 0.1 - 2.0);
        agrees_with_rows(Noise::bernoulli(), |i| (i % 3 == 0) as u8 as f32);
        agrees_with_rows(Noise::laplace(), |i| (i as f32 * 0.3).cos());
    }

    #[test]
    fn the_bernoulli_lanes_hold_at_large_logits() {
        let means = [-60.0f32, 60.0, -60.0, 60.0];
        let targets = [0.0f32, 1.0, 1.0, 0.0];
        let mut d_means = [0.0f32; 4];
        let total = Noise::bernoulli().group_loss()(&means, 0.0, &targets, &mut d_means, &mut []);
        // Two rows nearly certain and right, two wrong by 60 nats each.
        assert!((total - 120.0).abs() < 1e-3, "{total}");
        let want = [0.0f32, 0.0, -1.0, 1.0];
        assert!(
            d_means.iter().zip(want).all(|(d, w)| (d - w).abs() < 1e-6),
            "{d_means:?}"
        );
    }
}
