//! The coverage study in the suite: effect intervals from the default
//! fit (tanh MLPs, Gaussian noise, early stopping) and its eight
//! ensemble members, on replicate data sets of a known confounded
//! nonlinear model, must cover the true effect in at least 90% of the
//! replicates at nominal 95%, with a mean width at most 1.5 times the
//! oracle width (2 · 1.96 · the estimates' spread across replicates), so
//! coverage is not bought with width. Fixed seeds; the full-size study on
//! scm5 is `cargo run --release --example coverage`.

use causalgrad::fit::{FitConfig, MemberConfig};
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Mechanism, Noise, Scm};
use causalgrad::uncertainty::coverage::{study, CoverageReport, Design};

#[derive(causalgrad::Differentiable, Clone, Debug)]
struct Outcome {
    a: f32,
    b: f32,
    c: f32,
}

/// `a tanh(x) + b z + c x z`.
#[causalgrad::differentiable]
fn outcome(p: &Outcome, v: [f32; 2]) -> f32 {
    p.a * v[1].tanh() + p.b * v[0] + p.c * v[0] * v[1]
}

fn graph() -> CausalGraph {
    CausalGraph::new(["z", "x", "y"], [("z", "x"), ("z", "y"), ("x", "y")]).unwrap()
}

/// z ~ N(0, 1); x = 0.6 z + 0.8 e; y = 1.5 tanh(x) + 0.5 z + 0.4 x z + 0.5 e.
fn truth() -> Scm {
    let y = Mechanism::from_fn(
        outcome::Function,
        Outcome {
            a: 1.5,
            b: 0.5,
            c: 0.4,
        },
    );
    let mut scm = Scm::builder(graph())
        .mechanism("x", Mechanism::linear(1))
        .mechanism("y", y)
        .build()
        .unwrap();
    scm.set_params("x", &[0.0, 0.6]).unwrap();
    let gaussian = |scale: f32| Noise::Gaussian {
        log_scale: scale.ln(),
    };
    scm.set_noise("x", gaussian(0.8)).unwrap();
    scm.set_noise("y", gaussian(0.5)).unwrap();
    scm
}

/// The model `causalgrad fit` makes by default for this graph.
fn fresh(seed: u64) -> Scm {
    let graph = graph();
    let mut builder = Scm::builder(graph.clone());
    for (index, name) in graph.topological_order().iter().enumerate() {
        let arity = graph.parents(name).unwrap().len();
        builder = builder.mechanism(name, Mechanism::default_for(arity, seed + index as u64));
    }
    builder.build().unwrap()
}

fn run(rows: usize, a: f64, b: f64) -> CoverageReport {
    let design = Design {
        truth: truth(),
        fresh: &|_| fresh(0),
        rows,
        treatment: "x".into(),
        outcome: "y".into(),
        a,
        b,
    };
    let report = study(
        &design,
        40,
        &FitConfig::default(),
        &MemberConfig::default(),
        0.95,
    )
    .unwrap();
    eprintln!(
        "rows {rows}, do(x = {b}) - do(x = {a}): truth {:.4}, coverage {:.3}, mean width {:.4}, oracle width {:.4}, bias {:+.4}",
        report.truth,
        report.coverage(),
        report.mean_width(),
        report.oracle_width(),
        report.bias()
    );
    report
}

#[test]
fn default_intervals_cover_the_effect_without_buying_it_with_width() {
    let report = run(1000, -1.0, 1.0);
    assert!(
        (report.truth - 3.0 * 1f64.tanh()).abs() < 0.01,
        "{}",
        report.truth
    );
    assert!(report.coverage() >= 0.9, "coverage {}", report.coverage());
    assert!(
        report.mean_width() <= 1.5 * report.oracle_width(),
        "width {} against the oracle's {}",
        report.mean_width(),
        report.oracle_width()
    );
}
