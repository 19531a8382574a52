//! The one place that turns (mechanism, noise model, batch) into a loss
//! term: a variable's mean negative log-likelihood per row, as a `[1]`
//! tensor. Plain, data-parallel and context fits all build their
//! objectives from [`Term::nll`]; a likelihood family is one arm of its
//! `match` (and one fused operation, as [`gaussian_nll`] is for Gaussian
//! noise).
//!
//! Where the mechanism's kernel runs on the training device (Flex), the
//! whole term is one fused operation: the mechanism's forward and reverse
//! passes and the likelihood in one sweep over the rows. Elsewhere (burn
//! tensor mechanisms, GPU backends) the mean comes from the mechanism
//! operation and the density from burn's elementwise operations.

use std::sync::Arc;

use burn::tensor::{Tensor, TensorData};

use super::checks::MIN_LOG_SCALE;
use super::nll::gaussian_nll;
use super::op::{mechanism_mean, on_flex};
use crate::scm::{Mechanism, MechanismKernel, Noise};

/// `ln √(2π)`.
const HALF_LN_2PI: f32 = 0.918_938_5;

/// What one variable's likelihood term reads.
pub(super) struct Term<'a> {
    /// The noise model (its family; its parameters are `log_scale`).
    pub noise: &'a Noise,
    /// The mechanism's kernel (a replaced mechanism's, under a soft
    /// intervention).
    pub kernel: &'a Arc<dyn MechanismKernel>,
    /// The mechanism's flat parameters.
    pub theta: Tensor<1>,
    /// `ln sigma`, `[1]`; read clamped from below at [`MIN_LOG_SCALE`].
    pub log_scale: Tensor<1>,
    /// The parents' columns `[k, rows]`, `None` for a root.
    pub parents: Option<&'a Tensor<2>>,
    /// The variable's column.
    pub target: Tensor<1>,
    /// A shift of the mechanism's mean (a soft intervention), `0` for none.
    pub shift: f32,
    /// The number of rows.
    pub rows: usize,
}

impl Term<'_> {
    /// The mean negative log-likelihood per row of the term's rows.
    pub(super) fn nll(self) -> Tensor<1> {
        match self.noise {
            Noise::Gaussian { .. } => self.gaussian(),
        }
    }

    /// `ln σ + mean_r (x_r − mean_r)² / (2σ²) + ln √(2π)`. A shifted mean
    /// is the same density of the target minus the shift, which keeps the
    /// fused operation.
    fn gaussian(self) -> Tensor<1> {
        let log_scale = self.log_scale.clamp_min(MIN_LOG_SCALE);
        let target = if self.shift == 0.0 {
            self.target
        } else {
            self.target.sub_scalar(self.shift)
        };
        let fused = on_flex(&self.theta.device());
        match self.parents {
            Some(parents) if fused && self.kernel.tensor_mechanism().is_none() => {
                gaussian_nll(self.theta, log_scale, parents.clone(), target, self.kernel)
            }
            None if fused => root_nll(self.theta, log_scale, target, self.rows),
            parents => {
                let mean = node_mean(self.kernel, self.theta, parents, self.rows);
                let z = (target - mean) * log_scale.clone().neg().exp().expand([self.rows]);
                log_scale + z.square().mean().mul_scalar(0.5).add_scalar(HALF_LN_2PI)
            }
        }
    }
}

/// The sum of `terms`, or zeros `[1]` on `device` when there are none.
pub(super) fn sum_terms(
    terms: impl IntoIterator<Item = Tensor<1>>,
    device: &burn::tensor::Device,
) -> Tensor<1> {
    terms
        .into_iter()
        .reduce(|total, term| total + term)
        .unwrap_or_else(|| Tensor::zeros([1], device))
}

/// The mean of one variable over a batch of `rows` rows, as a `[rows]`
/// tensor: a mechanism written as burn tensor operations (neural) runs
/// them; any other kernel runs as one custom operation; a root's mean is
/// its single parameter.
fn node_mean(
    kernel: &Arc<dyn MechanismKernel>,
    theta: Tensor<1>,
    parents: Option<&Tensor<2>>,
    rows: usize,
) -> Tensor<1> {
    match parents {
        Some(parents) => mechanism_mean(theta, parents.clone(), kernel),
        None => theta.expand([rows]),
    }
}

/// A root's mean negative log-likelihood per row of `x` (a `[1]` tensor)
/// as one fused operation on Flex: its mean is its one parameter, `b` of
/// a linear mechanism without parents.
fn root_nll(theta: Tensor<1>, log_scale: Tensor<1>, x: Tensor<1>, rows: usize) -> Tensor<1> {
    let no_parents = Tensor::from_data(
        TensorData::new(Vec::<f32>::new(), [0, rows]),
        &theta.device(),
    );
    gaussian_nll(
        theta,
        log_scale,
        no_parents,
        x,
        Mechanism::linear(0).kernel(),
    )
}
