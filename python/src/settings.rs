//! A fit's settings as Python hands them over: a dict of
//! `causalgrad.Model.fit`'s keywords, turned into the library's
//! [`FitConfig`] the way `causalgrad fit` turns its flags.

use causalgrad::fit::{FitConfig, MemberConfig};
use pyo3::prelude::*;

/// `steps`, `learning_rate`, `seed`, `validation`, `patience`,
/// `batch_size` and `members`, read from a dict.
#[derive(Clone, Debug, FromPyObject)]
#[pyo3(from_item_all)]
pub struct FitSettings {
    /// The most optimisation steps.
    pub steps: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Seed of the weights, batches and validation split.
    pub seed: u64,
    /// Fraction of rows held out.
    pub validation: f64,
    /// Evaluations without improvement before stopping (0: never stop early).
    pub patience: usize,
    /// Rows per mini-batch (`None`: all rows).
    pub batch_size: Option<usize>,
    /// Ensemble members fitted after the model.
    pub members: usize,
}

impl FitSettings {
    /// The fit's configuration (evaluating every 25 steps, as the command
    /// line does).
    pub fn config(&self) -> FitConfig {
        let mut config = FitConfig::default()
            .with_learning_rate(self.learning_rate)
            .with_steps(self.steps)
            .with_seed(self.seed)
            .with_validation(self.validation)
            .with_eval_every(25);
        config = match self.patience {
            0 => config.without_early_stopping(),
            patience => config.with_early_stopping(patience),
        };
        if let Some(rows) = self.batch_size {
            config = config.with_batch_size(rows);
        }
        config
    }

    /// The ensemble members' settings, `None` for no members.
    pub fn members(&self) -> Option<MemberConfig> {
        (self.members > 0).then(|| MemberConfig::new(self.members).with_seed(self.seed))
    }
}
