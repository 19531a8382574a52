//! Linear mechanisms `x_j = Σ_i W_ij x_i + b_g + ε`, one intercept per
//! group of rows. With the intercepts profiled out, a group's residual sum
//! of squares depends on the data only through its centred scatter matrix
//! `S = Σ (z - z̄)(z - z̄)ᵀ` (the target in column `j`):
//!
//! ```text
//! RSS_j(w) = (e_j − w)ᵀ S (e_j − w),   ∂RSS_j/∂w = −2 S (e_j − w)
//! ```
//!
//! so each iteration costs `O(d³)` whatever the number of rows. Variables
//! whose terms cover the same rows with no known shift share their
//! scatter matrices (on one data set: all of them), and their columns of
//! `S (I − W)` come from one matrix product.

use ndarray::{Array2, Axis};
use rayon::prelude::*;

use super::knowledge::Masks;
use super::model::{Model, Score, Separable};
use super::problem::Problem;

/// Variables whose terms read the same scatter matrices.
struct Block {
    /// The variables (columns of `W`).
    variables: Vec<usize>,
    /// `(rows, S)` of each group of their terms.
    scatter: Vec<(usize, Array2<f64>)>,
}

/// The linear family over a problem.
pub(crate) struct Linear {
    d: usize,
    n: usize,
    blocks: Vec<Block>,
    score: Score,
    lambda1: f64,
    masks: Masks,
}

/// The centred scatter matrix of `rows` of `problem.x`, with column `j`
/// taken from the targets when `target` is `Some(j)`.
fn scatter(problem: &Problem, rows: &[usize], target: Option<usize>) -> Array2<f64> {
    let d = problem.names.len();
    let mut z = Array2::<f64>::zeros((rows.len(), d));
    for (r, &row) in rows.iter().enumerate() {
        z.row_mut(r).assign(&problem.x.row(row));
        if let Some(j) = target {
            z[[r, j]] = problem.targets[[row, j]];
        }
    }
    let mean = z.mean_axis(Axis(0)).expect("a non-empty group");
    z -= &mean;
    z.t().dot(&z)
}

impl Linear {
    pub(crate) fn new(problem: &Problem, masks: Masks, score: Score, lambda1: f64) -> Linear {
        let d = problem.names.len();
        // Group the variables: those with a known shift in some row read
        // their own target column and stand alone; the others share a
        // block with every variable whose groups cover the same rows.
        // (has a known shift, its groups' rows, the variables).
        type Key<'a> = (bool, Vec<&'a [usize]>, Vec<usize>);
        let mut keys: Vec<Key> = Vec::new();
        for j in 0..d {
            let groups: Vec<&[usize]> = problem.groups[j]
                .iter()
                .map(|g| g.rows.as_slice())
                .collect();
            let shifted = groups
                .iter()
                .flat_map(|rows| rows.iter())
                .any(|&r| problem.targets[[r, j]] != problem.x[[r, j]]);
            match keys
                .iter_mut()
                .find(|(own, rows, _)| !shifted && !own && *rows == groups)
            {
                Some((_, _, variables)) => variables.push(j),
                None => keys.push((shifted, groups, vec![j])),
            }
        }
        let blocks = keys
            .into_par_iter()
            .map(|(shifted, groups, variables)| {
                let target = shifted.then(|| variables[0]);
                Block {
                    scatter: groups
                        .iter()
                        .map(|rows| (rows.len(), scatter(problem, rows, target)))
                        .collect(),
                    variables,
                }
            })
            .collect();
        Linear {
            d,
            n: problem.n_rows(),
            blocks,
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
        let mut value = self.fit(params, grad);
        for (k, lambda) in self.l1_weights() {
            let p = params[k];
            value += lambda * p.abs();
            grad[k] += lambda * p.signum() * f64::from(p != 0.0);
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

    fn separable(&self) -> Option<&dyn Separable> {
        Some(self)
    }
}

impl Separable for Linear {
    fn fit(&self, params: &[f64], grad: &mut [f64]) -> f64 {
        let d = self.d;
        let w = ndarray::ArrayView2::from_shape((d, d), params).expect("d × d parameters");
        let mut value = 0.0;
        for block in &self.blocks {
            // Row c: e_j − w_j for the block's c-th variable j, so that
            // row c of `residual · S` is column j of `S (I − W)`.
            let residual = Array2::from_shape_fn((block.variables.len(), d), |(c, i)| {
                let j = block.variables[c];
                f64::from(i == j) - w[[i, j]]
            });
            for (rows, s) in &block.scatter {
                let product = residual.dot(s);
                for (c, &j) in block.variables.iter().enumerate() {
                    let row = product.row(c);
                    let rss = residual.row(c).dot(&row);
                    let (term, slope) = self.score.term(rss, *rows, self.n);
                    value += term;
                    for (i, p) in row.iter().enumerate() {
                        grad[i * d + j] -= 2.0 * slope * p;
                    }
                }
            }
        }
        value
    }

    fn l1_weights(&self) -> Vec<(usize, f64)> {
        self.masks
            .allowed
            .indexed_iter()
            .filter(|(_, &allowed)| allowed)
            .map(|((i, j), _)| {
                let lambda = if self.masks.required[[i, j]] {
                    0.0
                } else {
                    self.lambda1
                };
                (i * self.d + j, lambda)
            })
            .collect()
    }

    /// At `W = 0`: `Σ_g 2 term'(S_g,jj) S_g,ii` over the groups of
    /// variable `j`'s term (`S_g,ii / N` under least squares).
    fn curvature(&self) -> Vec<f64> {
        let mut diagonal = Array2::<f64>::zeros((self.d, self.d));
        for block in &self.blocks {
            for &j in &block.variables {
                for (rows, s) in &block.scatter {
                    let (_, slope) = self.score.term(s[[j, j]], *rows, self.n);
                    for i in 0..self.d {
                        diagonal[[i, j]] += 2.0 * slope * s[[i, i]];
                    }
                }
            }
        }
        self.l1_weights()
            .into_iter()
            .map(|(k, _)| diagonal[[k / self.d, k % self.d]].max(1e-12))
            .collect()
    }
}
