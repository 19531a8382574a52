//! A variable's whole Gaussian likelihood term as one custom operation.
//!
//! `gaussian_nll(params [p], log_scale [1], parents [k, n], target [n],
//! kernel) -> [1]` is `ln σ + mean_r (target_r − mean_r)² / (2σ²) + ln √(2π)`.
//! Its forward pass runs the mechanism once per row with its pullback
//! seeded as soon as the row's mean is known
//! ([`MechanismKernel::squared_error`]), so the value and both gradients
//! (parameters and log-scale) come out of one pass over the batch; the
//! backward pass only scales them by the incoming gradient. This replaces
//! the mechanism operation followed by burn's elementwise subtraction,
//! scaling, squaring and mean (and their backward passes) in training.
//!
//! The parents and the target are data: the operation gives them no
//! gradient. Use [`mechanism_mean`](super::mechanism_mean) where they need one.
//! A root variable is a mechanism without parents (`parents [0, n]`).

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
use crate::scm::MechanismKernel;

const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

/// The fused likelihood operation.
#[backend_extension(Flex, Autodiff)]
pub trait GaussianNllOps: Backend {
    /// `params [p]`, `log_scale [1]`, `parents [k, n]`, `target [n]` → `[1]`.
    fn gaussian_nll(
        params: FloatTensor<Self>,
        log_scale: FloatTensor<Self>,
        parents: FloatTensor<Self>,
        target: FloatTensor<Self>,
        kernel: KernelRef,
    ) -> FloatTensor<Self>;
}

/// The inner backend's half: the value with (optionally) its gradients,
/// and the scaling of stored gradients by the incoming one.
pub trait GaussianNllGradOps: Backend {
    /// The loss `[1]` and, with `want_grads`, `(dparams [p], dlog_scale [1])`.
    #[allow(clippy::type_complexity)]
    fn gaussian_nll_with_grads(
        params: FloatTensor<Self>,
        log_scale: FloatTensor<Self>,
        parents: FloatTensor<Self>,
        target: FloatTensor<Self>,
        kernel: &KernelRef,
        want_grads: bool,
    ) -> (
        FloatTensor<Self>,
        Option<(FloatTensor<Self>, FloatTensor<Self>)>,
    );

    /// `gradient · upstream` for a `[1]` upstream gradient.
    fn scale_by(gradient: FloatTensor<Self>, upstream: FloatTensor<Self>) -> FloatTensor<Self>;
}

fn flex_vector(values: Vec<f32>) -> FlexTensor {
    let len = values.len();
    FlexTensor::from_data(TensorData::new(values, [len]))
}

impl GaussianNllGradOps for Flex {
    fn gaussian_nll_with_grads(
        params: FlexTensor,
        log_scale: FlexTensor,
        parents: FlexTensor,
        target: FlexTensor,
        kernel: &KernelRef,
        want_grads: bool,
    ) -> (FlexTensor, Option<(FlexTensor, FlexTensor)>) {
        let (k, _) = parent_dims(&parents);
        let (params, parents, target) = (f32_view(&params), f32_view(&parents), f32_view(&target));
        let n = target.len();
        let log_scale = f64::from(f32_view(&log_scale)[0]);
        let inverse_variance = (-2.0 * log_scale).exp();
        let rows = n.max(1) as f64;
        let mut dparams = want_grads.then(|| vec![0.0f32; params.len()]);
        let squares = kernel.0.squared_error(
            &params,
            &columns(&parents, k, n),
            &target,
            (inverse_variance / rows) as f32,
            dparams.as_deref_mut(),
        );
        let mean_square = squares * inverse_variance / rows;
        let loss = log_scale + 0.5 * mean_square + HALF_LN_2PI;
        let grads = dparams.map(|dparams| {
            (
                flex_vector(dparams),
                flex_vector(vec![(1.0 - mean_square) as f32]),
            )
        });
        (flex_vector(vec![loss as f32]), grads)
    }

    fn scale_by(gradient: FlexTensor, upstream: FlexTensor) -> FlexTensor {
        let factor = f32_view(&upstream)[0];
        flex_vector(f32_view(&gradient).iter().map(|g| g * factor).collect())
    }
}

#[derive(Debug)]
struct NllBackward;

impl<B: Backend + GaussianNllGradOps> Backward<B, 2> for NllBackward {
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (dparams, dlog_scale) = ops.state;
        let [params_node, log_scale_node] = ops.parents;
        let upstream = grads.consume::<B>(&ops.node);
        if let Some(node) = params_node {
            grads.register::<B>(node.id, B::scale_by(dparams, upstream.clone()));
        }
        if let Some(node) = log_scale_node {
            grads.register::<B>(node.id, B::scale_by(dlog_scale, upstream));
        }
    }
}

impl<B, C> GaussianNllOps for Autodiff<B, C>
where
    B: Backend + GaussianNllOps + GaussianNllGradOps,
    C: CheckpointStrategy,
{
    fn gaussian_nll(
        params: FloatTensor<Self>,
        log_scale: FloatTensor<Self>,
        parents: FloatTensor<Self>,
        target: FloatTensor<Self>,
        kernel: KernelRef,
    ) -> FloatTensor<Self> {
        let nodes = [params.node(), log_scale.node()];
        let parents = parents.into_primitive();
        let target = target.into_primitive();
        match NllBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (loss, grads) = B::gaussian_nll_with_grads(
                    params.into_primitive(),
                    log_scale.into_primitive(),
                    parents,
                    target,
                    &kernel,
                    true,
                );
                prep.finish(grads.expect("gradients were asked for"), loss)
            }
            OpsKind::UnTracked(prep) => prep.finish(
                B::gaussian_nll_with_grads(
                    params.into_primitive(),
                    log_scale.into_primitive(),
                    parents,
                    target,
                    &kernel,
                    false,
                )
                .0,
            ),
        }
    }
}

impl GaussianNllOps for Flex {
    fn gaussian_nll(
        params: FlexTensor,
        log_scale: FlexTensor,
        parents: FlexTensor,
        target: FlexTensor,
        kernel: KernelRef,
    ) -> FlexTensor {
        <Flex as GaussianNllGradOps>::gaussian_nll_with_grads(
            params, log_scale, parents, target, &kernel, false,
        )
        .0
    }
}

/// The Gaussian negative log-likelihood per row of `target` under the
/// mechanism `kernel` with parameters `params` and `ln σ = log_scale`
/// (a `[1]` tensor), differentiable with respect to `params` and
/// `log_scale`, on burn's CPU backend.
pub fn gaussian_nll(
    params: Tensor<1>,
    log_scale: Tensor<1>,
    parents: Tensor<2>,
    target: Tensor<1>,
    kernel: &Arc<dyn MechanismKernel>,
) -> Tensor<1> {
    Tensor::from_dispatch(<Dispatch as GaussianNllOps>::gaussian_nll(
        params.into_dispatch(),
        log_scale.into_dispatch(),
        parents.into_dispatch(),
        target.into_dispatch(),
        KernelRef(Arc::clone(kernel)),
    ))
}
