//! A lagged (time-series) model fitted over time nodes of a context graph.
//!
//! A 3-variable lag-1 system is simulated for 400 units over 12 steps:
//!
//! ```text
//! x1_t = 0.6 x1_{t-1}                + e1
//! x2_t = 0.5 x1_{t-1} + 0.3 x2_{t-1} + e2
//! x3_t = 0.8 x2_t     + 0.4 x3_{t-1} + e3      (e ~ N(0, 0.5²))
//! ```
//!
//! The model is one time slice with lagged roots `x1[t-1]`, `x2[t-1]`,
//! `x3[t-1]`; each step is a context observed at a time node, reading its
//! lagged columns from the step before. The fitted model's impulse response
//! to `do(x1_t = 1)` is compared with the truth's.
//!
//! Run with `cargo run --release --example lagged`.

use causalgrad::context::{lag_name, ContextGraph, Lagged};
use causalgrad::fit::FitConfig;
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Noise, Scm};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lag = |v: &str| lag_name(v, 1);
    let graph = CausalGraph::new(
        ["x1", "x2", "x3"]
            .into_iter()
            .map(String::from)
            .chain(["x1", "x2", "x3"].map(lag)),
        [
            (lag("x1"), "x1".to_string()),
            (lag("x1"), "x2".into()),
            (lag("x2"), "x2".into()),
            ("x2".into(), "x3".into()),
            (lag("x3"), "x3".into()),
        ],
    )?;
    let mut truth = Scm::builder(graph.clone()).build()?;
    truth.set_params("x1", &[0.0, 0.6])?;
    truth.set_params("x2", &[0.0, 0.5, 0.3])?;
    truth.set_params("x3", &[0.0, 0.8, 0.4])?; // parents: x2, x3[t-1]
    for v in ["x1", "x2", "x3"] {
        truth.set_noise(
            v,
            Noise::Gaussian {
                log_scale: 0.5f32.ln(),
            },
        )?;
    }
    let truth = Lagged::new(truth)?;

    let steps = truth.simulate(400, 12, 1)?;
    let contexts = ContextGraph::builder()
        .time_series("panel", steps)
        .build()?;
    let mut model = Scm::builder(graph).build()?;
    let report = model.fit_contexts(&contexts, &FitConfig::adam(0.05).with_steps(500))?;
    println!(
        "fitted over {} time steps; objective {:.4} -> {:.4}",
        contexts.contexts().count(),
        report.losses[0],
        report.losses.last().unwrap_or(&f64::NAN)
    );
    for v in ["x1", "x2", "x3"] {
        println!(
            "  {v}: truth {:?}, fitted {:?}",
            truth.scm().params(v)?,
            model
                .params(v)?
                .iter()
                .map(|p| (p * 1000.0).round() / 1000.0)
                .collect::<Vec<_>>()
        );
    }
    let fitted = Lagged::new(model)?;

    let (at, horizon) = (2, 6);
    let want = truth.impulse_response("x1", 1.0, at, horizon, 1000, 7)?;
    let got = fitted.impulse_response("x1", 1.0, at, horizon, 1000, 7)?;
    println!("\nimpulse response to do(x1_t = 1) at t = {at} (minus do(x1_t = 0))");
    println!(
        "{:>5} | {:>8} {:>8} | {:>8} {:>8} | {:>8} {:>8}",
        "step", "x1 true", "x1 fit", "x2 true", "x2 fit", "x3 true", "x3 fit"
    );
    for (k, (w, g)) in want.iter().zip(&got).enumerate() {
        println!(
            "{:>5} | {:>8.4} {:>8.4} | {:>8.4} {:>8.4} | {:>8.4} {:>8.4}",
            format!("t+{k}"),
            w[0],
            g[0],
            w[1],
            g[1],
            w[2],
            g[2]
        );
    }
    Ok(())
}
