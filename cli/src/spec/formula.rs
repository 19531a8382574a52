//! `mechanism = { formula = "..." }` in a `model.toml`: a mechanism the
//! user writes as a formula of the variable's parents and declared
//! parameters (see `docs/formulas.md`).
//!
//! ```toml
//! [x5]
//! mechanism = { formula = "f * exp(-g * x3^2) + h * x4", init = { f = 0.5, g = 0.5, h = 0.0 } }
//! ```
//!
//! Parameters are declared by `params = ["f", "g", "h"]` (each starting at
//! [`DEFAULT_INIT`]), by `init = { .. }` with starting values, or both
//! (`init` then gives some of the declared ones their values; alone, it
//! declares its names). For a
//! binary variable the formula is the logit of 1, for a count the log of
//! its rate; a categorical variable takes one formula for every level
//! after the first, each with its own parameters, or `formulas = [..]`,
//! one per level after the first.

use std::fmt;

use causalgrad::formula::{Formula, FormulaError, Problem};
use causalgrad::scm::Mechanism;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use super::{MechanismChoice, ModelSpec};
use crate::error::CliError;

/// Where a parameter that `params` declares and `init` does not give starts:
/// not 0, so that a product of parameters (`a * b * x`) has a gradient.
pub const DEFAULT_INIT: f32 = 0.1;

/// A formula mechanism as the file gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct FormulaChoice {
    /// One formula per output (or one for all), with where each is written.
    pub formulas: Vec<Spanned<String>>,
    /// The parameters in declaration order, each with its starting value.
    pub params: Vec<(String, f32)>,
}

/// The keys of a formula table.
const KEYS: &[&str] = &["formula", "formulas", "params", "init"];

/// Whether `key`, the first of a mechanism table, makes it a formula table.
pub(super) fn is_formula_key(key: &str) -> bool {
    KEYS.contains(&key)
}

/// The starting values of `init = { .. }`, in the order the TOML reader
/// gives them (by name).
struct Init(Vec<(String, f64)>);

impl<'de> Deserialize<'de> for Init {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Init;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of starting values such as { f = 0.5, g = 1.0 }")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Init, M::Error> {
                let mut entries = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, f64>()? {
                    entries.push((name, value));
                }
                Ok(Init(entries))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

/// Reads a formula table whose first key, `first`, has been read.
pub(super) fn read<'de, M: MapAccess<'de>>(
    first: String,
    map: &mut M,
) -> Result<MechanismChoice, M::Error> {
    let mut formulas: Option<Vec<Spanned<String>>> = None;
    let mut params: Option<Vec<String>> = None;
    let mut init: Option<Init> = None;
    let mut key = Some(first);
    while let Some(name) = key {
        let repeated = match name.as_str() {
            "formula" | "formulas" if formulas.is_some() => true,
            "formula" => formulas
                .replace(vec![map.next_value::<Spanned<String>>()?])
                .is_some(),
            "formulas" => formulas.replace(map.next_value()?).is_some(),
            "params" => params.replace(map.next_value()?).is_some(),
            "init" => init.replace(map.next_value()?).is_some(),
            other => return Err(de::Error::unknown_field(other, KEYS)),
        };
        if repeated {
            return Err(de::Error::custom(
                "give the formula once: `formula = \"..\"`, or `formulas = [..]` with one per level after the first of a categorical variable",
            ));
        }
        key = map.next_key()?;
    }
    let formulas = formulas.ok_or_else(|| {
        de::Error::custom(
            "a formula mechanism needs its formula: `{ formula = \"a + b * x\", params = [\"a\", \"b\"] }`",
        )
    })?;
    if formulas.is_empty() {
        return Err(de::Error::custom("`formulas` needs at least one formula"));
    }
    let mut declared: Vec<(String, f32)> = params
        .unwrap_or_default()
        .into_iter()
        .map(|name| (name, DEFAULT_INIT))
        .collect();
    let only_init = declared.is_empty();
    for (name, value) in init.map_or_else(Vec::new, |init| init.0) {
        if !value.is_finite() {
            return Err(de::Error::custom(format!(
                "the starting value of `{name}` must be a finite number, not {value}"
            )));
        }
        match declared.iter_mut().find(|(declared, _)| *declared == name) {
            Some(entry) => entry.1 = value as f32,
            None if only_init => declared.push((name, value as f32)),
            None => {
                return Err(de::Error::custom(format!(
                    "`init` gives `{name}`, which `params` does not declare; add it to `params` or drop it from `init`"
                )))
            }
        }
    }
    Ok(MechanismChoice::Formula(FormulaChoice {
        formulas,
        params: declared,
    }))
}

impl ModelSpec {
    /// `choice` as the mechanism of `variable` over `parents` (each with
    /// the number of columns it is read as), or the file's located error.
    pub(super) fn formula_mechanism(
        &self,
        variable: &str,
        choice: &FormulaChoice,
        parents: &[(&str, usize)],
    ) -> Result<Mechanism, CliError> {
        self.check_parents(variable, choice, parents)?;
        let texts: Vec<&str> = choice
            .formulas
            .iter()
            .map(|f| f.get_ref().as_str())
            .collect();
        let inputs: Vec<&str> = parents.iter().map(|(name, _)| *name).collect();
        let params: Vec<(&str, f32)> = choice
            .params
            .iter()
            .map(|(name, value)| (name.as_str(), *value))
            .collect();
        Mechanism::formulas(&texts, &inputs, &params)
            .map_err(|error| self.formula_error(variable, choice, &error))
    }

