//! A variable's likelihood term for any noise family as one custom
//! operation, when its mechanism is a kernel with one output.
//!
//! `row_nll(params [p], noise [q], parents [k, n], target [n], kernel,
//! family) -> [1]` is `mean_r −ln p(target_r | mean_r + base)` under the
//! family with parameters `noise`. Its forward pass runs the mechanism
//! once per group of rows with its pullback seeded by the family's
//! derivative as soon as the group's means are known
//! ([`MechanismKernel::row_loss`]; the family's density on the group is
//! its `group_loss`, on SIMD lanes for the mixture and Bernoulli), so the
//! value and both gradients come out of one pass, as
//! [`gaussian_nll`](super::nll) does for Gaussian noise; the backward pass
//! scales them by the incoming gradient. A family without parameters is
//! given one unused zero for `noise` (its gradient is zero).

use std::fmt;
use std::sync::Arc;

use burn::backend::autodiff::{
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
    Autodiff,
};
use burn::backend::flex::FlexTensor;
use burn::backend::{backend_extension, tensor::FloatTensor, Backend, Dispatch, Flex};
use burn::tensor::{Tensor, TensorData};

use super::op::{columns, f32_view, parent_dims, KernelRef};
use crate::scm::{MechanismKernel, Noise, RowLoss};

/// The family and the base added to the mechanism's output.
#[derive(Clone)]
pub struct FamilyRef {
    /// The family (its parameters come from the `noise` tensor).
    pub noise: Noise,
    /// Added to the mechanism's output.
    pub base: f32,
}

impl fmt::Debug for FamilyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FamilyRef({})", self.noise.name())
    }
}

/// The fused likelihood operation.
#[backend_extension(Flex, Autodiff)]
pub trait RowNllOps: Backend {
    /// `params [p]`, `noise [q]`, `parents [k, n]`, `target [n]` → `[1]`.
    fn row_nll(
        params: FloatTensor<Self>,
        noise: FloatTensor<Self>,
        parents: FloatTensor<Self>,
        target: FloatTensor<Self>,
        kernel: KernelRef,
        family: FamilyRef,
    ) -> FloatTensor<Self>;
}

/// The inner backend's half: the value with (optionally) its gradients,
/// and the scaling of stored gradients by the incoming one.
pub trait RowNllGradOps: Backend {
    /// The loss `[1]` and, with `want_grads`, `(dparams [p], dnoise [q])`.
    #[allow(clippy::type_complexity, clippy::too_many_arguments)]
    fn row_nll_with_grads(
        params: FloatTensor<Self>,
        noise: FloatTensor<Self>,
        parents: FloatTensor<Self>,
        target: FloatTensor<Self>,
        kernel: &KernelRef,
        family: &FamilyRef,
        want_grads: bool,
    ) -> (
        FloatTensor<Self>,
        Option<(FloatTensor<Self>, FloatTensor<Self>)>,
    );

