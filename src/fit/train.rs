//! The training loop: parameters in a burn `Module`, the negative
//! log-likelihood built from one custom operation per mechanism and burn's
//! own tensor operations, and burn's optimisers.

use std::sync::Arc;

use burn::module::{Module, Param, ParamId};
use burn::optim::{
    grad_clipping::GradientClippingConfig, momentum::MomentumConfig, AdamConfig, GradientsParams,
    SgdConfig,
};
use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::checkpoint;
use super::config::{FitConfig, FitDevice, FitError, FitReport, Optimizer, Schedule, StopReason};
use super::distributed::Replicas;
use super::nll::gaussian_nll;
use super::op::{mechanism_mean, on_flex};
use crate::data::Dataset;
use crate::scm::{Intervention, Mechanism, MechanismKernel, Noise, Scm};

pub(super) const HALF_LN_2PI: f32 = 0.918_938_5;

/// The learnable values of a model: one flat parameter vector per
/// mechanism, and the log noise scales.
#[derive(Module, Debug)]
pub struct ScmParams {
    /// Each variable's mechanism parameters, in topological order.
    pub mechanisms: Vec<Param<Tensor<1>>>,
    /// `ln sigma` of each variable, in topological order.
    pub log_scales: Param<Tensor<1>>,
}

impl ScmParams {
    /// A placeholder with no parameters (while the optimiser owns them).
    fn empty(device: &Device) -> Self {
        ScmParams {
            mechanisms: Vec::new(),
            log_scales: Param::from_tensor(Tensor::zeros([1], device)),
        }
    }

    /// The model's current values on `device`.
    pub fn from_scm(scm: &Scm, device: &Device) -> Self {
        let mechanisms = scm
            .nodes()
            .iter()
            .enumerate()
            .map(|(index, node)| parameter(index as u64 + 1, node.mechanism.params(), device))
            .collect();
        let scales: Vec<f32> = scm
            .nodes()
            .iter()
            .map(|node| match node.noise {
                Noise::Gaussian { log_scale } => log_scale,
            })
            .collect();
        ScmParams {
            mechanisms,
            log_scales: parameter(0, &scales, device),
        }
    }

    /// Writes the values back into the model.
    pub fn write_to(&self, scm: &mut Scm) {
        let scales = read(&self.log_scales.val());
        for ((node, param), log_scale) in
            scm.nodes_mut().iter_mut().zip(&self.mechanisms).zip(scales)
        {
            let values = read(&param.val());
            node.mechanism
                .set_params(&values)
                .expect("parameter tensors keep their length");
            node.noise = Noise::Gaussian { log_scale };
        }
    }
}

/// A trainable vector with a fixed id (`0` for the log-scales, `i + 1` for
/// variable `i`'s mechanism), so an optimiser's saved state finds its
/// parameters again when a fit resumes.
fn parameter(id: u64, values: &[f32], device: &Device) -> Param<Tensor<1>> {
    let tensor = Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device);
    let tensor = if device.is_autodiff() {
        tensor.require_grad()
    } else {
        tensor
    };
    Param::initialized(ParamId::from(id), tensor)
}

pub(super) fn read(tensor: &Tensor<1>) -> Vec<f32> {
    crate::scm::neural::read_f32(tensor.clone())
}

/// The data of one step: each variable's column and its parents' columns.
#[derive(Clone)]
pub(super) struct Batch {
    columns: Vec<Tensor<1>>,
    parents: Vec<Option<Tensor<2>>>,
    pub(super) rows: usize,
}

impl Batch {
    /// The batch of `rows` of the host `columns` (all of them when `None`).
    pub(super) fn new(
        scm: &Scm,
        columns: &[Vec<f32>],
        rows: Option<&[usize]>,
        device: &Device,
    ) -> Batch {
        let picked = columns
            .iter()
            .map(|column| match rows {
                Some(rows) => rows.iter().map(|&r| column[r]).collect(),
                None => column.to_vec(),
            })
            .collect();
        Batch::from_columns(scm, picked, device)
    }

