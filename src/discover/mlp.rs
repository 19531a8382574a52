//! Nonlinear mechanisms as in DAGMA-MLP: variable `j`'s mean is a
//! one-hidden-layer perceptron of all the other variables,
//!
//! ```text
//! f_j(x) = Σ_k v_jk σ(Σ_i A_j[i,k] x_i + a_jk) + c_jg     (σ the logistic)
//! ```
//!
//! with one output intercept `c_jg` per group of rows. Variable `i` is a
//! parent of `j` exactly when row `i` of `A_j` is non-zero, so the edge
//! matrix is `E_ij = Σ_k A_j[i,k]²` and the sparsity penalty is `λ₁ Σ |A|`
//! (DAGMA-MLP's choice), with a ridge `λ₂/2 (Σ A² + Σ v²)`.

use ndarray::{Array1, Array2, Axis};
use rand::SeedableRng;
use rand_distr::{Distribution, Uniform};
use rayon::prelude::*;

use super::knowledge::Masks;
use super::model::{Model, Score};
use super::problem::Problem;

/// One group of one variable's term: its inputs and targets.
struct Block {
    x: Array2<f64>,
    target: Array1<f64>,
}

/// The MLP family over a problem.
pub(crate) struct Mlp {
    d: usize,
    hidden: usize,
    n: usize,
    /// Per variable, its groups.
    blocks: Vec<Vec<Block>>,
    /// Per variable, where its parameters start.
    offsets: Vec<usize>,
    n_params: usize,
    score: Score,
    lambda1: f64,
    lambda2: f64,
    masks: Masks,
}

impl Mlp {
    pub(crate) fn new(
        problem: &Problem,
        masks: Masks,
        score: Score,
        hidden: usize,
        lambda1: f64,
        lambda2: f64,
    ) -> Mlp {
        let d = problem.names.len();
        let blocks: Vec<Vec<Block>> = (0..d)
            .map(|j| {
                problem.groups[j]
                    .iter()
                    .map(|group| Block {
                        x: problem.x.select(Axis(0), &group.rows),
                        target: group
                            .rows
                            .iter()
                            .map(|&r| problem.targets[[r, j]])
                            .collect(),
                    })
                    .collect()
            })
            .collect();
        let mut offsets = Vec::with_capacity(d);
        let mut n_params = 0;
        for of_j in &blocks {
            offsets.push(n_params);
            n_params += d * hidden + 2 * hidden + of_j.len();
        }
        Mlp {
            d,
            hidden,
            n: problem.n_rows(),
            blocks,
            offsets,
            n_params,
            score,
            lambda1,
            lambda2,
            masks,
        }
    }

    /// Offsets of `A_j`, `a_j`, `v_j` and the intercepts within the flat vector.
    fn layout(&self, j: usize) -> (usize, usize, usize, usize) {
        let a = self.offsets[j];
        let bias = a + self.d * self.hidden;
        let v = bias + self.hidden;
        (a, bias, v, v + self.hidden)
    }

