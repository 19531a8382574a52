//! The additive mechanism `b + Σ f_i(x_i)`, each `f_i` a small one-input
//! tanh network, evaluated as the lane MLP of its block-diagonal network.
//!
//! An additive mechanism of `k` parents with `H` units each is the
//! `k → kH → 1` tanh network whose first layer connects unit `i H + j`
//! to parent `i` only. The kernel spreads its parameters into that
//! network's (the other first-layer weights zero), runs the lane MLP
//! ([`MlpKernel`]: SIMD lanes, one fused pass for likelihoods) and
//! gathers the gradient of the block entries back; the first layer costs
//! `k` times the additive's own multiplies, which for the usual few
//! parents is less than the scalar loop it replaces.

use std::sync::Arc;

use super::mlp::MlpKernel;
use super::{Mechanism, MechanismKernel, MechanismSpec, RowLoss};
use crate::scm::Activation;

impl Mechanism {
    /// `b + Σ f_i(x_i)`: one `1 → hidden → 1` tanh network per parent,
    /// initialised deterministically from `seed` (small weights, so the
    /// mechanism starts near linear).
    pub fn additive(arity: usize, hidden: usize, seed: u64) -> Self {
        let kernel = Additive::new(arity, hidden);
        let params = kernel.initial(seed);
        Mechanism::from_kernel(Arc::new(kernel), params)
    }
}

/// `b + Σ f_i(x_i)`; parameters `[b, net_1.., net_k..]`, each net
/// `[w1 (H), b1 (H), w2 (H)]`.
struct Additive {
    arity: usize,
    hidden: usize,
    /// The `arity → arity · hidden → 1` tanh network it is evaluated as.
    dense: MlpKernel,
}

impl Additive {
    fn new(arity: usize, hidden: usize) -> Self {
        Additive {
            arity,
            hidden,
            dense: MlpKernel::new(arity, &[arity * hidden], Activation::Tanh),
        }
    }

    fn net_size(&self) -> usize {
        3 * self.hidden
    }

    /// Where each of its parameters sits in the dense network's: `b` is
    /// the output bias; net `i`'s `w1[j]`, `b1[j]`, `w2[j]` are unit
    /// `u = i H + j`'s weight from parent `i`, bias and output weight.
    fn dense_index(&self) -> impl Iterator<Item = usize> + '_ {
        let units = self.arity * self.hidden;
        let first_bias = self.arity * units;
        let output = first_bias + units;
        std::iter::once(output + units).chain((0..self.arity).flat_map(move |i| {
            let unit = move |j: usize| i * self.hidden + j;
            (0..self.hidden)
                .map(move |j| i * units + unit(j))
                .chain((0..self.hidden).map(move |j| first_bias + unit(j)))
                .chain((0..self.hidden).map(move |j| output + unit(j)))
        }))
    }

    /// The dense network's parameters (off-block weights zero).
    fn spread(&self, params: &[f32]) -> Vec<f32> {
        let mut dense = vec![0.0f32; self.dense.num_params()];
        for (&value, index) in params.iter().zip(self.dense_index()) {
            dense[index] = value;
        }
        dense
    }

    /// Runs `pass` with the dense parameters and, when `dparams` is
    /// given, a dense gradient buffer whose block entries are then added
    /// to `dparams`.
    fn with_dense<R>(
        &self,
        params: &[f32],
        dparams: Option<&mut [f32]>,
        pass: impl FnOnce(&[f32], Option<&mut [f32]>) -> R,
    ) -> R {
        let dense = self.spread(params);
        match dparams {
            None => pass(&dense, None),
            Some(dparams) => {
                let mut grad = vec![0.0f32; dense.len()];
                let result = pass(&dense, Some(&mut grad));
                for (d, index) in dparams.iter_mut().zip(self.dense_index()) {
                    *d += grad[index];
                }
                result
            }
        }
    }

    fn initial(&self, seed: u64) -> Vec<f32> {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut params = vec![0.0f32];
        let scale = 1.0 / (self.hidden as f32).sqrt();
        for _ in 0..self.arity {
            params.extend((0..self.hidden).map(|_| rng.random_range(-1.0f32..1.0)));
            params.extend((0..self.hidden).map(|_| rng.random_range(-0.5f32..0.5)));
            params.extend((0..self.hidden).map(|_| scale * rng.random_range(-1.0f32..1.0)));
        }
        params
    }
}

impl MechanismKernel for Additive {
    fn initial_params(&self, seed: u64) -> Option<Vec<f32>> {
        Some(self.initial(seed))
    }

    fn describe(&self) -> String {
        format!("additive ({} tanh units per parent)", self.hidden)
    }

    fn spec(&self) -> Option<MechanismSpec> {
        Some(MechanismSpec::Additive {
            arity: self.arity,
            hidden: self.hidden,
        })
    }

    fn arity(&self) -> usize {
        self.arity
    }

