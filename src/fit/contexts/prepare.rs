//! One context's data prepared for the trainer: each variable's role in
//! its loss, its training and validation columns, and the tensors of a
//! batch of its rows.

use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::scm::Scm;

/// What a variable does in one context's loss.
#[derive(Clone, Copy, Debug)]
pub(super) enum Role {
    /// No likelihood term: under hard `do`, a lagged value, or an initial
    /// time step.
    Skip,
    /// A Gaussian likelihood term, the mechanism's mean shifted by `shift`:
    /// the batch holds the variable's column minus `shift` as the target
    /// (the same density), so the term is an unshifted one and contexts
    /// that differ only in their shifts share a batch. Children read the
    /// column as observed.
    Term { shift: f32 },
}

/// One context's data and its place in the parameters.
pub(super) struct Prepared {
    pub(super) name: String,
    /// Every model variable's training column (topological order).
    pub(super) columns: Vec<Vec<f32>>,
    /// Validation columns, when there is a validation split.
    pub(super) valid: Option<Vec<Vec<f32>>>,
    pub(super) roles: Vec<Role>,
    /// Per variable, the parameter set it reads.
    pub(super) slots: Vec<usize>,
    /// Weight of its mean negative log-likelihood in the objective.
    pub(super) weight: f64,
    /// Rows per mini-batch (`None`: all rows).
    pub(super) batch_rows: Option<usize>,
    pub(super) order: Vec<usize>,
    pub(super) cursor: usize,
}

/// Tensors of one context's rows.
pub(super) struct ContextBatch {
    pub(super) columns: Vec<Option<Tensor<1>>>,
    pub(super) parents: Vec<Option<Tensor<2>>>,
    pub(super) rows: usize,
}

pub(super) fn tensor1(values: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

/// Splits columns' rows into training and validation rows (the same rows
/// for every context with the same number of rows, so lagged columns stay
/// aligned).
pub(super) fn split(
    columns: Vec<Vec<f32>>,
    rows: usize,
    fraction: f64,
    seed: u64,
) -> (Vec<Vec<f32>>, Option<Vec<Vec<f32>>>) {
    if fraction <= 0.0 || rows == 0 {
        return (columns, None);
    }
    let mut order: Vec<usize> = (0..rows).collect();
    order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    let held = ((rows as f64 * fraction).round() as usize).min(rows - 1);
    let (valid, train) = order.split_at(held);
    let pick = |rows: &[usize]| -> Vec<Vec<f32>> {
        columns
            .iter()
            .map(|c| rows.iter().map(|&r| c[r]).collect())
            .collect()
    };
    (pick(train), Some(pick(valid)))
}

/// The tensors of `rows` (all rows for `None`) of one context's columns:
/// each term's target (the column minus the context's shift) and its
/// parents' columns.
pub(super) fn batch(
    scm: &Scm,
    prepared: &Prepared,
    columns: &[Vec<f32>],
    rows: Option<&[usize]>,
    device: &Device,
) -> ContextBatch {
    let n = rows.map_or(columns.first().map_or(0, Vec::len), <[usize]>::len);
    let picked: Vec<Vec<f32>> = columns
        .iter()
        .map(|column| match rows {
            Some(rows) => rows.iter().map(|&r| column[r]).collect(),
            None => column.clone(),
        })
        .collect();
    let mut tensors = Vec::with_capacity(picked.len());
    let mut parents = Vec::with_capacity(picked.len());
    for (j, node) in scm.nodes().iter().enumerate() {
        let shift = match prepared.roles[j] {
            Role::Term { shift } if n > 0 => Some(shift),
            _ => None,
        };
        let term = shift.is_some();
        tensors.push(shift.map(|shift| {
            let target = picked[j].iter().map(|&x| x - shift).collect();
            tensor1(target, device)
        }));
        parents.push((term && !node.parents.is_empty()).then(|| {
            let mut flat = Vec::with_capacity(node.parents.len() * n);
            for &p in &node.parents {
                flat.extend_from_slice(&picked[p]);
            }
            Tensor::from_data(TensorData::new(flat, [node.parents.len(), n]), device)
        }));
    }
    ContextBatch {
        columns: tensors,
        parents,
        rows: n,
    }
}
