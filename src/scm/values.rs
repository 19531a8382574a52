//! The values a variable takes: reading a `do` value or a label, and
//! checking data against the variables' kinds.

use super::{Scm, ScmError, VariableKind};
use crate::data::Dataset;

impl Scm {
    /// What values `variable` takes.
    pub fn kind(&self, variable: &str) -> Result<&VariableKind, ScmError> {
        Ok(&self.nodes[self.node_index(variable)?].kind)
    }

    /// The value a `do` sets `variable` to for `text`: a categorical
    /// variable's label (or its code), any other kind's number, checked
    /// against the kind (a binary variable takes 0 or 1).
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::{Scm, VariableKind};
    ///
    /// let graph = CausalGraph::new(["c", "y"], [("c", "y")])?;
    /// let scm = Scm::builder(graph)
    ///     .kind("c", VariableKind::categorical(["blue", "green", "red"]))
    ///     .build()?;
    /// assert_eq!(scm.value_of("c", "green")?, 1.0);
    /// assert!(scm.value_of("c", "purple").is_err());
    /// # Ok::<(), causalgrad::Error>(())
    /// ```
    pub fn value_of(&self, variable: &str, text: &str) -> Result<f64, ScmError> {
        let node = &self.nodes[self.node_index(variable)?];
        let text = text.trim();
        let value = match node.kind.levels() {
            Some(levels) => match levels.iter().position(|l| l == text) {
                Some(code) => code as f64,
                None => {
                    return Err(ScmError::UnknownLevel {
                        variable: variable.to_string(),
                        label: text.to_string(),
                        levels: levels.to_vec(),
                    })
                }
            },
            None => text.parse::<f64>().map_err(|_| ScmError::BadValue {
                variable: variable.to_string(),
                kind: node.kind.name().into(),
                reason: format!("`{text}` is not a number"),
            })?,
        };
        self.check_value(self.node_index(variable)?, value)?;
        Ok(value)
    }

    /// Whether `value` (in the data's units) is one the variable at
    /// `index` takes.
    pub(super) fn check_value(&self, index: usize, value: f64) -> Result<(), ScmError> {
        let node = &self.nodes[index];
        if !value.is_finite() {
            return Err(ScmError::BadIntervention {
                variable: node.name.clone(),
                value,
            });
        }
        node.noise
            .check(value)
            .map_err(|reason| ScmError::BadValue {
                variable: node.name.clone(),
                kind: node.kind.name().into(),
                reason,
            })
    }

    /// Checks the model variables' columns of `data` against their kinds:
    /// a binary column holding a 2, a count holding −1 or 1.5, a level code
    /// out of range are errors naming the variable and the row. Columns
    /// `data` does not have are not checked.
    pub fn check_data(&self, data: &Dataset) -> Result<(), ScmError> {
        for node in &self.nodes {
            // Labelled columns are checked as they are coded.
            if !node.noise.is_discrete() || !matches!(data.labels(&node.name), Ok(None)) {
                continue;
            }
            let Ok(column) = data.column(&node.name) else {
                continue;
            };
            let first_bad = column
                .iter()
                .enumerate()
                .find_map(|(row, &v)| node.noise.check(v).err().map(|reason| (row, reason)));
            if let Some((row, reason)) = first_bad {
                return Err(ScmError::BadValue {
                    variable: node.name.clone(),
                    kind: node.kind.name().into(),
                    reason: format!("row {}: {reason}", row + 1),
                });
            }
        }
        Ok(())
    }
}
