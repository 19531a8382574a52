//! Fast activations, and a fused one-hidden-layer network, as burn custom
//! autodiff operations on Flex: the building blocks of a fast burn module
//! for causalgrad.
//!
//! burn's own elementwise activations on Flex call libm once per element
//! (`tanh`, `exp`, `erf`), and their backward passes are chains of
//! separate tensor operations (`tanh`'s recomputes `tanh`, then squares,
//! negates, adds and multiplies, each allocating). The operations here
//! evaluate on SIMD lanes ([`BatchLanes`]) with the crate's vectorised
//! elementary functions, read their inputs without copying, split large
//! tensors across cores (rayon), write in place where burn hands them the
//! only reference to a buffer, and have a one-pass backward:
//!
//! | function | forward | backward reads |
//! |---|---|---|
//! | [`fast_tanh`] | `tanh x` (rational approximation, error < 5e-7) | the output: `1 − y²` |
//! | [`fast_sigmoid`] | `1 / (1 + e^−x)` (in the overflow-free form) | the output: `y (1 − y)` |
//! | [`fast_silu`] | `x · sigmoid x` | the input: `s (1 + x (1 − s))` |
//! | [`fast_relu`] | `max(x, 0)`, NaN kept | the output: the gradient where `y > 0` |
//! | [`fast_gelu`] | `x Φ(x) = x (1 + erf(x/√2)) / 2`, burn's (erf) form | the input: `Φ(x) + x φ(x)` |
//!
//! [`fast_activation`] picks one by [`Activation`]. [`fused_mlp`] is the
//! whole `Linear → activation → Linear` network with one output as one
//! operation: no intermediate tensors at all, the hidden layer recomputed
//! in the backward pass (cheaper than storing it), and the weight
//! gradients reduced in lane accumulators; [`Mlp`](crate::scm::Mlp) uses
//! it for one hidden layer and the fast activations between burn
//! `Linear`s otherwise.
//!
//! On other devices (burn's GPU backends) and for other float types than
//! `f32`, every function here runs burn's own operations, so a module
//! written with them runs everywhere.
//!
//! The pattern is the crate's other custom operations
//! ([`crate::fit::mechanism`], [`crate::fit::gaussian_nll`]): an extension
//! trait on `Backend` with `#[backend_extension(Flex, Autodiff)]`, the CPU
//! kernel for `FlexTensor`, and an impl for `Autodiff<B, C>` generic over
//! the checkpoint strategy that registers a compute-bound `Backward` node.

use std::borrow::Cow;

use burn::backend::autodiff::{
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
    Autodiff,
};
use burn::backend::flex::FlexTensor;
use burn::backend::{
    backend_extension, tensor::FloatTensor, Backend, Dispatch, Flex, TensorMetadata,
};
use burn::tensor::activation::{gelu, relu, sigmoid, silu};
use burn::tensor::{DType, Device, Tensor, TensorData};
use rayon::prelude::*;
use wide::f32x16;

use super::spec::Activation;
use crate::lanes::{BatchLanes, F32x16};
use crate::real::Real;

type L = BatchLanes;
const LANES: usize = BatchLanes::LANES;

/// Elements per parallel task of the elementwise operations.
const CHUNK: usize = 1 << 14;
/// Rows per parallel task of the fused network.
const ROW_CHUNK: usize = 2048;

// ---------------------------------------------------------------- lanes

/// One activation on lanes: its value, and its backward pass from the
/// saved output (`FROM_OUTPUT`) or the saved input.
trait Kind: Send + Sync + 'static {
    /// Whether the backward pass reads the output (else the input).
    const FROM_OUTPUT: bool;
    /// `f(x)`.
    fn value(x: L) -> L;
    /// `g · f'(x)`, from `saved` (the output or the input).
    fn backward(saved: L, g: L) -> L;
}

#[inline(always)]
fn splat(value: f32) -> L {
    L::splat(value)
}

struct TanhKind;
struct SigmoidKind;
struct SiluKind;
struct ReluKind;
struct GeluKind;