    /// The batch of whole columns, moved into tensors.
    pub(super) fn from_columns(scm: &Scm, picked: Vec<Vec<f32>>, device: &Device) -> Batch {
        let n = picked.first().map_or(0, Vec::len);
        let tensor1 = |values: Vec<f32>| Tensor::from_data(TensorData::new(values, [n]), device);
        let parents = scm
            .nodes()
            .iter()
            .map(|node| {
                if node.parents.is_empty() {
                    return None;
                }
                let mut flat = Vec::with_capacity(node.parents.len() * n);
                for &p in &node.parents {
                    flat.extend_from_slice(&picked[p]);
                }
                Some(Tensor::from_data(
                    TensorData::new(flat, [node.parents.len(), n]),
                    device,
                ))
            })
            .collect();
        Batch {
            columns: picked.into_iter().map(tensor1).collect(),
            parents,
            rows: n,
        }
    }

    /// Rows `start..start + len` of this batch, on `device`.
    pub(super) fn slice(&self, start: usize, len: usize, device: &Device) -> Batch {
        Batch {
            columns: self
                .columns
                .iter()
                .map(|c| c.clone().narrow(0, start, len).to_device(device))
                .collect(),
            parents: self
                .parents
                .iter()
                .map(|p| {
                    p.as_ref()
                        .map(|p| p.clone().narrow(1, start, len).to_device(device))
                })
                .collect(),
            rows: len,
        }
    }
}

