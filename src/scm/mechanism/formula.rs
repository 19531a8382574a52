//! Mechanisms written as formulas at run time ([`Mechanism::formula`]):
//! the compiled tape of [`crate::formula`], run over sixteen rows at a
//! time in the same chunked, fused passes as the other kernels (the
//! likelihood's seed of each group of rows is taken as soon as its means
//! are known, and the reverse sweep runs at once).
//!
//! A formula sees its parents in the data's own units (like a
//! `#[differentiable]` function, and unlike the networks): a coefficient or
//! threshold written in it keeps its meaning.

use std::sync::Arc;

use super::chunks::{map_chunks, CHUNK};
use super::{Mechanism, MechanismKernel, MechanismSpec, RowLoss};
use crate::formula::{Formula, FormulaError};
use crate::lanes::BatchLanes;

const LANES: usize = BatchLanes::LANES;

impl Mechanism {
    /// The mechanism `formula` over the parents `inputs` (named in the order
    /// their columns come: the graph's order of the variable's parents)
    /// with the parameters `params`, each with its initial value.
    ///
    /// ```
    /// use causalgrad::scm::Mechanism;
    ///
    /// let x5 = Mechanism::formula(
    ///     "f * exp(-g * x3^2) + h * x4",
    ///     &["x3", "x4"],
    ///     &[("f", 0.5), ("g", 0.5), ("h", 0.0)],
    /// )?;
    /// assert_eq!(x5.params(), [0.5, 0.5, 0.0]);
    /// let mut mean = [0.0];
    /// x5.forward(&[&[1.0], &[2.0]], &mut mean);
    /// assert!((mean[0] - 0.5 * (-0.5f32).exp()).abs() < 1e-6);
    /// assert!(Mechanism::formula("f * x9", &["x3"], &[("f", 1.0)]).is_err());
    /// # Ok::<(), causalgrad::formula::FormulaError>(())
    /// ```
    ///
    /// # Errors
    /// A formula that does not parse, calls an unknown function or reads a
    /// name that is neither a parent nor a parameter
    /// ([`FormulaError`], with the column of the token).
    pub fn formula(
        formula: &str,
        inputs: &[&str],
        params: &[(&str, f32)],
    ) -> Result<Mechanism, FormulaError> {
        Mechanism::formulas(&[formula], inputs, params)
    }

    /// Several formulas over the same parents and parameters, one output
    /// each: the logits of a categorical variable's levels after the first
    /// (one formula given for such a variable is used for every level,
    /// each with its own parameters).
    ///
    /// # Errors
    /// As [`Mechanism::formula`].
    pub fn formulas(
        formulas: &[&str],
        inputs: &[&str],
        params: &[(&str, f32)],
    ) -> Result<Mechanism, FormulaError> {
        let names: Vec<&str> = params.iter().map(|(name, _)| *name).collect();
        let compiled = Formula::compile(formulas, inputs, &names)?;
        let values = params.iter().map(|(_, value)| *value).collect();
        Ok(Mechanism::from_compiled(compiled, values))
    }

    /// A compiled formula with its parameter values (as many as it has
    /// parameters).
    pub(crate) fn from_compiled(formula: Formula, values: Vec<f32>) -> Mechanism {
        Mechanism::from_kernel(Arc::new(FormulaKernel { formula }), values)
    }
}

/// A compiled formula as a mechanism kernel.
struct FormulaKernel {
    formula: Formula,
}

/// A chunk's sum and parameter gradient.
type Partial = (f64, Vec<f64>, Vec<f32>);

impl FormulaKernel {
    fn tape(&self) -> &crate::formula::tape::Tape {
        &self.formula.tape
    }

    /// Runs the groups of lanes of `range`: forward, then `seeds` gives
    /// each output's seed lanes from the means (`None` skips the reverse
    /// sweep), then the reverse sweep adds the parameters' cotangents to
    /// the lane accumulators and hands the parents' to `on_parents`.
    fn sweep(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        range: std::ops::Range<usize>,
        mut seeds: impl FnMut(usize, usize, &[BatchLanes], &mut [BatchLanes]) -> bool,
        mut on_parents: impl FnMut(usize, usize, &[BatchLanes]),
    ) -> Vec<f32> {
        let tape = self.tape();
        let mut work = tape.workspace(params);
        let outputs = tape.outputs();
        let mut means = vec![BatchLanes::splat(0.0); outputs];
        let mut seed = vec![BatchLanes::splat(0.0); outputs];
        let mut dparents = vec![BatchLanes::splat(0.0); parents.len()];
        let mut totals = vec![BatchLanes::splat(0.0); params.len()];
        let mut start = range.start;
        while start < range.end {
            let count = (range.end - start).min(LANES);
            tape.load(&mut work, parents, start, count);
            tape.forward(&mut work);
            for (h, mean) in means.iter_mut().enumerate() {
                *mean = tape.output(&work, h);
            }
            if seeds(start, count, &means, &mut seed) {
                tape.reverse(&mut work, &seed);
                for (j, total) in totals.iter_mut().enumerate() {
                    *total += tape.param_adjoint(&work, j);
                }
                for (i, d) in dparents.iter_mut().enumerate() {
                    *d = tape.input_adjoint(&work, i);
                }
                on_parents(start, count, &dparents);
            }
            start += count;
        }
        totals.iter().map(|total| total.sum()).collect()
    }
}

