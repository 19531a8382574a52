//! burn's optimisers and learning-rate schedules, as the settings ask.

use burn::optim::{
    grad_clipping::GradientClippingConfig, momentum::MomentumConfig, AdamConfig, SgdConfig,
};

use super::config::{FitConfig, FitError, Optimizer, Schedule};

/// The optimiser the settings ask for, with their gradient clipping.
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
