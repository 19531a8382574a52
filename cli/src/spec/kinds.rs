//! `kind = ...` in a `model.toml`, and the kinds of the variables a fit
//! uses: declared, or detected from the data.
//!
//! ```toml
//! [treated]
//! kind = "binary"        # "continuous", "binary", "categorical" or "count"
//! ```
//!
//! Without a declaration a column of labels (text) is categorical, a
//! column holding only 0 and 1 is binary, and any other is continuous
//! (whole numbers included: declare counts). A column declared
//! categorical whose cells are numbers takes them as labels.

use std::collections::BTreeMap;

use causalgrad::data::Dataset;
use causalgrad::graph::CausalGraph;
use causalgrad::scm::VariableKind;
use serde::Deserialize;

use super::ModelSpec;
use crate::error::CliError;

/// A kind as `model.toml` declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindChoice {
    /// Real-valued.
    Continuous,
    /// 0 or 1.
    Binary,
    /// Labels (text or numbers).
    Categorical,
    /// Whole numbers at least 0.
    Count,
}

impl ModelSpec {
    /// Every variable of `graph`'s kind, declared or detected from `data`
    /// (one data set, or one per context), with each categorical column of
    /// every data set coded in one level order: the first data set's
    /// labels, then any others' new labels in order.
    pub fn resolve_kinds(
        &self,
        graph: &CausalGraph,
        mut data: Vec<&mut Dataset>,
    ) -> Result<BTreeMap<String, VariableKind>, CliError> {
        let data_error = |source| CliError::Data { source };
        let mut kinds = BTreeMap::new();
        for name in graph.variables() {
            let declared = self.variables.get(name).and_then(|spec| spec.kind.as_ref());
            if let Some(choice) = declared {
                if *choice.get_ref() == KindChoice::Categorical {
                    for set in data.iter_mut() {
                        if set.column(name).is_ok()
                            && set.labels(name).map_err(data_error)?.is_none()
                        {
                            **set = std::mem::replace(*set, empty())
                                .to_categorical(name)
                                .map_err(data_error)?;
                        }
                    }
                }
            }
            let mut levels: Option<Vec<String>> = None;
            for set in data.iter() {
                if let Ok(Some(labels)) = set.labels(name) {
                    let all = levels.get_or_insert_with(Vec::new);
                    for label in labels {
                        if !all.contains(label) {
                            all.push(label.clone());
                        }
                    }
                }
            }
            let kind = match (declared.map(|c| *c.get_ref()), levels) {
                (None | Some(KindChoice::Categorical), Some(levels)) => {
                    for set in data.iter_mut() {
                        if set.column(name).is_ok() {
                            **set = std::mem::replace(*set, empty())
                                .with_levels(name, &levels)
                                .map_err(data_error)?;
                        }
                    }
                    VariableKind::Categorical { levels }
                }
                (Some(choice), Some(levels)) => {
                    let span = declared.expect("declared").span();
                    return Err(self.error_at(
                        span.start,
                        format!(
                            "`{name}` is declared {} but its column holds labels ({}); declare it `kind = \"categorical\"`",
                            kind_name(choice),
                            preview(&levels)
                        ),
                    ));
                }
                (Some(KindChoice::Continuous), None) => VariableKind::Continuous,
                (Some(KindChoice::Binary), None) => VariableKind::Binary,
                (Some(KindChoice::Count), None) => VariableKind::Count,
                (Some(KindChoice::Categorical), None) => {
                    unreachable!("a declared categorical column was given labels above")
                }
                (None, None) => {
                    let columns: Vec<&[f64]> = data
                        .iter()
                        .filter_map(|set| set.column(name).ok())
                        .collect();
                    let values: Vec<f64> = columns.concat();
                    VariableKind::detect(&values, None)
                }
            };
            kinds.insert(name.to_string(), kind);
        }
        Ok(kinds)
    }

    /// The declared kind of `name`, if any.
    pub fn declared_kind(&self, name: &str) -> Option<KindChoice> {
        self.variables
            .get(name)
            .and_then(|spec| spec.kind.as_ref())
            .map(|choice| *choice.get_ref())
    }
}

fn empty() -> Dataset {
    Dataset::from_columns(Vec::<(String, Vec<f64>)>::new()).expect("no columns")
}

fn kind_name(choice: KindChoice) -> &'static str {
    match choice {
        KindChoice::Continuous => "continuous",
        KindChoice::Binary => "binary",
        KindChoice::Categorical => "categorical",
        KindChoice::Count => "count",
    }
}

/// The first few labels, for a message.
fn preview(levels: &[String]) -> String {
    let shown: Vec<&str> = levels.iter().take(4).map(String::as_str).collect();
    let more = if levels.len() > 4 { ", …" } else { "" };
    format!("{}{more}", shown.join(", "))
}
