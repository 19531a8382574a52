//! The bundled 5-variable benchmark model (`data/scm5`, see its
//! `SOURCE.md`), written with `#[differentiable]` mechanisms:
//!
//! ```text
//! x1 = N
//! x2 = a*x1 + b*tanh(c*x1)        + s2 N
//! x3 = d*x1*x2 + e*sin(x2)        + s3 N
//! x4 = W2 . tanh(W1 [x2, x3] + b1) + b2 + s4 N     (a 2-16-1 network)
//! x5 = f*exp(-g*x3^2) + h*x4      + s5 N
//! ```
//!
//! The same model family fits the data in the quickstart example, the
//! accuracy tests and the `fit` benchmark; [`Init`] and [`Truth`] read the
//! shared initialisation and the ground truth.

use std::path::Path;

use serde::Deserialize;

use crate::graph::CausalGraph;
use crate::scm::{Mechanism, Noise, Scm, ScmError};
use crate::{differentiable, Differentiable, Real};

/// Parameters of `x2`'s mechanism.
#[derive(Differentiable, Clone, Debug, PartialEq)]
pub struct X2<T: Real> {
    /// Slope.
    pub a: T,
    /// Height of the tanh step.
    pub b: T,
    /// Steepness of the tanh step.
    pub c: T,
}

/// `a*x1 + b*tanh(c*x1)`.
#[differentiable]
pub fn x2_mean<T: Real>(p: &X2<T>, x: [T; 1]) -> T {
    p.a * x[0] + p.b * (p.c * x[0]).tanh()
}

/// Parameters of `x3`'s mechanism.
#[derive(Differentiable, Clone, Debug, PartialEq)]
pub struct X3<T: Real> {
    /// Interaction weight.
    pub d: T,
    /// Weight of the sine.
    pub e: T,
}

/// `d*x1*x2 + e*sin(x2)`.
#[differentiable]
pub fn x3_mean<T: Real>(p: &X3<T>, x: [T; 2]) -> T {
    p.d * x[0] * x[1] + p.e * x[1].sin()
}

/// Weights of the 2-16-1 tanh network of `x4`.
#[derive(Differentiable, Clone, Debug, PartialEq)]
pub struct Mlp16<T: Real> {
    /// Input weights, one row per hidden unit.
    pub w1: [[T; 2]; 16],
    /// Hidden biases.
    pub b1: [T; 16],
    /// Output weights.
    pub w2: [T; 16],
    /// Output bias.
    pub b2: T,
}

/// `W2 . tanh(W1 [x2, x3] + b1) + b2`, as plain loops.
#[differentiable]
pub fn x4_mean<T: Real>(p: &Mlp16<T>, x: [T; 2]) -> T {
    let mut out = p.b2;
    for j in 0..16 {
        let h = (p.w1[j][0] * x[0] + p.w1[j][1] * x[1] + p.b1[j]).tanh();
        out += p.w2[j] * h;
    }
    out
}

/// Parameters of `x5`'s mechanism.
#[derive(Differentiable, Clone, Debug, PartialEq)]
pub struct X5<T: Real> {
    /// Height of the bump.
    pub f: T,
    /// Width parameter of the bump.
    pub g: T,
    /// Weight of `x4`.
    pub h: T,
}

/// `f*exp(-g*x3^2) + h*x4`.
#[differentiable]
pub fn x5_mean<T: Real>(p: &X5<T>, x: [T; 2]) -> T {
    p.f * (-p.g * x[0] * x[0]).exp() + p.h * x[1]
}

/// The causal graph `x1 -> x2 -> x3 -> x4 -> x5` with `x1 -> x3`,
/// `x2 -> x4`, `x3 -> x5`.
pub fn graph() -> CausalGraph {
    CausalGraph::new(
        ["x1", "x2", "x3", "x4", "x5"],
        [
            ("x1", "x2"),
            ("x1", "x3"),
            ("x2", "x3"),
            ("x2", "x4"),
            ("x3", "x4"),
            ("x3", "x5"),
            ("x4", "x5"),
        ],
    )
    .expect("the scm5 graph is a valid DAG")
}

