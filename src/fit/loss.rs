//! The one place that turns (mechanism, noise model, batch) into a loss
//! term: a variable's mean negative log-likelihood per row, as a `[1]`
//! tensor. Plain, data-parallel and context fits all build their
//! objectives from [`Term::nll`]; a likelihood family is one arm of its
//! `match` (and one fused operation, as [`gaussian_nll`] is for Gaussian
//! noise).
//!
//! Where the mechanism's kernel runs on the training device (Flex), a
//! Gaussian term is one fused operation: the mechanism's forward and
//! reverse passes and the likelihood in one sweep over the rows. Elsewhere
//! (burn tensor mechanisms, GPU backends) the mean comes from the mechanism
//! operation and the density from burn's elementwise operations.
//!
//! Every other family ([`Likelihood`](crate::scm::Likelihood)) with a
//! one-output kernel mechanism on Flex is one fused operation too
//! ([`row_nll`]: the family's density and derivative on each group of
//! rows as soon as the mechanism has their means, seeding the mechanism's
//! pullback in the same pass; the mixture and Bernoulli densities run on
//! SIMD lanes, the others row by row in `f64`), a root's too (its mean a
//! linear mechanism without parents). Elsewhere (several outputs: a
//! categorical variable's logits, heteroscedastic noise; tensor
//! mechanisms; other devices) the mechanism's outputs come from the
//! mechanism operation and the density and gradient are evaluated on the
//! host in parallel chunks; the term is then `L + Σ g ⊙ (η − η̄)` with `η̄`
//! a detached copy, whose value is the loss `L` and whose gradient is
//! exactly `g`, so burn's autodiff carries it back through the mechanism
//! on any device.

use std::sync::Arc;

use burn::tensor::{Tensor, TensorData};
use rayon::prelude::*;

use super::checks::MIN_LOG_SCALE;
use super::nll::gaussian_nll;
use super::op::{mechanism_mean, on_flex};
use super::params::read;
use super::row_nll::{row_nll, FamilyRef};
use crate::scm::{Mechanism, MechanismKernel, Noise};

/// `ln √(2π)`.
const HALF_LN_2PI: f32 = 0.918_938_5;