/// The mean of one variable over a batch of `rows` rows, as a `[rows]`
/// tensor: a mechanism written as burn tensor operations (neural) runs
/// them; any other kernel runs as one custom operation; a root's mean is
/// its single parameter.
pub(crate) fn node_mean(
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
pub(crate) fn root_nll(
    theta: Tensor<1>,
    log_scale: Tensor<1>,
    x: Tensor<1>,
    rows: usize,
) -> Tensor<1> {
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

/// The mean negative log-likelihood per row of `batch` (a `[1]` tensor).
pub(super) fn batch_loss(params: &ScmParams, scm: &Scm, batch: &Batch) -> Tensor<1> {
    let log_scales = params
        .log_scales
        .val()
        .clamp_min(super::checks::MIN_LOG_SCALE);
    let mut total: Option<Tensor<1>> = None;
    for (index, node) in scm.nodes().iter().enumerate() {
        if matches!(node.intervention, Some(Intervention::Set(_))) {
            continue;
        }
        let kernel: &Arc<dyn MechanismKernel> = match &node.intervention {
            Some(Intervention::Replace(replacement)) => replacement.kernel(),
            _ => node.mechanism.kernel(),
        };
        let theta = params.mechanisms[index].val();
        let log_scale = log_scales.clone().narrow(0, index, 1);
        let nll = match (&batch.parents[index], &node.intervention) {
            // The whole term as one fused operation, where the kernel runs on this device.
            (Some(parents), None | Some(Intervention::Replace(_)))
                if kernel.tensor_mechanism().is_none() && on_flex(&theta.device()) =>
            {
                gaussian_nll(
                    theta,
                    log_scale,
                    parents.clone(),
                    batch.columns[index].clone(),
                    kernel,
                )
            }
            (None, None) if on_flex(&theta.device()) => {
                root_nll(theta, log_scale, batch.columns[index].clone(), batch.rows)
            }
            _ => {
                let mut mean = node_mean(kernel, theta, batch.parents[index].as_ref(), batch.rows);
                if let Some(Intervention::Shift(delta)) = &node.intervention {
                    mean = mean.add_scalar(*delta as f32);
                }
                let z = (batch.columns[index].clone() - mean)
                    * log_scale.clone().neg().exp().expand([batch.rows]);
                log_scale + z.square().mean().mul_scalar(0.5).add_scalar(HALF_LN_2PI)
            }
        };
        total = Some(match total {
            Some(total) => total + nll,
            None => nll,
        });
    }
    total.unwrap_or_else(|| Tensor::zeros([1], &log_scales.device()))
}

pub(super) fn optimizer(config: &FitConfig) -> burn::optim::ModuleOptimizer {
    let clipping = config.clip_norm.map(GradientClippingConfig::Norm);
    match config.optimizer {
        Optimizer::Adam {
            beta1,
            beta2,
            epsilon,
        } => AdamConfig::new()
            .with_beta_1(beta1)
            .with_beta_2(beta2)
            .with_epsilon(epsilon)
            .with_grad_clipping(clipping)
            .init(),
        Optimizer::Sgd { momentum } => {
            let momentum = (momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(momentum)
                    .with_dampening(0.0)
            });
            SgdConfig::new()
                .with_momentum(momentum)
                .with_gradient_clipping(clipping)
                .init()
        }
    }
}

/// The learning-rate schedule, from burn's schedulers.
pub(super) fn scheduler(
    config: &FitConfig,
) -> Result<burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler, FitError> {
    use burn::lr_scheduler::constant::ConstantLr;
    use burn::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
    match config.schedule {
        Schedule::Constant => Ok(ConstantLr::new(config.learning_rate).into()),
        Schedule::Cosine { min_rate } => {
            CosineAnnealingLrSchedulerConfig::new(config.learning_rate, config.steps.max(1))
                .with_min_lr(min_rate)
                .init()
                .map_err(|message| FitError::Config(format!("cosine schedule: {message}")))
        }
    }
}

fn snapshot(params: &ScmParams) -> Snapshot {
    (
        params.mechanisms.iter().map(|p| read(&p.val())).collect(),
        read(&params.log_scales.val()),
    )
}

fn restore(scm: &mut Scm, (mechanisms, scales): &Snapshot) {
    for ((node, values), &log_scale) in scm.nodes_mut().iter_mut().zip(mechanisms).zip(scales) {
        node.mechanism
            .set_params(values)
            .expect("snapshots keep their length");
        node.noise = Noise::Gaussian { log_scale };
    }
}

/// A fit in progress: the model's parameters in a burn module, the
/// optimiser's state and the data, advanced one step at a time.
///
/// [`Scm::fit`] drives one to the end; use a trainer directly for custom
/// loops (progress reporting, checkpoints, timing a single step).
pub struct Trainer<'m> {
    scm: &'m mut Scm,
    config: FitConfig,
    device: Device,
    params: ScmParams,
    optim: burn::optim::ModuleOptimizer,
    schedule: burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler,
    /// The training rows.
    rows: usize,
    /// The host columns mini-batches are picked from (empty for full-batch
    /// fits, whose columns live only in `full`).
    columns: Vec<Vec<f32>>,
    full: Batch,
    valid: Option<Batch>,
    rng: rand::rngs::StdRng,
    /// The row order mini-batches walk through (empty for full-batch fits).
    order: Vec<usize>,
    cursor: usize,
    shuffles: usize,
    step: usize,
    losses: Vec<f64>,
    validation: Vec<(usize, f64)>,
    best: Option<(f64, Snapshot)>,
    since_best: usize,
    last_good: (usize, f64, Snapshot),
    replicas: Option<Replicas>,
}

type Snapshot = (Vec<Vec<f32>>, Vec<f32>);

