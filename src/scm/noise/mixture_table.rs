//! A mixture's residual as a tabulated function of the standard normal
//! noise, for sampling many rows: `r(e) = F⁻¹(Φ(e))` costs a root search
//! (three error functions per step) where the table costs a quintic.
//!
//! The table holds `r` and its first two derivatives at evenly spaced
//! knots (from `f(r) r′ = φ(e)`: `r′ = φ(e) / f(r)` and `r″ = −(e φ(e) +
//! f′(r) r′²) / f(r)`) and interpolates by quintic Hermite polynomials.
//! Their error on an interval is `r⁽⁶⁾(ξ) h⁶ t³(1 − t)³ / 720` at `t ∈
//! [0, 1]` across it, largest at the middle, so [`ResidualTable::new`]
//! solves every interval's midpoint exactly, and the rows of an interval
//! whose midpoint misses by more than [`TOLERANCE`] standard deviations
//! (far below `f32`'s resolution of the sampled values) are solved, from
//! the interpolant, instead of read. Narrow components bend `r(e)` within
//! an interval; fitted mixtures' tables are read almost everywhere.

use std::sync::{Arc, Mutex, PoisonError};

use super::mixture::{density, density_slope, quantile, standard_deviation, Mixture, COMPONENTS};

/// The noise range the table covers; rows beyond it (probability 1e-15)
/// are solved exactly.
const REACH: f64 = 8.0;

/// Knots per unit of `e`.
const KNOTS_PER_UNIT: f64 = 16.0;

/// The largest interpolation error allowed at a midpoint, in residual
/// standard deviations.
const TOLERANCE: f64 = 1e-8;

/// The most tables [`ResidualTable::of`] keeps.
const MEMO_CAPACITY: usize = 64;

/// `1 / √(2π)`.
const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// `r(e)` tabulated at knots `−REACH + i / KNOTS_PER_UNIT`.
pub(crate) struct ResidualTable {
    components: [(f64, f64, f64); COMPONENTS],
    /// `(r, dr/de, d²r/de²)` at each knot.
    knots: Vec<(f64, f64, f64)>,
    /// Per interval: whether its rows are solved rather than read.
    solved: Vec<bool>,
}

impl ResidualTable {
    /// Rows below which solving each one is cheaper than the table (it
    /// costs two solves per interval).
    pub(crate) const WORTHWHILE_ROWS: usize = 4 * (2.0 * REACH * KNOTS_PER_UNIT) as usize;

