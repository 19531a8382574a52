//! A multi-layer perceptron mechanism evaluated on SIMD lanes, with its
//! reverse pass written out by hand: the same network as the burn
//! [`Mlp`](crate::scm::Mlp) (same parameter layout, same initial weights
//! for a seed), without burn's per-operation tensors and tape.
//!
//! Rows are processed sixteen at a time as [`BatchLanes`], layer by layer:
//! for each unit of a hidden layer its pre-activation over the sixteen rows
//! is a lane vector (`b_j + Σ_i W[i, j] · input_i`), its activation and the
//! activation's slope are kept in a small scratch buffer allocated once per
//! chunk of rows. The reverse pass of the group follows at once (seeded by
//! the group's errors in [`MechanismKernel::squared_error`]): the parameter
//! gradients add into one lane accumulator per parameter, summed once per
//! chunk, and chunks are combined in a fixed order, so results do not
//! depend on the number of threads. The last group of a chunk is padded
//! with zero rows whose seeds are zero. Every elementary function is the
//! lanes' vectorised one (`tanh`, `exp` of [`Real`]), none calls libm per
//! element.

use std::sync::Arc;

use rand::{RngExt, SeedableRng};

use crate::lanes::{BatchLanes, F32x16};
use crate::real::Real;

use super::chunks::{add_partials, for_each_chunk_mut, map_chunks, CHUNK};
use super::{Mechanism, MechanismKernel, RowLoss};
use crate::scm::spec::{Activation, MechanismSpec};

type Lanes = BatchLanes;
const LANES: usize = BatchLanes::LANES;

/// One affine layer of the network: where its weights (`[fan_in, fan_out]`,
/// row-major) and biases (`[fan_out]`) sit in the flat parameters, and
/// where its output units sit in the per-group activation scratch (hidden
/// layers only).
#[derive(Clone, Copy, Debug)]
struct Layer {
    fan_in: usize,
    fan_out: usize,
    weight: usize,
    bias: usize,
    /// Offset of this layer's outputs in the activation scratch.
    output: usize,
}

/// `arity → hidden[0] → … → 1` with `activation` after every hidden layer.
pub(crate) struct MlpKernel {
    arity: usize,
    hidden: Vec<usize>,
    activation: Activation,
    layers: Vec<Layer>,
    num_params: usize,
    /// Hidden units in all layers: the length of the activation scratch.
    units: usize,
    /// The widest hidden layer (at least 1): the length of each
    /// back-propagation buffer.
    widest: usize,
}

impl MlpKernel {
    /// The kernel of an `arity → hidden → 1` network.
    pub(crate) fn new(arity: usize, hidden: &[usize], activation: Activation) -> Self {
        let mut widths = vec![arity];
        widths.extend_from_slice(hidden);
        widths.push(1);
        let mut layers = Vec::with_capacity(widths.len() - 1);
        let (mut offset, mut output) = (0, 0);
        for pair in widths.windows(2) {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            layers.push(Layer {
                fan_in,
                fan_out,
                weight: offset,
                bias: offset + fan_in * fan_out,
                output,
            });
            offset += fan_in * fan_out + fan_out;
            output += fan_out;
        }
        MlpKernel {
            arity,
            hidden: hidden.to_vec(),
            activation,
            layers,
            num_params: offset,
            units: hidden.iter().sum(),
            widest: hidden.iter().copied().max().unwrap_or(0).max(1),
        }
    }

    /// Initial parameters, drawn exactly as
    /// [`MlpConfig::init`](crate::scm::MlpConfig::init) draws them: per
    /// layer the weights then the biases, uniform in `±1/sqrt(fan_in)`,
    /// from one `StdRng` seeded with `seed`.
    pub(crate) fn initial(&self, seed: u64) -> Vec<f32> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut params = Vec::with_capacity(self.num_params);
        for layer in &self.layers {
            let bound = 1.0 / (layer.fan_in.max(1) as f32).sqrt();
            let count = layer.fan_in * layer.fan_out + layer.fan_out;
            params.extend((0..count).map(|_| rng.random_range(-bound..=bound)));
        }
        params
    }

    /// Per-chunk buffers, allocated once per chunk.
    fn scratch(&self, want_grads: bool) -> Scratch {
        let zero = Lanes::splat(0.0);
        Scratch {
            x: vec![zero; self.arity],
            act: vec![zero; self.units],
            slope: vec![zero; if want_grads { self.units } else { 0 }],
            delta: vec![zero; if want_grads { 2 * self.widest } else { 0 }],
            grad: vec![zero; if want_grads { self.num_params } else { 0 }],
            dx: vec![zero; if want_grads { self.arity } else { 0 }],
        }
    }
}

/// The buffers of one chunk: the group's inputs, hidden activations and
/// their slopes, the back-propagated cotangents, the parameter gradient's
/// lane accumulators and the inputs' cotangents.
struct Scratch {
    x: Vec<Lanes>,
    act: Vec<Lanes>,
    slope: Vec<Lanes>,
    delta: Vec<Lanes>,
    grad: Vec<Lanes>,
    dx: Vec<Lanes>,
}