/// `1 / q` from the hardware's reciprocal estimate and one Newton step
/// (relative error about 1e-7; an exact division where the target has no
/// estimate): a division's latency is most of a rational approximation's.
#[inline(always)]
fn reciprocal(q: L) -> L {
    let r = F32x16(q.0.recip());
    r * (splat(2.0) - q * r)
}

/// `tanh` on lanes: the crate's rational approximation
/// ([`Real::tanh`], error below 5e-7) with its division replaced by
/// [`reciprocal`].
#[inline(always)]
fn tanh_lanes(x: L) -> L {
    use crate::real::tanh_coefficients::*;
    let s = f32x16::splat;
    let c = x.0.fast_max(s(-CLAMP)).fast_min(s(CLAMP));
    let x2 = c * c;
    let p = x2 * s(A13) + s(A11);
    let p = x2 * p + s(A9);
    let p = x2 * p + s(A7);
    let p = x2 * p + s(A5);
    let p = x2 * p + s(A3);
    let p = x2 * p + s(A1);
    let q = x2 * s(B6) + s(B4);
    let q = x2 * q + s(B2);
    let q = x2 * q + s(B0);
    let value = F32x16(c * p) * reciprocal(F32x16(q));
    // Tiny inputs are their own tanh; NaN stays NaN (the clamp would not keep it).
    let keep = x.0.abs().simd_lt(s(LINEAR)) | x.0.simd_ne(x.0);
    F32x16(keep.bitselect(x.0, value.0))
}

impl Kind for TanhKind {
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn value(x: L) -> L {
        tanh_lanes(x)
    }
    #[inline(always)]
    fn backward(y: L, g: L) -> L {
        g * (splat(1.0) - y * y)
    }
}

/// `1 / (1 + e^−x)` as `1 / (1 + e)` for `x ≥ 0` and `e / (1 + e)` below,
/// with `e = e^−|x|` (no overflow, full relative precision on both sides,
/// burn's form on Flex).
#[inline(always)]
fn sigmoid_lanes(x: L) -> L {
    let e = Real::exp(-Real::abs(x));
    // An exact division: `1 − y`, the slope's factor near `y = 1`, needs
    // `y` correctly rounded there.
    let r = splat(1.0) / (splat(1.0) + e);
    F32x16(x.0.simd_ge(f32x16::splat(0.0)).bitselect(r.0, (e * r).0))
}

impl Kind for SigmoidKind {
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn value(x: L) -> L {
        sigmoid_lanes(x)
    }
    #[inline(always)]
    fn backward(y: L, g: L) -> L {
        g * y * (splat(1.0) - y)
    }
}

impl Kind for SiluKind {
    const FROM_OUTPUT: bool = false;
    #[inline(always)]
    fn value(x: L) -> L {
        x * sigmoid_lanes(x)
    }
    #[inline(always)]
    fn backward(x: L, g: L) -> L {
        let s = sigmoid_lanes(x);
        g * s * (splat(1.0) + x * (splat(1.0) - s))
    }
}

impl Kind for ReluKind {
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn value(x: L) -> L {
        // `x ≤ 0` is false for NaN, which is kept (as burn does).
        let zero = f32x16::splat(0.0);
        F32x16(x.0.simd_le(zero).bitselect(zero, x.0))
    }
    #[inline(always)]
    fn backward(y: L, g: L) -> L {
        let zero = f32x16::splat(0.0);
        F32x16(y.0.simd_le(zero).bitselect(zero, g.0))
    }
}

const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// `1 / √(2π)`.
const INV_SQRT_2PI: f32 = 0.398_942_3;

