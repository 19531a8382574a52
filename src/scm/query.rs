//! Causal queries: interventional means, average effects, counterfactuals.

use super::{Scm, ScmError};
use crate::data::Dataset;

/// An average causal effect estimated by Monte Carlo.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Effect {
    /// `E[outcome | do(treatment = b)] - E[outcome | do(treatment = a)]`.
    pub ate: f64,
    /// Monte-Carlo standard error of `ate` (paired samples).
    pub stderr: f64,
    /// `E[outcome | do(treatment = a)]`.
    pub mean_a: f64,
    /// `E[outcome | do(treatment = b)]`.
    pub mean_b: f64,
    /// Samples per arm.
    pub samples: usize,
}

impl Scm {
    /// `E[outcome | do(interventions)]` from `n` samples drawn with `seed`.
    pub fn interventional_mean(
        &self,
        outcome: &str,
        interventions: &[(&str, f64)],
        n: usize,
        seed: u64,
    ) -> Result<f64, ScmError> {
        let samples = self.intervene(interventions)?.sample(n, seed)?;
        let column = samples.column(outcome)?;
        Ok(column.iter().sum::<f64>() / column.len().max(1) as f64)
    }

    /// The average causal effect of setting `treatment` from `a` to `b` on
    /// `outcome`, from `n` paired samples (the same noise in both arms, so
    /// the standard error is that of the differences).
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::Scm;
    ///
    /// let graph = CausalGraph::new(["t", "y"], [("t", "y")])?;
    /// let mut scm = Scm::builder(graph).build()?;
    /// scm.set_params("y", &[0.0, 3.0])?;
    /// let effect = scm.ate("t", "y", -1.0, 1.0, 10_000, 1)?;
    /// assert!((effect.ate - 6.0).abs() < 1e-4);
    /// # Ok::<(), causalgrad::Error>(())
    /// ```
    pub fn ate(
        &self,
        treatment: &str,
        outcome: &str,
        a: f64,
        b: f64,
        n: usize,
        seed: u64,
    ) -> Result<Effect, ScmError> {
        self.node_index(outcome)?;
        let noise = self.standard_noise(n, seed);
        let arm = |value: f64| -> Result<Vec<f64>, ScmError> {
            let model = self.intervene(&[(treatment, value)])?;
            let columns = model.propagate(&noise);
            let index = model.node_index(outcome)?;
            Ok(model.nodes()[index].column_to_data(&columns[index]))
        };
        let (ya, yb) = (arm(a)?, arm(b)?);
        let diffs: Vec<f64> = yb.iter().zip(&ya).map(|(b, a)| b - a).collect();
        let count = diffs.len().max(1) as f64;
        let ate = diffs.iter().sum::<f64>() / count;
        let variance =
            diffs.iter().map(|d| (d - ate).powi(2)).sum::<f64>() / (count - 1.0).max(1.0);
        Ok(Effect {
            ate,
            stderr: (variance / count).sqrt(),
            mean_a: ya.iter().sum::<f64>() / count,
            mean_b: yb.iter().sum::<f64>() / count,
            samples: n,
        })
    }

    /// Counterfactuals for observed rows: abduction (each variable's noise
    /// from the observed values), action (the interventions), prediction
    /// (the descendants recomputed with the same noise).
    ///
    /// Every model variable must be a column of `observed`. Intervening on
    /// nothing returns the observed rows.
    pub fn counterfactual(
        &self,
        observed: &Dataset,
        interventions: &[(&str, f64)],
    ) -> Result<Dataset, ScmError> {
        let columns = self.columns_of(observed)?;
        let n = observed.n_rows();
        // Abduction: standardised residuals under the unintervened model.
        let mut noise = Vec::with_capacity(columns.len());
        let mut mean = vec![0.0f32; n];
        for (index, node) in self.nodes().iter().enumerate() {
            let mut factual = self.clone();
            factual.nodes_mut()[index].intervention = None;
            factual.node_mean(index, &columns, &mut mean);
            let scale = node.noise.scale() as f32;
            noise.push(
                columns[index]
                    .iter()
                    .zip(&mean)
                    .map(|(&x, &m)| (x - m) / scale)
                    .collect::<Vec<f32>>(),
            );
        }
        // Action and prediction.
        let model = self.intervene(interventions)?;
        let predicted = model.propagate(&noise);
        // Variables not downstream of an intervention keep their observed
        // values exactly (no round trip through the noise or the scaling).
        let touched = model.descendants_of(interventions)?;
        let mut out = Vec::with_capacity(predicted.len());
        for ((node, column), touched) in model.nodes().iter().zip(predicted).zip(touched) {
            let values = if touched {
                node.column_to_data(&column)
            } else {
                observed.column(&node.name)?.to_vec()
            };
            out.push((node.name.clone(), values));
        }
        Ok(Dataset::from_columns(out)?)
    }

    /// Which variables (topological positions) are intervened on or
    /// downstream of an intervened one.
    fn descendants_of(&self, interventions: &[(&str, f64)]) -> Result<Vec<bool>, ScmError> {
        let mut touched = vec![false; self.nodes().len()];
        for (variable, _) in interventions {
            touched[self.node_index(variable)?] = true;
        }
        for index in 0..self.nodes().len() {
            if self.nodes()[index].parents.iter().any(|&p| touched[p]) {
                touched[index] = true;
            }
        }
        Ok(touched)
    }
}