    fn num_params(&self) -> usize {
        1 + self.arity * self.net_size()
    }

    fn forward(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]) {
        self.dense.forward(&self.spread(params), parents, out);
    }

    fn backward(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        dparents: Option<&mut [f32]>,
    ) {
        self.with_dense(params, Some(dparams), |dense, grad| {
            let grad = grad.expect("a gradient buffer");
            self.dense.backward(dense, parents, seeds, grad, dparents);
        });
    }

    fn squared_error(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        weight: f32,
        dparams: Option<&mut [f32]>,
    ) -> f64 {
        self.with_dense(params, dparams, |dense, grad| {
            self.dense
                .squared_error(dense, parents, target, weight, grad)
        })
    }

    fn row_loss(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        loss: &RowLoss<'_>,
        dparams: Option<&mut [f32]>,
    ) -> (f64, Vec<f64>) {
        self.with_dense(params, dparams, |dense, grad| {
            self.dense.row_loss(dense, parents, target, loss, grad)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Tangent;
    use crate::differentiable;

    /// A `1 → H → 1` tanh network: the additive mechanism's building block,
    /// written plainly as the reference.
    #[derive(crate::Differentiable, Clone, Debug)]
    struct Univariate {
        w1: Vec<f32>,
        b1: Vec<f32>,
        w2: Vec<f32>,
    }

    #[differentiable]
    fn univariate(p: &Univariate, x: f32) -> f32 {
        let mut out = 0.0;
        for ((w1, b1), w2) in p.w1.iter().zip(p.b1.iter()).zip(p.w2.iter()) {
            out += *w2 * (*w1 * x + *b1).tanh();
        }
        out
    }

    impl Additive {
        /// Net `i` of `params`.
        fn net(&self, params: &[f32], i: usize) -> Univariate {
            let h = self.hidden;
            let start = 1 + i * self.net_size();
            Univariate {
                w1: params[start..start + h].to_vec(),
                b1: params[start + h..start + 2 * h].to_vec(),
                w2: params[start + 2 * h..start + 3 * h].to_vec(),
            }
        }
    }

    /// The additive mechanism's value is `b + Σ f_i(x_i)`.
    #[test]
    fn the_dense_network_computes_the_sum_of_the_parents_networks() {
        let additive = Additive::new(3, 4);
        let params = additive.initial(2);
        let n = 77;
        let columns: Vec<Vec<f32>> = (0..3)
            .map(|i| {
                (0..n)
                    .map(|r| ((r * (i + 2)) as f32 * 0.21).sin() * 2.5)
                    .collect()
            })
            .collect();
        let parents: Vec<&[f32]> = columns.iter().map(Vec::as_slice).collect();
        let mut out = vec![0.0f32; n];
        additive.forward(&params, &parents, &mut out);
        for (r, &got) in out.iter().enumerate() {
            let want = params[0]
                + (0..3)
                    .map(|i| univariate(&additive.net(&params, i), columns[i][r]))
                    .sum::<f32>();
            assert!(
                (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                "row {r}: {got} vs {want}"
            );
        }
    }

    /// The reverse pass of the additive mechanism agrees with the
    /// macro-generated pullback of `univariate`, row by row.
    #[test]
    fn the_additive_reverse_pass_matches_the_generated_pullback() {
        let additive = Additive::new(2, 5);
        let params = additive.initial(7);
        let n = 300;
        let x0: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
        let x1: Vec<f32> = (0..n).map(|i| (i as f32 * 0.13).cos() - 0.5).collect();
        let seeds: Vec<f32> = (0..n).map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0).collect();
        let parents = [x0.as_slice(), x1.as_slice()];
        let mut dparams = vec![0.0f32; additive.num_params()];
        let mut dparents = vec![0.0f32; 2 * n];
        additive.backward(&params, &parents, &seeds, &mut dparams, Some(&mut dparents));

        let mut expected = vec![0.0f64; additive.num_params()];
        expected[0] = seeds.iter().map(|&s| f64::from(s)).sum();
        for (i, column) in parents.iter().enumerate() {
            let net = additive.net(&params, i);
            let start = 1 + i * additive.net_size();
            for row in 0..n {
                let (_, pullback) = univariate::pullback(&net, column[row]);
                let (tangent, dx) = pullback.pull(seeds[row]);
                let mut index = start;
                tangent.for_each_scalar(&mut |value| {
                    expected[index] += f64::from(value);
                    index += 1;
                });
                let got = dparents[i * n + row];
                assert!(
                    (got - dx).abs() <= 1e-5 * (1.0 + dx.abs()),
                    "d x{i}[{row}]: {got} vs {dx}"
                );
            }
        }
        for (k, (&got, &want)) in dparams.iter().zip(&expected).enumerate() {
            assert!(
                (f64::from(got) - want).abs() <= 1e-4 * (1.0 + want.abs()),
                "parameter {k}: {got} vs {want}"
            );
        }
    }
}
