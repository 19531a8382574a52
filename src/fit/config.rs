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
/// ([`FitConfig::checkpoint`]).
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

/// Settings of [`Scm::fit`](crate::scm::Scm::fit).
///
/// ```
/// use causalgrad::fit::FitConfig;
///
/// let config = FitConfig::adam(1e-2).steps(500).batch_size(1024).clip_norm(10.0).seed(3);
/// assert_eq!(config.steps, 500);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FitConfig {
    /// The optimiser.
    pub optimizer: Optimizer,
    /// The (initial) learning rate.
    pub learning_rate: f64,
    /// The learning-rate schedule.
    pub schedule: Schedule,
    /// Optimisation steps.
    pub steps: usize,
    /// Rows per mini-batch; `None` for full-batch steps.
    pub batch_size: Option<usize>,
    /// Seed of the mini-batch order and the validation split.
    pub seed: u64,
    /// Fraction of the rows held out for validation (0 for none).
    pub validation_fraction: f64,
    /// Gradient clipping by global norm (burn's `GradientClipping::Norm`).
    pub clip_norm: Option<f32>,
    /// Stop when the validation loss has not improved for this many
    /// evaluations (`None`: never stop early).
    pub patience: Option<usize>,
    /// Evaluate the validation loss (and report progress) every this many steps.
    pub eval_every: usize,
    /// Checkpoints to write (and resume from).
    pub checkpoint: Option<Checkpointing>,
    /// The device to train on.
    pub device: FitDevice,
}

impl FitConfig {
    /// Adam with `learning_rate` and burn's default betas (0.9, 0.999), eps 1e-8;
    /// 500 full-batch steps, no validation split.
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
        }
    }

    /// SGD with `momentum`.
    pub fn sgd(learning_rate: f64, momentum: f64) -> Self {
        FitConfig {
            optimizer: Optimizer::Sgd { momentum },
            ..FitConfig::adam(learning_rate)
        }
    }

    /// The number of optimisation steps.
    pub fn steps(mut self, steps: usize) -> Self {
        self.steps = steps;
        self
    }

    /// Mini-batches of `rows` rows, drawn without replacement per epoch.
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.batch_size = Some(rows.max(1));
        self
    }

    /// The seed of batch order and validation split.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Holds out `fraction` of the rows for validation.
    pub fn validation(mut self, fraction: f64) -> Self {
        self.validation_fraction = fraction;
        self
    }

    /// Clips gradients to a global norm.
    pub fn clip_norm(mut self, norm: f32) -> Self {
        self.clip_norm = Some(norm);
        self
    }

    /// Stops after `evaluations` validation checks without improvement.
    pub fn early_stopping(mut self, evaluations: usize) -> Self {
        self.patience = Some(evaluations);
        self
    }

    /// A cosine learning-rate decay to `min_rate`.
    pub fn cosine(mut self, min_rate: f64) -> Self {
        self.schedule = Schedule::Cosine { min_rate };
        self
    }

    /// Writes a checkpoint to `path` after every `every` steps and after
    /// the last, each time atomically (an interrupted fit loses at most
    /// `every` steps).
    pub fn checkpoint(mut self, path: impl Into<std::path::PathBuf>, every: usize) -> Self {
        let resume = self.checkpoint.as_ref().is_some_and(|c| c.resume);
        self.checkpoint = Some(Checkpointing {
            path: path.into(),
            every: every.max(1),
            resume,
        });
        self
    }

    /// Continues from the checkpoint file if it exists: the model's
    /// parameters, the optimiser's state, the loss curve and the mini-batch
    /// order are restored, and the fit runs on to [`FitConfig::steps`].
    /// Needs [`FitConfig::checkpoint`] (before or after this call).
    pub fn resume(mut self) -> Self {
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
    pub fn device(mut self, device: FitDevice) -> Self {
        self.device = device;
        self
    }

    /// Refuses settings no fit can run with: zero steps, a learning rate
    /// that is not positive and finite.
    pub(crate) fn check(&self) -> Result<(), FitError> {
        if self.steps == 0 {
            return Err(FitError::Config("`steps` must be at least 1".into()));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(FitError::Config(format!(
                "the learning rate must be positive and finite, got {}",
                self.learning_rate
            )));
        }
        Ok(())
    }

    /// How often to evaluate the validation loss.
    pub fn eval_every(mut self, steps: usize) -> Self {
        self.eval_every = steps.max(1);
        self
    }
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
    /// The final validation loss, if there is a validation split.
    pub final_validation_loss: Option<f64>,
    /// Why it stopped.
    pub stop: StopReason,
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
