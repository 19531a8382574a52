//! Descriptions of the built-in mechanism kinds, so a saved model can be
//! rebuilt without the code that made it.

use serde::{Deserialize, Serialize};

/// The non-linearity between the layers of an [`Mlp`](crate::scm::Mlp).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `tanh(x)`.
    #[default]
    Tanh,
    /// `max(x, 0)`.
    Relu,
    /// The logistic function `1 / (1 + e^-x)`.
    Sigmoid,
    /// `x * sigmoid(x)`.
    Silu,
    /// The Gaussian error linear unit.
    Gelu,
}

impl Activation {
    /// The name used in model files (`"tanh"`, `"relu"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Silu => "silu",
            Activation::Gelu => "gelu",
        }
    }

    /// The activation called `name` (as in [`Activation::name`]).
    pub fn from_name(name: &str) -> Option<Activation> {
        [
            Activation::Tanh,
            Activation::Relu,
            Activation::Sigmoid,
            Activation::Silu,
            Activation::Gelu,
        ]
        .into_iter()
        .find(|activation| activation.name() == name)
    }
}

/// What a built-in mechanism is, without its parameter values.
///
/// Mechanisms built from user code (`#[differentiable]` functions, user
/// burn modules) have no spec: a model holding them is rebuilt by the
/// user's code, and only its parameters are loaded from a file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MechanismSpec {
    /// [`Mechanism::linear`](crate::scm::Mechanism::linear).
    Linear {
        /// Number of parents.
        arity: usize,
    },
    /// [`Mechanism::additive`](crate::scm::Mechanism::additive).
    Additive {
        /// Number of parents.
        arity: usize,
        /// Hidden units of each parent's network.
        hidden: usize,
    },
    /// [`Mechanism::mlp`](crate::scm::Mechanism::mlp).
    Mlp {
        /// Number of parents.
        arity: usize,
        /// Widths of the hidden layers.
        hidden: Vec<usize>,
        /// The activation between layers.
        activation: Activation,
    },
    /// [`Mechanism::formulas`](crate::scm::Mechanism::formulas): the text
    /// is kept, and compiled again when the model is loaded.
    Formula {
        /// One formula per output.
        formulas: Vec<String>,
        /// The parents, in column order.
        inputs: Vec<String>,
        /// The parameters, in the order of the parameter vector.
        params: Vec<String>,
    },
}

impl MechanismSpec {
    /// Whether the kind works on standardised values: every built-in kind
    /// but a formula, which is written in the data's units.
    pub fn reads_standardized_units(&self) -> bool {
        !matches!(self, MechanismSpec::Formula { .. })
    }
}
