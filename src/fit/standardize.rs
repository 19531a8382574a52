//! The scalings a fit sets before its first step (see
//! [`Scaling`](crate::scm::Scaling)): each standardisable variable's mean
//! and standard deviation over all its training rows (pooled over the
//! contexts of a context fit, validation rows included), computed in `f64`.
//!
//! A model that already has scalings (fitted before, or loaded from a
//! file) keeps them, since its parameters are in those units. Constant
//! columns stay unscaled, so that the fit's check reports their value in
//! the data's units. Models with lagged (time-series) variables are not
//! rescaled: a lagged variable reads its base variable's values as they
//! were, in the data's units.
//!
//! Discrete variables are not rescaled; instead each with a built-in
//! mechanism gets a base at its first fit: the link of its rate in the
//! data (the logit of a binary's share of 1s, the log of a count's mean,
//! the log odds of each level against the first), added to its
//! mechanism's outputs, so the fit starts at the base rates as a
//! standardised continuous variable starts at its mean.

use super::config::FitConfig;
use crate::context::parse_lag;
use crate::scm::{Noise, Scaling, Scm};

/// Sets `scm`'s scalings from `column(name)` (a variable's rows, in
/// parts), when the settings ask for standardisation and the model has
/// none yet.
pub(super) fn standardize<'d>(
    scm: &mut Scm,
    config: &FitConfig,
    column: impl Fn(&str) -> Vec<&'d [f64]>,
) {
    set_bases(scm, &column);
    if !config.standardize || scm.is_scaled() || scm.variables().any(|v| parse_lag(v).is_some()) {
        return;
    }
    let eligible = scm.standardizable();
    let scalings: Vec<Scaling> = scm
        .variables()
        .zip(eligible)
        .map(|(name, eligible)| {
            let parts = column(name);
            let first = parts.iter().find_map(|p| p.first().copied());
            let constant = parts.iter().all(|p| p.iter().all(|&v| Some(v) == first));
            if eligible && !constant {
                Scaling::from_parts(&parts)
            } else {
                Scaling::IDENTITY
            }
        })
        .collect();
    scm.set_scalings(&scalings);
}

/// Sets the base of each discrete variable with a built-in mechanism that
/// has none yet (see the module docs).
fn set_bases<'d>(scm: &mut Scm, column: &impl Fn(&str) -> Vec<&'d [f64]>) {
    for node in scm.nodes_mut() {
        if !node.base.is_empty() || !node.mechanism.reads_standardized_units() {
            continue;
        }
        let parts = column(&node.name);
        let values = || parts.iter().flat_map(|p| p.iter().copied());
        let rows = values().count() as f64;
        if rows == 0.0 {
            continue;
        }
        node.base = match node.noise {
            Noise::Bernoulli => {
                let share = (values().sum::<f64>() / rows).clamp(1e-3, 1.0 - 1e-3);
                vec![(share / (1.0 - share)).ln() as f32]
            }
            Noise::Poisson | Noise::NegativeBinomial { .. } => {
                vec![(values().sum::<f64>() / rows).max(1e-3).ln() as f32]
            }
            Noise::Categorical { levels } => {
                // Counts smoothed by a half, so an unseen level is finite.
                let mut counts = vec![0.5f64; levels];
                for v in values() {
                    if let Some(c) = counts.get_mut(v as usize) {
                        *c += 1.0;
                    }
                }
                counts[1..]
                    .iter()
                    .map(|c| (c / counts[0]).ln() as f32)
                    .collect()
            }
            _ => continue,
        };
    }
}
