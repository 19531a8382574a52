//! A categorical variable: softmax logits, one per level after the first.

use super::{discrete_abduct, normal_cdf, Likelihood};

/// `P(x = l | η) ∝ exp(η_l)` with `η_0 = 0`; levels are coded `0..levels`
/// and sampled by the inverse CDF in code order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Categorical {
    /// The number of levels.
    pub levels: usize,
}

/// The level probabilities for logits `(0, η_1, .., η_{L−1})`.
pub(super) fn softmax(eta: &[f64]) -> Vec<f64> {
    let top = eta.iter().copied().fold(0.0f64, f64::max);
    let mut p: Vec<f64> = std::iter::once(-top)
        .chain(eta.iter().map(|&v| v - top))
        .map(f64::exp)
        .collect();
    let total: f64 = p.iter().sum();
    p.iter_mut().for_each(|v| *v /= total);
    p
}

impl Categorical {
    fn cdf(p: &[f64], x: f64) -> f64 {
        if x < 0.0 {
            return 0.0;
        }
        p.iter().take(x as usize + 1).sum::<f64>().min(1.0)
    }
}

impl Likelihood for Categorical {
    fn name(&self) -> &'static str {
        "categorical"
    }

    fn outputs(&self) -> usize {
        self.levels - 1
    }

    fn params(&self) -> Vec<f32> {
        Vec::new()
    }

    fn set_params(&mut self, _: &[f32]) {}

    fn nll(&self, eta: &[f64], x: f64, d_eta: &mut [f64], _: &mut [f64]) -> f64 {
        let p = softmax(eta);
        let level = x as usize;
        for (l, d) in d_eta.iter_mut().enumerate() {
            *d += p[l + 1] - f64::from(u8::from(level == l + 1));
        }
        -p[level].max(f64::MIN_POSITIVE).ln()
    }

    fn sample(&self, eta: &[f64], e: f64) -> f64 {
        let p = softmax(eta);
        let u = normal_cdf(e);
        let mut total = 0.0;
        for (l, p) in p.iter().enumerate() {
            total += p;
            if u <= total {
                return l as f64;
            }
        }
        (self.levels - 1) as f64
    }

    fn abduct(&self, eta: &[f64], x: f64, u: f64) -> f64 {
        let p = softmax(eta);
        discrete_abduct(x, u, |k| Categorical::cdf(&p, k))
    }

    fn expectation(&self, eta: &[f64]) -> f64 {
        softmax(eta)
            .iter()
            .enumerate()
            .map(|(l, p)| l as f64 * p)
            .sum()
    }

    fn check(&self, x: f64) -> Result<(), String> {
        if x >= 0.0 && x.fract() == 0.0 && x < self.levels as f64 {
            Ok(())
        } else {
            Err(format!(
                "{x} is not a level code (0 to {})",
                self.levels - 1
            ))
        }
    }

    fn is_discrete(&self) -> bool {
        true
    }
}
