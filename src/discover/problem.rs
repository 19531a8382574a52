//! The data a structure search reads: every context's rows pooled into one
//! matrix, and for each variable the groups of rows its likelihood term
//! sums over.
//!
//! A variable's term covers the rows of every context that leaves its
//! mechanism alone, pooled into one group with one intercept; a context
//! with a hard `do` on it contributes no rows to its term; a context that
//! changed its mechanism in an unknown way is a group of its own, with its
//! own intercept (and, under the Gaussian likelihood, its own noise
//! scale); a known shift `δ` is subtracted from the variable's target in
//! that context's rows. The variable's column stays a regressor of the
//! other variables' terms in every row.

use ndarray::Array2;

use super::DiscoverError;
use crate::context::{ContextGraph, ContextIntervention};
use crate::data::Dataset;

/// One group of rows of one variable's term.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Group {
    /// Rows of the pooled matrix.
    pub(crate) rows: Vec<usize>,
}

/// The pooled data and each variable's groups.
#[derive(Clone, Debug)]
pub(crate) struct Problem {
    /// Variable names, in column order.
    pub(crate) names: Vec<String>,
    /// `N × d`: the pooled rows (standardised when asked).
    pub(crate) x: Array2<f64>,
    /// `N × d`: each variable's target (its column less any known shift).
    pub(crate) targets: Array2<f64>,
    /// Per variable, the groups of its term.
    pub(crate) groups: Vec<Vec<Group>>,
    /// Which context each pooled row came from.
    pub(crate) context_of_row: Vec<usize>,
}

/// A context's name, data and interventions.
type Part<'a> = (String, &'a Dataset, Vec<(String, ContextIntervention)>);

/// How a context treats one variable, resolved from its interventions.
#[derive(Clone, Copy)]
enum Role {
    Shared(f64),
    Dropped,
    Own,
}

impl Problem {
    /// One observational data set: every variable has one group, all rows.
    pub(crate) fn from_dataset(
        data: &Dataset,
        names: &[String],
        standardize: bool,
    ) -> Result<Problem, DiscoverError> {
        Self::build(
            names,
            &[(data.source().to_string(), data, Vec::new())],
            standardize,
        )
    }

    /// Every context of `contexts`, with its interventions.
    pub(crate) fn from_contexts(
        contexts: &ContextGraph,
        names: &[String],
        standardize: bool,
    ) -> Result<Problem, DiscoverError> {
        let parts: Vec<Part> = contexts
            .contexts()
            .map(|c| (c.name.clone(), &c.data, c.interventions.clone()))
            .collect();
        Self::build(names, &parts, standardize)
    }

