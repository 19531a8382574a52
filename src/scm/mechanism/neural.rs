//! Neural mechanisms: any burn module as the mean of a variable.
//!
//! A module that implements [`NeuralMean`] maps its parents' batch
//! `[n, k]` to the mean `[n, 1]`. [`Mechanism::neural`] wraps it like any
//! other mechanism: its parameters are kept as one flat vector (in the
//! order burn visits them), so a model mixing neural, macro-derived and
//! linear mechanisms trains all of them in one burn optimiser step and
//! saves them in one file.
//!
//! During training the module is rebuilt around slices of the flat
//! parameter tensor (`narrow` + `reshape`, which burn's autodiff
//! differentiates), so its gradients come from burn itself, on whatever
//! device the fit runs. Outside training (sampling, queries) it runs on
//! burn's CPU backend.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Shape, Tensor, TensorData};

use super::{Mechanism, MechanismKernel, TensorMechanism};
use crate::scm::spec::MechanismSpec;

/// A burn module usable as a mechanism.
///
/// ```
/// use burn::module::Module;
/// use burn::nn::{Linear, LinearConfig};
/// use burn::tensor::{Device, Tensor};
/// use causalgrad::scm::{Mechanism, NeuralMean};
///
/// /// `y = w · x + b`, written as a burn module.
/// #[derive(Module, Debug)]
/// struct Affine {
///     linear: Linear,
/// }
///
/// impl NeuralMean for Affine {
///     fn mean(&self, parents: Tensor<2>) -> Tensor<2> {
///         self.linear.forward(parents)
///     }
///     fn arity(&self) -> usize {
///         self.linear.weight.dims()[0]
///     }
/// }
///
/// let module = Affine { linear: LinearConfig::new(2, 1).init(&Device::flex()) };
/// let mechanism = Mechanism::neural(module);
/// assert_eq!(mechanism.arity(), 2);
/// assert_eq!(mechanism.params().len(), 3);
/// ```
pub trait NeuralMean: Module + Sync + 'static {
    /// The mean of each row: `parents` is `[n, k]`, one column per parent in
    /// the graph's parent order; the result is `[n, 1]`.
    fn mean(&self, parents: Tensor<2>) -> Tensor<2>;

    /// The number of parents the module reads.
    fn arity(&self) -> usize;

    /// A description that rebuilds the module without user code, for the
    /// built-in modules ([`Mlp`](crate::scm::Mlp)); `None` for user modules.
    fn spec(&self) -> Option<MechanismSpec> {
        None
    }
}

impl Mechanism {
    /// A mechanism from a burn module (its current weights are the initial
    /// parameters).
    ///
    /// The module must read at least one parent; give a root variable a
    /// linear mechanism (the default).
    pub fn neural<M: NeuralMean>(module: M) -> Self {
        let mut collect = Collect::default();
        module.visit(&mut collect);
        let name = std::any::type_name::<M>()
            .rsplit("::")
            .next()
            .unwrap_or("module")
            .to_string();
        let kernel = NeuralKernel {
            template: module,
            name,
            num_params: collect.values.len(),
        };
        Mechanism::from_kernel(std::sync::Arc::new(kernel), collect.values)
    }
}

/// Gathers a module's float parameters, flattened, in visiting order.
#[derive(Default)]
struct Collect {
    values: Vec<f32>,
}

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let values = param
            .val()
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("converted to f32");
        self.values.extend(values);
    }
}

/// Replaces a module's float parameters by consecutive slices of `theta`.
struct Rebuild {
    theta: Tensor<1>,
    offset: usize,
}

impl ModuleMapper for Rebuild {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|old| {
            let dims = old.dims();
            let len: usize = dims.iter().product();
            let slice = self.theta.clone().narrow(0, self.offset, len);
            self.offset += len;
            slice.reshape(Shape::from(dims))
        })
    }
}

/// A burn module as a mechanism kernel.
struct NeuralKernel<M> {
    template: M,
    name: String,
    num_params: usize,
}

impl<M: NeuralMean> NeuralKernel<M> {
    /// The module with its parameters taken from `theta` (on `theta`'s device).
    fn with_params(&self, theta: Tensor<1>) -> M {
        self.template.clone().map(&mut Rebuild { theta, offset: 0 })
    }
}

impl<M: NeuralMean> TensorMechanism for NeuralKernel<M> {
    fn tensor_mean(&self, theta: Tensor<1>, parents: Tensor<2>) -> Tensor<1> {
        let n = parents.dims()[1];
        self.with_params(theta)
            .mean(parents.transpose())
            .reshape([n])
    }
}

/// `[k, n]` from `k` columns of `n` values.
fn columns_tensor(parents: &[&[f32]], n: usize, device: &Device) -> Tensor<2> {
    let mut flat = Vec::with_capacity(parents.len() * n);
    for column in parents {
        flat.extend_from_slice(column);
    }
    Tensor::from_data(TensorData::new(flat, [parents.len(), n]), device)
}

fn vector(values: &[f32], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

/// A vector tensor's values as `f32` (converting other float types).
pub(crate) fn read_f32(tensor: Tensor<1>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32")
}

impl<M: NeuralMean> MechanismKernel for NeuralKernel<M> {
    fn describe(&self) -> String {
        match self.template.spec() {
            Some(MechanismSpec::Mlp {
                arity,
                hidden,
                activation,
            }) => format!(
                "mlp {arity}→{}→1 ({})",
                hidden
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join("→"),
                activation.name()
            ),
            _ => format!("burn module {}", self.name),
        }
    }

    fn arity(&self) -> usize {
        self.template.arity()
    }

    fn num_params(&self) -> usize {
        self.num_params
    }

    fn forward(&self, params: &[f32], parents: &[&[f32]], out: &mut [f32]) {
        let device = Device::flex();
        let n = out.len();
        let mean = self.tensor_mean(vector(params, &device), columns_tensor(parents, n, &device));
        out.copy_from_slice(&read_f32(mean));
    }

    fn backward(
        &self,
        params: &[f32],
        parents: &[&[f32]],
        seeds: &[f32],
        dparams: &mut [f32],
        dparents: Option<&mut [f32]>,
    ) {
        let device = Device::flex().autodiff();
        let n = seeds.len();
        let theta = vector(params, &device).require_grad();
        let mut x = columns_tensor(parents, n, &device);
        if dparents.is_some() {
            x = x.require_grad();
        }
        let mean = self.tensor_mean(theta.clone(), x.clone());
        let grads = (mean * vector(seeds, &device)).sum().backward();
        if let Some(grad) = theta.grad(&grads) {
            for (total, value) in dparams.iter_mut().zip(read_f32(grad)) {
                *total += value;
            }
        }
        if let Some(dparents) = dparents {
            match x.grad(&grads) {
                Some(grad) => {
                    dparents.copy_from_slice(&read_f32(grad.reshape([parents.len() * n])))
                }
                None => dparents.fill(0.0),
            }
        }
    }

    fn spec(&self) -> Option<MechanismSpec> {
        self.template.spec()
    }

    fn tensor_mechanism(&self) -> Option<&dyn TensorMechanism> {
        Some(self)
    }
}
