//! A mechanism as one custom operation in burn's autodiff graph.
//!
//! `mechanism(params [p], parents [k, n], kernel) -> mean [n]`: the forward
//! pass evaluates the mechanism's batched primal, the backward pass its
//! batched pullback, returning the gradients of the parameters and of the
//! parent columns. Parent columns are rows of `parents`, so each column is
//! a contiguous slice read without copying.
//!
//! This follows the pattern of burn-signal's FFT in burn 0.22.1: an
//! extension trait on `Backend` (`#[backend_extension(Flex, Autodiff)]`), a
//! CPU kernel for `FlexTensor`, and an impl for `Autodiff<B, C>` generic over
//! the checkpoint strategy that registers a `Backward` node.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use burn::backend::autodiff::{
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
    Autodiff, NodeId,
};
use burn::backend::flex::FlexTensor;
use burn::backend::{
    backend_extension, tensor::FloatTensor, Backend, Dispatch, Flex, TensorMetadata,
};
use burn::tensor::{DType, Tensor, TensorData};

use crate::scm::neural::read_f32;
use crate::scm::MechanismKernel;

/// A shared mechanism kernel, as an argument of the custom operation.
#[derive(Clone)]
pub struct KernelRef(pub Arc<dyn MechanismKernel>);

impl fmt::Debug for KernelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KernelRef({})", self.0.describe())
    }
}

/// The differentiable mechanism operation.
#[backend_extension(Flex, Autodiff)]
pub trait MechanismOps: Backend {
    /// `params: [p]`, `parents: [k, n]` → `[n]`.
    fn mechanism_forward(
        params: FloatTensor<Self>,
        parents: FloatTensor<Self>,
        kernel: KernelRef,
    ) -> FloatTensor<Self>;
}

/// The backward kernel, called on the inner backend by the autodiff node.
pub trait MechanismBackwardOps: Backend {
    /// `(dparams [p], dparents [k, n])` from `seeds = dL/dmean [n]`.
    fn mechanism_backward(
        params: FloatTensor<Self>,
        parents: FloatTensor<Self>,
        seeds: FloatTensor<Self>,
        kernel: &KernelRef,
        want_parents: bool,
    ) -> (FloatTensor<Self>, Option<FloatTensor<Self>>);
}

/// The tensor's values, without copying when contiguous.
pub(crate) fn f32_view(tensor: &FlexTensor) -> Cow<'_, [f32]> {
    assert_eq!(tensor.dtype(), DType::F32, "mechanism operations are f32");
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

fn flex_from_vec(values: Vec<f32>, shape: impl Into<burn::tensor::Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// `(k, n)` of a `[k, n]` parents tensor.
pub(crate) fn parent_dims(parents: &FlexTensor) -> (usize, usize) {
    let shape = parents.shape();
    (shape[0], shape[1])
}

pub(crate) fn columns(values: &[f32], k: usize, n: usize) -> Vec<&[f32]> {
    (0..k).map(|i| &values[i * n..(i + 1) * n]).collect()
}

impl MechanismOps for Flex {
    fn mechanism_forward(params: FlexTensor, parents: FlexTensor, kernel: KernelRef) -> FlexTensor {
        let (k, n) = parent_dims(&parents);
        let (params, parents) = (f32_view(&params), f32_view(&parents));
        let len = n * kernel.0.outputs();
        let mut out = vec![0.0f32; len];
        kernel
            .0
            .forward(&params, &columns(&parents, k, n), &mut out);
        flex_from_vec(out, [len])
    }
}

impl MechanismBackwardOps for Flex {
    fn mechanism_backward(
        params: FlexTensor,
        parents: FlexTensor,
        seeds: FlexTensor,
        kernel: &KernelRef,
        want_parents: bool,
    ) -> (FlexTensor, Option<FlexTensor>) {
        let (k, n) = parent_dims(&parents);
        let (params, parents, seeds) = (f32_view(&params), f32_view(&parents), f32_view(&seeds));
        let mut dparams = vec![0.0f32; params.len()];
        let mut dparents = want_parents.then(|| vec![0.0f32; k * n]);
        kernel.0.backward(
            &params,
            &columns(&parents, k, n),
            &seeds,
            &mut dparams,
            dparents.as_deref_mut(),
        );
        let p = dparams.len();
        (
            flex_from_vec(dparams, [p]),
            dparents.map(|values| flex_from_vec(values, [k, n])),
        )
    }
}

#[derive(Debug)]
struct MechanismBackward;

impl<B: Backend + MechanismBackwardOps> Backward<B, 2> for MechanismBackward {
    type State = (NodeId, NodeId, KernelRef);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let (params_id, parents_id, kernel) = ops.state;
        let [params_node, parents_node] = ops.parents;
        let seeds = grads.consume::<B>(&ops.node);
        if params_node.is_none() && parents_node.is_none() {
            return;
        }
        let params: FloatTensor<B> = checkpointer.retrieve_node_output(params_id);
        let parents: FloatTensor<B> = checkpointer.retrieve_node_output(parents_id);
        let want_parents = parents_node.is_some();
        let (dparams, dparents) =
            B::mechanism_backward(params, parents, seeds, &kernel, want_parents);
        if let Some(node) = params_node {
            grads.register::<B>(node.id, dparams);
        }
        if let (Some(node), Some(dparents)) = (parents_node, dparents) {
            grads.register::<B>(node.id, dparents);
        }
    }
}

