//! The tensors of one step of a plain or data-parallel fit.

use burn::tensor::{Device, Tensor, TensorData};

use super::loss::{sum_terms, Term};
use super::params::{noise_offsets, ScmParams};
use crate::scm::{Intervention, Scm};

/// The data of one step: each variable's column and its parents' columns.
#[derive(Clone)]
pub(super) struct Batch {
    columns: Vec<Tensor<1>>,
    parents: Vec<Option<Tensor<2>>>,
    pub(super) rows: usize,
}

impl Batch {
    /// The batch of `rows` of the host `columns` (all of them when `None`).
    pub(super) fn new(
        scm: &Scm,
        columns: &[Vec<f32>],
        rows: Option<&[usize]>,
        device: &Device,
    ) -> Batch {
        let picked = columns
            .iter()
            .map(|column| match rows {
                Some(rows) => rows.iter().map(|&r| column[r]).collect(),
                None => column.to_vec(),
            })
            .collect();
        Batch::from_columns(scm, picked, device)
    }

    /// The batch of whole columns, moved into tensors.
    pub(super) fn from_columns(scm: &Scm, picked: Vec<Vec<f32>>, device: &Device) -> Batch {
        let n = picked.first().map_or(0, Vec::len);
        let tensor1 = |values: Vec<f32>| Tensor::from_data(TensorData::new(values, [n]), device);
        let parents = scm
            .nodes()
            .iter()
            .map(|node| {
                if node.parents.is_empty() {
                    return None;
                }
                let mut flat = Vec::with_capacity(node.parents.len() * n);
                for &p in &node.parents {
                    flat.extend_from_slice(&picked[p]);
                }
                Some(Tensor::from_data(
                    TensorData::new(flat, [node.parents.len(), n]),
                    device,
                ))
            })
            .collect();
        Batch {
            columns: picked.into_iter().map(tensor1).collect(),
            parents,
            rows: n,
        }
    }

    /// Rows `start..start + len` of this batch, on `device`.
    pub(super) fn slice(&self, start: usize, len: usize, device: &Device) -> Batch {
        Batch {
            columns: self
                .columns
                .iter()
                .map(|c| c.clone().narrow(0, start, len).to_device(device))
                .collect(),
            parents: self
                .parents
                .iter()
                .map(|p| {
                    p.as_ref()
                        .map(|p| p.clone().narrow(1, start, len).to_device(device))
                })
                .collect(),
            rows: len,
        }
    }

    /// The mean negative log-likelihood per row of this batch under
    /// `params` (a `[1]` tensor): every variable not under hard `do`
    /// contributes its [`Term`].
    pub(super) fn nll(&self, params: &ScmParams, scm: &Scm) -> Tensor<1> {
        let noise = params.noise.val();
        let offsets = noise_offsets(scm);
        let terms = scm.nodes().iter().enumerate().filter_map(|(index, node)| {
            let (kernel, shift) = match &node.intervention {
                Some(Intervention::Set(_)) => return None,
                Some(Intervention::Replace(replacement)) => (replacement.kernel(), 0.0),
                Some(Intervention::Shift(delta)) => {
                    (node.mechanism.kernel(), node.scaling.shift_to_model(*delta))
                }
                None => (node.mechanism.kernel(), 0.0),
            };
            let (start, count) = offsets[index];
            let term = Term {
                noise: &node.noise,
                base: &node.base,
                kernel,
                theta: params.mechanisms[index].val(),
                noise_params: (count > 0).then(|| noise.clone().narrow(0, start, count)),
                parents: self.parents[index].as_ref(),
                target: self.columns[index].clone(),
                shift,
                rows: self.rows,
            };
            Some(term.nll())
        });
        sum_terms(terms, &noise.device())
    }
}