impl<'m> Trainer<'m> {
    pub(super) fn new(
        scm: &'m mut Scm,
        data: &Dataset,
        config: &FitConfig,
        device: &Device,
    ) -> Result<Self, FitError> {
        config.check()?;
        // Only f32 columns are kept: the training rows are read straight
        // from `data` when nothing is held out.
        let (columns, valid) = if config.validation_fraction > 0.0 {
            let (train, valid) = data.split(config.validation_fraction, config.seed);
            (scm.columns_of(&train)?, Some(valid))
        } else {
            (scm.columns_of(data)?, None)
        };
        super::checks::check_columns(scm, &columns)?;
        let n = columns.first().map_or(0, Vec::len);
        let minibatches = config.batch_size.is_some_and(|size| size < n);
        let (full, columns, order) = if minibatches {
            let full = Batch::new(scm, &columns, None, device);
            (full, columns, (0..n).collect())
        } else {
            (
                Batch::from_columns(scm, columns, device),
                Vec::new(),
                Vec::new(),
            )
        };
        let valid = match &valid {
            Some(valid) if valid.n_rows() > 0 => {
                Some(Batch::new(scm, &scm.columns_of(valid)?, None, device))
            }
            _ => None,
        };
        let resume_from = config
            .checkpoint
            .as_ref()
            .filter(|c| c.resume && c.path.exists())
            .map(|c| c.path.clone());
        let saved = match &resume_from {
            Some(path) => {
                // Read into a copy: a refused checkpoint leaves the model as it was.
                let mut resumed = scm.clone();
                let saved = checkpoint::read(path, &mut resumed)?;
                checkpoint::check(path, &saved.progress, config, n)?;
                *scm = resumed;
                Some(saved)
            }
            None => None,
        };
        let params = ScmParams::from_scm(scm, device);
        let last_good = (0, f64::NAN, snapshot(&params));
        let mut trainer = Trainer {
            scm,
            config: config.clone(),
            device: device.clone(),
            params,
            optim: optimizer(config),
            schedule: scheduler(config)?,
            rows: n,
            columns,
            full,
            valid,
            rng: rand::rngs::StdRng::seed_from_u64(config.seed),
            order,
            cursor: n,
            shuffles: 0,
            step: 0,
            losses: Vec::with_capacity(config.steps.min(100_000)),
            validation: Vec::new(),
            best: None,
            since_best: 0,
            last_good,
            replicas: None,
        };
        if let (Some(path), Some(saved)) = (resume_from, saved) {
            trainer.resume(&path, saved)?;
        }
        Ok(trainer)
    }

    /// Continues from a checkpoint: the optimiser's state, the loss curve,
    /// the validation history and the mini-batch position (by replaying
    /// the seeded shuffles).
    fn resume(&mut self, path: &std::path::Path, saved: checkpoint::Saved) -> Result<(), FitError> {
        let progress = saved.progress;
        let refuse = |reason: String| FitError::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        let optim = std::mem::replace(&mut self.optim, optimizer(&self.config));
        self.optim = optim
            .from_bytes(burn::tensor::Bytes::from_bytes_vec(saved.optimizer))
            .map_err(|e| refuse(format!("its optimiser state cannot be read: {e}")))?;
        for _ in 0..progress.shuffles {
            self.order.shuffle(&mut self.rng);
        }
        for _ in 0..progress.step {
            self.schedule.step();
        }
        self.shuffles = progress.shuffles;
        self.cursor = progress.cursor;
        self.step = progress.step;
        self.last_good = (
            progress.step,
            progress.losses.last().copied().unwrap_or(f64::NAN),
            snapshot(&self.params),
        );
        self.losses = progress.losses;
        self.validation = progress.validation;
        self.since_best = progress.since_best;
        self.best = match (progress.best_loss, saved.best) {
            (Some(loss), Some(best)) => {
                Some((loss, snapshot(&ScmParams::from_scm(&best, &self.device))))
            }
            _ => None,
        };
        Ok(())
    }

    /// Writes a checkpoint of the current state, if the fit writes them.
    fn write_checkpoint(&self) -> Result<(), FitError> {
        let Some(checkpointing) = &self.config.checkpoint else {
            return Ok(());
        };
        if checkpointing.path.as_os_str().is_empty() {
            return Err(FitError::Config(
                "`resume` needs a checkpoint path (`FitConfig::checkpoint`)".to_string(),
            ));
        }
        let mut model = self.scm.clone();
        self.params.write_to(&mut model);
        let best = self.best.as_ref().map(|(_, snapshot)| {
            let mut best = self.scm.clone();
            restore(&mut best, snapshot);
            best
        });
        let progress = checkpoint::Progress {
            step: self.step,
            losses: self.losses.clone(),
            validation: self.validation.clone(),
            best_loss: self.best.as_ref().map(|(loss, _)| *loss),
            since_best: self.since_best,
            shuffles: self.shuffles,
            cursor: self.cursor,
            rows: self.rows,
            settings: checkpoint::settings_fingerprint(&self.config),
        };
        let optimizer = self
            .optim
            .into_bytes()
            .map_err(|e| FitError::Config(format!("the optimiser state cannot be saved: {e}")))?;
        checkpoint::write(
            &checkpointing.path,
            &model,
            &progress,
            optimizer.to_vec(),
            best.as_ref(),
        )
    }

