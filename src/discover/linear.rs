//! Linear mechanisms `x_j = Σ_i W_ij x_i + b_g + ε`, one intercept per
//! group of rows. With the intercepts profiled out, a group's residual sum
//! of squares depends on the data only through its centred scatter matrix
//! `S = Σ (z - z̄)(z - z̄)ᵀ` (the target in column `j`):
//!
//! ```text
//! RSS_j(w) = S_jj − 2 wᵀ S_·j + wᵀ S w,   ∂RSS_j/∂w = 2 (S w − S_·j)
//! ```
//!
//! so each iteration costs `O(d³)` whatever the number of rows.

use ndarray::{Array1, Array2};
use rayon::prelude::*;

use super::knowledge::Masks;
use super::model::{Model, Score};
use super::problem::Problem;

/// The linear family over a problem: one scatter matrix per group.
pub(crate) struct Linear {
    d: usize,
    n: usize,
    /// Per variable, `(rows, S)` of each group.
    scatter: Vec<Vec<(usize, Array2<f64>)>>,
    score: Score,
    lambda1: f64,
    masks: Masks,
}

impl Linear {
    pub(crate) fn new(problem: &Problem, masks: Masks, score: Score, lambda1: f64) -> Linear {
        let d = problem.names.len();
        let scatter = (0..d)
            .into_par_iter()
            .map(|j| {
                problem.groups[j]
                    .iter()
                    .map(|group| {
                        let mut z = Array2::<f64>::zeros((group.rows.len(), d));
                        for (r, &row) in group.rows.iter().enumerate() {
                            z.row_mut(r).assign(&problem.x.row(row));
                            z[[r, j]] = problem.targets[[row, j]];
                        }
                        let mean = z.mean_axis(ndarray::Axis(0)).expect("a non-empty group");
                        z -= &mean;
                        (group.rows.len(), z.t().dot(&z))
                    })
                    .collect()
            })
            .collect();
        Linear {
            d,
            n: problem.n_rows(),
            scatter,
            score,
            lambda1,
            masks,
        }
    }
}

impl Model for Linear {
    fn initial(&self, _seed: u64) -> Vec<f64> {
        vec![0.0; self.d * self.d]
    }

    fn score(&self, params: &[f64], grad: &mut [f64]) -> f64 {
        let d = self.d;
        let w = ndarray::ArrayView2::from_shape((d, d), params).expect("d × d parameters");
        let per_variable: Vec<(f64, Array1<f64>)> = (0..d)
            .into_par_iter()
            .map(|j| {
                let column = w.column(j);
                let mut value = 0.0;
                let mut g = Array1::<f64>::zeros(d);
                for (rows, s) in &self.scatter[j] {
                    let sw = s.dot(&column);
                    let rss = s[[j, j]] - 2.0 * column.dot(&s.column(j)) + column.dot(&sw);
                    let (term, slope) = self.score.term(rss, *rows, self.n);
                    value += term;
                    g.scaled_add(2.0 * slope, &(&sw - &s.column(j)));
                }
                (value, g)
            })
            .collect();
        let mut value = 0.0;
        for (j, (v, g)) in per_variable.into_iter().enumerate() {
            value += v;
            for i in 0..d {
                grad[i * d + j] += g[i];
            }
        }
        for i in 0..d {
            for j in 0..d {
                if !self.masks.required[[i, j]] {
                    let p = params[i * d + j];
                    value += self.lambda1 * p.abs();
                    grad[i * d + j] += self.lambda1 * p.signum() * f64::from(p != 0.0);
                }
            }
        }
        value
    }

    fn edges(&self, params: &[f64]) -> Array2<f64> {
        Array2::from_shape_fn((self.d, self.d), |(i, j)| params[i * self.d + j].powi(2))
    }

    fn chain_edges(&self, params: &[f64], dh_de: &Array2<f64>, grad: &mut [f64]) {
        for ((i, j), g) in dh_de.indexed_iter() {
            grad[i * self.d + j] += g * 2.0 * params[i * self.d + j];
        }
    }

    fn mask(&self, grad: &mut [f64]) {
        for ((i, j), &allowed) in self.masks.allowed.indexed_iter() {
            if !allowed {
                grad[i * self.d + j] = 0.0;
            }
        }
    }

    fn weights(&self, params: &[f64]) -> Array2<f64> {
        Array2::from_shape_fn((self.d, self.d), |(i, j)| params[i * self.d + j])
    }
}
