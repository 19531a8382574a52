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

use super::config::FitConfig;
use crate::context::parse_lag;
use crate::scm::{Scaling, Scm};

/// Sets `scm`'s scalings from `column(name)` (a variable's rows, in
/// parts), when the settings ask for standardisation and the model has
/// none yet.
pub(super) fn standardize<'d>(
    scm: &mut Scm,
    config: &FitConfig,
    column: impl Fn(&str) -> Vec<&'d [f64]>,
) {
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