    /// Spreads every step's batch over `devices`, the first of which is
    /// this trainer's own (see [`super::distributed`]).
    pub(super) fn spread_over(mut self, devices: &[Device]) -> Result<Self, FitError> {
        let n = self.rows;
        let batch_rows = self.config.batch_size.map_or(n, |size| size.min(n));
        self.replicas = Some(Replicas::new(&self.full, devices, batch_rows)?);
        Ok(self)
    }

    /// The number of steps taken.
    pub fn steps_taken(&self) -> usize {
        self.step
    }

    /// Takes one optimisation step and returns the loss it computed (the
    /// mean negative log-likelihood per row before the update). Every
    /// [`FitConfig::eval_every`] steps (and at the last) it then evaluates
    /// the validation loss, and every [`Checkpointing::every`](super::Checkpointing::every) steps it
    /// writes a checkpoint.
    ///
    /// A non-finite loss restores the last parameters with a finite loss
    /// into the model and returns [`FitError::NonFinite`].
    pub fn step(&mut self) -> Result<f64, FitError> {
        self.step += 1;
        let n = self.rows;
        let rows = match self.config.batch_size {
            Some(size) if size < n => {
                if self.cursor + size > n {
                    self.order.shuffle(&mut self.rng);
                    self.shuffles += 1;
                    self.cursor = 0;
                }
                self.cursor += size;
                Some(&self.order[self.cursor - size..self.cursor])
            }
            _ => None,
        };
        let (value, grads) = match &self.replicas {
            Some(replicas) => replicas.loss_and_grads(self.scm, &self.params, &self.columns, rows),
            None => {
                let batch = match rows {
                    Some(rows) => Batch::new(self.scm, &self.columns, Some(rows), &self.device),
                    None => self.full.clone(),
                };
                let loss = batch_loss(&self.params, self.scm, &batch);
                let value = f64::from(loss.clone().into_scalar::<f32>());
                (
                    value,
                    GradientsParams::from_grads(loss.backward(), &self.params),
                )
            }
        };
        if !value.is_finite() {
            restore(self.scm, &self.last_good.2);
            return Err(FitError::NonFinite {
                step: self.step,
                loss: value,
                last_good_step: self.last_good.0,
                last_good_loss: self.last_good.1,
            });
        }
        self.last_good = (self.step - 1, value, snapshot(&self.params));
        self.losses.push(value);
        let params = std::mem::replace(&mut self.params, ScmParams::empty(&self.device));
        let rate = self.schedule.step();
        self.params = self.optim.step(rate, params, grads);
        if self.step % self.config.eval_every == 0 || self.step == self.config.steps {
            self.validate();
        }
        if let Some(checkpointing) = &self.config.checkpoint {
            if self.step % checkpointing.every == 0 {
                self.write_checkpoint()?;
            }
        }
        Ok(value)
    }

    /// Steps to [`FitConfig::steps`] or until early stopping asks to stop,
    /// then [`Trainer::finish`]es.
    pub(super) fn run(mut self) -> Result<FitReport, FitError> {
        let mut stop = StopReason::Completed;
        while self.steps_taken() < self.config.steps {
            if self.early_stop_requested() {
                stop = StopReason::EarlyStopped {
                    step: self.steps_taken(),
                };
                break;
            }
            self.step()?;
        }
        if self.early_stop_requested() {
            stop = StopReason::EarlyStopped {
                step: self.steps_taken(),
            };
        }
        self.finish(stop)
    }

    /// Whether early stopping asks to stop: the validation loss has not
    /// improved for [`FitConfig::patience`] evaluations.
    pub fn early_stop_requested(&self) -> bool {
        self.config
            .patience
            .is_some_and(|patience| self.since_best >= patience)
    }

