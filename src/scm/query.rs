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

/// The effect on one level of a categorical outcome: the change in the
/// probability of that level.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LevelEffect {
    /// The level's label.
    pub level: String,
    /// `P(outcome = level | do(b)) − P(outcome = level | do(a))`, with the
    /// arms' probabilities as `mean_a` and `mean_b`.
    pub effect: Effect,
}

impl Scm {
    /// `E[outcome | do(interventions)]` from `n` samples drawn with `seed`
    /// (for a binary outcome, `P(outcome = 1 | do(..))`; for a count, its
    /// mean; for a categorical one, the mean level code: see
    /// [`Scm::ate_levels`] for its level probabilities).
    pub fn interventional_mean(
        &self,
        outcome: &str,
        interventions: &[(&str, f64)],
        n: usize,
        seed: u64,
    ) -> Result<f64, ScmError> {
        let model = self.intervene(interventions)?;
        let outcome = model.node_index(outcome)?;
        let noise = model.standard_noise(n, seed);
        let values = model.outcome_values(outcome, &noise);
        Ok(values.iter().sum::<f64>() / values.len().max(1) as f64)
    }

    /// The average causal effect of setting `treatment` from `a` to `b` on
    /// `outcome`, from `n` paired samples (the same noise in both arms, so
    /// the standard error is that of the differences). On a binary outcome
    /// it is the difference of the probabilities of 1; on a count, of the
    /// means; on a categorical outcome use [`Scm::ate_levels`].
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
        let index = self.node_index(outcome)?;
        let noise = self.standard_noise(n, seed);
        let arm = |value: f64| -> Result<Vec<f64>, ScmError> {
            let model = self.intervene(&[(treatment, value)])?;
            Ok(model.outcome_values(index, &noise))
        };
        Ok(paired(&arm(a)?, &arm(b)?, n))
    }

    /// The effect of setting `treatment` from `a` to `b` on the probability
    /// of each level of a categorical (or binary) `outcome`, from `n`
    /// paired samples.
    pub fn ate_levels(
        &self,
        treatment: &str,
        outcome: &str,
        a: f64,
        b: f64,
        n: usize,
        seed: u64,
    ) -> Result<Vec<LevelEffect>, ScmError> {
        let index = self.node_index(outcome)?;
        let node = &self.nodes()[index];
        let labels: Vec<String> = match (&node.kind, node.noise.is_discrete()) {
            (super::VariableKind::Categorical { levels }, _) => levels.clone(),
            (super::VariableKind::Binary, _) => vec!["0".into(), "1".into()],
            _ => {
                return Err(ScmError::BadValue {
                    variable: outcome.to_string(),
                    kind: node.kind.name().into(),
                    reason: "level effects are for categorical and binary outcomes".into(),
                })
            }
        };
        let noise = self.standard_noise(n, seed);
        let arm = |value: f64| -> Result<Vec<Vec<f64>>, ScmError> {
            let model = self.intervene(&[(treatment, value)])?;
            Ok(model.level_probabilities(index, &noise, labels.len()))
        };
        let (pa, pb) = (arm(a)?, arm(b)?);
        Ok(labels
            .into_iter()
            .zip(pa.iter().zip(&pb))
            .map(|(level, (pa, pb))| LevelEffect {
                level,
                effect: paired(pa, pb, n),
            })
            .collect())
    }

    /// The outcome of each noise row in the data's units: a discrete
    /// outcome's expectation given its parents (its probability of 1, its
    /// mean count), which has the same mean as its samples and less
    /// Monte-Carlo error; a continuous one's sampled value.
    pub(crate) fn outcome_values(&self, index: usize, noise: &[Vec<f32>]) -> Vec<f64> {
        let node = &self.nodes()[index];
        let discrete = node.noise.is_discrete()
            && !matches!(node.intervention, Some(super::Intervention::Set(_)));
        let columns = self.propagate(&noise[..if discrete { index } else { index + 1 }]);
        if !discrete {
            return node.column_to_data(&columns[index]);
        }
        let n = noise[index].len();
        let eta = self.outputs_of(index, &columns, n);
        node.map_rows(&eta, n, |_, row| node.noise.expectation(row))
    }

    /// Per level, each noise row's probability of it (`levels` lists).
    fn level_probabilities(
        &self,
        index: usize,
        noise: &[Vec<f32>],
        levels: usize,
    ) -> Vec<Vec<f64>> {
        let node = &self.nodes()[index];
        let n = noise[index].len();
        if let Some(super::Intervention::Set(value)) = node.intervention {
            return (0..levels)
                .map(|l| vec![f64::from(u8::from(value == l as f64)); n])
                .collect();
        }
        let columns = self.propagate(&noise[..index]);
        let eta = self.outputs_of(index, &columns, n);
        let mut out = vec![Vec::with_capacity(n); levels];
        node.map_rows(&eta, n, |_, row| {
            let p = node.noise.probabilities(row).expect("a discrete outcome");
            for (column, p) in out.iter_mut().zip(p) {
                column.push(p);
            }
        });
        out
    }

    /// Counterfactuals for observed rows: abduction (each variable's noise
    /// from the observed values), action (the interventions), prediction
    /// (the descendants recomputed with the same noise).
    ///
    /// For continuous noise the abduction is exact. A discrete variable's
    /// noise is not determined by its value: it is drawn from its
    /// posterior (uniform on the step of the CDF at the observed value,
    /// see [`Likelihood::abduct`](super::Likelihood::abduct)), once per row
    /// with seed 0; see [`Scm::counterfactual_draws`] for several draws.
    ///
    /// Every model variable must be a column of `observed`. Intervening on
    /// nothing returns the observed rows.
    pub fn counterfactual(
        &self,
        observed: &Dataset,
        interventions: &[(&str, f64)],
    ) -> Result<Dataset, ScmError> {
        self.counterfactual_draws(observed, interventions, 1, 0)
    }

    /// [`Scm::counterfactual`] with `draws` draws of the discrete
    /// variables' noise per observed row (seeded): the rows of draw 0,
    /// then those of draw 1, and so on, with a `sample` column numbering
    /// the draws when there is more than one.
    pub fn counterfactual_draws(
        &self,
        observed: &Dataset,
        interventions: &[(&str, f64)],
        draws: usize,
        seed: u64,
    ) -> Result<Dataset, ScmError> {
        use rand::SeedableRng;

        self.check_data(observed)?;
        let columns = self.columns_of(observed)?;
        let n = observed.n_rows();
        let model = self.intervene(interventions)?;
        let touched = model.descendants_of(interventions)?;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut out: Vec<(String, Vec<f64>)> = self
            .nodes()
            .iter()
            .map(|node| (node.name.clone(), Vec::with_capacity(n * draws)))
            .collect();
        let mut sample = Vec::with_capacity(n * draws);
        let factual = self.factual_outputs(&columns, n);
        for draw in 0..draws.max(1) {
            let noise = self.abduct(&columns, &factual, n, &mut rng);
            // Action and prediction.
            let predicted = model.propagate(&noise);
            // Variables not downstream of an intervention keep their
            // observed values exactly (no round trip through the noise or
            // the scaling).
            for ((((node, column), touched), (_, values)), coded) in model
                .nodes()
                .iter()
                .zip(predicted)
                .zip(&touched)
                .zip(out.iter_mut())
                .zip(&columns)
            {
                if *touched {
                    values.extend(node.column_to_data(&column));
                } else if node.kind.levels().is_some() {
                    // Level codes in the model's order.
                    values.extend(coded.iter().map(|&c| f64::from(c)));
                } else {
                    values.extend_from_slice(observed.column(&node.name)?);
                }
            }
            sample.extend(std::iter::repeat_n(draw as f64, n));
        }
        if draws > 1 {
            out.push(("sample".to_string(), sample));
        }
        Ok(self.with_labels(Dataset::from_columns(out)?)?)
    }

    /// Each variable's mechanism outputs for the rows of `columns` under
    /// the unintervened model.
    fn factual_outputs(&self, columns: &[Vec<f32>], n: usize) -> Vec<Vec<f32>> {
        (0..self.nodes().len())
            .map(|index| {
                let mut factual = self.clone();
                factual.nodes_mut()[index].intervention = None;
                factual.outputs_of(index, columns, n)
            })
            .collect()
    }

    /// Abduction: each variable's standard noise for the observed rows
    /// `columns` (model units), given its factual mechanism outputs; a
    /// discrete variable's drawn from its posterior with `rng`.
    fn abduct(
        &self,
        columns: &[Vec<f32>],
        factual: &[Vec<f32>],
        n: usize,
        rng: &mut rand::rngs::StdRng,
    ) -> Vec<Vec<f32>> {
        use rand::RngExt;

        self.nodes()
            .iter()
            .zip(factual)
            .zip(columns)
            .map(|((node, eta), x)| {
                if let super::Noise::Gaussian { .. } = node.noise {
                    let scale = node.noise.scale().unwrap_or(1.0) as f32;
                    x.iter().zip(eta).map(|(&x, &m)| (x - m) / scale).collect()
                } else {
                    node.map_rows(eta, n, |r, row| {
                        let u: f64 = rng.random_range(f64::EPSILON..1.0);
                        node.noise.abduct(row, f64::from(x[r]), u) as f32
                    })
                }
            })
            .collect()
    }

    /// [`Scm::abduct`] for one draw from `seed`, as
    /// [`Scm::counterfactual_draws`] makes its first.
    pub(crate) fn abducted_noise(
        &self,
        columns: &[Vec<f32>],
        n: usize,
        seed: u64,
    ) -> Vec<Vec<f32>> {
        use rand::SeedableRng;

        let factual = self.factual_outputs(columns, n);
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        self.abduct(columns, &factual, n, &mut rng)
    }

    /// Which variables (topological positions) are intervened on or
    /// downstream of an intervened one.
    pub(crate) fn descendants_of(
        &self,
        interventions: &[(&str, f64)],
    ) -> Result<Vec<bool>, ScmError> {
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

/// The paired effect of arms `a` and `b` (`n` samples each).
fn paired(ya: &[f64], yb: &[f64], n: usize) -> Effect {
    let diffs: Vec<f64> = yb.iter().zip(ya).map(|(b, a)| b - a).collect();
    let count = diffs.len().max(1) as f64;
    let ate = diffs.iter().sum::<f64>() / count;
    let variance = diffs.iter().map(|d| (d - ate).powi(2)).sum::<f64>() / (count - 1.0).max(1.0);
    Effect {
        ate,
        stderr: (variance / count).sqrt(),
        mean_a: ya.iter().sum::<f64>() / count,
        mean_b: yb.iter().sum::<f64>() / count,
        samples: n,
    }
}
