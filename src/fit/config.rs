//! What a fit does: optimiser, steps, batches, validation and clipping.

/// The optimiser, from burn's optimiser stack.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optimizer {
    /// Adam (`burn::optim::AdamConfig`).
    Adam {
        /// First-moment decay.
        beta1: f32,
        /// Second-moment decay.
        beta2: f32,
        /// Denominator offset.
        epsilon: f32,
    },
    /// SGD with momentum (`burn::optim::SgdConfig`).
    Sgd {
        /// Momentum (0 for plain SGD).
        momentum: f64,
    },
}

/// How the learning rate changes over the steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// The same rate throughout.
    Constant,
    /// Cosine decay from the rate to `min_rate` over the steps
    /// (`burn::lr_scheduler::cosine`).
    Cosine {
        /// The final rate.
        min_rate: f64,
    },
}

/// Where and how often a fit writes checkpoints
/// ([`FitConfig::with_checkpoint`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpointing {
    /// The checkpoint file (replaced atomically at each write).
    pub path: std::path::PathBuf,
    /// Write after every this many steps (and after the last).
    pub every: usize,
    /// Continue from the file if it exists (otherwise start afresh).
    pub resume: bool,
}

/// The device a fit runs on. The CPU backend (`Flex`, pure Rust) is always
/// there; the others need the cargo feature of the same name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FitDevice {
    /// burn's pure-Rust CPU backend (`Flex`).
    #[default]
    Flex,
    /// burn's CubeCL CPU backend (feature `cpu`).
    Cpu,
    /// An NVIDIA GPU by index, through CUDA (feature `cuda`).
    Cuda(usize),
    /// The default GPU through wgpu (Vulkan, Metal, DX12; feature `wgpu`).
    Wgpu,
}

impl std::str::FromStr for FitDevice {
    type Err = String;

    /// `flex`, `cpu`, `cuda`, `cuda:1`, `wgpu`.
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "flex" => Ok(FitDevice::Flex),
            "cpu" => Ok(FitDevice::Cpu),
            "cuda" => Ok(FitDevice::Cuda(0)),
            "wgpu" => Ok(FitDevice::Wgpu),
            other => match other.strip_prefix("cuda:").map(str::parse) {
                Some(Ok(index)) => Ok(FitDevice::Cuda(index)),
                _ => Err(format!(
                    "unknown device `{other}`; expected flex, cpu, cuda, cuda:N or wgpu"
                )),
            },
        }
    }
}

/// Settings of [`Scm::fit`](crate::scm::Scm::fit), built with `with_*`
/// setters and checked in one place when a fit starts (a setting no fit can
/// run with, such as zero steps or `eval_every = 0`, is a
/// [`FitError::Config`] naming it).
///
/// [`FitConfig::default`] is what `causalgrad fit` uses: Adam at `1e-2` on
/// standardised data, 10% of the rows held out, at most 3000 steps, stopping
/// once the validation loss has not improved for 10 evaluations (250 steps)
/// and keeping the best parameters, and halving the learning rate after
/// every 3 evaluations without improvement. [`FitConfig::adam`] and
/// [`FitConfig::sgd`] start from a plain 500-step full-batch fit without a
/// validation split.
///
/// ```
/// use causalgrad::fit::FitConfig;
///
/// let config = FitConfig::adam(1e-2).with_steps(500).with_batch_size(1024).with_clip_norm(10.0).with_seed(3);
/// assert_eq!(config.steps(), 500);
/// assert_eq!(config.batch_size(), Some(1024));
/// assert!(FitConfig::default().patience().is_some());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FitConfig {
    pub(crate) optimizer: Optimizer,
    pub(crate) learning_rate: f64,
    pub(crate) schedule: Schedule,
    pub(crate) steps: usize,
    pub(crate) batch_size: Option<usize>,
    pub(crate) seed: u64,
    pub(crate) validation_fraction: f64,
    pub(crate) clip_norm: Option<f32>,
    pub(crate) patience: Option<usize>,
    pub(crate) eval_every: usize,
    pub(crate) checkpoint: Option<Checkpointing>,
    pub(crate) device: FitDevice,
    pub(crate) standardize: bool,
    pub(crate) plateau: Option<(f64, usize)>,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig::adam(1e-2)
            .with_steps(3000)
            .with_validation(0.1)
            .with_early_stopping(10)
            .with_plateau_decay(0.5, 3)
    }
}