    /// Variable `j`'s score and the gradient of its own parameters.
    fn variable_score(&self, j: usize, params: &[f64]) -> (f64, Vec<f64>) {
        let (d, m) = (self.d, self.hidden);
        let (oa, ob, ov, oc) = self.layout(j);
        let a = ndarray::ArrayView2::from_shape((d, m), &params[oa..ob]).expect("d × m");
        let bias = ndarray::ArrayView1::from(&params[ob..ov]);
        let v = ndarray::ArrayView1::from(&params[ov..oc]);
        let end = oc + self.blocks[j].len();
        let mut grad = vec![0.0; end - oa];
        let mut g_a = Array2::<f64>::zeros((d, m));
        let mut g_bias = Array1::<f64>::zeros(m);
        let mut g_v = Array1::<f64>::zeros(m);
        let mut value = 0.0;
        for (g, block) in self.blocks[j].iter().enumerate() {
            let c = params[oc + g];
            let mut hidden = block.x.dot(&a);
            hidden += &bias;
            hidden.mapv_inplace(|z| 1.0 / (1.0 + (-z).exp()));
            let mut residual = hidden.dot(&v);
            residual.mapv_inplace(|p| p + c);
            residual = &block.target - &residual;
            let rss = residual.dot(&residual);
            let (term, slope) = self.score.term(rss, block.target.len(), self.n);
            value += term;
            // ∂score/∂prediction.
            let upstream = residual.mapv(|r| -2.0 * slope * r);
            g_v += &hidden.t().dot(&upstream);
            grad[oc - oa + g] = upstream.sum();
            // ∂/∂z = upstream · v_k · σ'(z), σ' = σ (1 − σ).
            let mut dz = hidden;
            for (mut row, &u) in dz.rows_mut().into_iter().zip(upstream.iter()) {
                for (h, &vk) in row.iter_mut().zip(v.iter()) {
                    *h = u * vk * *h * (1.0 - *h);
                }
            }
            g_a += &block.x.t().dot(&dz);
            g_bias += &dz.sum_axis(Axis(0));
        }
        for i in 0..d {
            let penalised = !self.masks.required[[i, j]];
            for k in 0..m {
                let w = a[[i, k]];
                if penalised {
                    value += self.lambda1 * w.abs();
                    g_a[[i, k]] += self.lambda1 * w.signum() * f64::from(w != 0.0);
                }
                value += 0.5 * self.lambda2 * w * w;
                g_a[[i, k]] += self.lambda2 * w;
            }
        }
        for k in 0..m {
            value += 0.5 * self.lambda2 * v[k] * v[k];
            g_v[k] += self.lambda2 * v[k];
        }
        grad[..d * m].copy_from_slice(g_a.as_slice().expect("standard layout"));
        grad[ob - oa..ov - oa].copy_from_slice(g_bias.as_slice().expect("contiguous"));
        grad[ov - oa..oc - oa].copy_from_slice(g_v.as_slice().expect("contiguous"));
        (value, grad)
    }
}

impl Model for Mlp {
    fn initial(&self, seed: u64) -> Vec<f64> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let bound = (1.0 / self.hidden as f64).sqrt();
        let uniform = Uniform::new(-bound, bound).expect("a non-empty range");
        let mut params = vec![0.0; self.n_params];
        for j in 0..self.d {
            let (_, _, ov, oc) = self.layout(j);
            for p in &mut params[ov..oc] {
                *p = uniform.sample(&mut rng);
            }
        }
        params
    }

    fn score(&self, params: &[f64], grad: &mut [f64]) -> f64 {
        let parts: Vec<(f64, Vec<f64>)> = (0..self.d)
            .into_par_iter()
            .map(|j| self.variable_score(j, params))
            .collect();
        let mut value = 0.0;
        for (j, (v, g)) in parts.into_iter().enumerate() {
            value += v;
            let start = self.offsets[j];
            for (slot, add) in grad[start..start + g.len()].iter_mut().zip(g) {
                *slot += add;
            }
        }
        value
    }

    fn edges(&self, params: &[f64]) -> Array2<f64> {
        let (d, m) = (self.d, self.hidden);
        Array2::from_shape_fn((d, d), |(i, j)| {
            let start = self.offsets[j] + i * m;
            params[start..start + m].iter().map(|w| w * w).sum()
        })
    }

    fn chain_edges(&self, params: &[f64], dh_de: &Array2<f64>, grad: &mut [f64]) {
        let m = self.hidden;
        for ((i, j), &g) in dh_de.indexed_iter() {
            let start = self.offsets[j] + i * m;
            for p in start..start + m {
                grad[p] += g * 2.0 * params[p];
            }
        }
    }

    fn mask(&self, grad: &mut [f64]) {
        let m = self.hidden;
        for ((i, j), &allowed) in self.masks.allowed.indexed_iter() {
            if !allowed {
                let start = self.offsets[j] + i * m;
                grad[start..start + m].fill(0.0);
            }
        }
    }

    fn weights(&self, params: &[f64]) -> Array2<f64> {
        self.edges(params).mapv(f64::sqrt)
    }
}
