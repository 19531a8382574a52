//! A ready multi-layer perceptron mechanism, configured through burn's
//! `Config`.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};
use rand::{RngExt, SeedableRng};

use super::neural::NeuralMean;
use super::Mechanism;
use crate::scm::activation_ops::{fast_activation, fused_mlp};
use crate::scm::spec::{Activation, MechanismSpec};

/// Settings of an [`Mlp`]: `inputs → hidden[0] → … → 1`, the activation
/// after every hidden layer, weights drawn from `seed`.
///
/// ```
/// use burn::tensor::Device;
/// use causalgrad::scm::{Activation, Mechanism, MlpConfig};
///
/// let mlp = MlpConfig::new(2).with_hidden(vec![16, 8]).with_activation(Activation::Relu).init(&Device::flex());
/// let mechanism = Mechanism::neural(mlp);
/// assert_eq!(mechanism.params().len(), (2 * 16 + 16) + (16 * 8 + 8) + (8 + 1));
/// ```
#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Number of inputs (the variable's parents).
    pub inputs: usize,
    /// Widths of the hidden layers.
    #[config(default = "vec![16]")]
    pub hidden: Vec<usize>,
    /// The activation after each hidden layer.
    #[config(default = "Activation::Tanh")]
    pub activation: Activation,
    /// Seed of the initial weights.
    #[config(default = 0)]
    pub seed: u64,
}

/// A multi-layer perceptron with one output: the mean of a variable given
/// its parents.
#[derive(Module, Debug)]
pub struct Mlp {
    /// The affine layers, the last one with a single output.
    pub layers: Vec<Linear>,
    /// The activation after each layer but the last.
    #[module(skip)]
    pub activation: Activation,
}

impl MlpConfig {
    /// The network on `device`, with weights and biases uniform in
    /// `±1/sqrt(fan_in)` drawn from `seed`.
    pub fn init(&self, device: &Device) -> Mlp {
        let mut rng = rand::rngs::StdRng::seed_from_u64(self.seed);
        let mut widths = vec![self.inputs];
        widths.extend(&self.hidden);
        widths.push(1);
        let layers = widths
            .windows(2)
            .map(|pair| {
                let (fan_in, fan_out) = (pair[0], pair[1]);
                let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
                let mut draw = |len: usize| -> Vec<f32> {
                    (0..len).map(|_| rng.random_range(-bound..=bound)).collect()
                };
                let mut layer = LinearConfig::new(fan_in, fan_out).init(device);
                let weight = draw(fan_in * fan_out);
                let bias = draw(fan_out);
                layer.weight = Param::from_tensor(Tensor::from_data(
                    TensorData::new(weight, [fan_in, fan_out]),
                    device,
                ));
                layer.bias = Some(Param::from_tensor(Tensor::from_data(
                    TensorData::new(bias, [fan_out]),
                    device,
                )));
                layer
            })
            .collect();
        Mlp {
            layers,
            activation: self.activation,
        }
    }
}

impl Mlp {
    /// The outputs `[n, 1]` for inputs `[n, inputs]`.
    ///
    /// With one hidden layer this is [`fused_mlp`], one operation on Flex;
    /// deeper networks run burn's `Linear`s with the fast activations
    /// ([`fast_activation`]) between them. Both are burn's own operations
    /// on other devices.
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        if let [hidden, output] = self.layers.as_slice() {
            if let (Some(b1), Some(b2)) = (&hidden.bias, &output.bias) {
                if output.weight.dims()[1] == 1 {
                    return fused_mlp(
                        input,
                        hidden.weight.val(),
                        b1.val(),
                        output.weight.val(),
                        b2.val(),
                        self.activation,
                    );
                }
            }
        }
        let last = self.layers.len().saturating_sub(1);
        let mut x = input;
        for (index, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if index < last {
                x = fast_activation(x, self.activation);
            }
        }
        x
    }

    fn hidden(&self) -> Vec<usize> {
        let last = self.layers.len().saturating_sub(1);
        self.layers[..last]
            .iter()
            .map(|layer| layer.weight.dims()[1])
            .collect()
    }
}

impl NeuralMean for Mlp {
    fn mean(&self, parents: Tensor<2>) -> Tensor<2> {
        self.forward(parents)
    }

    fn arity(&self) -> usize {
        self.layers
            .first()
            .map_or(0, |layer| layer.weight.dims()[0])
    }

    fn spec(&self) -> Option<MechanismSpec> {
        Some(MechanismSpec::Mlp {
            arity: self.arity(),
            hidden: self.hidden(),
            activation: self.activation,
        })
    }
}

impl Mechanism {
    /// An [`Mlp`] (a burn module, differentiated by burn's autodiff on any
    /// device) over `arity` parents with the given hidden widths and
    /// activation, initialised from `seed`. [`Mechanism::mlp`] is the same
    /// network, with the same parameters for the same seed, on the CPU's
    /// SIMD lanes and several times faster there; this one suits GPU
    /// backends and is the starting point for your own burn modules.
    ///
    /// ```
    /// use causalgrad::scm::{Activation, Mechanism};
    ///
    /// let mechanism = Mechanism::burn_mlp(2, &[16], Activation::Tanh, 7);
    /// let mut mean = [0.0f32; 3];
    /// mechanism.forward(&[&[0.1, 0.2, 0.3], &[1.0, 0.0, -1.0]], &mut mean);
    /// assert!(mean.iter().all(|m| m.is_finite()));
    /// ```
    pub fn burn_mlp(arity: usize, hidden: &[usize], activation: Activation, seed: u64) -> Self {
        let mlp = MlpConfig::new(arity)
            .with_hidden(hidden.to_vec())
            .with_activation(activation)
            .with_seed(seed)
            .init(&Device::flex());
        Mechanism::neural(mlp)
    }
}
