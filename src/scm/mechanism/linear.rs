//! The linear mechanism `b + Σ w_i x_i` (and a root's learned mean, its
//! case without parents).

use std::sync::Arc;

use super::chunks::{add_partials, lane_dot, lane_sum, map_chunks};
use super::{Mechanism, MechanismKernel, MechanismSpec};

impl Mechanism {
    /// `b + Σ w_i x_i` over `arity` parents, starting at zero.
    pub fn linear(arity: usize) -> Self {
        Mechanism::from_kernel(Arc::new(Linear { arity }), vec![0.0; arity + 1])
    }
}

/// `b + Σ w_i x_i`; parameters `[b, w_1, .., w_k]`.
struct Linear {
    arity: usize,
}

impl MechanismKernel for Linear {
    fn describe(&self) -> String {
        "linear".to_string()
    }

    fn spec(&self) -> Option<MechanismSpec> {
        Some(MechanismSpec::Linear { arity: self.arity })
    }

    fn arity(&self) -> usize {
        self.arity
    }

    fn num_params(&self) -> usize {
        self.arity + 1
    }

    fn forward(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]) {
        out.fill(params[0]);
        for (weight, column) in params[1..].iter().zip(parents) {
            for (value, x) in out.iter_mut().zip(column.iter()) {
                *value += weight * x;
            }
        }
    }

    /// One pass per chunk: the chunk's errors column by column, then
    /// their squares and their products with each parent summed in lanes.
    fn squared_error(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        weight: f32,
        dparams: Option<&mut [f32]>,
    ) -> f64 {
        let want = dparams.is_some();
        let partial: Vec<(f64, Vec<f32>)> = map_chunks(target.len(), |range| {
            let mut error: Vec<f32> = target[range.clone()]
                .iter()
                .map(|t| params[0] - t)
                .collect();
            for (w, column) in params[1..].iter().zip(parents) {
                for (e, x) in error.iter_mut().zip(&column[range.clone()]) {
                    *e += w * x;
                }
            }
            let squares = f64::from(lane_dot(&error, &error));
            let flat = if want {
                let mut flat = vec![weight * lane_sum(&error)];
                flat.extend(
                    parents
                        .iter()
                        .map(|column| weight * lane_dot(&error, &column[range.clone()])),
                );
                flat
            } else {
                Vec::new()
            };
            (squares, flat)
        });
        add_partials(partial, dparams)
    }

    fn backward(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        dparents: Option<&mut [f32]>,
    ) {
        dparams[0] += seeds.iter().map(|&s| f64::from(s)).sum::<f64>() as f32;
        for (i, column) in parents.iter().enumerate() {
            let dot: f64 = seeds
                .iter()
                .zip(column.iter())
                .map(|(&s, &x)| f64::from(s) * f64::from(x))
                .sum();
            dparams[i + 1] += dot as f32;
        }
        if let Some(dparents) = dparents {
            let n = seeds.len();
            for i in 0..self.arity {
                for (value, s) in dparents[i * n..(i + 1) * n].iter_mut().zip(seeds) {
                    *value = s * params[i + 1];
                }
            }
        }
    }
}