    /// Evaluates the validation loss, if there is a validation split.
    fn validate(&mut self) {
        let Some(valid) = &self.valid else {
            return;
        };
        let value = f64::from(batch_loss(&self.params, self.scm, valid).into_scalar::<f32>());
        self.validation.push((self.step, value));
        match &self.best {
            Some((best, _)) if value >= *best => self.since_best += 1,
            _ => {
                self.best = Some((value, snapshot(&self.params)));
                self.since_best = 0;
            }
        }
    }

    /// The latest validation loss and the step it was evaluated at, once
    /// a step has evaluated it (on a validation split).
    pub fn validation_loss(&self) -> Option<(usize, f64)> {
        self.validation.last().copied()
    }

    /// Writes the parameters into the model (the best ones when `stop` is
    /// early stopping) and the last checkpoint, and reports the fit.
    pub fn finish(self, stop: StopReason) -> Result<FitReport, FitError> {
        let written = self
            .config
            .checkpoint
            .as_ref()
            .is_some_and(|c| self.step % c.every == 0);
        if !written {
            self.write_checkpoint()?;
        }
        self.params.write_to(self.scm);
        if let (StopReason::EarlyStopped { .. }, Some((_, best))) = (&stop, &self.best) {
            restore(self.scm, best);
        }
        let final_loss = f64::from(
            batch_loss(
                &ScmParams::from_scm(self.scm, &self.device),
                self.scm,
                &self.full,
            )
            .into_scalar::<f32>(),
        );
        if !final_loss.is_finite() {
            restore(self.scm, &self.last_good.2);
            return Err(FitError::NonFinite {
                step: self.step + 1,
                loss: final_loss,
                last_good_step: self.last_good.0,
                last_good_loss: self.last_good.1,
            });
        }
        Ok(FitReport {
            losses: self.losses,
            final_validation_loss: self.validation.last().map(|(_, v)| *v),
            validation: self.validation,
            stop,
        })
    }
}

impl Scm {
    /// Fits the mechanisms' parameters and the noise scales to `data` by
    /// gradient descent on the negative log-likelihood, with burn's
    /// autodiff and optimisers on the CPU (`Flex`) backend.
    ///
    /// A non-finite loss stops the fit with [`FitError::NonFinite`] and
    /// leaves the model at its last parameters with a finite loss.
    pub fn fit(&mut self, data: &Dataset, config: &FitConfig) -> Result<FitReport, FitError> {
        let device = autodiff_device(config.device)?;
        self.fit_on(data, config, &device)
    }

    /// [`Scm::fit`] on a given autodiff device.
    pub fn fit_on(
        &mut self,
        data: &Dataset,
        config: &FitConfig,
        device: &Device,
    ) -> Result<FitReport, FitError> {
        Trainer::new(self, data, config, device)?.run()
    }

    /// A trainer for `data` under `config`, to advance step by step.
    pub fn trainer(&mut self, data: &Dataset, config: &FitConfig) -> Result<Trainer<'_>, FitError> {
        let device = autodiff_device(config.device)?;
        Trainer::new(self, data, config, &device)
    }
}

/// The autodiff device for `choice`, or an error naming the cargo feature
/// the build lacks.
pub fn autodiff_device(choice: FitDevice) -> Result<Device, FitError> {
    #[allow(unreachable_code)]
    let missing = |feature: &str| {
        Err(FitError::Config(format!(
            "this build has no `{feature}` backend; rebuild causalgrad with `--features {feature}`"
        )))
    };
    match choice {
        FitDevice::Flex => Ok(Device::flex().autodiff()),
        #[cfg(feature = "cpu")]
        FitDevice::Cpu => Ok(Device::cpu().autodiff()),
        #[cfg(not(feature = "cpu"))]
        FitDevice::Cpu => missing("cpu"),
        #[cfg(feature = "cuda")]
        FitDevice::Cuda(index) => Ok(Device::cuda(index).autodiff()),
        #[cfg(not(feature = "cuda"))]
        FitDevice::Cuda(_) => missing("cuda"),
        #[cfg(feature = "wgpu")]
        FitDevice::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice).autodiff()),
        #[cfg(not(feature = "wgpu"))]
        FitDevice::Wgpu => missing("wgpu"),
    }
}