/// `(Φ(x), e^(−x²/2))`: the standard normal distribution function through
/// `erf(x/√2)` by Abramowitz & Stegun 7.1.26 (absolute error below
/// 1.5e-7), whose `e^(−t²)` is the density's exponential.
#[inline(always)]
fn normal_cdf_and_exp(x: L) -> (L, L) {
    const P: f32 = 0.327_591_1;
    const A1: f32 = 0.254_829_6;
    const A2: f32 = -0.284_496_74;
    const A3: f32 = 1.421_413_8;
    const A4: f32 = -1.453_152_1;
    const A5: f32 = 1.061_405_4;
    let t = Real::abs(x) * splat(FRAC_1_SQRT_2);
    let k = reciprocal(splat(1.0) + splat(P) * t);
    let poly =
        ((((splat(A5) * k + splat(A4)) * k + splat(A3)) * k + splat(A2)) * k + splat(A1)) * k;
    let e = Real::exp(-(t * t));
    // erfc(|x|/√2) / 2 = Φ(−|x|).
    let tail = splat(0.5) * poly * e;
    let cdf = F32x16(
        x.0.simd_ge(f32x16::splat(0.0))
            .bitselect((splat(1.0) - tail).0, tail.0),
    );
    (cdf, e)
}

impl Kind for GeluKind {
    const FROM_OUTPUT: bool = false;
    #[inline(always)]
    fn value(x: L) -> L {
        x * normal_cdf_and_exp(x).0
    }
    #[inline(always)]
    fn backward(x: L, g: L) -> L {
        let (cdf, e) = normal_cdf_and_exp(x);
        g * (cdf + x * splat(INV_SQRT_2PI) * e)
    }
}

/// Runs `body` with the [`Kind`] of `activation`.
macro_rules! with_kind {
    ($activation:expr, $kind:ident => $body:expr) => {
        match $activation {
            Activation::Tanh => {
                type $kind = TanhKind;
                $body
            }
            Activation::Sigmoid => {
                type $kind = SigmoidKind;
                $body
            }
            Activation::Silu => {
                type $kind = SiluKind;
                $body
            }
            Activation::Relu => {
                type $kind = ReluKind;
                $body
            }
            Activation::Gelu => {
                type $kind = GeluKind;
                $body
            }
        }
    };
}

/// Lanes from `values` (at most [`LANES`]), zero-padded.
#[inline(always)]
fn load(values: &[f32]) -> L {
    L::load_padded(values, 0, values.len())
}

#[inline(always)]
fn store(lanes: L, out: &mut [f32]) {
    let values = lanes.to_array();
    let len = out.len();
    out.copy_from_slice(&values[..len]);
}

/// `out[i] = f(out[i], other[i])` lane by lane (`other` may be empty: then
/// `f` sees zeros), in parallel chunks for large buffers.
fn lanewise(out: &mut [f32], other: &[f32], f: impl Fn(L, L) -> L + Sync) {
    let run = |out: &mut [f32], other: &[f32]| {
        for (index, block) in out.chunks_mut(LANES).enumerate() {
            let start = index * LANES;
            let b = if other.is_empty() {
                splat(0.0)
            } else {
                load(&other[start..start + block.len()])
            };
            store(f(load(block), b), block);
        }
    };
    if out.len() <= CHUNK {
        run(out, other);
    } else if other.is_empty() {
        out.par_chunks_mut(CHUNK).for_each(|block| run(block, &[]));
    } else {
        out.par_chunks_mut(CHUNK)
            .zip(other.par_chunks(CHUNK))
            .for_each(|(block, other)| run(block, other));
    }
}

// ---------------------------------------------------------------- tensors

/// The tensor's values, without copying when contiguous.
fn f32_view(tensor: &FlexTensor) -> Cow<'_, [f32]> {
    assert_eq!(tensor.dtype(), DType::F32, "fast activations are f32");
    match tensor.as_slice::<f32>() {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(
            tensor
                .to_contiguous()
                .as_slice::<f32>()
                .expect("a contiguous tensor")
                .to_vec(),
        ),
    }
}

/// Whether `tensor` owns its whole buffer, contiguous from offset 0, so
/// it can be overwritten.
fn writable(tensor: &FlexTensor) -> bool {
    tensor.is_unique()
        && tensor.is_contiguous()
        && tensor.layout().start_offset() == 0
        && tensor.bytes().len() == tensor.layout().num_elements() * 4
}