impl MechanismKernel for FormulaKernel {
    fn describe(&self) -> String {
        match self.formula.texts() {
            [one] => format!("formula {one}"),
            many => format!("formulas {}", many.join("; ")),
        }
    }

    fn arity(&self) -> usize {
        self.formula.inputs().len()
    }

    fn num_params(&self) -> usize {
        self.formula.params().len()
    }

    fn outputs(&self) -> usize {
        self.tape().outputs()
    }

    fn spec(&self) -> Option<MechanismSpec> {
        Some(MechanismSpec::Formula {
            formulas: self.formula.texts().to_vec(),
            inputs: self.formula.inputs().to_vec(),
            params: self.formula.params().to_vec(),
        })
    }

    fn forward(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]) {
        let outputs = self.tape().outputs();
        let n = out.len() / outputs;
        let chunks: Vec<Vec<f32>> = map_chunks(n, |range| {
            let mut values = vec![0.0f32; range.len() * outputs];
            let offset = range.start;
            let length = range.len();
            self.sweep(
                params,
                parents,
                range,
                |start, count, means, _| {
                    for (h, mean) in means.iter().enumerate() {
                        let at = h * length + start - offset;
                        values[at..at + count].copy_from_slice(&mean.to_array()[..count]);
                    }
                    false
                },
                |_, _, _| {},
            );
            values
        });
        for (chunk, values) in chunks.iter().enumerate() {
            let start = chunk * CHUNK;
            let length = values.len() / outputs;
            for h in 0..outputs {
                out[h * n + start..h * n + start + length]
                    .copy_from_slice(&values[h * length..(h + 1) * length]);
            }
        }
    }

    fn backward(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        dparents: Option<&mut [f32]>,
    ) {
        let outputs = self.tape().outputs();
        let n = seeds.len() / outputs;
        let want_parents = dparents.is_some();
        let arity = parents.len();
        let chunks: Vec<(Vec<f32>, Vec<f32>)> = map_chunks(n, |range| {
            let offset = range.start;
            let length = range.len();
            let mut grads = vec![0.0f32; if want_parents { arity * length } else { 0 }];
            let totals = self.sweep(
                params,
                parents,
                range,
                |start, count, _, seed| {
                    for (h, lanes) in seed.iter_mut().enumerate() {
                        *lanes = BatchLanes::load_padded(seeds, h * n + start, count);
                    }
                    true
                },
                |start, count, d| {
                    if want_parents {
                        for (i, lanes) in d.iter().enumerate() {
                            let at = i * length + start - offset;
                            grads[at..at + count].copy_from_slice(&lanes.to_array()[..count]);
                        }
                    }
                },
            );
            (totals, grads)
        });
        for (totals, _) in &chunks {
            for (total, value) in dparams.iter_mut().zip(totals) {
                *total += value;
            }
        }
        if let Some(dparents) = dparents {
            for (chunk, (_, grads)) in chunks.iter().enumerate() {
                let start = chunk * CHUNK;
                let length = grads.len() / arity.max(1);
                for i in 0..arity {
                    dparents[i * n + start..i * n + start + length]
                        .copy_from_slice(&grads[i * length..(i + 1) * length]);
                }
            }
        }
    }

    fn squared_error(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        weight: f32,
        dparams: Option<&mut [f32]>,
    ) -> f64 {
        let want = dparams.is_some();
        let partial: Vec<Partial> = map_chunks(target.len(), |range| {
            let mut squares = 0.0f64;
            let totals = self.sweep(
                params,
                parents,
                range,
                |start, count, means, seed| {
                    let goal = BatchLanes::load_padded(target, start, count);
                    let error = (means[0] - goal).masked(count);
                    squares += f64::from((error * error).sum());
                    seed[0] = BatchLanes::splat(weight) * error;
                    want
                },
                |_, _, _| {},
            );
            (squares, Vec::new(), totals)
        });
        add_sums(partial, dparams, 0).0
    }

    fn row_loss(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        loss: &RowLoss<'_>,
        dparams: Option<&mut [f32]>,
    ) -> (f64, Vec<f64>) {
        let want = dparams.is_some();
        let partial: Vec<Partial> = map_chunks(target.len(), |range| {
            let mut total = 0.0f64;
            let mut d_loss = vec![0.0f64; loss.params];
            let totals = self.sweep(
                params,
                parents,
                range,
                |start, count, means, seed| {
                    let means = means[0].to_array();
                    let mut seeds = [0.0f32; LANES];
                    total += (loss.f)(
                        &means[..count],
                        &target[start..start + count],
                        &mut seeds[..count],
                        &mut d_loss,
                    );
                    seed[0] = BatchLanes::from_array(seeds);
                    want
                },
                |_, _, _| {},
            );
            (total, d_loss, totals)
        });
        add_sums(partial, dparams, loss.params)
    }
}

/// The chunks' sums and loss gradients, in chunk order, with their
/// parameter gradients added to `dparams`.
fn add_sums(partial: Vec<Partial>, dparams: Option<&mut [f32]>, params: usize) -> (f64, Vec<f64>) {
    if let Some(dparams) = dparams {
        for (_, _, totals) in &partial {
            for (total, value) in dparams.iter_mut().zip(totals) {
                *total += value;
            }
        }
    }
    RowLoss::combine(
        partial.into_iter().map(|(sum, d, _)| (sum, d)).collect(),
        params,
    )
}