    /// `gradient · upstream` for a `[1]` upstream gradient.
    fn scale_row_grad(
        gradient: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

fn flex_vector(values: Vec<f32>) -> FlexTensor {
    let len = values.len();
    FlexTensor::from_data(TensorData::new(values, [len]))
}

impl RowNllGradOps for Flex {
    fn row_nll_with_grads(
        params: FlexTensor,
        noise: FlexTensor,
        parents: FlexTensor,
        target: FlexTensor,
        kernel: &KernelRef,
        family: &FamilyRef,
        want_grads: bool,
    ) -> (FlexTensor, Option<(FlexTensor, FlexTensor)>) {
        let (k, _) = parent_dims(&parents);
        let (params, parents, target) = (f32_view(&params), f32_view(&parents), f32_view(&target));
        let noise_values = f32_view(&noise);
        let n = target.len();
        let count = family.noise.params().len();
        let family_noise = if count > 0 {
            family.noise.with_params(&noise_values[..count])
        } else {
            family.noise
        };
        let group_loss = family_noise.group_loss();
        let inverse_rows = 1.0 / n.max(1) as f64;
        let f = |means: &[f32], targets: &[f32], seeds: &mut [f32], d_loss: &mut [f64]| {
            let value = group_loss(means, family.base, targets, seeds, d_loss);
            seeds.iter_mut().for_each(|s| *s *= inverse_rows as f32);
            value
        };
        let loss = RowLoss {
            f: &f,
            params: count,
        };
        let mut dparams = want_grads.then(|| vec![0.0f32; params.len()]);
        let (total, d_noise) = kernel.0.row_loss(
            &params,
            &columns(&parents, k, n),
            &target,
            &loss,
            dparams.as_deref_mut(),
        );
        let grads = dparams.map(|dparams| {
            let mut d = vec![0.0f32; noise_values.len()];
            for (d, v) in d.iter_mut().zip(&d_noise) {
                *d = (v * inverse_rows) as f32;
            }
            (flex_vector(dparams), flex_vector(d))
        });
        (flex_vector(vec![(total * inverse_rows) as f32]), grads)
    }

    fn scale_row_grad(gradient: FlexTensor, upstream: FlexTensor) -> FlexTensor {
        let factor = f32_view(&upstream)[0];
        flex_vector(f32_view(&gradient).iter().map(|g| g * factor).collect())
    }
}

#[derive(Debug)]
struct RowNllBackward;

impl<B: Backend + RowNllGradOps> Backward<B, 2> for RowNllBackward {
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (dparams, dnoise) = ops.state;
        let [params_node, noise_node] = ops.parents;
        let upstream = grads.consume::<B>(&ops.node);
        if let Some(node) = params_node {
            grads.register::<B>(node.id, B::scale_row_grad(dparams, upstream.clone()));
        }
        if let Some(node) = noise_node {
            grads.register::<B>(node.id, B::scale_row_grad(dnoise, upstream));
        }
    }
}

impl<B, C> RowNllOps for Autodiff<B, C>
where
    B: Backend + RowNllOps + RowNllGradOps,
    C: CheckpointStrategy,
{
    fn row_nll(
        params: FloatTensor<Self>,
        noise: FloatTensor<Self>,
        parents: FloatTensor<Self>,
        target: FloatTensor<Self>,
        kernel: KernelRef,
        family: FamilyRef,
    ) -> FloatTensor<Self> {
        let nodes = [params.node(), noise.node()];
        let parents = parents.into_primitive();
        let target = target.into_primitive();
        match RowNllBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (loss, grads) = B::row_nll_with_grads(
                    params.into_primitive(),
                    noise.into_primitive(),
                    parents,
                    target,
                    &kernel,
                    &family,
                    true,
                );
                prep.finish(grads.expect("gradients were asked for"), loss)
            }
            OpsKind::UnTracked(prep) => prep.finish(
                B::row_nll_with_grads(
                    params.into_primitive(),
                    noise.into_primitive(),
                    parents,
                    target,
                    &kernel,
                    &family,
                    false,
                )
                .0,
            ),
        }
    }
}

impl RowNllOps for Flex {
    fn row_nll(
        params: FlexTensor,
        noise: FlexTensor,
        parents: FlexTensor,
        target: FlexTensor,
        kernel: KernelRef,
        family: FamilyRef,
    ) -> FlexTensor {
        <Flex as RowNllGradOps>::row_nll_with_grads(
            params, noise, parents, target, &kernel, &family, false,
        )
        .0
    }
}

/// The mean negative log-likelihood per row of `target` under `family`
/// (its parameters `noise`) given the mechanism `kernel` with parameters
/// `params` (one output) plus `family.base`, differentiable with respect
/// to `params` and `noise`, on burn's CPU backend.
pub fn row_nll(
    params: Tensor<1>,
    noise: Tensor<1>,
    parents: Tensor<2>,
    target: Tensor<1>,
    kernel: &Arc<dyn MechanismKernel>,
    family: FamilyRef,
) -> Tensor<1> {
    Tensor::from_dispatch(<Dispatch as RowNllOps>::row_nll(
        params.into_dispatch(),
        noise.into_dispatch(),
        parents.into_dispatch(),
        target.into_dispatch(),
        KernelRef(Arc::clone(kernel)),
        family,
    ))
}