impl FitConfig {
    /// Adam with `learning_rate` and burn's default betas (0.9, 0.999), eps 1e-8;
    /// 500 full-batch steps, no validation split, standardised data.
    pub fn adam(learning_rate: f64) -> Self {
        FitConfig {
            optimizer: Optimizer::Adam {
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 1e-8,
            },
            learning_rate,
            schedule: Schedule::Constant,
            steps: 500,
            batch_size: None,
            seed: 0,
            validation_fraction: 0.0,
            clip_norm: None,
            patience: None,
            eval_every: 25,
            checkpoint: None,
            device: FitDevice::Flex,
            standardize: true,
            plateau: None,
        }
    }

    /// SGD with `momentum`.
    pub fn sgd(learning_rate: f64, momentum: f64) -> Self {
        FitConfig {
            optimizer: Optimizer::Sgd { momentum },
            ..FitConfig::adam(learning_rate)
        }
    }

    /// The number of optimisation steps (at most, with early stopping).
    pub fn with_steps(mut self, steps: usize) -> Self {
        self.steps = steps;
        self
    }

    /// The (initial) learning rate.
    pub fn with_learning_rate(mut self, rate: f64) -> Self {
        self.learning_rate = rate;
        self
    }

    /// Mini-batches of `rows` rows, drawn without replacement per epoch.
    pub fn with_batch_size(mut self, rows: usize) -> Self {
        self.batch_size = Some(rows);
        self
    }

    /// The seed of batch order and validation split.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Holds out `fraction` of the rows for validation (`0 <= fraction < 1`).
    pub fn with_validation(mut self, fraction: f64) -> Self {
        self.validation_fraction = fraction;
        self
    }

    /// Clips gradients to a global norm.
    pub fn with_clip_norm(mut self, norm: f32) -> Self {
        self.clip_norm = Some(norm);
        self
    }

    /// Stops after `evaluations` validation checks without improvement and
    /// keeps the best parameters (needs a validation split).
    pub fn with_early_stopping(mut self, evaluations: usize) -> Self {
        self.patience = Some(evaluations);
        self
    }

    /// Runs every step: no early stopping.
    pub fn without_early_stopping(mut self) -> Self {
        self.patience = None;
        self
    }

    /// A cosine learning-rate decay to `min_rate`.
    pub fn with_cosine(mut self, min_rate: f64) -> Self {
        self.schedule = Schedule::Cosine { min_rate };
        self
    }

    /// Writes a checkpoint to `path` after every `every` steps and after
    /// the last, each time atomically (an interrupted fit loses at most
    /// `every` steps).
    pub fn with_checkpoint(mut self, path: impl Into<std::path::PathBuf>, every: usize) -> Self {
        let resume = self.checkpoint.as_ref().is_some_and(|c| c.resume);
        self.checkpoint = Some(Checkpointing {
            path: path.into(),
            every,
            resume,
        });
        self
    }

    /// Continues from the checkpoint file if it exists: the model's
    /// parameters, the optimiser's state, the loss curve and the mini-batch
    /// order are restored, and the fit runs on to [`FitConfig::steps`].
    /// Needs [`FitConfig::with_checkpoint`] (before or after this call).
    pub fn with_resume(mut self) -> Self {
        match &mut self.checkpoint {
            Some(checkpoint) => checkpoint.resume = true,
            None => {
                self.checkpoint = Some(Checkpointing {
                    path: std::path::PathBuf::new(),
                    every: usize::MAX,
                    resume: true,
                })
            }
        }
        self
    }

    /// Trains on `device`.
    pub fn with_device(mut self, device: FitDevice) -> Self {
        self.device = device;
        self
    }

    /// How often (in steps) to evaluate the validation loss.
    pub fn with_eval_every(mut self, steps: usize) -> Self {
        self.eval_every = steps;
        self
    }

    /// Whether the fit standardises continuous variables internally (the
    /// default; see [`Scm::scaling`](crate::scm::Scm::scaling)). Built-in
    /// mechanisms then work on standardised values, so one learning rate
    /// suits data in any units.
    pub fn with_standardize(mut self, standardize: bool) -> Self {
        self.standardize = standardize;
        self
    }

    /// Multiplies the learning rate by `factor` each time `evaluations`
    /// evaluations in a row did not improve the validation loss (burn's
    /// schedule times [`plateau_factor`](crate::fit::plateau_factor)): Adam's
    /// steps shrink as the fit closes in, and early stopping sees the
    /// smaller steps' improvements.
    pub fn with_plateau_decay(mut self, factor: f64, evaluations: usize) -> Self {
        self.plateau = Some((factor, evaluations));
        self
    }

