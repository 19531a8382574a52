//! The values a variable takes: reading a `do` value or a label,
//! checking data against the variables' kinds, and a root's density.

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

    /// The density, in the data's units, of a continuous root `variable`
    /// at each of `values` (`None` for a variable with parents or a
    /// discrete one): its noise family around its learned mean, as the fit
    /// left it (a mixture's skew included).
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::{Noise, Scm};
    ///
    /// let graph = CausalGraph::new(["a", "b"], [("a", "b")])?;
    /// let mut scm = Scm::builder(graph).build()?;
    /// scm.set_noise("a", Noise::Gaussian { log_scale: 0.0 })?;
    /// // A standard normal root: its mean starts at 0.
    /// let density = scm.root_density("a", &[0.0])?.unwrap();
    /// assert!((density[0] - 0.398_942_28).abs() < 1e-6);
    /// assert!(scm.root_density("b", &[0.0])?.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn root_density(
        &self,
        variable: &str,
        values: &[f64],
    ) -> Result<Option<Vec<f64>>, ScmError> {
        let index = self.node_index(variable)?;
        let node = &self.nodes[index];
        if !node.parents.is_empty() || node.noise.is_discrete() {
            return Ok(None);
        }
        let eta = self.outputs_of(index, &vec![Vec::new(); self.nodes.len()], 1);
        let row: Vec<f64> = eta.iter().map(|&v| f64::from(v)).collect();
        let (mut d_eta, mut d_params) =
            (vec![0.0; row.len()], vec![0.0; node.noise.params().len()]);
        Ok(Some(
            values
                .iter()
                .map(|&v| {
                    let x = node.scaling.to_model(v);
                    (-node.noise.nll(&row, x, &mut d_eta, &mut d_params)).exp() / node.scaling.scale
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::CausalGraph;
    use crate::scm::{Mixture, Noise, Scaling, Scm};

    /// A skewed mixture root in data units 3 times the model's, around 5.
    fn skewed_root() -> Scm {
        let graph = CausalGraph::new(["a", "b"], [("a", "b")]).unwrap();
        let mut scm = Scm::builder(graph).build().unwrap();
        scm.set_scalings(&[
            Scaling {
                location: 5.0,
                scale: 3.0,
            },
            Scaling::IDENTITY,
        ]);
        scm.set_noise(
            "a",
            Noise::Mixture(Mixture {
                logits: [-1.0, -2.0],
                means: [-0.3, 0.8, 2.0],
                log_scales: [-0.7, -0.2, 0.1],
            }),
        )
        .unwrap();
        scm
    }

    #[test]
    fn a_root_density_integrates_to_one_and_matches_its_samples() {
        let scm = skewed_root();
        let xs: Vec<f64> = (0..=4000)
            .map(|i| -20.0 + 50.0 * i as f64 / 4000.0)
            .collect();
        let density = scm.root_density("a", &xs).unwrap().unwrap();
        let dx = xs[1] - xs[0];
        let mass: f64 = density.iter().sum::<f64>() * dx;
        assert!((mass - 1.0).abs() < 1e-6, "mass {mass}");
        let mean: f64 = xs.iter().zip(&density).map(|(x, d)| x * d).sum::<f64>() * dx;
        let sample = scm.sample(200_000, 3).unwrap();
        let column = sample.column("a").unwrap();
        let sampled_mean = column.iter().sum::<f64>() / column.len() as f64;
        assert!(
            (mean - sampled_mean).abs() < 0.02,
            "{mean} vs {sampled_mean}"
        );
        // The share below the mean: a skewed density is not symmetric.
        let below_density: f64 = xs
            .iter()
            .zip(&density)
            .filter(|(x, _)| **x < mean)
            .map(|(_, d)| d)
            .sum::<f64>()
            * dx;
        let below_sample =
            column.iter().filter(|&&x| x < mean).count() as f64 / column.len() as f64;
        assert!((below_density - below_sample).abs() < 0.005);
        assert!(
            (below_density - 0.5).abs() > 0.03,
            "not skewed: {below_density}"
        );
    }
}
