//! A small confounded nonlinear model whose interventions stay inside the
//! data's support, for coverage studies of effect intervals
//! (`tests/coverage.rs`, `examples/coverage.rs`):
//!
//! ```text
//! z = N
//! x = 0.6 z + 0.8 N
//! y = 1.5 tanh(x) + 0.5 z + 0.4 x z + 0.5 N
//! ```
//!
//! `x` given `z` has standard deviation 0.8, so `do(x = ±1)` asks about
//! `(x, z)` pairs the data hold; the true effect of `do(x = 1)` against
//! `do(x = -1)` is `3 tanh(1)`.

use crate::graph::CausalGraph;
use crate::scm::{Mechanism, Noise, Scm};
use crate::{differentiable, Differentiable, Real};

/// Parameters of `y`'s mechanism.
#[derive(Differentiable, Clone, Debug, PartialEq)]
pub struct Outcome<T: Real> {
    /// Weight of `tanh(x)`.
    pub a: T,
    /// Weight of the confounder.
    pub b: T,
    /// Weight of the interaction `x z`.
    pub c: T,
}

/// `a tanh(x) + b z + c x z`, parents `[z, x]`.
#[differentiable]
pub fn outcome_mean<T: Real>(p: &Outcome<T>, v: [T; 2]) -> T {
    p.a * v[1].tanh() + p.b * v[0] + p.c * v[0] * v[1]
}

/// The graph `z → x → y`, `z → y`.
pub fn graph() -> CausalGraph {
    CausalGraph::new(["z", "x", "y"], [("z", "x"), ("z", "y"), ("x", "y")]).expect("a valid graph")
}

/// The true model.
///
/// ```
/// use causalgrad::models::confounded;
///
/// let effect = confounded::truth().ate("x", "y", -1.0, 1.0, 100_000, 0)?;
/// assert!((effect.ate - 3.0 * 1f64.tanh()).abs() < 0.01);
/// # Ok::<(), causalgrad::scm::ScmError>(())
/// ```
pub fn truth() -> Scm {
    let y = Mechanism::from_fn(
        outcome_mean::Function,
        Outcome {
            a: 1.5f32,
            b: 0.5,
            c: 0.4,
        },
    );
    let mut scm = Scm::builder(graph())
        .mechanism("x", Mechanism::linear(1))
        .mechanism("y", y)
        .build()
        .expect("the mechanisms fit the graph");
    scm.set_params("x", &[0.0, 0.6]).expect("two parameters");
    for (variable, scale) in [("x", 0.8f32), ("y", 0.5)] {
        scm.set_noise(
            variable,
            Noise::Gaussian {
                log_scale: scale.ln(),
            },
        )
        .expect("a continuous variable");
    }
    scm
}

/// The model `causalgrad fit` makes for this graph by default
/// ([`Mechanism::default_for`] per variable, seeded from `seed`).
pub fn default_model(seed: u64) -> Scm {
    let graph = graph();
    let mut builder = Scm::builder(graph.clone());
    for (index, name) in graph.topological_order().iter().enumerate() {
        let arity = graph.parents(name).expect("its own variables").len();
        builder = builder.mechanism(name, Mechanism::default_for(arity, seed + index as u64));
    }
    builder.build().expect("the mechanisms fit the graph")
}
