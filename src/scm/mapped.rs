//! Interventions by a function of a variable's whole column: the value a
//! variable takes is `f(the value it would have taken)`, as DoWhy's
//! `gcm.interventional_samples(model, {"t": lambda x: x + 0.5})` means
//! it. The function sees the column in the data's units (a categorical
//! variable's level codes), once per variable, and its result is checked
//! against the variable's kind.
//!
//! Beside drawing fresh samples ([`Scm::sample_mapped`]), the same
//! interventions apply to observed rows ([`Scm::sample_mapped_from`]:
//! variables the interventions do not reach keep their observed values,
//! the others are drawn with fresh noise; an intervened root starts from
//! its observed value) and give counterfactuals
//! ([`Scm::counterfactual_mapped`]: the noise of each row is abducted, as
//! [`Scm::counterfactual`] does).

use super::{Scm, ScmError};
use crate::data::Dataset;

/// Where each variable's values come from before its function, if any,
/// is applied.
#[derive(Clone, Copy, PartialEq)]
enum Origin {
    /// Its mechanism and the noise.
    Drawn,
    /// The observed rows.
    Observed,
}

impl Scm {
    /// `n` samples (reproducible from `seed`) with each variable of
    /// `mapped` set to `map(variable, values)`, where `values` is the
    /// column it would have taken (data units); downstream variables see
    /// the new values. `map` is called once per variable, in topological
    /// order, and must return `n` finite values the variable can take
    /// (a binary variable 0 or 1, a categorical one a level code). The
    /// same seed gives the same noise whatever `mapped` is, so two calls
    /// with one seed are paired samples.
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::{Mechanism, Scm, ScmError};
    ///
    /// let graph = CausalGraph::new(["t", "y"], [("t", "y")])?;
    /// let mut scm = Scm::builder(graph).mechanism("y", Mechanism::linear(1)).build()?;
    /// scm.set_params("y", &[0.0, 2.0])?;
    /// let shifted = scm.sample_mapped(1000, 0, &["t"], |_, t| {
    ///     Ok::<_, ScmError>(t.iter().map(|t| t + 0.5).collect())
    /// })?;
    /// let plain = scm.sample(1000, 0)?;
    /// let dy = shifted.column("y")?[0] - plain.column("y")?[0];
    /// assert!((dy - 1.0).abs() < 1e-5);
    /// # Ok::<(), causalgrad::Error>(())
    /// ```
    pub fn sample_mapped<E: From<ScmError>>(
        &self,
        n: usize,
        seed: u64,
        mapped: &[&str],
        map: impl FnMut(&str, Vec<f64>) -> Result<Vec<f64>, E>,
    ) -> Result<Dataset, E> {
        if self.nodes.is_empty() {
            return Err(ScmError::Empty.into());
        }
        let mapped = self.positions(mapped)?;
        let noise = self.standard_noise(n, seed);
        let origins = vec![Origin::Drawn; self.nodes.len()];
        let columns = self.propagate_mapped(&noise, None, &origins, &mapped, map)?;
        self.assemble(columns).map_err(E::from)
    }

    /// [`Scm::sample_mapped`] on observed rows, as DoWhy's
    /// `interventional_samples(.., observed_data=..)`: the variables of
    /// `mapped` and their descendants are recomputed (a root of `mapped`
    /// from its observed value, the others from their mechanism with
    /// fresh noise drawn from `seed`), the others keep their observed
    /// values; so are the variables this model intervenes on
    /// ([`Scm::intervene`]) and their descendants. Every model variable
    /// must be a column of `observed`.
    pub fn sample_mapped_from<E: From<ScmError>>(
        &self,
        observed: &Dataset,
        seed: u64,
        mapped: &[&str],
        map: impl FnMut(&str, Vec<f64>) -> Result<Vec<f64>, E>,
    ) -> Result<Dataset, E> {
        let mapped = self.positions(mapped)?;
        self.check_data(observed)?;
        let columns = self.columns_of(observed)?;
        let noise = self.standard_noise(observed.n_rows(), seed);
        // Variables this model already intervenes on are reached too.
        let reached: Vec<bool> = mapped
            .iter()
            .zip(&self.nodes)
            .map(|(&m, node)| m || node.intervention.is_some())
            .collect();
        let affected = self.downstream(&reached);
        let origins: Vec<Origin> = self
            .nodes
            .iter()
            .zip(&affected)
            .map(|(node, &affected)| {
                if !affected || (node.parents.is_empty() && node.intervention.is_none()) {
                    Origin::Observed
                } else {
                    Origin::Drawn
                }
            })
            .collect();
        let columns =
            self.propagate_mapped(&noise, Some((&columns, observed)), &origins, &mapped, map)?;
        self.assemble(columns).map_err(E::from)
    }

