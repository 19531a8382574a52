//! The training loop of plain and data-parallel fits: parameters in a
//! burn `Module` ([`ScmParams`]), each step's loss from the one loss path
//! ([`Batch::nll`]), burn's optimisers, validation, early stopping and
//! checkpoints.

use burn::optim::GradientsParams;
use burn::tensor::Device;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::batch::Batch;
use super::checkpoint;
use super::config::{FitConfig, FitDevice, FitError, FitReport, StepProgress, StopReason};
use super::device::autodiff_device;
use super::distributed::Replicas;
use super::optim::{optimizer, scheduler};
use super::params::{restore, snapshot, ScmParams, Snapshot};
use super::standardize::standardize;
use crate::data::Dataset;
use crate::scm::Scm;

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
    /// What turns a loss in the model's units into the data's: the sum of
    /// `ln scale` over the variables with a likelihood term.
    units: f64,
}

impl<'m> Trainer<'m> {
    pub(super) fn new(
        scm: &'m mut Scm,
        data: &Dataset,
        config: &FitConfig,
        device: &Device,
    ) -> Result<Self, FitError> {
        config.check()?;
        scm.check_data(data)?;
        super::loss::check_device(scm, device)?;
        standardize(scm, config, |name| data.column(name).into_iter().collect());
        scm.remember_support(data)?;
        // Only f32 columns are kept: the training rows are read straight
        // from `data` when nothing is held out.
        if config.validation_fraction > 0.0 {
            let (train, valid) = data.split(config.validation_fraction, config.seed);
            Trainer::on_split(scm, &train, Some(&valid), config, device)
        } else {
            Trainer::on_split(scm, data, None, config, device)
        }
    }

    /// A trainer on `train` rows with `valid` rows for validation (the
    /// split already made; `config`'s validation fraction is not used).
    /// The data are checked and the model standardised by the caller.
    pub(super) fn on_split(
        scm: &'m mut Scm,
        train: &Dataset,
        valid: Option<&Dataset>,
        config: &FitConfig,
        device: &Device,
    ) -> Result<Self, FitError> {
        let columns = scm.columns_of(train)?;
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
        let valid = match valid {
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
        let units = scm.log_scale_units(|_| true);
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
            units,
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
                let loss = batch.nll(&self.params, self.scm);
                let value = f64::from(loss.clone().into_scalar::<f32>());
                (
                    value,
                    GradientsParams::from_grads(loss.backward(), &self.params),
                )
            }
        };
        let value = value + self.units;
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
        let rate = self.schedule.step().base() * self.rate_factor();
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
    pub(super) fn run(self) -> Result<FitReport, FitError> {
        self.run_with(|_| {})
    }

    /// [`Trainer::run`], calling `observe` after every step (a progress
    /// display; `causalgrad fit` draws its bar from it). On an error the
    /// model keeps its last good parameters, as [`Trainer::step`] says.
    pub fn run_with(
        mut self,
        mut observe: impl FnMut(&StepProgress),
    ) -> Result<FitReport, FitError> {
        while self.steps_taken() < self.config.steps && !self.early_stop_requested() {
            let loss = self.step()?;
            observe(&StepProgress {
                step: self.step,
                steps: self.config.steps,
                loss,
                validation: self.validation_loss().map(|(_, value)| value),
            });
        }
        let stop = if self.early_stop_requested() {
            StopReason::EarlyStopped {
                step: self.steps_taken(),
            }
        } else {
            StopReason::Completed
        };
        self.finish(stop)
    }

    /// The factor of the learning rate after the validation history so far
    /// ([`FitConfig::with_plateau_decay`]).
    fn rate_factor(&self) -> f64 {
        self.config.plateau.map_or(1.0, |(factor, evaluations)| {
            super::plateau_factor(self.validation.iter().map(|&(_, v)| v), factor, evaluations)
        })
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
        let value = f64::from(valid.nll(&self.params, self.scm).into_scalar::<f32>()) + self.units;
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
        let mut final_validation_loss = self.validation.last().map(|(_, v)| *v);
        if let (StopReason::EarlyStopped { .. }, Some((loss, best))) = (&stop, &self.best) {
            restore(self.scm, best);
            final_validation_loss = Some(*loss);
        }
        let final_loss = f64::from(
            self.full
                .nll(&ScmParams::from_scm(self.scm, &self.device), self.scm)
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
            converged: stop.converged(&self.losses),
            losses: self.losses,
            final_validation_loss,
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

    /// [`Scm::fit`] with every step's batch shared out over `devices`:
    /// each device computes the gradient of its shard on its own thread,
    /// burn's `GradientsAccumulator` sums them (weighted by each shard's
    /// share of the rows) on the first device, and one optimiser step
    /// there updates the parameters every device forks at the next step.
    /// Validation, checkpoints and early stopping run on the first device;
    /// the result equals a single-device fit's up to `f32` rounding (see
    /// `docs/distributed.md`). The devices replace [`FitConfig::device`];
    /// one device may be listed more than once (two `Flex` workers share
    /// the CPU's cores).
    ///
    /// An empty list is [`FitError::NoDevices`], a batch with fewer rows
    /// than devices [`FitError::FewerRowsThanDevices`], and a device whose
    /// cargo feature is not built a [`FitError::Config`] naming the feature.
    ///
    /// ```
    /// use causalgrad::data::Dataset;
    /// use causalgrad::fit::{FitConfig, FitDevice};
    /// use causalgrad::models::scm5::{self, Init};
    ///
    /// let dir = scm5::data_dir();
    /// let init = Init::from_json_file(dir.join("init_seed0.json"))?;
    /// let data = Dataset::from_csv(dir.join("train_10k.csv"))?.head(1000);
    /// let config = FitConfig::adam(1e-2).with_steps(5);
    /// let mut scm = scm5::model(&init);
    /// let report = scm.fit_data_parallel(&data, &config, &[FitDevice::Flex, FitDevice::Flex])?;
    /// assert_eq!(report.losses.len(), 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fit_data_parallel(
        &mut self,
        data: &Dataset,
        config: &FitConfig,
        devices: &[FitDevice],
    ) -> Result<FitReport, FitError> {
        self.trainer_data_parallel(data, config, devices)?.run()
    }

    /// A data-parallel trainer ([`Scm::fit_data_parallel`]) to advance step
    /// by step.
    pub fn trainer_data_parallel(
        &mut self,
        data: &Dataset,
        config: &FitConfig,
        devices: &[FitDevice],
    ) -> Result<Trainer<'_>, FitError> {
        let devices = devices
            .iter()
            .map(|&device| autodiff_device(device))
            .collect::<Result<Vec<_>, _>>()?;
        let main = devices.first().ok_or(FitError::NoDevices)?.clone();
        Trainer::new(self, data, config, &main)?.spread_over(&devices)
    }
}
