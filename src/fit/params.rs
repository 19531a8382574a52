//! The learnable values of a plain or data-parallel fit as a burn `Module`:
//! one flat parameter vector per mechanism and every variable's noise
//! parameters, with snapshots to restore the last good values.

use burn::module::{Module, Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData};

use crate::scm::Scm;

/// The learnable values of a model: one flat parameter vector per
/// mechanism, and the noise parameters of every variable.
#[derive(Module, Debug)]
pub struct ScmParams {
    /// Each variable's mechanism parameters, in topological order.
    pub mechanisms: Vec<Param<Tensor<1>>>,
    /// Every variable's noise parameters ([`Noise::params`](crate::scm::Noise::params):
    /// `ln σ` of a Gaussian), one after the other in topological order
    /// (see [`noise_offsets`]); a single unused zero when no variable has
    /// any (all discrete).
    pub noise: Param<Tensor<1>>,
}

/// Where each variable's noise parameters start in [`ScmParams::noise`],
/// and how many it has, in topological order.
pub(crate) fn noise_offsets(scm: &Scm) -> Vec<(usize, usize)> {
    let mut start = 0;
    scm.nodes()
        .iter()
        .map(|node| {
            let count = node.noise.params().len();
            start += count;
            (start - count, count)
        })
        .collect()
}

/// Every variable's noise parameters, concatenated (a zero when there are
/// none, so the parameter is never empty).
fn noise_values(scm: &Scm) -> Vec<f32> {
    let values: Vec<f32> = scm
        .nodes()
        .iter()
        .flat_map(|node| node.noise.params())
        .collect();
    if values.is_empty() {
        vec![0.0]
    } else {
        values
    }
}

impl ScmParams {
    /// A placeholder with no parameters (while the optimiser owns them).
    pub(super) fn empty(device: &Device) -> Self {
        ScmParams {
            mechanisms: Vec::new(),
            noise: Param::from_tensor(Tensor::zeros([1], device)),
        }
    }

    /// The model's current values on `device`.
    pub fn from_scm(scm: &Scm, device: &Device) -> Self {
        let mechanisms = scm
            .nodes()
            .iter()
            .enumerate()
            .map(|(index, node)| parameter(index as u64 + 1, node.mechanism.params(), device))
            .collect();
        ScmParams {
            mechanisms,
            noise: parameter(0, &noise_values(scm), device),
        }
    }

    /// Writes the values back into the model.
    pub fn write_to(&self, scm: &mut Scm) {
        restore(scm, &snapshot(self));
    }
}

/// A trainable vector with a fixed id (`0` for the noise parameters,
/// `i + 1` for variable `i`'s mechanism), so an optimiser's saved state
/// finds its parameters again when a fit resumes.
fn parameter(id: u64, values: &[f32], device: &Device) -> Param<Tensor<1>> {
    let tensor = Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device);
    let tensor = if device.is_autodiff() {
        tensor.require_grad()
    } else {
        tensor
    };
    Param::initialized(ParamId::from(id), tensor)
}

pub(crate) fn read(tensor: &Tensor<1>) -> Vec<f32> {
    crate::scm::neural::read_f32(tensor.clone())
}

/// The values of a [`ScmParams`], copied to the host.
pub(super) type Snapshot = (Vec<Vec<f32>>, Vec<f32>);

pub(super) fn snapshot(params: &ScmParams) -> Snapshot {
    (
        params.mechanisms.iter().map(|p| read(&p.val())).collect(),
        read(&params.noise.val()),
    )
}

pub(super) fn restore(scm: &mut Scm, (mechanisms, noise): &Snapshot) {
    let offsets = noise_offsets(scm);
    for ((node, values), (start, count)) in scm.nodes_mut().iter_mut().zip(mechanisms).zip(offsets)
    {
        node.mechanism
            .set_params(values)
            .expect("snapshots keep their length");
        node.noise = node.noise.with_params(&noise[start..start + count]);
    }
}