    /// Counterfactuals of observed rows under `do(interventions)` and the
    /// column functions of `mapped`: each row's noise is abducted from its
    /// observed values (as [`Scm::counterfactual`] does, one draw with
    /// seed 0 for discrete variables), then the variables intervened on
    /// and their descendants are recomputed with it; the others keep
    /// their observed values. `map` is called as in
    /// [`Scm::sample_mapped`], on the column each variable would have
    /// taken under the interventions upstream of it.
    pub fn counterfactual_mapped<E: From<ScmError>>(
        &self,
        observed: &Dataset,
        interventions: &[(&str, f64)],
        mapped: &[&str],
        map: impl FnMut(&str, Vec<f64>) -> Result<Vec<f64>, E>,
    ) -> Result<Dataset, E> {
        let mapped = self.positions(mapped)?;
        self.check_data(observed)?;
        let columns = self.columns_of(observed)?;
        let noise = self.abducted_noise(&columns, observed.n_rows(), 0);
        let model = self.intervene(interventions)?;
        let mut touched = mapped.clone();
        for (variable, _) in interventions {
            touched[self.node_index(variable)?] = true;
        }
        let touched = model.downstream(&touched);
        // A variable keeps its observed value until something upstream of
        // it changes: one mapped with nothing touched upstream starts
        // from its observed value, exactly.
        let origins: Vec<Origin> = model
            .nodes
            .iter()
            .zip(&touched)
            .map(|(node, &t)| {
                let upstream = node.parents.iter().any(|&p| touched[p]);
                if !t || (!upstream && node.intervention.is_none()) {
                    Origin::Observed
                } else {
                    Origin::Drawn
                }
            })
            .collect();
        let columns =
            model.propagate_mapped(&noise, Some((&columns, observed)), &origins, &mapped, map)?;
        model.assemble(columns).map_err(E::from)
    }

    /// Which variables (topological positions) `names` are.
    fn positions(&self, names: &[&str]) -> Result<Vec<bool>, ScmError> {
        let mut chosen = vec![false; self.nodes.len()];
        for name in names {
            chosen[self.node_index(name)?] = true;
        }
        Ok(chosen)
    }

    /// `chosen` and every variable downstream of one.
    fn downstream(&self, chosen: &[bool]) -> Vec<bool> {
        let mut out = chosen.to_vec();
        for index in 0..self.nodes.len() {
            if self.nodes[index].parents.iter().any(|&p| out[p]) {
                out[index] = true;
            }
        }
        out
    }

    /// Every variable's values in data units, in topological order: from
    /// `origins` (observed columns, in model units and as `observed`
    /// holds them, where a variable is [`Origin::Observed`]), then, for the
    /// variables of `mapped`, through `map`.
    fn propagate_mapped<E: From<ScmError>>(
        &self,
        noise: &[Vec<f32>],
        observed: Option<(&[Vec<f32>], &Dataset)>,
        origins: &[Origin],
        mapped: &[bool],
        mut map: impl FnMut(&str, Vec<f64>) -> Result<Vec<f64>, E>,
    ) -> Result<Vec<Vec<f64>>, E> {
        let mut model_columns: Vec<Vec<f32>> = Vec::with_capacity(self.nodes.len());
        let mut data_columns: Vec<Vec<f64>> = Vec::with_capacity(self.nodes.len());
        for (index, node) in self.nodes.iter().enumerate() {
            let (values, data) = match (origins[index], observed) {
                (Origin::Observed, Some((columns, observed))) => {
                    let data = if node.kind.levels().is_some() {
                        columns[index].iter().map(|&c| f64::from(c)).collect()
                    } else {
                        observed
                            .column(&node.name)
                            .map_err(ScmError::from)?
                            .to_vec()
                    };
                    (columns[index].clone(), data)
                }
                _ => {
                    let values = self.node_values(index, &model_columns, &noise[index]);
                    let data = node.column_to_data(&values);
                    (values, data)
                }
            };
            if !mapped[index] {
                model_columns.push(values);
                data_columns.push(data);
                continue;
            }
            let n = data.len();
            let new = map(&node.name, data)?;
            self.check_mapped(index, &new, n)?;
            model_columns.push(node.scaling.column_to_model(&new));
            data_columns.push(new);
        }
        Ok(data_columns)
    }

    /// Checks a column a function returned for the variable at `index`.
    fn check_mapped(&self, index: usize, values: &[f64], n: usize) -> Result<(), ScmError> {
        let node = &self.nodes[index];
        if values.len() != n {
            return Err(ScmError::BadValue {
                variable: node.name.clone(),
                kind: node.kind.name().into(),
                reason: format!(
                    "the intervention's function returned {} values for {n} rows; it must return one value per row",
                    values.len()
                ),
            });
        }
        // Each distinct value once: a constant column is one check.
        let mut last = None;
        for &value in values {
            if last != Some(value) {
                self.check_value(index, value)?;
                last = Some(value);
            }
        }
        Ok(())
    }