/// What one variable's likelihood term reads.
pub(super) struct Term<'a> {
    /// The noise model (its family; its parameters are `noise_params`).
    pub noise: &'a Noise,
    /// Added to the mechanism's outputs (the variable's base, possibly
    /// empty).
    pub base: &'a [f32],
    /// The mechanism's kernel (a replaced mechanism's, under a soft
    /// intervention).
    pub kernel: &'a Arc<dyn MechanismKernel>,
    /// The mechanism's flat parameters.
    pub theta: Tensor<1>,
    /// The family's parameters (`[ln σ]` of a Gaussian, read clamped from
    /// below at [`MIN_LOG_SCALE`]); `None` for a family without any.
    pub noise_params: Option<Tensor<1>>,
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
        let fused = on_flex(&self.theta.device())
            && self.kernel.tensor_mechanism().is_none()
            && self.kernel.outputs() == 1;
        match self.noise {
            Noise::Gaussian { .. } => self.gaussian(),
            _ if fused => self.fused(),
            _ => self.on_host(),
        }
    }

    /// Any family with a one-output kernel mechanism on Flex: one fused
    /// operation ([`row_nll`]). A root's mean is its one parameter, `b` of
    /// a linear mechanism without parents.
    fn fused(self) -> Tensor<1> {
        let device = self.theta.device();
        let noise = self
            .noise_params
            .unwrap_or_else(|| Tensor::zeros([1], &device));
        let target = if self.shift == 0.0 {
            self.target
        } else {
            self.target.sub_scalar(self.shift)
        };
        let family = FamilyRef {
            noise: *self.noise,
            base: self.base.first().copied().unwrap_or(0.0),
        };
        match self.parents {
            Some(parents) => row_nll(
                self.theta,
                noise,
                parents.clone(),
                target,
                self.kernel,
                family,
            ),
            None => {
                let no_parents =
                    Tensor::from_data(TensorData::new(Vec::<f32>::new(), [0, self.rows]), &device);
                let root = Mechanism::linear(0);
                row_nll(self.theta, noise, no_parents, target, root.kernel(), family)
            }
        }
    }

    /// Any family: its density and gradient on the host (see the module
    /// docs).
    fn on_host(self) -> Tensor<1> {
        let device = self.theta.device();
        let outputs = self.kernel.outputs();
        let n = self.rows;
        let upload = |values: Vec<f32>| {
            let len = values.len();
            Tensor::<1>::from_data(TensorData::new(values, [len]), &device)
        };
        let (eta, mut host_eta) = match self.parents {
            Some(parents) => {
                let eta = mechanism_mean(self.theta.clone(), parents.clone(), self.kernel);
                let host = read(&eta.clone().detach());
                (Some(eta), host)
            }
            None => {
                let theta = read(&self.theta.clone().detach());
                let host = theta
                    .iter()
                    .flat_map(|&v| std::iter::repeat_n(v, n))
                    .collect();
                (None, host)
            }
        };
        for (chunk, base) in host_eta.chunks_mut(n.max(1)).zip(self.base) {
            chunk.iter_mut().for_each(|v| *v += base);
        }
        let mut target = read(&self.target);
        if self.shift != 0.0 {
            target.iter_mut().for_each(|x| *x -= self.shift);
        }
        let q = self
            .noise_params
            .as_ref()
            .map(|q| read(&q.clone().detach()));
        let noise = match &q {
            Some(q) => self.noise.with_params(q),
            None => *self.noise,
        };
        let (loss, d_eta, d_q) = host_nll(&noise, &host_eta, &target, outputs);
        let mut total = upload(vec![loss as f32]);
        match eta {
            Some(eta) => {
                total = total + (upload(d_eta) * (eta.clone() - eta.detach())).sum();
            }
            None => {
                // A root: each output is one parameter, read on every row.
                let d_theta = d_eta
                    .chunks(n.max(1))
                    .map(|c| c.iter().map(|&v| f64::from(v)).sum::<f64>() as f32)
                    .collect();
                let theta = self.theta;
                total = total + (upload(d_theta) * (theta.clone() - theta.detach())).sum();
            }
        }
        if let Some(q_tensor) = self.noise_params {
            let d_q = d_q.iter().map(|&v| v as f32).collect();
            total = total + (upload(d_q) * (q_tensor.clone() - q_tensor.detach())).sum();
        }
        total
    }

    /// `ln σ + mean_r (x_r − mean_r)² / (2σ²) + ln √(2π)`. A shifted mean
    /// is the same density of the target minus the shift, which keeps the
    /// fused operation.
    fn gaussian(self) -> Tensor<1> {
        let log_scale = self
            .noise_params
            .expect("Gaussian noise has a log-scale")
            .clamp_min(MIN_LOG_SCALE);
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

/// Whether `scm` can be fitted on `device`: a categorical variable with
/// parents (several mechanism outputs) runs its mechanism through the
/// custom operation, which only burn's CPU backend has.
pub(super) fn check_device(
    scm: &crate::scm::Scm,
    device: &burn::tensor::Device,
) -> Result<(), super::config::FitError> {
    if on_flex(device) {
        return Ok(());
    }
    match scm
        .nodes()
        .iter()
        .find(|node| !node.parents.is_empty() && node.mechanism.outputs() > 1)
    {
        Some(node) => Err(super::config::FitError::Config(format!(
            "`{}` is categorical with parents, which fits on the CPU device (flex) only for now; fit on `--device flex`",
            node.name
        ))),
        None => Ok(()),
    }
}

/// Rows per chunk of [`host_nll`]: a fixed size, so its sums do not
/// depend on the number of threads.
const CHUNK: usize = 4096;

/// The mean negative log-likelihood per row of `target` under `noise`
/// given the mechanism outputs `eta` (`outputs · n`, output `h` at
/// `h · n ..`), with its gradients: with respect to `eta` (same layout,
/// already divided by `n`) and to the noise parameters.
fn host_nll(
    noise: &Noise,
    eta: &[f32],
    target: &[f32],
    outputs: usize,
) -> (f64, Vec<f32>, Vec<f64>) {
    let n = target.len();
    let params = noise.params().len();
    let scale = 1.0 / n.max(1) as f64;
    let row_loss = noise.row_loss();
    let group_loss = noise.group_loss();
    // Row-major gradients first (each chunk writes its own rows).
    let mut d_rows = vec![0.0f32; n * outputs];
    let partials: Vec<(f64, Vec<f64>)> = d_rows
        .par_chunks_mut(CHUNK * outputs)
        .enumerate()
        .map(|(chunk, d_rows)| {
            if outputs == 1 {
                // One output: the family's group likelihood (on lanes
                // where it has them) over the chunk.
                let rows = chunk * CHUNK..chunk * CHUNK + d_rows.len();
                let mut d_q = vec![0.0f64; params];
                let loss = group_loss(&eta[rows.clone()], 0.0, &target[rows], d_rows, &mut d_q);
                d_rows.iter_mut().for_each(|d| *d *= scale as f32);
                return (loss, d_q);
            }
            let mut row = vec![0.0f64; outputs];
            let mut d_eta = vec![0.0f64; outputs];
            let mut d_q = vec![0.0f64; params];
            let mut loss = 0.0;
            for (i, d_out) in d_rows.chunks_mut(outputs).enumerate() {
                let r = chunk * CHUNK + i;
                for (h, v) in row.iter_mut().enumerate() {
                    *v = f64::from(eta[h * n + r]);
                }
                d_eta.iter_mut().for_each(|v| *v = 0.0);
                loss += row_loss(&row, f64::from(target[r]), &mut d_eta, &mut d_q);
                for (d, v) in d_out.iter_mut().zip(&d_eta) {
                    *d = (v * scale) as f32;
                }
            }
            (loss, d_q)
        })
        .collect();
    let mut loss = 0.0;
    let mut d_q = vec![0.0f64; params];
    for (part, q) in partials {
        loss += part;
        d_q.iter_mut().zip(q).for_each(|(t, v)| *t += v * scale);
    }
    let d_eta = if outputs == 1 {
        d_rows
    } else {
        let mut columns = vec![0.0f32; n * outputs];
        for r in 0..n {
            for h in 0..outputs {
                columns[h * n + r] = d_rows[r * outputs + h];
            }
        }
        columns
    };
    (loss * scale, d_eta, d_q)
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