    /// The learning-rate decay on plateaus, `(factor, evaluations)`.
    pub fn plateau_decay(&self) -> Option<(f64, usize)> {
        self.plateau
    }

    /// The optimiser.
    pub fn optimizer(&self) -> Optimizer {
        self.optimizer
    }

    /// The (initial) learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    /// The learning-rate schedule.
    pub fn schedule(&self) -> Schedule {
        self.schedule
    }

    /// Optimisation steps (at most, with early stopping).
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Rows per mini-batch; `None` for full-batch steps.
    pub fn batch_size(&self) -> Option<usize> {
        self.batch_size
    }

    /// Seed of the mini-batch order and the validation split.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Fraction of the rows held out for validation (0 for none).
    pub fn validation_fraction(&self) -> f64 {
        self.validation_fraction
    }

    /// Gradient clipping by global norm (burn's `GradientClipping::Norm`).
    pub fn clip_norm(&self) -> Option<f32> {
        self.clip_norm
    }

    /// Evaluations without improvement before stopping (`None`: never
    /// stop early).
    pub fn patience(&self) -> Option<usize> {
        self.patience
    }

    /// Steps between validation evaluations.
    pub fn eval_every(&self) -> usize {
        self.eval_every
    }

    /// Checkpoints to write (and resume from).
    pub fn checkpoint(&self) -> Option<&Checkpointing> {
        self.checkpoint.as_ref()
    }

    /// The device to train on.
    pub fn device(&self) -> FitDevice {
        self.device
    }

    /// Whether continuous variables are standardised inside the fit.
    pub fn standardize(&self) -> bool {
        self.standardize
    }

    /// Refuses settings no fit can run with, naming the setting: the one
    /// place every setting is validated.
    pub(crate) fn check(&self) -> Result<(), FitError> {
        let refuse = |message: String| Err(FitError::Config(message));
        if self.steps == 0 {
            return refuse("`steps` must be at least 1".into());
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return refuse(format!(
                "the learning rate must be positive and finite, got {}",
                self.learning_rate
            ));
        }
        if self.batch_size == Some(0) {
            return refuse("`batch_size` must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.validation_fraction) {
            return refuse(format!(
                "the validation fraction must be in [0, 1), got {}",
                self.validation_fraction
            ));
        }
        if self.eval_every == 0 {
            return refuse("`eval_every` must be at least 1 step".into());
        }
        if self.patience == Some(0) {
            return refuse("early stopping needs a patience of at least 1 evaluation".into());
        }
        if let Some(norm) = self.clip_norm {
            if !(norm > 0.0 && norm.is_finite()) {
                return refuse(format!(
                    "the clipping norm must be positive and finite, got {norm}"
                ));
            }
        }
        if let Some(checkpoint) = &self.checkpoint {
            if checkpoint.every == 0 {
                return refuse("the checkpoint interval must be at least 1 step".into());
            }
        }
        if let Some((factor, evaluations)) = self.plateau {
            if !(factor > 0.0 && factor < 1.0) || evaluations == 0 {
                return refuse(format!(
                    "the plateau decay needs a factor in (0, 1) and at least 1 evaluation, got {factor} and {evaluations}"
                ));
            }
        }
        if let Schedule::Cosine { min_rate } = self.schedule {
            if !(min_rate >= 0.0 && min_rate <= self.learning_rate) {
                return refuse(format!(
                    "the cosine schedule's final rate must be in [0, {}], got {min_rate}",
                    self.learning_rate
                ));
            }
        }
        match self.optimizer {
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                if !((0.0..1.0).contains(&beta1) && (0.0..1.0).contains(&beta2)) {
                    return refuse(format!(
                        "Adam's betas must be in [0, 1), got {beta1} and {beta2}"
                    ));
                }
                if !(epsilon > 0.0 && epsilon.is_finite()) {
                    return refuse(format!("Adam's epsilon must be positive, got {epsilon}"));
                }
            }
            Optimizer::Sgd { momentum } => {
                if !(0.0..1.0).contains(&momentum) {
                    return refuse(format!("the momentum must be in [0, 1), got {momentum}"));
                }
            }
        }
        Ok(())
    }
}

/// Where a fit is after a step, for progress displays
/// ([`Trainer::run_with`](crate::fit::Trainer::run_with),
/// [`ContextTrainer::run_with`](crate::fit::ContextTrainer::run_with)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepProgress {
    /// Steps taken (1-based, counting those before a resumed checkpoint).
    pub step: usize,
    /// The most steps the fit takes.
    pub steps: usize,
    /// The step's training loss (before its update).
    pub loss: f64,
    /// The latest validation loss (a context fit's weighted objective on
    /// its evaluation rows), once one was evaluated.
    pub validation: Option<f64>,
}