impl Scratch {
    /// Loads rows `start .. start + count` of every parent (zeros past `count`).
    #[inline(always)]
    fn load(&mut self, parents: &[&[f32]], start: usize, count: usize) {
        for (x, column) in self.x.iter_mut().zip(parents) {
            *x = Lanes::load_padded(column, start, count);
        }
    }

    /// The chunk's parameter gradient: each accumulator's lanes summed.
    fn flat_grad(&self) -> Vec<f32> {
        self.grad.iter().map(|g| g.sum()).collect()
    }
}

/// `a · b + c`, fused where the build has FMA.
#[inline(always)]
fn fma(a: Lanes, b: Lanes, c: Lanes) -> Lanes {
    F32x16(a.0.mul_add(b.0, c.0))
}

/// An activation on lanes: its value and, for the reverse pass, its slope.
trait LaneActivation {
    fn value(z: Lanes) -> Lanes;
    /// `(act(z), act'(z))`.
    fn value_and_slope(z: Lanes) -> (Lanes, Lanes);
}

struct Tanh;
struct Relu;
struct Sigmoid;
struct Silu;
struct Gelu;

impl LaneActivation for Tanh {
    #[inline(always)]
    fn value(z: Lanes) -> Lanes {
        Real::tanh(z)
    }
    #[inline(always)]
    fn value_and_slope(z: Lanes) -> (Lanes, Lanes) {
        let a = Real::tanh(z);
        (a, fma(-a, a, Lanes::splat(1.0)))
    }
}

impl LaneActivation for Relu {
    #[inline(always)]
    fn value(z: Lanes) -> Lanes {
        // `z <= 0` is false for NaN, which stays NaN.
        let zero = wide::f32x16::splat(0.0);
        F32x16(z.0.simd_le(zero).bitselect(zero, z.0))
    }
    #[inline(always)]
    fn value_and_slope(z: Lanes) -> (Lanes, Lanes) {
        let zero = wide::f32x16::splat(0.0);
        let positive = z.0.simd_gt(zero);
        (
            Self::value(z),
            F32x16(positive.bitselect(wide::f32x16::splat(1.0), zero)),
        )
    }
}

/// `1 / (1 + e^-z)`: `e^-z` overflows to infinity for very negative `z`,
/// which gives 0.
#[inline(always)]
fn logistic(z: Lanes) -> Lanes {
    let one = Lanes::splat(1.0);
    one / (one + Real::exp(-z))
}

impl LaneActivation for Sigmoid {
    #[inline(always)]
    fn value(z: Lanes) -> Lanes {
        logistic(z)
    }
    #[inline(always)]
    fn value_and_slope(z: Lanes) -> (Lanes, Lanes) {
        let s = logistic(z);
        (s, s * (Lanes::splat(1.0) - s))
    }
}

impl LaneActivation for Silu {
    #[inline(always)]
    fn value(z: Lanes) -> Lanes {
        z * logistic(z)
    }
    #[inline(always)]
    fn value_and_slope(z: Lanes) -> (Lanes, Lanes) {
        let one = Lanes::splat(1.0);
        let s = logistic(z);
        // d(z s)/dz = s + z s (1 − s) = s (1 + z (1 − s)).
        (z * s, s * fma(z, one - s, one))
    }
}

/// Coefficients of the error function's approximation (Abramowitz and
/// Stegun 7.1.26): `erf(u) = 1 − t (a1 + t (a2 + …)) e^{−u²}` for `u ≥ 0`,
/// `t = 1 / (1 + p u)`, absolute error below 1.5e-7.
mod erf_coefficients {
    pub const P: f32 = 0.327_591_1;
    pub const A1: f32 = 0.254_829_6;
    pub const A2: f32 = -0.284_496_74;
    pub const A3: f32 = 1.421_413_7;
    pub const A4: f32 = -1.453_152;
    pub const A5: f32 = 1.061_405_4;
}

/// `erf(u)` given `e = e^{−u²}` (which GELU's slope reuses).
#[inline(always)]
fn erf_with_gaussian(u: Lanes, e: Lanes) -> Lanes {
    use erf_coefficients::*;
    let s = Lanes::splat;
    let one = s(1.0);
    let magnitude = Real::abs(u);
    let t = one / fma(s(P), magnitude, one);
    let poly = fma(t, s(A5), s(A4));
    let poly = fma(t, poly, s(A3));
    let poly = fma(t, poly, s(A2));
    let poly = fma(t, poly, s(A1));
    let y = one - t * poly * e;
    let negative = u.0.simd_lt(wide::f32x16::splat(0.0));
    F32x16(negative.bitselect(-y.0, y.0))
}