    /// Refuses a parent read as more than one column (a categorical one).
    fn check_parents(
        &self,
        variable: &str,
        choice: &FormulaChoice,
        parents: &[(&str, usize)],
    ) -> Result<(), CliError> {
        match parents.iter().find(|(_, width)| *width != 1) {
            Some((parent, _)) => Err(self.error_at(
                choice.formulas[0].span().start,
                format!(
                    "`{variable}`'s formula cannot read its categorical parent `{parent}`: a formula reads numbers; declare `{parent}` binary or count if it is one, or give `{variable}` another mechanism"
                ),
            )),
            None => Ok(()),
        }
    }

    /// The warnings about `choice` over `parents`: each parent that no
    /// formula reads, located at the formula.
    pub(super) fn formula_warnings(
        &self,
        variable: &str,
        choice: &FormulaChoice,
        parents: &[(&str, usize)],
    ) -> Vec<String> {
        let texts: Vec<&str> = choice
            .formulas
            .iter()
            .map(|f| f.get_ref().as_str())
            .collect();
        let inputs: Vec<&str> = parents.iter().map(|(name, _)| *name).collect();
        let names: Vec<&str> = choice
            .params
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        let Ok(compiled) = Formula::compile(&texts, &inputs, &names) else {
            return Vec::new();
        };
        let at = self.located(choice.formulas[0].span().start);
        compiled
            .unused_inputs()
            .into_iter()
            .map(|parent| {
                format!(
                    "warning: {at}: `{variable}`'s formula never reads its parent `{parent}`: the graph says `{variable}` depends on `{parent}`, the formula says it does not; use `{parent}` in the formula or drop the edge"
                )
            })
            .collect()
    }

    /// `error` in one of `choice`'s formulas, located in the file: at the
    /// offending token where the formula is written without escapes.
    fn formula_error(
        &self,
        variable: &str,
        choice: &FormulaChoice,
        error: &FormulaError,
    ) -> CliError {
        let written = choice
            .formulas
            .iter()
            .find(|f| *f.get_ref() == error.formula)
            .unwrap_or(&choice.formulas[0]);
        let span = written.span();
        let offset = match *error.problem {
            Problem::Declaration(_) => span.start,
            _ => token_offset(&self.text, span, &error.formula, error.offset),
        };
        self.error_at(
            offset,
            format!(
                "`{variable}`'s formula `{}`, column {}: {}",
                error.formula, error.column, error.problem
            ),
        )
    }
}

/// The byte offset in `file` of byte `at` of `formula`, written as the
/// string at `span`: exact when the string is the formula between one
/// quote on each side (no escapes), else the string's start.
fn token_offset(file: &str, span: std::ops::Range<usize>, formula: &str, at: usize) -> usize {
    let inner = span.start + 1..span.end.saturating_sub(1);
    match file.get(inner.clone()) {
        Some(raw) if raw == formula => inner.start + at,
        _ => span.start,
    }
}