/// Parameter values for the whole model (an initialisation or the truth).
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// `x2`'s parameters.
    pub x2: X2<f32>,
    /// `x3`'s parameters.
    pub x3: X3<f32>,
    /// `x4`'s network.
    pub x4: Mlp16<f32>,
    /// `x5`'s parameters.
    pub x5: X5<f32>,
    /// Noise scales of x1..x5.
    pub scales: [f32; 5],
}

/// Builds the model with `params` (x1's mean starts at 0).
pub fn model(params: &Params) -> Scm {
    model_with_x4(
        params,
        Mechanism::from_generic_fn(x4_mean::Function, params.x4.clone()),
    )
    .expect("the scm5 mechanisms match the graph")
}

/// The model with `x4`'s mechanism replaced (for example by a burn
/// network, [`Mechanism::mlp`]); `params.x4` is unused. An `x4` mechanism
/// that does not read two parents is an error.
pub fn model_with_x4(params: &Params, x4: Mechanism) -> Result<Scm, ScmError> {
    let mut scm = Scm::builder(graph())
        .mechanism(
            "x2",
            Mechanism::from_generic_fn(x2_mean::Function, params.x2.clone()),
        )
        .mechanism(
            "x3",
            Mechanism::from_generic_fn(x3_mean::Function, params.x3.clone()),
        )
        .mechanism("x4", x4)
        .mechanism(
            "x5",
            Mechanism::from_generic_fn(x5_mean::Function, params.x5.clone()),
        )
        .build()?;
    for (name, scale) in ["x1", "x2", "x3", "x4", "x5"].iter().zip(params.scales) {
        scm.set_noise(
            name,
            Noise::Gaussian {
                log_scale: scale.ln(),
            },
        )
        .expect("scm5 variables exist");
    }
    Ok(scm)
}

/// The scm5 graph with the command line's default mechanisms, as
/// `causalgrad fit` builds it without a model file: `x1` (a root) a
/// learned mean ([`Mechanism::linear`] over no parents), `x2`..`x5` each a
/// 16-unit tanh network over its parents ([`Mechanism::mlp`], the
/// `index`-th variable in topological order seeded `seed + index`), and
/// the default noise everywhere (the three-component mixture,
/// [`Noise::mixture`]).
///
/// ```
/// use causalgrad::models::scm5;
///
/// let scm = scm5::default_model(0);
/// assert_eq!(scm.mechanism("x4")?.describe(), "mlp 2→16→1 (tanh)");
/// assert_eq!(scm.mechanism("x2")?.params().len(), 16 + 16 + 16 + 1);
/// # Ok::<(), causalgrad::scm::ScmError>(())
/// ```
pub fn default_model(seed: u64) -> Scm {
    let graph = graph();
    let mut builder = Scm::builder(graph.clone());
    for (index, name) in graph.topological_order().iter().enumerate() {
        let arity = graph.parents(name).expect("scm5 variables exist").len();
        let mechanism = if arity == 0 {
            Mechanism::linear(0)
        } else {
            Mechanism::mlp(
                arity,
                &[16],
                crate::scm::Activation::Tanh,
                seed.wrapping_add(index as u64),
            )
        };
        builder = builder.mechanism(name, mechanism);
    }
    builder
        .build()
        .expect("the default mechanisms match the graph")
}

#[derive(Deserialize)]
struct InitFile {
    scalars: Vec<f32>,
    log_sigma: Vec<f32>,
    #[serde(rename = "W1")]
    w1: Vec<[f32; 2]>,
    b1: Vec<f32>,
    #[serde(rename = "W2")]
    w2: Vec<f32>,
    b2: f32,
}

#[derive(Deserialize)]
struct TruthFile {
    params: std::collections::HashMap<String, f32>,
    noise_scales: std::collections::HashMap<String, f32>,
    mlp: TruthMlp,
    interventions: std::collections::HashMap<String, TruthIntervention>,
}

#[derive(Deserialize)]
struct TruthMlp {
    #[serde(rename = "W1")]
    w1: Vec<[f32; 2]>,
    b1: Vec<f32>,
    #[serde(rename = "W2")]
    w2: Vec<f32>,
    b2: f32,
}

#[derive(Deserialize)]
struct TruthIntervention {
    #[serde(rename = "E_x5_mc")]
    e_x5: f64,
}