impl LaneActivation for Gelu {
    /// `z Φ(z) = z (1 + erf(z / √2)) / 2`, the exact (erf) form burn uses.
    #[inline(always)]
    fn value(z: Lanes) -> Lanes {
        Self::value_and_slope(z).0
    }
    #[inline(always)]
    fn value_and_slope(z: Lanes) -> (Lanes, Lanes) {
        let s = Lanes::splat;
        let u = z * s(core::f32::consts::FRAC_1_SQRT_2);
        let e = Real::exp(-(u * u));
        let cdf = s(0.5) * (s(1.0) + erf_with_gaussian(u, e));
        // 1 / √(2π)
        let pdf = e * s(0.398_942_3);
        (z * cdf, fma(z, pdf, cdf))
    }
}

impl MlpKernel {
    /// The network's output on one group of rows (`x`, one lane vector
    /// per input); the hidden activations land in `act` and, when
    /// `slope` is not empty, their slopes in `slope`.
    #[inline(always)]
    fn group_forward<A: LaneActivation>(
        &self,
        params: &[f32],
        x: &[Lanes],
        act: &mut [Lanes],
        slope: &mut [Lanes],
    ) -> Lanes {
        let (last, hidden) = self.layers.split_last().expect("at least the output layer");
        let want_slope = !slope.is_empty();
        for (index, layer) in hidden.iter().enumerate() {
            let (before, after) = act.split_at_mut(layer.output);
            let input: &[Lanes] = if index == 0 {
                x
            } else {
                &before[hidden[index - 1].output..]
            };
            let weight = &params[layer.weight..layer.weight + layer.fan_in * layer.fan_out];
            let bias = &params[layer.bias..layer.bias + layer.fan_out];
            for (j, (out, &b)) in after[..layer.fan_out].iter_mut().zip(bias).enumerate() {
                let mut z = Lanes::splat(b);
                for (&w, &input) in weight[j..].iter().step_by(layer.fan_out).zip(input) {
                    z = fma(Lanes::splat(w), input, z);
                }
                if want_slope {
                    let (a, d) = A::value_and_slope(z);
                    *out = a;
                    slope[layer.output + j] = d;
                } else {
                    *out = A::value(z);
                }
            }
        }
        let input: &[Lanes] = match hidden.last() {
            Some(previous) => &act[previous.output..previous.output + previous.fan_out],
            None => x,
        };
        let weight = &params[last.weight..last.weight + last.fan_in];
        let mut out = Lanes::splat(params[last.bias]);
        for (&w, &input) in weight.iter().zip(input) {
            out = fma(Lanes::splat(w), input, out);
        }
        out
    }

