//! The additive mechanism `b + Σ f_i(x_i)`, each `f_i` a small one-input
//! tanh network with a reverse pass written out by hand.

use std::sync::Arc;

use rayon::prelude::*;

use crate::differentiable;

use super::chunks::sum_chunks;
use super::{Mechanism, MechanismKernel, MechanismSpec};

impl Mechanism {
    /// `b + Σ f_i(x_i)`: one `1 → hidden → 1` tanh network per parent,
    /// initialised deterministically from `seed` (small weights, so the
    /// mechanism starts near linear).
    pub fn additive(arity: usize, hidden: usize, seed: u64) -> Self {
        let kernel = Additive { arity, hidden };
        let params = kernel.initial(seed);
        Mechanism::from_kernel(Arc::new(kernel), params)
    }
}

/// A `1 → H → 1` tanh network: the additive mechanism's building block.
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

/// `b + Σ f_i(x_i)`; parameters `[b, net_1.., net_k..]`, each net
/// `[w1 (H), b1 (H), w2 (H)]`.
struct Additive {
    arity: usize,
    hidden: usize,
}

impl Additive {
    fn net_size(&self) -> usize {
        3 * self.hidden
    }

    fn net(&self, params: &[f32], i: usize) -> Univariate {
        let h = self.hidden;
        let start = 1 + i * self.net_size();
        Univariate {
            w1: params[start..start + h].to_vec(),
            b1: params[start + h..start + 2 * h].to_vec(),
            w2: params[start + 2 * h..start + 3 * h].to_vec(),
        }
    }

    /// Net `i`'s `(w1, b1, w2)` within `params`, read in place by the
    /// reverse pass, which is written out by hand for this `1 → H → 1` tanh
    /// network (no per-row tape or tangent allocation; checked against
    /// `univariate::pullback` in the tests below).
    fn net_slices<'p>(&self, params: &'p [f32], i: usize) -> (&'p [f32], &'p [f32], &'p [f32]) {
        let h = self.hidden;
        let start = 1 + i * self.net_size();
        (
            &params[start..start + h],
            &params[start + h..start + 2 * h],
            &params[start + 2 * h..start + 3 * h],
        )
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
        out.fill(params[0]);
        for (i, column) in parents.iter().enumerate() {
            let net = self.net(params, i);
            out.par_iter_mut()
                .zip(column.par_iter())
                .for_each(|(value, &x)| *value += univariate(&net, x));
        }
    }

    fn backward(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        mut dparents: Option<&mut [f32]>,
    ) {
        dparams[0] += seeds.iter().map(|&s| f64::from(s)).sum::<f64>() as f32;
        let n = seeds.len();
        let size = self.net_size();
        for (i, column) in parents.iter().enumerate() {
            let start = 1 + i * size;
            let (w1, b1, w2) = self.net_slices(params, i);
            sum_chunks(
                n,
                size,
                &mut dparams[start..start + size],
                |range, local| {
                    let (dw1, rest) = local.split_at_mut(w1.len());
                    let (db1, dw2) = rest.split_at_mut(b1.len());
                    for row in range {
                        let (x, seed) = (column[row], seeds[row]);
                        for h in 0..w1.len() {
                            let t = (w1[h] * x + b1[h]).tanh();
                            let da = seed * w2[h] * (1.0 - t * t);
                            dw1[h] += da * x;
                            db1[h] += da;
                            dw2[h] += seed * t;
                        }
                    }
                },
            );
            if let Some(dparents) = dparents.as_deref_mut() {
                dparents[i * n..(i + 1) * n]
                    .par_iter_mut()
                    .enumerate()
                    .for_each(|(row, value)| {
                        let x = column[row];
                        let slope: f32 = (0..w1.len())
                            .map(|h| {
                                let t = (w1[h] * x + b1[h]).tanh();
                                w2[h] * (1.0 - t * t) * w1[h]
                            })
                            .sum();
                        *value = seeds[row] * slope;
                    });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Tangent;

    /// The hand-written reverse pass of the additive mechanism agrees with
    /// the macro-generated pullback of `univariate`, row by row.
    #[test]
    fn the_additive_reverse_pass_matches_the_generated_pullback() {
        let additive = Additive {
            arity: 2,
            hidden: 5,
        };
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