/// `out = f(out, other)` elementwise, over `target`'s buffer when it can be
/// overwritten, else over a new one of `target`'s shape.
fn apply(
    mut target: FlexTensor,
    other: Option<&FlexTensor>,
    f: impl Fn(L, L) -> L + Sync,
) -> FlexTensor {
    assert_eq!(target.dtype(), DType::F32, "fast activations are f32");
    let other = other.map(f32_view);
    let other: &[f32] = other.as_deref().unwrap_or(&[]);
    if writable(&target) {
        let n = target.layout().num_elements();
        let buffer = target.try_storage_mut::<f32>().expect("a unique buffer");
        lanewise(&mut buffer[..n], other, f);
        return target;
    }
    let mut values = f32_view(&target).into_owned();
    lanewise(&mut values, other, f);
    FlexTensor::from_data(TensorData::new(values, target.shape()))
}

/// `f(x)` into a new buffer, keeping `x`.
fn apply_copy(x: &FlexTensor, f: impl Fn(L) -> L + Sync) -> FlexTensor {
    let mut values = f32_view(x).into_owned();
    lanewise(&mut values, &[], |v, _| f(v));
    FlexTensor::from_data(TensorData::new(values, x.shape()))
}

// ---------------------------------------------------------------- elementwise op

/// The fast activation operation.
#[backend_extension(Flex, Autodiff)]
pub trait FastActivationOps: Backend {
    /// `activation(x)`, elementwise, any shape (`f32`).
    fn fast_activation_forward(x: FloatTensor<Self>, activation: Activation) -> FloatTensor<Self>;
}

/// The inner backend's half: the forward pass keeping what the backward
/// pass reads, and the backward pass.
pub trait FastActivationBackwardOps: Backend {
    /// `(activation(x), the saved output or input)`.
    fn fast_activation_saving(
        x: FloatTensor<Self>,
        activation: Activation,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// The input's gradient from the upstream one and the saved tensor.
    fn fast_activation_backward(
        saved: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        activation: Activation,
    ) -> FloatTensor<Self>;
}

fn forward_kind<K: Kind>(x: FlexTensor) -> FlexTensor {
    apply(x, None, |v, _| K::value(v))
}

impl FastActivationOps for Flex {
    fn fast_activation_forward(x: FlexTensor, activation: Activation) -> FlexTensor {
        with_kind!(activation, K => forward_kind::<K>(x))
    }
}

fn saving_kind<K: Kind>(x: FlexTensor) -> (FlexTensor, FlexTensor) {
    if K::FROM_OUTPUT {
        let y = forward_kind::<K>(x);
        (y.clone(), y)
    } else {
        (apply_copy(&x, K::value), x)
    }
}

impl FastActivationBackwardOps for Flex {
    fn fast_activation_saving(x: FlexTensor, activation: Activation) -> (FlexTensor, FlexTensor) {
        with_kind!(activation, K => saving_kind::<K>(x))
    }

    fn fast_activation_backward(
        saved: FlexTensor,
        grad: FlexTensor,
        activation: Activation,
    ) -> FlexTensor {
        with_kind!(activation, K => apply(grad, Some(&saved), |g, s| K::backward(s, g)))
    }
}

#[derive(Debug)]
struct ActivationBackward;

impl<B: Backend + FastActivationBackwardOps> Backward<B, 1> for ActivationBackward {
    type State = (FloatTensor<B>, Activation);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (saved, activation) = ops.state;
        let [parent] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        if let Some(node) = parent {
            grads.register::<B>(
                node.id,
                B::fast_activation_backward(saved, grad, activation),
            );
        }
    }
}

impl<B, C> FastActivationOps for Autodiff<B, C>
where
    B: Backend + FastActivationOps + FastActivationBackwardOps,
    C: CheckpointStrategy,
{
    fn fast_activation_forward(x: FloatTensor<Self>, activation: Activation) -> FloatTensor<Self> {
        match ActivationBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (y, saved) = B::fast_activation_saving(x.into_primitive(), activation);
                prep.finish((saved, activation), y)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::fast_activation_forward(x.into_primitive(), activation))
            }
        }
    }
}

