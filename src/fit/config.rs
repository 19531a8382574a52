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
        /// The last step with a finite loss (0: the initial parameters).
        last_good_step: usize,
        /// Its loss.
        last_good_loss: f64,
    },
    /// The data do not fit the model.
    #[error(transparent)]
    Scm(#[from] crate::scm::ScmError),
    /// Invalid settings.
    #[error("invalid fit settings: {0}")]
    Config(String),
}