    /// A data set of the model's columns (data units), with its labels.
    fn assemble(&self, columns: Vec<Vec<f64>>) -> Result<Dataset, ScmError> {
        let data = Dataset::from_columns(
            self.nodes
                .iter()
                .zip(columns)
                .map(|(node, column)| (node.name.clone(), column)),
        )?;
        Ok(self.with_labels(data)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::CausalGraph;
    use crate::scm::{Mechanism, VariableKind};

    /// `t → y = 1 + 2 t + noise`, `t` a root, the noise scale 0.5.
    fn chain() -> Scm {
        let graph = CausalGraph::new(["t", "y"], [("t", "y")]).unwrap();
        let mut scm = Scm::builder(graph)
            .mechanism("y", Mechanism::linear(1))
            .build()
            .unwrap();
        scm.set_params("y", &[1.0, 2.0]).unwrap();
        scm.set_noise(
            "y",
            crate::scm::Noise::Gaussian {
                log_scale: 0.5f32.ln(),
            },
        )
        .unwrap();
        scm
    }

    fn plus(delta: f64) -> impl FnMut(&str, Vec<f64>) -> Result<Vec<f64>, ScmError> {
        move |_, x| Ok(x.iter().map(|x| x + delta).collect())
    }

    #[test]
    fn a_shift_moves_the_descendants_by_the_mechanism_s_slope() {
        let scm = chain();
        let base = scm.sample(500, 4).unwrap();
        let shifted = scm.sample_mapped(500, 4, &["t"], plus(0.5)).unwrap();
        for r in 0..500 {
            let dt = shifted.column("t").unwrap()[r] - base.column("t").unwrap()[r];
            let dy = shifted.column("y").unwrap()[r] - base.column("y").unwrap()[r];
            assert!((dt - 0.5).abs() < 1e-12, "{dt}");
            assert!((dy - 1.0).abs() < 1e-5, "{dy}");
        }
    }

    #[test]
    fn a_constant_is_kept_exactly_and_matches_do() {
        let scm = chain();
        let mapped = scm
            .sample_mapped(300, 2, &["t"], |_, x| Ok::<_, ScmError>(vec![1.0; x.len()]))
            .unwrap();
        let done = scm
            .intervene(&[("t", 1.0)])
            .unwrap()
            .sample(300, 2)
            .unwrap();
        assert!(mapped.column("t").unwrap().iter().all(|&t| t == 1.0));
        for (a, b) in mapped
            .column("y")
            .unwrap()
            .iter()
            .zip(done.column("y").unwrap())
        {
            assert!((a - b).abs() < 1e-5, "{a} {b}");
        }
    }

    #[test]
    fn observed_rows_keep_what_the_intervention_does_not_reach() {
        let scm = chain();
        let observed = scm.sample(200, 9).unwrap();
        // On y only: t keeps its values, y is redrawn then shifted.
        let out = scm
            .sample_mapped_from(&observed, 1, &["t"], plus(1.0))
            .unwrap();
        for r in 0..200 {
            let t = observed.column("t").unwrap()[r];
            assert!((out.column("t").unwrap()[r] - (t + 1.0)).abs() < 1e-12);
        }
        let y_only = scm
            .sample_mapped_from(&observed, 1, &["y"], plus(0.0))
            .unwrap();
        assert_eq!(y_only.column("t").unwrap(), observed.column("t").unwrap());
        assert_ne!(y_only.column("y").unwrap(), observed.column("y").unwrap());
    }

    #[test]
    fn counterfactuals_keep_each_row_s_noise() {
        let scm = chain();
        let observed = scm.sample(100, 5).unwrap();
        let out = scm
            .counterfactual_mapped(&observed, &[], &["t"], plus(0.5))
            .unwrap();
        for r in 0..100 {
            let dy = out.column("y").unwrap()[r] - observed.column("y").unwrap()[r];
            assert!((dy - 1.0).abs() < 1e-4, "{dy}");
        }
        let by_do = scm.counterfactual(&observed, &[("t", 2.0)]).unwrap();
        let by_map = scm
            .counterfactual_mapped(&observed, &[("t", 2.0)], &[], plus(0.0))
            .unwrap();
        assert_eq!(by_do.column("y").unwrap(), by_map.column("y").unwrap());
    }

    #[test]
    fn a_value_the_variable_cannot_take_is_an_error() {
        let graph = CausalGraph::new(["b", "y"], [("b", "y")]).unwrap();
        let scm = Scm::builder(graph)
            .kind("b", VariableKind::Binary)
            .build()
            .unwrap();
        let err = scm
            .sample_mapped(10, 0, &["b"], |_, x| Ok::<_, ScmError>(vec![2.0; x.len()]))
            .unwrap_err();
        assert!(err.to_string().contains('b'), "{err}");
        let err = scm
            .sample_mapped(10, 0, &["y"], |_, _| Ok::<_, ScmError>(vec![1.0; 3]))
            .unwrap_err();
        assert!(err.to_string().contains("3 values for 10 rows"), "{err}");
        let err = scm.sample_mapped(10, 0, &["z"], plus(0.0)).unwrap_err();
        assert!(err.to_string().contains("z"), "{err}");
    }
}