impl<B, C> MechanismOps for Autodiff<B, C>
where
    B: Backend + MechanismOps + MechanismBackwardOps,
    C: CheckpointStrategy,
{
    fn mechanism_forward(
        params: FloatTensor<Self>,
        parents: FloatTensor<Self>,
        kernel: KernelRef,
    ) -> FloatTensor<Self> {
        // The nodes must be taken before the primitives are consumed.
        let nodes = [params.node(), parents.node()];
        match MechanismBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let params_id = prep.checkpoint(&params);
                let parents_id = prep.checkpoint(&parents);
                let out = B::mechanism_forward(
                    params.into_primitive(),
                    parents.into_primitive(),
                    kernel.clone(),
                );
                prep.finish((params_id, parents_id, kernel), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::mechanism_forward(
                params.into_primitive(),
                parents.into_primitive(),
                kernel,
            )),
        }
    }
}

/// The mechanism's mean for each column of `parents` (`[k, n]`), as one
/// differentiable operation; gradients flow to `params` and `parents`.
pub fn mechanism(
    params: Tensor<1>,
    parents: Tensor<2>,
    kernel: &Arc<dyn MechanismKernel>,
) -> Tensor<1> {
    Tensor::from_dispatch(<Dispatch as MechanismOps>::mechanism_forward(
        params.into_dispatch(),
        parents.into_dispatch(),
        KernelRef(Arc::clone(kernel)),
    ))
}

/// The means of `kernel`'s mechanism over a batch, differentiable with
/// respect to `params: [p]` and `parents: [k, n]` (result `[n]`), on any
/// autodiff device: a mechanism written as burn tensor operations (a
/// neural one) runs them, any other runs as the custom operation
/// [`mechanism`].
///
/// This is how mechanisms compose with other burn code, for example a
/// macro-written mechanism feeding a neural one.
pub fn mechanism_mean(
    params: Tensor<1>,
    parents: Tensor<2>,
    kernel: &Arc<dyn MechanismKernel>,
) -> Tensor<1> {
    match kernel.tensor_mechanism() {
        Some(tensor) => tensor.tensor_mean(params, parents),
        None if on_flex(&params.device()) => mechanism(params, parents, kernel),
        None => linearised_on_host(params, parents, kernel),
    }
}

/// Whether `device` is burn's CPU backend, where the custom operation runs.
pub(crate) fn on_flex(device: &burn::tensor::Device) -> bool {
    *device == burn::tensor::Device::flex() || *device == burn::tensor::Device::flex().autodiff()
}

/// The mechanism on any device, through its CPU kernel: the means and each
/// row's gradient (one pullback per row) are computed on the host and
/// uploaded, and the result is `mean + J_θ (θ − θ̄) + Σ_i J_i ⊙ (x_i − x̄_i)`
/// with `θ̄`, `x̄` detached copies: its value is the mean and its gradients
/// are exactly the mechanism's, by burn's own autodiff on that device.
///
/// This is the route for backends without the custom operation (GPU
/// backends); it moves `n × (p + k)` values to the device per call.
pub fn linearised_on_host(
    params: Tensor<1>,
    parents: Tensor<2>,
    kernel: &Arc<dyn MechanismKernel>,
) -> Tensor<1> {
    use rayon::prelude::*;

    let device = params.device();
    let [k, n] = parents.dims();
    let theta = read_f32(params.clone().detach());
    let p = theta.len();
    let flat = read_f32(parents.clone().detach().reshape([k * n]));
    let columns: Vec<&[f32]> = flat.chunks(n.max(1)).take(k).collect();
    let mut mean = vec![0.0f32; n];
    kernel.forward(&theta, &columns, &mut mean);
    let with_parents = parents.is_require_grad();
    let width = p + if with_parents { k } else { 0 };
    let mut jacobian = vec![0.0f32; n * width];
    jacobian
        .par_chunks_mut(width.max(1))
        .enumerate()
        .for_each(|(row, out)| {
            let cells: Vec<&[f32]> = columns.iter().map(|c| &c[row..row + 1]).collect();
            let (dparams, dparents) = out.split_at_mut(p);
            let dparents = with_parents.then_some(dparents);
            kernel.backward(&theta, &cells, &[1.0], dparams, dparents);
        });
    let upload2 = |values: Vec<f32>, shape: [usize; 2]| {
        Tensor::<2>::from_data(TensorData::new(values, shape), &device)
    };
    let value = Tensor::<1>::from_data(TensorData::new(mean, [n]), &device);
    let jacobian = upload2(jacobian, [n, width]);
    let delta = (params.clone() - params.detach()).reshape([p, 1]);
    let mut result = value + jacobian.clone().narrow(1, 0, p).matmul(delta).reshape([n]);
    if with_parents {
        let dx = parents.clone() - parents.detach();
        let jx = jacobian.narrow(1, p, k).transpose();
        result = result + (jx * dx).sum_dim(0).reshape([n]);
    }
    result
}
