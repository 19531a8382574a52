//! Lagged models over time nodes: recovery from a simulated panel, `do`
//! at a step propagating forward, and invalid time structures.

use causalgrad::context::{lag_name, Context, ContextError, ContextGraph, Lagged};
use causalgrad::fit::{FitConfig, FitError};
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Noise, Scm};

/// x1_t = 0.6 x1_{t-1} + e, x2_t = 0.5 x1_{t-1} + 0.3 x2_{t-1} + e,
/// x3_t = 0.8 x2_t + 0.4 x3_{t-1} + e.
fn graph() -> CausalGraph {
    let lag = |v: &str| lag_name(v, 1);
    CausalGraph::new(
        [
            "x1".to_string(),
            "x2".into(),
            "x3".into(),
            lag("x1"),
            lag("x2"),
            lag("x3"),
        ],
        [
            (lag("x1"), "x1".to_string()),
            (lag("x1"), "x2".into()),
            (lag("x2"), "x2".into()),
            ("x2".into(), "x3".into()),
            (lag("x3"), "x3".into()),
        ],
    )
    .unwrap()
}

fn truth() -> Lagged {
    let mut scm = Scm::builder(graph())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    scm.set_params("x1", &[0.0, 0.6]).unwrap();
    scm.set_params("x2", &[0.0, 0.5, 0.3]).unwrap();
    // Parameters follow the parents in the graph's order.
    assert_eq!(scm.graph().parents("x3").unwrap(), ["x2", "x3[t-1]"]);
    let x3 = [0.0, 0.8, 0.4];
    scm.set_params("x3", &x3).unwrap();
    for v in ["x1", "x2", "x3"] {
        scm.set_noise(
            v,
            Noise::Gaussian {
                log_scale: 0.5f32.ln(),
            },
        )
        .unwrap();
    }
    Lagged::new(scm).unwrap()
}

#[test]
fn a_lagged_system_is_recovered_from_a_panel_over_time_nodes() {
    let truth = truth();
    assert_eq!(truth.max_lag(), 1);
    assert_eq!(truth.variables(), ["x1", "x2", "x3"]);
    let steps = truth.simulate(150, 8, 3).unwrap();
    let contexts = ContextGraph::builder()
        .time_series("panel", steps)
        .build()
        .unwrap();
    assert_eq!(contexts.observed_at(3), Some("panel@3"));
    let mut model = Scm::builder(graph())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    let report = model
        .fit_contexts(&contexts, &FitConfig::adam(0.05).with_steps(400))
        .unwrap();
    for v in ["x1", "x2", "x3"] {
        let fitted = model.params(v).unwrap();
        let expected = truth.scm().params(v).unwrap();
        for (f, e) in fitted.iter().zip(&expected) {
            assert!((f - e).abs() < 0.06, "{v}: {fitted:?} vs {expected:?}");
        }
        assert!((model.noise(v).unwrap().scale().unwrap() - 0.5).abs() < 0.05);
    }
    // The first step only provides lagged values: it has no loss terms.
    let last = report.evaluations.last().unwrap();
    assert_eq!(last.contexts[0].1, 0.0);
    assert!(last.contexts[1..].iter().all(|(_, v)| *v > 0.0));

    // The fitted model's impulse response matches the truth's.
    let fitted = Lagged::new(model).unwrap();
    let want = truth.impulse_response("x1", 1.0, 2, 4, 200, 9).unwrap();
    let got = fitted.impulse_response("x1", 1.0, 2, 4, 200, 9).unwrap();
    for (w, g) in want.iter().flatten().zip(got.iter().flatten()) {
        assert!((w - g).abs() < 0.08, "{want:?} vs {got:?}");
    }
}

#[test]
fn do_at_a_step_propagates_to_later_steps_only() {
    let truth = truth();
    let base = truth.simulate(50, 6, 1).unwrap();
    let treated = truth.simulate_with(50, 6, 1, &[(3, "x1", 2.0)]).unwrap();
    for step in 0..3 {
        assert_eq!(base[step], treated[step], "step {step}");
    }
    assert!(treated[3].column("x1").unwrap().iter().all(|&v| v == 2.0));
    for step in 4..6 {
        assert_ne!(base[step], treated[step], "step {step}");
    }
    // Exact for a linear model: x1 decays by 0.6 per step, x2 picks it up
    // with 0.5 and keeps 0.3 of itself, x3 follows x2 with 0.8.
    let response = truth.impulse_response("x1", 1.0, 3, 2, 50, 1).unwrap();
    let expected = [
        [1.0, 0.0, 0.0],
        [0.6, 0.5, 0.4],
        [0.36, 0.3 + 0.15, 0.8 * 0.45 + 0.4 * 0.4],
    ];
    for (row, want) in response.iter().zip(expected) {
        for (g, w) in row.iter().zip(want) {
            assert!((g - w).abs() < 1e-5, "{response:?}");
        }
    }
    assert!(matches!(
        truth.simulate_with(5, 3, 1, &[(1, "x1[t-1]", 1.0)]),
        Err(ContextError::BadLagVariable { .. })
    ));
}

#[test]
fn invalid_time_structures_are_typed_errors() {
    let data = truth().simulate(10, 1, 1).unwrap().remove(0);
    let err = ContextGraph::builder()
        .time_step("a")
        .time_step("b")
        .time_step("c")
        .next("a", "b")
        .next("b", "c")
        .next("c", "a")
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, ContextError::TimeCycle { cycle } if cycle.len() == 3),
        "{err}"
    );
    let err = ContextGraph::builder()
        .time_step("a")
        .time_step("b")
        .time_step("c")
        .next("a", "b")
        .next("a", "c")
        .build()
        .unwrap_err();
    assert!(matches!(err, ContextError::TimeBranch { .. }), "{err}");
    let err = ContextGraph::builder()
        .context(Context::new("lab", data.clone()).observed_at("t9"))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, ContextError::UnknownTimeStep { name, context: Some(c) } if name == "t9" && c == "lab"),
        "{err}"
    );

    // Lagged columns need a time step to come from.
    let mut model = Scm::builder(graph())
        .noise_default(Noise::gaussian())
        .build()
        .unwrap();
    let untimed = ContextGraph::builder()
        .context(Context::new("lab", data.clone()))
        .build()
        .unwrap();
    let err = model
        .fit_contexts(&untimed, &FitConfig::adam(0.05).with_steps(5))
        .unwrap_err();
    assert!(
        matches!(&err, FitError::Context(ContextError::MissingVariable { variable, .. }) if variable == "x1[t-1]"),
        "{err}"
    );
    // Steps whose units do not line up.
    let short = truth().simulate(4, 1, 2).unwrap().remove(0);
    let misaligned = ContextGraph::builder()
        .time_series("panel", vec![data, short])
        .build()
        .unwrap();
    let err = model
        .fit_contexts(&misaligned, &FitConfig::adam(0.05).with_steps(5))
        .unwrap_err();
    assert!(
        matches!(err, FitError::Context(ContextError::BadLag { .. })),
        "{err}"
    );
    // A lagged variable must be a root.
    let graph = CausalGraph::new(["x", "x[t-1]"], [("x", "x[t-1]")]).unwrap();
    let err = Lagged::new(
        Scm::builder(graph)
            .noise_default(Noise::gaussian())
            .build()
            .unwrap(),
    )
    .unwrap_err();
    assert!(matches!(err, ContextError::BadLagVariable { .. }), "{err}");
}
