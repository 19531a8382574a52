//! Positivity diagnostics: does a query ask the mechanisms about parent
//! values the training data cover?
//!
//! For each variable downstream of an intervention, the parents' values
//! in interventional samples are compared with the same parents in the
//! model's support sample (the training rows it keeps,
//! [`Scm::remember_support`]), each parent standardised by the sample's
//! mean and standard deviation. A sample lies outside the support when
//! its distance to the nearest support row exceeds the 99th percentile of
//! the support rows' own nearest-neighbour distances (each to the others),
//! so about 1% of samples from the data's own distribution lie outside.
//! A share well above that ([`WARN_SHARE`]) means the answer rests on the
//! mechanisms' extrapolation, which no interval from the data can vouch
//! for.

use serde::Serialize;

use crate::scm::{Scm, ScmError};

/// Interventional samples a diagnostic draws by default.
pub const DIAGNOSTIC_SAMPLES: usize = 1000;

/// The share outside the support above which a query is flagged (five
/// times what the data's own distribution gives).
pub const WARN_SHARE: f64 = 0.05;

/// One variable's parents under an intervention.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Extrapolation {
    /// The variable whose mechanism is asked.
    pub variable: String,
    /// Its parents.
    pub parents: Vec<String>,
    /// The share of interventional samples whose parent values lie
    /// outside the support (about 0.01 inside it).
    pub outside: f64,
}

impl Extrapolation {
    /// Whether the share is above [`WARN_SHARE`].
    pub fn warns(&self) -> bool {
        self.outside > WARN_SHARE
    }
}

/// One variable's parents under an intervention, point by point: what
/// `plot` draws of [`Scm::support_against`].
#[derive(Clone, Debug, PartialEq)]
pub struct SupportView {
    /// The variable whose mechanism is asked.
    pub variable: String,
    /// Its parents.
    pub parents: Vec<String>,
    /// The support sample's values of each parent (data units; for a
    /// categorical parent its level code).
    pub support: Vec<Vec<f64>>,
    /// The interventional samples' values of each parent (data units).
    pub intervened: Vec<Vec<f64>>,
    /// Whether each interventional sample lies outside the support.
    pub outside: Vec<bool>,
}

impl SupportView {
    /// The share of interventional samples outside the support.
    pub fn outside_share(&self) -> f64 {
        let outside = self.outside.iter().filter(|&&o| o).count();
        outside as f64 / self.outside.len().max(1) as f64
    }
}

impl Scm {
    /// For each variable with parents downstream of `interventions`
    /// (hard `do`), the share of `samples` interventional samples (seed
    /// `seed`) whose parent values lie outside the support sample (see the
    /// module docs), in topological order. A model without a support
    /// sample (never fitted, or from a context fit) is
    /// [`ScmError::NoSupport`].
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::{Mechanism, Scm};
    ///
    /// let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
    /// let mut scm = Scm::builder(graph).mechanism("y", Mechanism::linear(1)).build()?;
    /// scm.set_params("y", &[0.0, 1.0])?;
    /// let data = scm.sample(2000, 1)?;
    /// scm.remember_support(&data)?;
    /// let inside = scm.extrapolation(&[("x", 0.5)], 1000, 0)?;
    /// let outside = scm.extrapolation(&[("x", 6.0)], 1000, 0)?;
    /// assert!(!inside[0].warns() && outside[0].warns());
    /// # Ok::<(), causalgrad::Error>(())
    /// ```
    pub fn extrapolation(
        &self,
        interventions: &[(&str, f64)],
        samples: usize,
        seed: u64,
    ) -> Result<Vec<Extrapolation>, ScmError> {
        Ok(self
            .support_against(interventions, samples, seed)?
            .into_iter()
            .map(|view| Extrapolation {
                outside: view.outside_share(),
                variable: view.variable,
                parents: view.parents,
            })
            .collect())
    }

    /// [`Scm::extrapolation`] point by point: for each variable with
    /// parents downstream of `interventions`, its parents' values in the
    /// support sample and in `samples` interventional samples, and which
    /// of those lie outside the support.
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::Scm;
    ///
    /// let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
    /// let mut scm = Scm::builder(graph).build()?;
    /// let data = scm.sample(500, 1)?;
    /// scm.remember_support(&data)?;
    /// let views = scm.support_against(&[("x", 6.0)], 200, 0)?;
    /// assert_eq!(views[0].parents, ["x"]);
    /// assert_eq!(views[0].support[0].len(), 500);
    /// assert!(views[0].intervened[0].iter().all(|&x| x == 6.0));
    /// assert_eq!(views[0].outside_share(), 1.0);
    /// # Ok::<(), causalgrad::Error>(())
    /// ```
    pub fn support_against(
        &self,
        interventions: &[(&str, f64)],
        samples: usize,
        seed: u64,
    ) -> Result<Vec<SupportView>, ScmError> {
        let support = self.support().ok_or(ScmError::NoSupport)?;
        let model = self.intervene(interventions)?;
        let targets: Vec<usize> = interventions
            .iter()
            .map(|(v, _)| self.node_index(v))
            .collect::<Result<_, _>>()?;
        let columns = model.propagate(&model.standard_noise(samples, seed));
        let nodes = self.nodes();
        let downstream = self.downstream_of(&targets);
        Ok(nodes
            .iter()
            .enumerate()
            .filter(|(j, node)| downstream[*j] && !targets.contains(j) && !node.parents.is_empty())
            .map(|(_, node)| {
                let query: Vec<&[f32]> = node
                    .parents
                    .iter()
                    .map(|&p| columns[p].as_slice())
                    .collect();
                let in_data = |p: usize, values: &[f32]| nodes[p].scaling.column_to_data(values);
                SupportView {
                    variable: node.name.clone(),
                    parents: node
                        .parents
                        .iter()
                        .map(|&p| nodes[p].name.clone())
                        .collect(),
                    outside: support.region(&node.parents).outside(&query),
                    support: node
                        .parents
                        .iter()
                        .map(|&p| in_data(p, &support.columns[p]))
                        .collect(),
                    intervened: node
                        .parents
                        .iter()
                        .map(|&p| in_data(p, &columns[p]))
                        .collect(),
                }
            })
            .collect())
    }

    /// Which variables (by topological position) are `targets` or their
    /// descendants.
    fn downstream_of(&self, targets: &[usize]) -> Vec<bool> {
        let mut below = vec![false; self.nodes().len()];
        for (j, node) in self.nodes().iter().enumerate() {
            below[j] = targets.contains(&j) || node.parents.iter().any(|&p| below[p]);
        }
        below
    }
}
