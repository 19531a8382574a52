//! Full-batch likelihood terms pooled across contexts.

use burn::tensor::{Device, Tensor, TensorData};

use super::prepare::{tensor1, Prepared, Role};
use crate::context::Weighting;
use crate::scm::Scm;

/// One variable's likelihood term over the training rows of every
/// full-batch context where it has a term and reads parameter set `slot`,
/// pooled (contexts whose weights are proportional to their rows).
pub(super) struct PooledTerm {
    pub(super) variable: usize,
    pub(super) slot: usize,
    /// The sum of the contexts' weights.
    pub(super) weight: f64,
    /// The variable's target (its column minus the context's shift).
    pub(super) x: Tensor<1>,
    /// Its parents' columns, `[k, rows]`.
    pub(super) parents: Option<Tensor<2>>,
    pub(super) rows: usize,
}

/// The pooled terms of the full-batch contexts with a positive weight,
/// by variable and then by first context. Terms pool when they agree on
/// the variable, the parameter set and, under [`Weighting::Equal`], the
/// number of rows (so that the weights are proportional to the rows).
pub(super) fn pooled_terms(
    scm: &Scm,
    contexts: &[Prepared],
    weighting: Weighting,
    device: &Device,
) -> Vec<PooledTerm> {
    let mut terms = Vec::new();
    for (j, node) in scm.nodes().iter().enumerate() {
        let mut keys: Vec<(usize, Option<usize>)> = Vec::new();
        // Each member: the context and its shift of the variable's mean.
        let mut members: Vec<Vec<(usize, f32)>> = Vec::new();
        for (c, prepared) in contexts.iter().enumerate() {
            let rows = prepared.order.len();
            let Role::Term { shift } = prepared.roles[j] else {
                continue;
            };
            if prepared.weight == 0.0 || prepared.batch_rows.is_some() || rows == 0 {
                continue;
            }
            let key = (
                prepared.slots[j],
                matches!(weighting, Weighting::Equal).then_some(rows),
            );
            match keys.iter().position(|k| *k == key) {
                Some(t) => members[t].push((c, shift)),
                None => {
                    keys.push(key);
                    members.push(vec![(c, shift)]);
                }
            }
        }
        for ((slot, _), members) in keys.into_iter().zip(members) {
            let rows: usize = members.iter().map(|&(c, _)| contexts[c].order.len()).sum();
            let mut x = Vec::with_capacity(rows);
            for &(c, shift) in &members {
                x.extend(contexts[c].columns[j].iter().map(|&v| v - shift));
            }
            let parents = (!node.parents.is_empty()).then(|| {
                let mut flat = Vec::with_capacity(node.parents.len() * rows);
                for &p in &node.parents {
                    for &(c, _) in &members {
                        flat.extend_from_slice(&contexts[c].columns[p]);
                    }
                }
                Tensor::from_data(TensorData::new(flat, [node.parents.len(), rows]), device)
            });
            terms.push(PooledTerm {
                variable: j,
                slot,
                weight: members.iter().map(|&(c, _)| contexts[c].weight).sum(),
                x: tensor1(x, device),
                parents,
                rows,
            });
        }
    }
    terms
}