    fn build(
        names: &[String],
        parts: &[Part],
        standardize: bool,
    ) -> Result<Problem, DiscoverError> {
        let d = names.len();
        if d < 2 {
            return Err(DiscoverError::Data {
                what: format!("structure learning needs at least 2 variables, got {d}"),
            });
        }
        let n: usize = parts.iter().map(|(_, data, _)| data.n_rows()).sum();
        let mut x = Array2::<f64>::zeros((n, d));
        let mut targets = Array2::<f64>::zeros((n, d));
        let mut roles: Vec<Vec<Role>> = Vec::new();
        let mut context_of_row = Vec::with_capacity(n);
        let mut start = 0;
        for (c, (context, data, interventions)) in parts.iter().enumerate() {
            let mut role = vec![Role::Shared(0.0); d];
            for (variable, intervention) in interventions {
                let Some(j) = names.iter().position(|n| n == variable) else {
                    return Err(DiscoverError::UnknownVariable {
                        origin: format!("context `{context}`"),
                        variable: variable.clone(),
                        known: names.to_vec(),
                    });
                };
                role[j] = match intervention {
                    ContextIntervention::Do(_) => Role::Dropped,
                    ContextIntervention::Shift(delta) => Role::Shared(*delta),
                    ContextIntervention::Changed => Role::Own,
                };
            }
            for (j, name) in names.iter().enumerate() {
                let column = data.column(name).map_err(|_| DiscoverError::Data {
                    what: format!(
                        "context `{context}` ({}): no column `{name}`; its columns are {}",
                        data.source(),
                        data.names().join(", ")
                    ),
                })?;
                let shift = match role[j] {
                    Role::Shared(delta) => delta,
                    _ => 0.0,
                };
                for (r, &value) in column.iter().enumerate() {
                    x[[start + r, j]] = value;
                    targets[[start + r, j]] = value - shift;
                }
            }
            context_of_row.extend(std::iter::repeat_n(c, data.n_rows()));
            roles.push(role);
            start += data.n_rows();
        }
        if standardize {
            for (j, name) in names.iter().enumerate().take(d) {
                let column = x.column(j);
                let mean = column.sum() / n as f64;
                let var = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
                if var <= 0.0 || !var.is_finite() {
                    return Err(DiscoverError::Data {
                        what: format!(
                            "column `{name}` is constant; drop it before learning a graph"
                        ),
                    });
                }
                let sd = var.sqrt();
                x.column_mut(j).mapv_inplace(|v| (v - mean) / sd);
                targets.column_mut(j).mapv_inplace(|v| (v - mean) / sd);
            }
        }
        let mut groups = Vec::with_capacity(d);
        for j in 0..d {
            let mut shared = Vec::new();
            let mut own = Vec::new();
            let mut start = 0;
            for ((_, data, _), role) in parts.iter().zip(&roles) {
                let rows = start..start + data.n_rows();
                match role[j] {
                    Role::Shared(_) => shared.extend(rows),
                    Role::Dropped => {}
                    Role::Own => own.push(Group {
                        rows: rows.collect(),
                    }),
                }
                start += data.n_rows();
            }
            let mut of_j = Vec::new();
            if !shared.is_empty() {
                of_j.push(Group { rows: shared });
            }
            of_j.extend(own);
            if of_j.iter().all(|g| g.rows.len() < 2) {
                return Err(DiscoverError::Data {
                    what: format!(
                        "variable `{}` has fewer than 2 rows outside hard interventions",
                        names[j]
                    ),
                });
            }
            groups.push(of_j);
        }
        Ok(Problem {
            names: names.to_vec(),
            x,
            targets,
            groups,
            context_of_row,
        })
    }

    /// The number of pooled rows (the normaliser of the score).
    pub(crate) fn n_rows(&self) -> usize {
        self.x.nrows()
    }

    /// The same problem on the pooled rows `rows` (a bootstrap resample):
    /// every group keeps the resampled rows that fell in it.
    pub(crate) fn resampled(&self, rows: &[usize]) -> Problem {
        let d = self.names.len();
        let mut x = Array2::<f64>::zeros((rows.len(), d));
        let mut targets = Array2::<f64>::zeros((rows.len(), d));
        for (new, &old) in rows.iter().enumerate() {
            x.row_mut(new).assign(&self.x.row(old));
            targets.row_mut(new).assign(&self.targets.row(old));
        }
        let groups = self
            .groups
            .iter()
            .map(|of_j| {
                let mut member = vec![usize::MAX; self.n_rows()];
                for (g, group) in of_j.iter().enumerate() {
                    for &r in &group.rows {
                        member[r] = g;
                    }
                }
                let mut new_groups: Vec<Group> =
                    of_j.iter().map(|_| Group { rows: Vec::new() }).collect();
                for (new, &old) in rows.iter().enumerate() {
                    if member[old] != usize::MAX {
                        new_groups[member[old]].rows.push(new);
                    }
                }
                new_groups
            })
            .collect();
        Problem {
            names: self.names.clone(),
            x,
            targets,
            groups,
            context_of_row: rows.iter().map(|&r| self.context_of_row[r]).collect(),
        }
    }
}
