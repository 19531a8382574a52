//! Ensemble members: other fits of the same model (the same graph,
//! mechanism kinds, noise families and scalings) whose parameters a model
//! carries beside its own, so that a query can say how much its answer
//! depends on the fit ([`Scm::fit_members`], and the interval queries in
//! [`crate::uncertainty`]).
//!
//! A member holds only values: each variable's mechanism parameters and
//! noise parameters in the model's units. [`Scm::member`] rebuilds it as a
//! model by copying the carrier and setting them, so a member of an
//! intervened model is intervened too.

#[cfg(feature = "burn")]
use std::path::Path;

use super::{Intervention, Scm, ScmError};
#[cfg(feature = "burn")]
use crate::pack::Pack;
#[cfg(feature = "burn")]
use crate::scm::file::{finite_vector, ModelFileError};

/// One member's values, per variable in topological order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Member {
    /// `(mechanism parameters, noise parameters)` per variable.
    values: Vec<(Vec<f32>, Vec<f32>)>,
}

impl Scm {
    /// Number of ensemble members the model carries (0 unless fitted with
    /// [`Scm::fit_members`] or loaded from a file that holds them).
    pub fn members(&self) -> usize {
        self.members.len()
    }

    /// Member `k` as a model: this model (its graph, interventions and
    /// scalings) with the member's parameters, and no members of its own;
    /// `None` past the last.
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    /// use causalgrad::scm::{Mechanism, Scm};
    ///
    /// let graph = CausalGraph::new(["x", "y"], [("x", "y")])?;
    /// let scm = Scm::builder(graph).mechanism("y", Mechanism::linear(1)).build()?;
    /// assert_eq!(scm.members(), 0);
    /// assert!(scm.member(0).is_none());
    /// # Ok::<(), causalgrad::Error>(())
    /// ```
    pub fn member(&self, k: usize) -> Option<Scm> {
        let member = self.members.get(k)?;
        let mut model = self.without_members();
        for (node, (params, noise)) in model.nodes.iter_mut().zip(&member.values) {
            if !matches!(node.intervention, Some(Intervention::Replace(_))) {
                node.mechanism
                    .set_params(params)
                    .expect("a member has its model's parameter counts");
            }
            node.noise = node.noise.with_params(noise);
        }
        Some(model)
    }

    /// Every member as a model ([`Scm::member`]).
    pub fn member_models(&self) -> Vec<Scm> {
        (0..self.members()).filter_map(|k| self.member(k)).collect()
    }

    /// A copy of the model without its members.
    pub fn without_members(&self) -> Scm {
        Scm {
            graph: self.graph.clone(),
            nodes: self.nodes.clone(),
            members: Vec::new(),
            support: self.support.clone(),
        }
    }

    /// Drops the members (after changing the model's parameters by hand,
    /// say, when they no longer describe the same fit).
    pub fn clear_members(&mut self) {
        self.members.clear();
    }

    /// This model's own values, as a member of another.
    pub(crate) fn as_member(&self) -> Member {
        Member {
            values: self
                .nodes
                .iter()
                .map(|node| (node.mechanism.params().to_vec(), node.noise.params()))
                .collect(),
        }
    }

    /// Replaces the members.
    /// Sets member `k`'s values of `variable` (model units).
    pub(crate) fn set_member_values(
        &mut self,
        k: usize,
        variable: &str,
        params: &[f32],
        noise: &[f32],
    ) -> Result<(), ScmError> {
        let index = self.node_index(variable)?;
        if let Some(member) = self.members.get_mut(k) {
            member.values[index] = (params.to_vec(), noise.to_vec());
        }
        Ok(())
    }

    pub(crate) fn set_members(&mut self, members: Vec<Member>) {
        debug_assert!(members.iter().all(|m| m.values.len() == self.nodes.len()));
        self.members = members;
    }

    /// Writes the members into `pack` as `member.<k>.params.<variable>`
    /// and `member.<k>.noise.<variable>`.
    #[cfg(feature = "burn")]
    pub(crate) fn members_to_pack(&self, pack: &mut Pack) {
        for (k, member) in self.members.iter().enumerate() {
            for (node, (params, noise)) in self.nodes.iter().zip(&member.values) {
                pack.vectors
                    .insert(format!("member.{k}.params.{}", node.name), params.clone());
                pack.vectors
                    .insert(format!("member.{k}.noise.{}", node.name), noise.clone());
            }
        }
    }

    /// Reads `count` members written by [`Scm::members_to_pack`], each
    /// checked to have this model's parameter counts and finite values.
    #[cfg(feature = "burn")]
    pub(crate) fn members_from_pack(
        &self,
        path: &Path,
        pack: &Pack,
        count: usize,
    ) -> Result<Vec<Member>, ModelFileError> {
        (0..count)
            .map(|k| {
                let values = self
                    .nodes
                    .iter()
                    .map(|node| {
                        let params = finite_vector(
                            path,
                            pack,
                            &format!("member.{k}.params.{}", node.name),
                            node.mechanism.params().len(),
                        )?;
                        let noise = finite_vector(
                            path,
                            pack,
                            &format!("member.{k}.noise.{}", node.name),
                            node.noise.params().len(),
                        )?;
                        Ok((params.to_vec(), noise.to_vec()))
                    })
                    .collect::<Result<_, ModelFileError>>()?;
                Ok(Member { values })
            })
            .collect()
    }
}