/// Whether `device` is burn's CPU backend (with or without autodiff),
/// where the custom operations run.
fn on_flex(device: &Device) -> bool {
    *device == Device::flex() || *device == Device::flex().autodiff()
}

/// burn's own activation.
fn burn_activation<const D: usize>(x: Tensor<D>, activation: Activation) -> Tensor<D> {
    match activation {
        Activation::Tanh => x.tanh(),
        Activation::Relu => relu(x),
        Activation::Sigmoid => sigmoid(x),
        Activation::Silu => silu(x),
        Activation::Gelu => gelu(x),
    }
}

/// `activation(x)` elementwise, for a tensor of any rank: the fast
/// operation for `f32` tensors on Flex (with or without autodiff), burn's
/// own activation elsewhere. Its values agree with burn's within 1e-6
/// (absolute, or relative above 1) and so do its gradients.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use causalgrad::scm::{fast_activation, Activation};
///
/// let device = Device::flex().autodiff();
/// let x = Tensor::<2>::from_floats([[-1.0, 0.0], [0.5, 2.0]], &device).require_grad();
/// let y = fast_activation(x.clone(), Activation::Sigmoid);
/// let grads = y.clone().sum().backward();
/// let expected = burn::tensor::activation::sigmoid(x.clone().detach());
/// y.detach().into_data().assert_approx_eq::<f32>(&expected.clone().into_data(), Default::default());
/// let slope = expected.clone() * expected.neg().add_scalar(1.0);
/// x.grad(&grads).unwrap().into_data().assert_approx_eq::<f32>(&slope.into_data(), Default::default());
/// ```
pub fn fast_activation<const D: usize>(x: Tensor<D>, activation: Activation) -> Tensor<D> {
    if x.dtype() != DType::F32 || !on_flex(&x.device()) {
        return burn_activation(x, activation);
    }
    Tensor::from_dispatch(<Dispatch as FastActivationOps>::fast_activation_forward(
        x.into_dispatch(),
        activation,
    ))
}

/// `tanh(x)` elementwise, fast on Flex ([`fast_activation`]).
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use causalgrad::scm::fast_tanh;
///
/// let device = Device::flex().autodiff();
/// let x = Tensor::<1>::from_floats([0.5, -2.0], &device).require_grad();
/// let y = fast_tanh(x.clone());
/// let grads = y.clone().sum().backward();
/// let (y, dx) = (y.into_data().try_to_vec::<f32>().unwrap(), x.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap());
/// assert!((y[0] - 0.5f32.tanh()).abs() < 1e-6);
/// assert!((dx[1] - (1.0 - 2.0f32.tanh().powi(2))).abs() < 1e-6);
/// ```
pub fn fast_tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    fast_activation(x, Activation::Tanh)
}

/// The logistic function `1 / (1 + e^−x)` elementwise, fast on Flex
/// ([`fast_activation`]).
pub fn fast_sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    fast_activation(x, Activation::Sigmoid)
}

/// `x · sigmoid(x)` elementwise, fast on Flex ([`fast_activation`]).
pub fn fast_silu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    fast_activation(x, Activation::Silu)
}

/// `max(x, 0)` elementwise, fast on Flex ([`fast_activation`]).
pub fn fast_relu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    fast_activation(x, Activation::Relu)
}

/// burn's GELU, `x Φ(x)` with the normal distribution function through
/// `erf`, elementwise, fast on Flex ([`fast_activation`]).
pub fn fast_gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    fast_activation(x, Activation::Gelu)
}

// ---------------------------------------------------------------- fused network

mod fused;