    /// The table of `mixture`, shared: made once per distinct mixture (a
    /// fitted model's tables live as long as queries keep asking; the
    /// memo holds at most [`MEMO_CAPACITY`] and starts over when full).
    /// `None` where a derivative at a knot is not finite (a density that
    /// underflows there).
    pub(crate) fn of(mixture: &Mixture) -> Option<Arc<ResidualTable>> {
        static MEMO: Mutex<Vec<(Mixture, Option<Arc<ResidualTable>>)>> = Mutex::new(Vec::new());
        if let Some((_, table)) = MEMO
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|(m, _)| m.params_bits() == mixture.params_bits())
        {
            return table.clone();
        }
        // Built outside the lock: two threads may both build one.
        let table = ResidualTable::new(mixture).map(Arc::new);
        let mut memo = MEMO.lock().unwrap_or_else(PoisonError::into_inner);
        if memo.len() >= MEMO_CAPACITY {
            memo.clear();
        }
        memo.push((*mixture, table.clone()));
        table
    }

    /// The table of `mixture`, or `None` where a derivative at a knot is
    /// not finite (a density that underflows there).
    fn new(mixture: &Mixture) -> Option<ResidualTable> {
        let components = mixture.components();
        let intervals = (2.0 * REACH * KNOTS_PER_UNIT) as usize;
        let sd = standard_deviation(&components);
        let mut knots = Vec::with_capacity(intervals + 1);
        for i in 0..=intervals {
            let e = knot(i);
            // From the previous knot's Taylor step: one or two Newton steps.
            let start = knots
                .last()
                .map_or(sd * e, |&(r, slope, curvature): &(f64, f64, f64)| {
                    let h = 1.0 / KNOTS_PER_UNIT;
                    r + h * slope + 0.5 * h * h * curvature
                });
            let r = quantile(&components, e, start);
            let phi = (-0.5 * e * e).exp() * INV_SQRT_2PI;
            let f = density(&components, r);
            let slope = phi / f;
            let curvature = -(e * phi + density_slope(&components, r) * slope * slope) / f;
            if !(slope.is_finite() && curvature.is_finite()) {
                return None;
            }
            knots.push((r, slope, curvature));
        }
        let mut table = ResidualTable {
            components,
            knots,
            solved: Vec::new(),
        };
        table.solved = (0..intervals)
            .map(|i| {
                let e = knot(i) + 0.5 / KNOTS_PER_UNIT;
                let guess = table.interpolate(i, 0.5);
                (guess - quantile(&components, e, guess)).abs() > TOLERANCE * sd
            })
            .collect();
        Some(table)
    }

    /// `r(e)`: interpolated inside the table's reach, solved beyond it
    /// and in the intervals marked solved.
    pub(crate) fn residual(&self, e: f64) -> f64 {
        if e.abs() >= REACH {
            let start = self.knots[if e < 0.0 { 0 } else { self.knots.len() - 1 }].0;
            return quantile(&self.components, e, start);
        }
        let (i, t) = self.interval(e);
        let guess = self.interpolate(i, t);
        if self.solved[i] {
            quantile(&self.components, e, guess)
        } else {
            guess
        }
    }

    /// The share of the intervals whose rows are solved.
    #[cfg(test)]
    fn solved_share(&self) -> f64 {
        self.solved.iter().filter(|&&s| s).count() as f64 / self.solved.len() as f64
    }

    /// The interval `e` (`|e| < REACH`) is in and its position across it.
    fn interval(&self, e: f64) -> (usize, f64) {
        let position = (e + REACH) * KNOTS_PER_UNIT;
        let i = (position as usize).min(self.knots.len() - 2);
        (i, position - i as f64)
    }

    /// The quintic Hermite interpolant on interval `i` at `t ∈ [0, 1]`.
    fn interpolate(&self, i: usize, t: f64) -> f64 {
        let h = 1.0 / KNOTS_PER_UNIT;
        let ((r0, s0, c0), (r1, s1, c1)) = (self.knots[i], self.knots[i + 1]);
        let t3 = t * t * t;
        let t4 = t3 * t;
        let t5 = t4 * t;
        (1.0 - 10.0 * t3 + 15.0 * t4 - 6.0 * t5) * r0
            + (t - 6.0 * t3 + 8.0 * t4 - 3.0 * t5) * h * s0
            + 0.5 * (t * t - 3.0 * t3 + 3.0 * t4 - t5) * h * h * c0
            + 0.5 * (t3 - 2.0 * t4 + t5) * h * h * c1
            + (-4.0 * t3 + 7.0 * t4 - 3.0 * t5) * h * s1
            + (10.0 * t3 - 15.0 * t4 + 6.0 * t5) * r1
    }
}

/// The noise value at knot `i`.
fn knot(i: usize) -> f64 {
    -REACH + i as f64 / KNOTS_PER_UNIT
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scm::noise::Likelihood;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn the_table_matches_the_exact_residual_across_the_noise_range() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut shares = Vec::new();
        for _ in 0..40 {
            let mixture = Mixture {
                logits: [rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0)],
                means: std::array::from_fn(|_| rng.random_range(-3.0..3.0)),
                log_scales: std::array::from_fn(|_| rng.random_range(-2.5..1.0)),
            };
            let table = ResidualTable::new(&mixture).unwrap();
            shares.push(table.solved_share());
            let sd = mixture.standard_deviation();
            for j in 0..4001 {
                let e = -9.0 + 18.0 * j as f64 / 4000.0;
                let exact = mixture.sample(&[0.0], e);
                let got = table.residual(e);
                assert!(
                    (got - exact).abs() <= 2.0 * TOLERANCE * sd,
                    "{mixture:?} e={e}: {got} vs {exact}"
                );
            }
        }
        shares.sort_by(f64::total_cmp);
        assert!(shares[20] < 0.1, "solved shares {shares:?}");
    }

    #[test]
    fn a_mixture_with_a_needle_component_is_exact() {
        let mixture = Mixture {
            logits: [2.0, -1.0],
            means: [-2.0, 0.0, 3.0],
            log_scales: [0.0, -9.0, 0.5],
        };
        let table = ResidualTable::new(&mixture).unwrap();
        let sd = mixture.standard_deviation();
        for j in 0..8001 {
            let e = -8.0 + 16.0 * j as f64 / 8000.0;
            let exact = mixture.sample(&[0.0], e);
            assert!((table.residual(e) - exact).abs() <= 2.0 * TOLERANCE * sd);
        }
    }
}
