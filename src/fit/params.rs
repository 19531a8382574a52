//! The learnable values of a plain or data-parallel fit as a burn `Module`:
//! one flat parameter vector per mechanism and the log noise scales, with
//! snapshots to restore the last good values.

use burn::module::{Module, Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData};

use crate::scm::{Noise, Scm};

/// The learnable values of a model: one flat parameter vector per
/// mechanism, and the log noise scales.
#[derive(Module, Debug)]
pub struct ScmParams {
    /// Each variable's mechanism parameters, in topological order.
    pub mechanisms: Vec<Param<Tensor<1>>>,
    /// `ln sigma` of each variable, in topological order.
    pub log_scales: Param<Tensor<1>>,
}

impl ScmParams {
    /// A placeholder with no parameters (while the optimiser owns them).
    pub(super) fn empty(device: &Device) -> Self {
        ScmParams {
            mechanisms: Vec::new(),
            log_scales: Param::from_tensor(Tensor::zeros([1], device)),
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
        let scales: Vec<f32> = scm
            .nodes()
            .iter()
            .map(|node| match node.noise {
                Noise::Gaussian { log_scale } => log_scale,
            })
            .collect();
        ScmParams {
            mechanisms,
            log_scales: parameter(0, &scales, device),
        }
    }

    /// Writes the values back into the model.
    pub fn write_to(&self, scm: &mut Scm) {
        let scales = read(&self.log_scales.val());
        for ((node, param), log_scale) in
            scm.nodes_mut().iter_mut().zip(&self.mechanisms).zip(scales)
        {
            let values = read(&param.val());
            node.mechanism
                .set_params(&values)
                .expect("parameter tensors keep their length");
            node.noise = Noise::Gaussian { log_scale };
        }
    }
}

/// A trainable vector with a fixed id (`0` for the log-scales, `i + 1` for
/// variable `i`'s mechanism), so an optimiser's saved state finds its
/// parameters again when a fit resumes.
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
        read(&params.log_scales.val()),
    )
}

pub(super) fn restore(scm: &mut Scm, (mechanisms, scales): &Snapshot) {
    for ((node, values), &log_scale) in scm.nodes_mut().iter_mut().zip(mechanisms).zip(scales) {
        node.mechanism
            .set_params(values)
            .expect("snapshots keep their length");
        node.noise = Noise::Gaussian { log_scale };
    }
}