/// An error reading a JSON file of the benchmark.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", .path.display())]
pub struct JsonError {
    /// The file.
    pub path: std::path::PathBuf,
    /// What went wrong.
    pub message: String,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, JsonError> {
    let text = std::fs::read_to_string(path).map_err(|error| JsonError {
        path: path.to_path_buf(),
        message: error.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|error| JsonError {
        path: path.to_path_buf(),
        message: format!("line {}, column {}: {error}", error.line(), error.column()),
    })
}

fn mlp(
    w1: &[[f32; 2]],
    b1: &[f32],
    w2: &[f32],
    b2: f32,
    path: &Path,
) -> Result<Mlp16<f32>, JsonError> {
    if w1.len() != 16 || b1.len() != 16 || w2.len() != 16 {
        return Err(JsonError {
            path: path.to_path_buf(),
            message: "the network must have 16 hidden units".to_string(),
        });
    }
    Ok(Mlp16 {
        w1: core::array::from_fn(|j| w1[j]),
        b1: core::array::from_fn(|j| b1[j]),
        w2: core::array::from_fn(|j| w2[j]),
        b2,
    })
}

/// The shared initialisation (`init_seed0.json`).
pub struct Init;

impl Init {
    /// Reads an initialisation file: scalars `a..h`, log-sigmas of x2..x5,
    /// and the network's weights (x1 starts with scale 1).
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Params, JsonError> {
        let path = path.as_ref();
        let file: InitFile = read_json(path)?;
        if file.scalars.len() != 8 || file.log_sigma.len() != 4 {
            return Err(JsonError {
                path: path.to_path_buf(),
                message: "expected 8 scalars (a..h) and 4 log-sigmas (x2..x5)".to_string(),
            });
        }
        let s = &file.scalars;
        let l = &file.log_sigma;
        Ok(Params {
            x2: X2 {
                a: s[0],
                b: s[1],
                c: s[2],
            },
            x3: X3 { d: s[3], e: s[4] },
            x4: mlp(&file.w1, &file.b1, &file.w2, file.b2, path)?,
            x5: X5 {
                f: s[5],
                g: s[6],
                h: s[7],
            },
            scales: [1.0, l[0].exp(), l[1].exp(), l[2].exp(), l[3].exp()],
        })
    }
}

/// The ground truth (`truth.json`).
#[derive(Clone, Debug)]
pub struct Truth {
    /// The true parameters.
    pub params: Params,
    /// E[x5 | do(x2 = 1)].
    pub e_x5_do_x2_1: f64,
    /// E[x5 | do(x2 = -1)].
    pub e_x5_do_x2_m1: f64,
}

impl Truth {
    /// Reads `truth.json`.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Truth, JsonError> {
        let path = path.as_ref();
        let file: TruthFile = read_json(path)?;
        let missing = |what: &str| JsonError {
            path: path.to_path_buf(),
            message: format!("missing `{what}`"),
        };
        let p = |name: &str| file.params.get(name).copied().ok_or_else(|| missing(name));
        let scale = |name: &str| {
            file.noise_scales
                .get(name)
                .copied()
                .ok_or_else(|| missing(name))
        };
        let effect = |key: &str| {
            file.interventions
                .get(key)
                .map(|i| i.e_x5)
                .ok_or_else(|| missing(key))
        };
        Ok(Truth {
            params: Params {
                x2: X2 {
                    a: p("a")?,
                    b: p("b")?,
                    c: p("c")?,
                },
                x3: X3 {
                    d: p("d")?,
                    e: p("e")?,
                },
                x4: mlp(&file.mlp.w1, &file.mlp.b1, &file.mlp.w2, file.mlp.b2, path)?,
                x5: X5 {
                    f: p("f")?,
                    g: p("g")?,
                    h: p("h")?,
                },
                scales: [
                    scale("x1")?,
                    scale("x2")?,
                    scale("x3")?,
                    scale("x4")?,
                    scale("x5")?,
                ],
            },
            e_x5_do_x2_1: effect("do(x2=1.0)")?,
            e_x5_do_x2_m1: effect("do(x2=-1.0)")?,
        })
    }
}

/// The bundled data directory (`<crate>/data/scm5`).
pub fn data_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("scm5")
}