    /// The reverse pass of one group after [`Self::group_forward`] (with
    /// slopes): adds `seed · ∂out/∂params` into `s.grad` and, when
    /// `want_dx`, writes `seed · ∂out/∂x` into `s.dx`.
    #[inline(always)]
    fn group_reverse(&self, params: &[f32], s: &mut Scratch, seed: Lanes, want_dx: bool) {
        let (last, hidden) = self.layers.split_last().expect("at least the output layer");
        let Scratch {
            x,
            act,
            slope,
            delta,
            grad,
            dx,
        } = s;
        let (mut current, mut next) = delta.split_at_mut(self.widest);
        // The output layer: one unit, cotangent `seed`.
        grad[last.bias] += seed;
        let weight = &params[last.weight..last.weight + last.fan_in];
        let Some(previous) = hidden.last() else {
            for (g, &input) in grad[last.weight..last.weight + last.fan_in]
                .iter_mut()
                .zip(x.iter())
            {
                *g = fma(seed, input, *g);
            }
            if want_dx {
                for (dx, &w) in dx.iter_mut().zip(weight) {
                    *dx = seed * Lanes::splat(w);
                }
            }
            return;
        };
        let range = previous.output..previous.output + previous.fan_out;
        for (((g, &a), &d), (dz, &w)) in grad[last.weight..last.weight + last.fan_in]
            .iter_mut()
            .zip(&act[range.clone()])
            .zip(&slope[range])
            .zip(current.iter_mut().zip(weight))
        {
            *g = fma(seed, a, *g);
            *dz = seed * Lanes::splat(w) * d;
        }
        // The hidden layers, last to first: `current` holds the cotangent
        // of the layer's pre-activations.
        for (index, layer) in hidden.iter().enumerate().rev() {
            let dz = &current[..layer.fan_out];
            for (g, &dz) in grad[layer.bias..layer.bias + layer.fan_out]
                .iter_mut()
                .zip(dz)
            {
                *g += dz;
            }
            let (input, below): (&[Lanes], Option<&Layer>) = if index == 0 {
                (x, None)
            } else {
                let below = &hidden[index - 1];
                (
                    &act[below.output..below.output + below.fan_out],
                    Some(below),
                )
            };
            for i in 0..layer.fan_in {
                let xi = input[i];
                let start = layer.weight + i * layer.fan_out;
                let row = &mut grad[start..start + layer.fan_out];
                if below.is_none() && !want_dx {
                    for (g, &dz) in row.iter_mut().zip(dz) {
                        *g = fma(dz, xi, *g);
                    }
                    continue;
                }
                let weight = &params[start..start + layer.fan_out];
                let mut back = Lanes::splat(0.0);
                for ((g, &dz), &w) in row.iter_mut().zip(dz).zip(weight) {
                    *g = fma(dz, xi, *g);
                    back = fma(Lanes::splat(w), dz, back);
                }
                match below {
                    Some(below) => next[i] = back * slope[below.output + i],
                    None => dx[i] = back,
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
    }

    fn forward_with<A: LaneActivation>(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]) {
        for_each_chunk_mut(out, |chunk, out| {
            let mut s = self.scratch(false);
            let start = chunk * CHUNK;
            for (group, out) in out.chunks_mut(LANES).enumerate() {
                let row = start + group * LANES;
                s.load(parents, row, out.len());
                let mean = self.group_forward::<A>(params, &s.x, &mut s.act, &mut []);
                out.copy_from_slice(&mean.to_array()[..out.len()]);
            }
        });
    }

    fn squared_error_with<A: LaneActivation>(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        weight: f32,
        dparams: Option<&mut [f32]>,
    ) -> f64 {
        let want = dparams.is_some();
        let lane_weight = Lanes::splat(weight);
        let partial: Vec<(f64, Vec<f32>)> = map_chunks(target.len(), |range| {
            let mut s = self.scratch(want);
            let mut squares = Lanes::splat(0.0);
            for row in range.clone().step_by(LANES) {
                let count = (range.end - row).min(LANES);
                s.load(parents, row, count);
                let mean = self.group_forward::<A>(params, &s.x, &mut s.act, &mut s.slope);
                let error = (mean - Lanes::load_padded(target, row, count)).masked(count);
                squares = fma(error, error, squares);
                if want {
                    self.group_reverse(params, &mut s, lane_weight * error, false);
                }
            }
            let squares = squares.to_array().iter().map(|&v| f64::from(v)).sum();
            (squares, if want { s.flat_grad() } else { Vec::new() })
        });
        add_partials(partial, dparams)
    }

    fn row_loss_with<A: LaneActivation>(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        loss: &RowLoss<'_>,
        dparams: Option<&mut [f32]>,
    ) -> (f64, Vec<f64>) {
        let want = dparams.is_some();
        let partial: Vec<(f64, Vec<f64>, Vec<f32>)> = map_chunks(target.len(), |range| {
            let mut s = self.scratch(want);
            let mut total = 0.0f64;
            let mut d_loss = vec![0.0f64; loss.params];
            for row in range.clone().step_by(LANES) {
                let count = (range.end - row).min(LANES);
                s.load(parents, row, count);
                let mean = self
                    .group_forward::<A>(params, &s.x, &mut s.act, &mut s.slope)
                    .to_array();
                let mut seeds = [0.0f32; LANES];
                total += (loss.f)(
                    &mean[..count],
                    &target[row..row + count],
                    &mut seeds[..count],
                    &mut d_loss,
                );
                if want {
                    self.group_reverse(params, &mut s, Lanes::from_array(seeds), false);
                }
            }
            (total, d_loss, if want { s.flat_grad() } else { Vec::new() })
        });
        if let Some(dparams) = dparams {
            for (_, _, flat) in &partial {
                dparams.iter_mut().zip(flat).for_each(|(t, v)| *t += v);
            }
        }
        RowLoss::combine(
            partial.into_iter().map(|(l, d, _)| (l, d)).collect(),
            loss.params,
        )
    }

    fn backward_with<A: LaneActivation>(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        dparents: Option<&mut [f32]>,
    ) {
        let n = seeds.len();
        let want_dx = dparents.is_some();
        // Per chunk: its first row, its parameter gradient and its rows'
        // parent cotangents (column-major within the chunk).
        let partial: Vec<(usize, Vec<f32>, Vec<f32>)> = map_chunks(n, |range| {
            let mut s = self.scratch(true);
            let len = range.len();
            let mut dx = vec![0.0f32; if want_dx { self.arity * len } else { 0 }];
            for row in range.clone().step_by(LANES) {
                let count = (range.end - row).min(LANES);
                s.load(parents, row, count);
                self.group_forward::<A>(params, &s.x, &mut s.act, &mut s.slope);
                let seed = Lanes::load_padded(seeds, row, count);
                self.group_reverse(params, &mut s, seed, want_dx);
                if want_dx {
                    let offset = row - range.start;
                    for (i, value) in s.dx.iter().enumerate() {
                        dx[i * len + offset..i * len + offset + count]
                            .copy_from_slice(&value.to_array()[..count]);
                    }
                }
            }
            (range.start, s.flat_grad(), dx)
        });
        for (_, flat, _) in &partial {
            for (total, value) in dparams.iter_mut().zip(flat) {
                *total += value;
            }
        }
        if let Some(dparents) = dparents {
            for (start, _, dx) in &partial {
                let len = dx.len() / self.arity.max(1);
                for i in 0..self.arity {
                    dparents[i * n + start..i * n + start + len]
                        .copy_from_slice(&dx[i * len..(i + 1) * len]);
                }
            }
        }
    }
}

/// Calls `$body` with the activation type of `$activation` as `$a`.
macro_rules! with_activation {
    ($activation:expr, $a:ident => $body:expr) => {
        match $activation {
            Activation::Tanh => {
                type $a = Tanh;
                $body
            }
            Activation::Relu => {
                type $a = Relu;
                $body
            }
            Activation::Sigmoid => {
                type $a = Sigmoid;
                $body
            }
            Activation::Silu => {
                type $a = Silu;
                $body
            }
            Activation::Gelu => {
                type $a = Gelu;
                $body
            }
        }
    };
}

impl MechanismKernel for MlpKernel {
    fn initial_params(&self, seed: u64) -> Option<Vec<f32>> {
        Some(self.initial(seed))
    }

    fn describe(&self) -> String {
        format!(
            "mlp {}→{}→1 ({})",
            self.arity,
            self.hidden
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join("→"),
            self.activation.name()
        )
    }

    fn spec(&self) -> Option<MechanismSpec> {
        Some(MechanismSpec::Mlp {
            arity: self.arity,
            hidden: self.hidden.clone(),
            activation: self.activation,
        })
    }

    fn arity(&self) -> usize {
        self.arity
    }

    fn num_params(&self) -> usize {
        self.num_params
    }

    fn forward(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]) {
        with_activation!(self.activation, A => self.forward_with::<A>(params, parents, out))
    }

    fn backward(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        dparents: Option<&mut [f32]>,
    ) {
        with_activation!(self.activation, A => {
            self.backward_with::<A>(params, parents, seeds, dparams, dparents)
        })
    }

    /// Forward and reverse in one pass per group of sixteen rows.
    fn squared_error(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        target: &[f32],
        weight: f32,
        dparams: Option<&mut [f32]>,
    ) -> f64 {
        with_activation!(self.activation, A => {
            self.squared_error_with::<A>(params, parents, target, weight, dparams)
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
        with_activation!(self.activation, A => {
            self.row_loss_with::<A>(params, parents, target, loss, dparams)
        })
    }
}

impl Mechanism {
    /// A multi-layer perceptron `arity → hidden[0] → … → 1` with
    /// `activation` after every hidden layer, evaluated on SIMD lanes with
    /// a hand-written reverse pass (no burn tensors).
    ///
    /// It is the same network as [`Mechanism::burn_mlp`] (a burn module): the parameters have
    /// the same layout (per layer the weights `[fan_in, fan_out]`
    /// row-major, then the biases) and, for the same `seed`, the same
    /// initial values, so the two compute the same function; this one
    /// trains several times faster on the CPU.
    ///
    /// ```
    /// use causalgrad::scm::{Activation, Mechanism};
    ///
    /// // 1 → 1 → 1: mean = b2 + w2 · tanh(w1 · x + b1).
    /// let mechanism = Mechanism::mlp(1, &[1], Activation::Tanh, 7);
    /// let &[w1, b1, w2, b2] = mechanism.params() else { unreachable!() };
    /// let x = [0.5f32, -1.0, 2.0];
    /// let mut mean = [0.0f32; 3];
    /// mechanism.forward(&[&x], &mut mean);
    /// for (m, x) in mean.iter().zip(x) {
    ///     assert!((m - (b2 + w2 * (w1 * x + b1).tanh())).abs() < 1e-6);
    /// }
    /// assert_eq!(mechanism.describe(), "mlp 1→1→1 (tanh)");
    /// ```
    pub fn mlp(arity: usize, hidden: &[usize], activation: Activation, seed: u64) -> Self {
        let kernel = MlpKernel::new(arity, hidden, activation);
        let params = kernel.initial(seed);
        Mechanism::from_kernel(Arc::new(kernel), params)
    }
}

impl Mechanism {
    /// The default mechanism of a variable with `arity` parents, as
    /// `causalgrad fit` uses it: a root's learned mean
    /// ([`Mechanism::linear`] of no parents), otherwise a tanh MLP of the
    /// parents with one hidden layer of 16 units, initialised from `seed`.
    ///
    /// ```
    /// use causalgrad::scm::Mechanism;
    ///
    /// assert_eq!(Mechanism::default_for(0, 1).describe(), "linear");
    /// assert_eq!(Mechanism::default_for(2, 1).params().len(), 2 * 16 + 16 + 16 + 1);
    /// ```
    pub fn default_for(arity: usize, seed: u64) -> Self {
        if arity == 0 {
            Mechanism::linear(0)
        } else {
            Mechanism::mlp(arity, &DEFAULT_HIDDEN, Activation::Tanh, seed)
        }
    }
}

/// The hidden layer widths of the default mechanism ([`Mechanism::default_for`]).
pub const DEFAULT_HIDDEN: [usize; 1] = [16];

#[cfg(test)]
mod tests {
    use super::*;

    const ACTIVATIONS: [Activation; 5] = [
        Activation::Tanh,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Silu,
        Activation::Gelu,
    ];
    const SHAPES: [(usize, &[usize]); 5] =
        [(1, &[16]), (2, &[16]), (5, &[16]), (2, &[8, 4]), (5, &[3])];
    const ROWS: [usize; 6] = [1, 15, 16, 17, 1000, 2500];

    /// `arity` parent columns and a column of seeds, deterministic.
    fn data(arity: usize, n: usize) -> (Vec<Vec<f32>>, Vec<f32>) {
        let columns = (0..arity)
            .map(|i| {
                (0..n)
                    .map(|r| 2.0 * ((r as f32 * 0.618_034 + i as f32 * 0.377).fract() * 2.0 - 1.0))
                    .collect()
            })
            .collect();
        let seeds = (0..n)
            .map(|r| ((r * 7 + 3) % 13) as f32 / 6.0 - 1.0)
            .collect();
        (columns, seeds)
    }

    fn views(columns: &[Vec<f32>]) -> Vec<&[f32]> {
        columns.iter().map(Vec::as_slice).collect()
    }

    /// `erf` in f64 by the series `2/√π e^{−u²} Σ 2ⁿ u^{2n+1} / (1·3·…·(2n+1))`
    /// (positive terms, no cancellation).
    fn erf64(u: f64) -> f64 {
        if u.abs() > 6.0 {
            return u.signum();
        }
        let (mut term, mut sum, mut k) = (u, u, 0.0);
        while term.abs() > 1e-18 * sum.abs() {
            k += 1.0;
            term *= 2.0 * u * u / (2.0 * k + 1.0);
            sum += term;
        }
        2.0 / std::f64::consts::PI.sqrt() * (-u * u).exp() * sum
    }

    /// An activation and its slope in f64.
    fn act64(activation: Activation, z: f64) -> (f64, f64) {
        let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
        match activation {
            Activation::Tanh => (z.tanh(), 1.0 - z.tanh().powi(2)),
            Activation::Relu => (z.max(0.0), if z > 0.0 { 1.0 } else { 0.0 }),
            Activation::Sigmoid => (sigmoid(z), sigmoid(z) * (1.0 - sigmoid(z))),
            Activation::Silu => {
                let s = sigmoid(z);
                (z * s, s * (1.0 + z * (1.0 - s)))
            }
            Activation::Gelu => {
                let cdf = 0.5 * (1.0 + erf64(z / std::f64::consts::SQRT_2));
                let pdf = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
                (z * cdf, cdf + z * pdf)
            }
        }
    }

    /// The network in f64, from its widths alone (an independent reading
    /// of the parameter layout).
    fn reference(
        arity: usize,
        hidden: &[usize],
        activation: Activation,
        p: &[f64],
        x: &[f64],
    ) -> f64 {
        let mut widths = vec![arity];
        widths.extend_from_slice(hidden);
        widths.push(1);
        let mut input = x.to_vec();
        let mut offset = 0;
        for (l, pair) in widths.windows(2).enumerate() {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            input = (0..fan_out)
                .map(|j| {
                    let z = p[offset + fan_in * fan_out + j]
                        + (0..fan_in)
                            .map(|i| p[offset + i * fan_out + j] * input[i])
                            .sum::<f64>();
                    if l + 2 < widths.len() {
                        act64(activation, z).0
                    } else {
                        z
                    }
                })
                .collect();
            offset += fan_in * fan_out + fan_out;
        }
        input[0]
    }

    fn close(got: f32, want: f64, tolerance: f64) -> bool {
        (f64::from(got) - want).abs() <= tolerance
    }

    /// The lane activations and slopes against f64 and against f32 libm.
    #[test]
    fn lane_activations_are_accurate() {
        let mut grid: Vec<f32> = (-2560..=2560).map(|i| i as f32 / 256.0).collect();
        grid.extend([-100.0, -50.0, -20.0, 20.0, 50.0, 100.0, 1e-6, -1e-6]);
        while grid.len() % LANES != 0 {
            grid.push(0.0);
        }
        for activation in ACTIVATIONS {
            let (mut worst_value, mut worst_slope, mut worst_libm) = (0.0f64, 0.0f64, 0.0f64);
            for block in grid.chunks(LANES) {
                let z = Lanes::from_slice(block);
                let (value, slope) = with_activation!(activation, A => A::value_and_slope(z));
                let only = with_activation!(activation, A => A::value(z));
                assert_eq!(only.to_array(), value.to_array(), "{activation:?}");
                for ((&z, &v), &d) in block.iter().zip(&value.to_array()).zip(&slope.to_array()) {
                    let (want, want_slope) = act64(activation, f64::from(z));
                    worst_value = worst_value.max((f64::from(v) - want).abs() / (1.0 + want.abs()));
                    worst_slope = worst_slope.max((f64::from(d) - want_slope).abs());
                    let libm = match activation {
                        Activation::Tanh => z.tanh(),
                        Activation::Relu => z.max(0.0),
                        Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
                        Activation::Silu => z / (1.0 + (-z).exp()),
                        // f32 has no libm erf: against the f64 value rounded.
                        Activation::Gelu => want as f32,
                    };
                    worst_libm =
                        worst_libm.max(f64::from((v - libm).abs()) / (1.0 + f64::from(libm.abs())));
                }
            }
            eprintln!(
                "{activation:?}: value {worst_value:.2e} (relative to 1 + |f|), slope {worst_slope:.2e}, vs f32 libm {worst_libm:.2e}"
            );
            assert!(
                worst_value < 1e-6,
                "{activation:?} value error {worst_value}"
            );
            assert!(
                worst_slope < 2e-6,
                "{activation:?} slope error {worst_slope}"
            );
            assert!(
                worst_libm < 1e-6,
                "{activation:?} error against libm {worst_libm}"
            );
        }
    }

    /// The reverse pass (parameters and parents) against central finite
    /// differences of the f64 reference, which also checks the forward
    /// pass against it.
    #[test]
    fn the_reverse_pass_matches_finite_differences() {
        for (arity, hidden) in SHAPES {
            for activation in ACTIVATIONS {
                let rows: &[usize] = if activation == Activation::Tanh {
                    &ROWS
                } else {
                    &[1, 17, 1000]
                };
                for &n in rows {
                    check_finite_differences(arity, hidden, activation, n);
                }
            }
        }
    }

    fn check_finite_differences(arity: usize, hidden: &[usize], activation: Activation, n: usize) {
        let kernel = MlpKernel::new(arity, hidden, activation);
        let params = kernel.initial(3);
        let (columns, seeds) = data(arity, n);
        let parents = views(&columns);
        let mut mean = vec![0.0f32; n];
        kernel.forward(&params, &parents, &mut mean);
        let mut dparams = vec![0.0f32; params.len()];
        let mut dparents = vec![0.0f32; arity * n];
        kernel.backward(&params, &parents, &seeds, &mut dparams, Some(&mut dparents));

        let p64: Vec<f64> = params.iter().map(|&v| f64::from(v)).collect();
        let rows: Vec<Vec<f64>> = (0..n)
            .map(|r| (0..arity).map(|i| f64::from(columns[i][r])).collect())
            .collect();
        let seeds64: Vec<f64> = seeds.iter().map(|&s| f64::from(s)).collect();
        let what = format!("{arity}→{hidden:?} {activation:?} n={n}");
        for (r, x) in rows.iter().enumerate() {
            let want = reference(arity, hidden, activation, &p64, x);
            assert!(
                close(mean[r], want, 1e-5 * (1.0 + want.abs())),
                "{what}: mean[{r}] {} vs {want}",
                mean[r]
            );
        }
        let h = 1e-7;
        let loss = |p: &[f64]| -> f64 {
            rows.iter()
                .zip(&seeds64)
                .map(|(x, s)| s * reference(arity, hidden, activation, p, x))
                .sum()
        };
        let scale: f64 = seeds64.iter().map(|s| s.abs()).sum();
        for k in 0..params.len() {
            let (mut up, mut down) = (p64.clone(), p64.clone());
            up[k] += h;
            down[k] -= h;
            let want = (loss(&up) - loss(&down)) / (2.0 * h);
            assert!(
                close(dparams[k], want, 1e-4 * (1.0 + want.abs()) + 2e-6 * scale),
                "{what}: parameter {k}: {} vs {want}",
                dparams[k]
            );
        }
        for (r, x) in rows.iter().enumerate() {
            for i in 0..arity {
                let (mut up, mut down) = (x.clone(), x.clone());
                up[i] += h;
                down[i] -= h;
                let want = seeds64[r]
                    * (reference(arity, hidden, activation, &p64, &up)
                        - reference(arity, hidden, activation, &p64, &down))
                    / (2.0 * h);
                let got = dparents[i * n + r];
                assert!(
                    close(got, want, 1e-5 * (1.0 + want.abs())),
                    "{what}: d x{i}[{r}]: {got} vs {want}"
                );
            }
        }
    }

    /// The fused pass gives the gradient of forward + backward bit for
    /// bit (the same operations on the same groups) and the same sum of
    /// squares; without a gradient it gives the same sum.
    #[test]
    fn squared_error_equals_forward_then_backward() {
        for (arity, hidden) in SHAPES {
            for activation in ACTIVATIONS {
                for n in ROWS {
                    let kernel = MlpKernel::new(arity, hidden, activation);
                    let params = kernel.initial(11);
                    let (columns, target) = data(arity, n);
                    let parents = views(&columns);
                    let weight = 0.37f32;
                    let mut fused = vec![0.0f32; params.len()];
                    let squares =
                        kernel.squared_error(&params, &parents, &target, weight, Some(&mut fused));
                    let alone = kernel.squared_error(&params, &parents, &target, weight, None);

                    let mut mean = vec![0.0f32; n];
                    kernel.forward(&params, &parents, &mut mean);
                    let want: f64 = mean
                        .iter()
                        .zip(&target)
                        .map(|(m, t)| f64::from(m - t).powi(2))
                        .sum();
                    let seeds: Vec<f32> = mean
                        .iter()
                        .zip(&target)
                        .map(|(m, t)| weight * (m - t))
                        .collect();
                    let mut separate = vec![0.0f32; params.len()];
                    kernel.backward(&params, &parents, &seeds, &mut separate, None);
                    let what = format!("{arity}→{hidden:?} {activation:?} n={n}");
                    assert_eq!(fused, separate, "{what}");
                    assert!(
                        (squares - want).abs() <= 1e-5 * want,
                        "{what}: {squares} vs {want}"
                    );
                    assert_eq!(squares, alone, "{what}");
                }
            }
        }
    }

    /// Results do not depend on the number of threads.
    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let kernel = MlpKernel::new(3, &[16, 5], Activation::Silu);
        let params = kernel.initial(5);
        let n = 5 * CHUNK + 7;
        let (columns, target) = data(3, n);
        let parents = views(&columns);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool");
            pool.install(|| {
                let mut grad = vec![0.0f32; params.len()];
                let squares =
                    kernel.squared_error(&params, &parents, &target, 0.5, Some(&mut grad));
                let mut dparents = vec![0.0f32; 3 * n];
                kernel.backward(&params, &parents, &target, &mut grad, Some(&mut dparents));
                let mut mean = vec![0.0f32; n];
                kernel.forward(&params, &parents, &mut mean);
                (squares.to_bits(), grad, dparents, mean)
            })
        };
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn spec_and_description_name_the_network() {
        let kernel = MlpKernel::new(2, &[16, 8], Activation::Gelu);
        assert_eq!(kernel.describe(), "mlp 2→16→8→1 (gelu)");
        assert_eq!(
            kernel.spec(),
            Some(MechanismSpec::Mlp {
                arity: 2,
                hidden: vec![16, 8],
                activation: Activation::Gelu
            })
        );
        assert_eq!(kernel.num_params(), 2 * 16 + 16 + 16 * 8 + 8 + 8 + 1);
    }

    /// The same network as burn's `Mlp`: same parameters for a seed, same
    /// description and spec, same means, and gradients equal to burn
    /// autodiff's.
    #[cfg(feature = "burn")]
    #[test]
    fn the_kernel_computes_what_the_burn_mlp_computes() {
        for (arity, hidden) in SHAPES {
            for activation in ACTIVATIONS {
                let burn = Mechanism::burn_mlp(arity, hidden, activation, 9);
                let lanes = Mechanism::mlp(arity, hidden, activation, 9);
                assert_eq!(lanes.params(), burn.params());
                assert_eq!(lanes.describe(), burn.describe());
                assert_eq!(lanes.spec(), burn.spec());
                for n in ROWS {
                    let what = format!("{arity}→{hidden:?} {activation:?} n={n}");
                    let (columns, seeds) = data(arity, n);
                    let parents = views(&columns);
                    let (mut a, mut b) = (vec![0.0f32; n], vec![0.0f32; n]);
                    lanes.forward(&parents, &mut a);
                    burn.forward(&parents, &mut b);
                    for (r, (a, b)) in a.iter().zip(&b).enumerate() {
                        assert!(
                            (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                            "{what}: mean[{r}] {a} vs {b}"
                        );
                    }
                    let params = lanes.params();
                    let mut grads = [vec![0.0f32; params.len()], vec![0.0f32; params.len()]];
                    let mut dx = [vec![0.0f32; arity * n], vec![0.0f32; arity * n]];
                    for ((mechanism, grad), dx) in
                        [&lanes, &burn].iter().zip(&mut grads).zip(&mut dx)
                    {
                        mechanism
                            .kernel()
                            .backward(params, &parents, &seeds, grad, Some(dx));
                    }
                    let scale: f32 = seeds.iter().map(|s| s.abs()).sum();
                    for (k, (a, b)) in grads[0].iter().zip(&grads[1]).enumerate() {
                        assert!(
                            (a - b).abs() <= 1e-4 * (1.0 + b.abs()) + 2e-6 * scale,
                            "{what}: parameter {k}: {a} vs {b}"
                        );
                    }
                    for (k, (a, b)) in dx[0].iter().zip(&dx[1]).enumerate() {
                        assert!(
                            (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                            "{what}: dx[{k}]: {a} vs {b}"
                        );
                    }
                }
            }
        }
    }
}
