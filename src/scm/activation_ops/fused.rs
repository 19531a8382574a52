//! The fused `Linear → activation → Linear` network with one output as
//! one burn custom autodiff operation on Flex ([`fused_mlp`]).

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
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

use super::*;

/// The fused `Linear → activation → Linear` operation with one output.
#[backend_extension(Flex, Autodiff)]
pub trait FusedMlpOps: Backend {
    /// `act(x W1 + b1) W2 + b2`: `x [n, k]`, `w1 [k, h]`, `b1 [h]`,
    /// `w2 [h, 1]`, `b2 [1]` → `[n, 1]`.
    fn fused_mlp_forward(
        x: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        activation: Activation,
    ) -> FloatTensor<Self>;
}

/// The gradients of the fused network.
pub struct FusedMlpGrads<T> {
    /// `[n, k]`, when asked for.
    pub x: Option<T>,
    /// `[k, h]`.
    pub w1: T,
    /// `[h]`.
    pub b1: T,
    /// `[h, 1]`.
    pub w2: T,
    /// `[1]`.
    pub b2: T,
}

/// The inner backend's backward pass of the fused network.
pub trait FusedMlpBackwardOps: Backend {
    /// The gradients from the upstream one `grad [n, 1]`.
    #[allow(clippy::too_many_arguments)]
    fn fused_mlp_backward(
        x: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        activation: Activation,
        want_x: bool,
    ) -> FusedMlpGrads<FloatTensor<Self>>;
}

/// The columns of a `[n, k]` tensor, borrowed when each is contiguous (a
/// transposed `[k, n]` tensor, as `NeuralMean` receives its parents).
fn input_columns(x: &FlexTensor) -> (usize, Vec<Cow<'_, [f32]>>) {
    assert_eq!(x.dtype(), DType::F32, "the fused network is f32");
    let shape = x.shape();
    let (n, k) = (shape[0], shape[1]);
    let layout = x.layout();
    let strides = layout.strides();
    if n > 0 && (strides[0] == 1 || n == 1) && strides[1] >= 0 {
        let storage = x.storage::<f32>();
        let start = layout.start_offset();
        let step = strides[1] as usize;
        let columns = (0..k)
            .map(|i| Cow::Borrowed(&storage[start + i * step..start + i * step + n]))
            .collect();
        return (n, columns);
    }
    let rows = f32_view(x);
    let columns = (0..k)
        .map(|i| Cow::Owned((0..n).map(|r| rows[r * k + i]).collect()))
        .collect();
    (n, columns)
}

/// The network's weights, read once.
struct Weights {
    k: usize,
    h: usize,
    /// `w1[i * h + j]`, input `i` to unit `j`.
    w1: Vec<L>,
    b1: Vec<L>,
    w2: Vec<L>,
    b2: L,
}

impl Weights {
    fn read(w1: &FlexTensor, b1: &FlexTensor, w2: &FlexTensor, b2: &FlexTensor) -> Self {
        let shape = w1.shape();
        let (k, h) = (shape[0], shape[1]);
        let lanes = |t: &FlexTensor| f32_view(t).iter().map(|&v| splat(v)).collect::<Vec<_>>();
        let (b1, w2, b2) = (lanes(b1), lanes(w2), lanes(b2));
        assert_eq!(b1.len(), h, "b1 has one value per hidden unit");
        assert_eq!(w2.len(), h, "w2 is [h, 1]");
        assert_eq!(b2.len(), 1, "b2 is [1]");
        Weights {
            k,
            h,
            w1: lanes(w1),
            b1,
            w2,
            b2: b2[0],
        }
    }

    /// Unit `j`'s pre-activation on the rows of `xs`.
    #[inline(always)]
    fn pre(&self, xs: &[L], j: usize) -> L {
        let mut z = self.b1[j];
        for (i, x) in xs.iter().enumerate() {
            z += *x * self.w1[i * self.h + j];
        }
        z
    }
}