/// Why a fit stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum StopReason {
    /// All steps ran.
    Completed,
    /// The validation loss stopped improving; the best parameters were kept.
    EarlyStopped {
        /// The step at which it stopped.
        step: usize,
    },
}

/// What a fit did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FitReport {
    /// The training loss (mean negative log-likelihood per row) at each step.
    pub losses: Vec<f64>,
    /// The validation loss at each evaluation, with its step.
    pub validation: Vec<(usize, f64)>,
    /// The validation loss of the parameters the fit kept (the best ones
    /// when it stopped early), if there is a validation split.
    pub final_validation_loss: Option<f64>,
    /// Why it stopped.
    pub stop: StopReason,
    /// Whether the fit converged: it stopped early on its validation loss,
    /// or its training loss was no longer improving at the last step (the
    /// rule of [`still_improving`](crate::fit::still_improving)). A fit
    /// that has not converged needs more steps or a larger learning rate.
    pub converged: bool,
}

impl StopReason {
    /// Whether a fit that stopped for this reason with loss curve `losses`
    /// converged (see [`FitReport::converged`]).
    pub fn converged(&self, losses: &[f64]) -> bool {
        match self {
            StopReason::EarlyStopped { .. } => true,
            StopReason::Completed => !crate::fit::still_improving(losses),
        }
    }
}

/// Errors of a fit. The model keeps its last good parameters.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// The loss became NaN or infinite.
    #[error("the loss became {loss} at step {step}; the model keeps the parameters of step {last_good_step} (loss {last_good_loss}). Lower the learning rate, clip gradients, or check the data")]
    NonFinite {
        /// The step that produced it (1-based).
        step: usize,
        /// The loss value.
        loss: f64,
        /// How many steps the kept parameters had taken (0: the initial
        /// parameters); step `last_good_step + 1` computed a finite loss
        /// with them, and `step` is the step after that.
        last_good_step: usize,
        /// The loss step `last_good_step + 1` computed with them.
        last_good_loss: f64,
    },
    /// Too few rows (after the validation split) to estimate noise scales.
    #[error("the fit has {rows} training row(s); at least 2 are needed to estimate a noise scale")]
    TooFewRows {
        /// The number of training rows.
        rows: usize,
    },
    /// A value too large in magnitude for the `f32` loss.
    #[error("variable `{variable}`, row {row}: {value:e} is beyond ±{limit:e}, the largest magnitude a fit accepts (its square would overflow f32); rescale the column")]
    OutOfRange {
        /// The variable.
        variable: String,
        /// 1-based row of the training data.
        row: usize,
        /// The value (as the fit sees it, in f32).
        value: f32,
        /// The largest magnitude accepted.
        limit: f32,
    },
    /// A variable with noise that never varies: its likelihood is unbounded.
    #[error("variable `{variable}` is constant ({value}) in f32, so its noise scale would shrink to zero and the likelihood grow without bound; drop it or intervene on it, or, if it varies far below its offset, subtract the offset (f32 keeps about 7 significant digits)")]
    Constant {
        /// The variable.
        variable: String,
        /// Its only value (as the fit sees it, in f32).
        value: f32,
    },
    /// A data-parallel fit with an empty device list.
    #[error("a data-parallel fit needs at least one device; the device list is empty")]
    NoDevices,
    /// A data-parallel fit whose batches cannot give every device a row.
    #[error("each step's batch has {rows} row(s), fewer than the {devices} devices of the data-parallel fit; every device needs at least one row: use fewer devices or larger batches")]
    FewerRowsThanDevices {
        /// Rows per step (the batch size, or all training rows).
        rows: usize,
        /// Devices in the fit.
        devices: usize,
    },
    /// The data do not fit the model.
    #[error(transparent)]
    Scm(#[from] crate::scm::ScmError),
    /// An invalid context graph (see [`crate::context`]).
    #[error(transparent)]
    Context(#[from] crate::context::ContextError),
    /// Invalid settings.
    #[error("invalid fit settings: {0}")]
    Config(String),
    /// A checkpoint that cannot be resumed from.
    #[error("{}: cannot resume from this checkpoint: {reason}", .path.display())]
    Checkpoint {
        /// The checkpoint file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// Writing or reading a checkpoint failed.
    #[cfg(feature = "burn")]
    #[error(transparent)]
    File(#[from] crate::scm::ModelFileError),
}