pub use fused::{fused_mlp, FusedMlpBackwardOps, FusedMlpGrads, FusedMlpOps};

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Activation; 5] = [
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Silu,
        Activation::Relu,
        Activation::Gelu,
    ];

    /// Deterministic values spread over `±scale`, with a few special ones
    /// (0, ±30, 1e-5).
    fn values(len: usize, scale: f32, seed: u32) -> Vec<f32> {
        let mut values = smooth(len, scale, seed);
        for (i, v) in values.iter_mut().enumerate() {
            match i % 97 {
                5 => *v = 0.0,
                11 => *v = 30.0,
                13 => *v = -30.0,
                17 => *v = 1e-5,
                _ => {}
            }
        }
        values
    }

    /// Deterministic values spread over `±scale`.
    fn smooth(len: usize, scale: f32, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                ((state as f32 / u32::MAX as f32) * 2.0 - 1.0) * scale
            })
            .collect()
    }

    fn read(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    fn assert_close(actual: &[f32], expected: &[f32], tolerance: f32, what: &str) {
        assert_eq!(actual.len(), expected.len(), "{what}: lengths");
        for (index, (a, e)) in actual.iter().zip(expected).enumerate() {
            let bound = tolerance * e.abs().max(1.0);
            assert!(
                (a - e).abs() <= bound || (a.is_nan() && e.is_nan()),
                "{what}[{index}]: {a} vs {e}"
            );
        }
    }

    fn check_activation(activation: Activation, shape: [usize; 2]) {
        let device = Device::flex().autodiff();
        let n = shape[0] * shape[1];
        let data = TensorData::new(values(n, 6.0, n as u32), shape);
        let seeds = Tensor::<2>::from_data(TensorData::new(values(n, 1.0, 7), shape), &device);

        let x = Tensor::<2>::from_data(data.clone(), &device).require_grad();
        // A fresh (uniquely owned) input: the forward pass may write in place.
        let y = fast_activation(x.clone().mul_scalar(1.0), activation);
        let grads = (y.clone() * seeds.clone()).sum().backward();
        let (y, dx) = (read(y), read(x.grad(&grads).unwrap()));

        let x = Tensor::<2>::from_data(data.clone(), &device).require_grad();
        let y_burn = burn_activation(x.clone(), activation);
        let grads = (y_burn.clone() * seeds).sum().backward();
        let (y_burn, dx_burn) = (read(y_burn), read(x.grad(&grads).unwrap()));

        let name = activation.name();
        assert_close(&y, &y_burn, 1e-6, &format!("{name} {shape:?} value"));
        assert_close(&dx, &dx_burn, 1e-6, &format!("{name} {shape:?} gradient"));

        // Without autodiff, and on a tensor shared elsewhere (no in-place).
        let plain = Tensor::<2>::from_data(data, &Device::flex());
        let y_plain = read(fast_activation(plain.clone(), activation));
        assert_close(&y_plain, &y_burn, 1e-6, &format!("{name} {shape:?} plain"));
        assert_close(&read(plain), &values(n, 6.0, n as u32), 0.0, "input kept");
    }

    #[test]
    fn activations_match_burn_values_and_gradients() {
        for activation in ALL {
            for shape in [[1, 1], [17, 16], [100_000, 16]] {
                check_activation(activation, shape);
            }
        }
    }

    #[test]
    fn activations_of_any_rank_and_of_views() {
        let device = Device::flex().autodiff();
        let x = Tensor::<3>::from_data(TensorData::new(values(60, 3.0, 1), [3, 4, 5]), &device);
        let y = fast_tanh(x.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let expected = x.clone().tanh().into_data().try_to_vec::<f32>().unwrap();
        assert_close(&y, &expected, 1e-6, "rank 3");
        // A transposed (non-contiguous) input.
        let t = x.clone().swap_dims(0, 2);
        let y = fast_sigmoid(t.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let expected = sigmoid(t).into_data().try_to_vec::<f32>().unwrap();
        assert_close(&y, &expected, 1e-6, "transposed");
        let nan = Tensor::<1>::from_floats([f32::NAN, -1.0, 1.0], &Device::flex());
        let y = fast_tanh(nan.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!(y[0].is_nan());
        let y = fast_relu(nan).into_data().try_to_vec::<f32>().unwrap();
        assert!(y[0].is_nan() && y[1] == 0.0 && y[2] == 1.0);
        assert_eq!(fast_silu(Tensor::<1>::zeros([0], &device)).dims(), [0]);
        assert_close(
            &fast_gelu(Tensor::<1>::from_floats([1.0], &device))
                .into_data()
                .try_to_vec::<f32>()
                .unwrap(),
            &[0.841_344_7],
            1e-6,
            "gelu(1)",
        );
    }

    fn check_fused(activation: Activation, n: usize, k: usize, h: usize, transposed: bool) {
        let device = Device::flex().autodiff();
        let scale = 1.0 / (k as f32).sqrt();
        let tensor2 = |v: Vec<f32>, shape: [usize; 2]| {
            Tensor::<2>::from_data(TensorData::new(v, shape), &device)
        };
        let x_data = smooth(n * k, 2.0, 3);
        let make_x = || {
            if transposed {
                tensor2(x_data.clone(), [k, n]).transpose()
            } else {
                tensor2(x_data.clone(), [n, k])
            }
            .require_grad()
        };
        let w1 = tensor2(smooth(k * h, scale, 4), [k, h]).require_grad();
        let b1 =
            Tensor::<1>::from_data(TensorData::new(smooth(h, 0.5, 5), [h]), &device).require_grad();
        let w2 = tensor2(smooth(h, 0.5, 6), [h, 1]).require_grad();
        let b2 = Tensor::<1>::from_floats([0.3], &device).require_grad();
        let seeds = tensor2(smooth(n, 1.0, 8), [n, 1]);

        let x = make_x();
        let y = fused_mlp(
            x.clone(),
            w1.clone(),
            b1.clone(),
            w2.clone(),
            b2.clone(),
            activation,
        );
        let grads = (y.clone() * seeds.clone()).sum().backward();
        let fused = (
            read(y),
            read(x.grad(&grads).unwrap()),
            read(w1.grad(&grads).unwrap()),
            b1.grad(&grads)
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap(),
            read(w2.grad(&grads).unwrap()),
            b2.grad(&grads)
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap(),
        );

        let x = make_x();
        let hidden = burn_activation(
            x.clone().matmul(w1.clone()) + b1.clone().unsqueeze::<2>(),
            activation,
        );
        let y = hidden.matmul(w2.clone()) + b2.clone().unsqueeze();
        let grads = (y.clone() * seeds).sum().backward();
        let burn = (
            read(y),
            read(x.grad(&grads).unwrap()),
            read(w1.grad(&grads).unwrap()),
            b1.grad(&grads)
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap(),
            read(w2.grad(&grads).unwrap()),
            b2.grad(&grads)
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap(),
        );
        let name = format!("{} n={n} k={k} h={h}", activation.name());
        // Sums over up to n rows: relative to the size of the sum.
        let tol = 1e-5 * (n as f32).sqrt().max(1.0);
        assert_close(&fused.0, &burn.0, 1e-5, &format!("{name} y"));
        assert_close(&fused.1, &burn.1, 1e-5, &format!("{name} dx"));
        assert_close(&fused.2, &burn.2, tol, &format!("{name} dw1"));
        assert_close(&fused.3, &burn.3, tol, &format!("{name} db1"));
        assert_close(&fused.4, &burn.4, tol, &format!("{name} dw2"));
        assert_close(&fused.5, &burn.5, tol, &format!("{name} db2"));
    }

    #[test]
    fn fused_network_matches_burn_layers() {
        for activation in ALL {
            check_fused(activation, 1, 1, 1, false);
            check_fused(activation, 17, 2, 16, true);
            check_fused(activation, 37, 3, 5, false);
        }
        check_fused(Activation::Tanh, 100_000, 2, 16, true);
        check_fused(Activation::Gelu, 5000, 1, 16, true);
    }
}