fn fused_forward_kind<K: Kind>(columns: &[Cow<'_, [f32]>], n: usize, w: &Weights) -> Vec<f32> {
    let mut out = vec![0.0f32; n];
    out.par_chunks_mut(ROW_CHUNK)
        .enumerate()
        .for_each(|(chunk, out)| {
            let base = chunk * ROW_CHUNK;
            let mut xs = vec![splat(0.0); w.k];
            for (block, out) in out.chunks_mut(LANES).enumerate() {
                let start = base + block * LANES;
                let len = out.len();
                for (x, column) in xs.iter_mut().zip(columns) {
                    *x = load(&column[start..start + len]);
                }
                let mut y = w.b2;
                for j in 0..w.h {
                    y += K::value(w.pre(&xs, j)) * w.w2[j];
                }
                store(y, out);
            }
        });
    out
}

/// One chunk's partial weight gradients, in lanes.
struct Partial {
    w1: Vec<L>,
    b1: Vec<L>,
    w2: Vec<L>,
    b2: L,
}

impl Partial {
    fn zeros(w: &Weights) -> Self {
        Partial {
            w1: vec![splat(0.0); w.k * w.h],
            b1: vec![splat(0.0); w.h],
            w2: vec![splat(0.0); w.h],
            b2: splat(0.0),
        }
    }

    fn add(mut self, other: Partial) -> Self {
        let add = |a: &mut Vec<L>, b: Vec<L>| a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
        add(&mut self.w1, other.w1);
        add(&mut self.b1, other.b1);
        add(&mut self.w2, other.w2);
        self.b2 += other.b2;
        self
    }
}

/// The weight gradients, and the input's into `dx` (`[n, k]` row-major)
/// when given.
fn fused_backward_kind<K: Kind>(
    columns: &[Cow<'_, [f32]>],
    n: usize,
    w: &Weights,
    seeds: &[f32],
    dx: Option<&mut [f32]>,
) -> Partial {
    let k = w.k;
    let chunk = |index: usize, dx: Option<&mut [f32]>| -> Partial {
        let mut acc = Partial::zeros(w);
        let base = index * ROW_CHUNK;
        let rows = ROW_CHUNK.min(n - base);
        let mut xs = vec![splat(0.0); k];
        let mut dxs = vec![splat(0.0); k];
        let mut scratch = vec![[0.0f32; LANES]; k];
        let mut dx = dx;
        for start in (base..base + rows).step_by(LANES) {
            let len = LANES.min(base + rows - start);
            for (x, column) in xs.iter_mut().zip(columns) {
                *x = load(&column[start..start + len]);
            }
            dxs.iter_mut().for_each(|d| *d = splat(0.0));
            // Padding lanes get a zero seed, so they add nothing.
            let g = load(&seeds[start..start + len]);
            acc.b2 += g;
            for j in 0..w.h {
                let z = w.pre(&xs, j);
                let a = K::value(z);
                acc.w2[j] += g * a;
                let saved = if K::FROM_OUTPUT { a } else { z };
                let dz = K::backward(saved, g * w.w2[j]);
                acc.b1[j] += dz;
                for i in 0..k {
                    acc.w1[i * w.h + j] += xs[i] * dz;
                    dxs[i] += dz * w.w1[i * w.h + j];
                }
            }
            if let Some(dx) = dx.as_deref_mut() {
                let offset = (start - base) * k;
                for (lanes, d) in scratch.iter_mut().zip(&dxs) {
                    *lanes = d.to_array();
                }
                for r in 0..len {
                    for (i, lanes) in scratch.iter().enumerate() {
                        dx[offset + r * k + i] = lanes[r];
                    }
                }
            }
        }
        acc
    };
    let chunks = n.div_ceil(ROW_CHUNK);
    match dx.filter(|_| k > 0) {
        Some(dx) => dx
            .par_chunks_mut(ROW_CHUNK * k.max(1))
            .enumerate()
            .map(|(index, dx)| chunk(index, Some(dx)))
            .reduce(|| Partial::zeros(w), Partial::add),
        None => (0..chunks)
            .into_par_iter()
            .map(|index| chunk(index, None))
            .reduce(|| Partial::zeros(w), Partial::add),
    }
}

fn flex(values: Vec<f32>, shape: impl Into<burn::tensor::Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

impl FusedMlpOps for Flex {
    fn fused_mlp_forward(
        x: FlexTensor,
        w1: FlexTensor,
        b1: FlexTensor,
        w2: FlexTensor,
        b2: FlexTensor,
        activation: Activation,
    ) -> FlexTensor {
        let weights = Weights::read(&w1, &b1, &w2, &b2);
        let (n, columns) = input_columns(&x);
        assert_eq!(columns.len(), weights.k, "x is [n, k] for w1 [k, h]");
        let out = with_kind!(activation, K => fused_forward_kind::<K>(&columns, n, &weights));
        flex(out, [n, 1])
    }
}

impl FusedMlpBackwardOps for Flex {
    fn fused_mlp_backward(
        x: FlexTensor,
        w1: FlexTensor,
        b1: FlexTensor,
        w2: FlexTensor,
        b2: FlexTensor,
        grad: FlexTensor,
        activation: Activation,
        want_x: bool,
    ) -> FusedMlpGrads<FlexTensor> {
        let weights = Weights::read(&w1, &b1, &w2, &b2);
        let (n, columns) = input_columns(&x);
        let seeds = f32_view(&grad);
        let (k, h) = (weights.k, weights.h);
        let mut dx = want_x.then(|| vec![0.0f32; n * k]);
        let partial = with_kind!(activation, K => fused_backward_kind::<K>(
            &columns, n, &weights, &seeds, dx.as_deref_mut()
        ));
        let sums = |lanes: Vec<L>| lanes.into_iter().map(L::sum).collect::<Vec<f32>>();
        FusedMlpGrads {
            x: dx.map(|dx| flex(dx, [n, k])),
            w1: flex(sums(partial.w1), [k, h]),
            b1: flex(sums(partial.b1), [h]),
            w2: flex(sums(partial.w2), [h, 1]),
            b2: flex(vec![partial.b2.sum()], [1]),
        }
    }
}

#[derive(Debug)]
struct FusedMlpBackward;

type FusedState<B> = ([FloatTensor<B>; 5], Activation);

impl<B: Backend + FusedMlpBackwardOps> Backward<B, 5> for FusedMlpBackward {
    type State = FusedState<B>;

    fn backward(self, ops: Ops<Self::State, 5>, grads: &mut Gradients, _: &mut Checkpointer) {
        let ([x, w1, b1, w2, b2], activation) = ops.state;
        let [x_node, w1_node, b1_node, w2_node, b2_node] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let weights_wanted =
            w1_node.is_some() || b1_node.is_some() || w2_node.is_some() || b2_node.is_some();
        if x_node.is_none() && !weights_wanted {
            return;
        }
        let want_x = x_node.is_some();
        let result = B::fused_mlp_backward(x, w1, b1, w2, b2, grad, activation, want_x);
        if let (Some(node), Some(dx)) = (x_node, result.x) {
            grads.register::<B>(node.id, dx);
        }
        for (node, value) in [
            (w1_node, result.w1),
            (b1_node, result.b1),
            (w2_node, result.w2),
            (b2_node, result.b2),
        ] {
            if let Some(node) = node {
                grads.register::<B>(node.id, value);
            }
        }
    }
}

impl<B, C> FusedMlpOps for Autodiff<B, C>
where
    B: Backend + FusedMlpOps + FusedMlpBackwardOps,
    C: CheckpointStrategy,
{
    fn fused_mlp_forward(
        x: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        activation: Activation,
    ) -> FloatTensor<Self> {
        let nodes = [x.node(), w1.node(), b1.node(), w2.node(), b2.node()];
        let [x, w1, b1, w2, b2] = [x, w1, b1, w2, b2].map(|t| t.into_primitive());
        match FusedMlpBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let out = B::fused_mlp_forward(
                    x.clone(),
                    w1.clone(),
                    b1.clone(),
                    w2.clone(),
                    b2.clone(),
                    activation,
                );
                prep.finish(([x, w1, b1, w2, b2], activation), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::fused_mlp_forward(x, w1, b1, w2, b2, activation))
            }
        }
    }
}

/// `activation(x · w1 + b1) · w2 + b2`, a network with one hidden layer
/// and one output (`x [n, k]`, `w1 [k, h]`, `b1 [h]`, `w2 [h, 1]`,
/// `b2 [1]` → `[n, 1]`; burn's `Linear` stores its weight `[in, out]`, so
/// these are two `Linear`s' weights and biases), differentiable with
/// respect to all five.
///
/// On Flex (`f32`) it is one operation: each row's hidden layer lives in
/// registers only, the backward pass recomputes it and reduces the weight
/// gradients in lane accumulators, in parallel over chunks of rows. On
/// other devices it is burn's `matmul`, activation and `matmul`.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use causalgrad::scm::{fused_mlp, Activation};
///
/// let device = Device::flex().autodiff();
/// let x = Tensor::<2>::from_floats([[0.5, -1.0], [2.0, 0.0], [0.1, 0.3]], &device);
/// let w1 = Tensor::<2>::from_floats([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]], &device).require_grad();
/// let b1 = Tensor::<1>::from_floats([0.0, 0.1, -0.1], &device).require_grad();
/// let w2 = Tensor::<2>::from_floats([[1.0], [-2.0], [0.5]], &device).require_grad();
/// let b2 = Tensor::<1>::from_floats([0.2], &device).require_grad();
/// let y = fused_mlp(x.clone(), w1.clone(), b1.clone(), w2.clone(), b2.clone(), Activation::Tanh);
/// let expected = (x.matmul(w1.clone()) + b1.clone().unsqueeze::<2>()).tanh().matmul(w2.clone()) + b2.clone().unsqueeze::<2>();
/// y.clone().into_data().assert_approx_eq::<f32>(&expected.into_data(), Default::default());
/// let grads = y.sum().backward();
/// assert_eq!(w1.grad(&grads).unwrap().dims(), [2, 3]);
/// ```
pub fn fused_mlp(
    x: Tensor<2>,
    w1: Tensor<2>,
    b1: Tensor<1>,
    w2: Tensor<2>,
    b2: Tensor<1>,
    activation: Activation,
) -> Tensor<2> {
    let all_f32 = [x.dtype(), w1.dtype(), b1.dtype(), w2.dtype(), b2.dtype()]
        .iter()
        .all(|d| *d == DType::F32);
    if !all_f32 || !on_flex(&x.device()) {
        let hidden = burn_activation(x.matmul(w1) + b1.unsqueeze::<2>(), activation);
        return hidden.matmul(w2) + b2.unsqueeze::<2>();
    }
    Tensor::from_dispatch(<Dispatch as FusedMlpOps>::fused_mlp_forward(
        x.into_dispatch(),
        w1.into_dispatch(),
        b1.into_dispatch(),
        w2.into_dispatch(),
        b2.into_dispatch(),
        activation,
    ))
}
