//! Mechanism choice by held-out likelihood (`causalgrad::fit::select`):
//! on data from a known model with a linear, a nonlinear and a
//! skewed-noise variable, each variable gets the family its truth
//! calls for, and the selected model is each variable's winning node.

use std::collections::BTreeMap;

use causalgrad::data::Dataset;
use causalgrad::fit::select::{default_candidates, select, SelectConfig};
use causalgrad::fit::{FitConfig, FitError};
use causalgrad::graph::CausalGraph;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp, Normal};

/// `a ~ N(0, 1)`; `b = 2a + N(0, 0.5²)` (linear);
/// `c = 2 sin(1.5 a) + N(0, 0.3²)` (nonlinear);
/// `d = b + Exp(1)` (linear, skewed noise).
fn data(rows: usize) -> Dataset {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let normal = Normal::new(0.0, 1.0).unwrap();
    let exp = Exp::new(1.0).unwrap();
    let a: Vec<f64> = (0..rows).map(|_| normal.sample(&mut rng)).collect();
    let b: Vec<f64> = a
        .iter()
        .map(|a| 2.0 * a + 0.5 * normal.sample(&mut rng))
        .collect();
    let c: Vec<f64> = a
        .iter()
        .map(|a| 2.0 * (1.5 * a).sin() + 0.3 * normal.sample(&mut rng))
        .collect();
    let d: Vec<f64> = b.iter().map(|b| b + exp.sample(&mut rng)).collect();
    Dataset::from_columns([("a", a), ("b", b), ("c", c), ("d", d)]).unwrap()
}

fn graph() -> CausalGraph {
    CausalGraph::new(["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d")]).unwrap()
}

fn config() -> FitConfig {
    FitConfig::adam(0.02)
        .with_steps(3000)
        .with_validation(0.2)
        .with_eval_every(10)
        .with_early_stopping(25)
}

#[test]
fn each_variable_gets_the_family_its_truth_calls_for() {
    let data = data(4000);
    let settings = SelectConfig::default();
    let candidates = default_candidates(&graph(), &BTreeMap::new(), &settings, 0).unwrap();
    let mut labels: Vec<String> = candidates.iter().map(|c| c.label.clone()).collect();
    let selection = select(candidates, &data, &config(), &settings).unwrap();
    labels.push("mixture noise".into());
    assert_eq!(selection.labels, labels);
    let chosen = |name: &str| {
        let choice = selection
            .variables
            .iter()
            .find(|v| v.variable == name)
            .unwrap();
        (choice.mechanism.clone(), choice.noise)
    };
    eprintln!("{:#?}", selection.variables);
    let (b_mechanism, b_noise) = chosen("b");
    assert_eq!((b_mechanism.as_str(), b_noise), ("linear", "gaussian"));
    let (c_mechanism, _) = chosen("c");
    assert_ne!(c_mechanism, "linear");
    let (d_mechanism, d_noise) = chosen("d");
    assert_eq!((d_mechanism.as_str(), d_noise), ("linear", "mixture"));

    // The selected model is each variable's winning node: its held-out
    // log-likelihoods are the chosen scores, and no single candidate
    // scores better in total.
    let (_, valid) = data.split(0.2, config().seed());
    let scores = selection.model.log_likelihoods(&valid).unwrap();
    for (score, choice) in scores.iter().zip(&selection.variables) {
        assert!(
            (score - choice.scores[choice.chosen]).abs() < 1e-9,
            "{}: {score} against {}",
            choice.variable,
            choice.scores[choice.chosen]
        );
    }
    let total = selection.validation_log_likelihood();
    for k in 0..3 {
        let candidate: f64 = selection.variables.iter().map(|v| v.scores[k]).sum();
        assert!(
            total >= candidate - 0.01,
            "{} scores {candidate}, the selection {total}",
            selection.labels[k]
        );
    }
}

#[test]
fn selection_needs_held_out_rows() {
    let settings = SelectConfig::default();
    let candidates = default_candidates(&graph(), &BTreeMap::new(), &settings, 0).unwrap();
    let error = select(candidates, &data(200), &FitConfig::adam(0.02), &settings).unwrap_err();
    assert!(
        matches!(&error, FitError::Config(message) if message.contains("validation")),
        "{error}"
    );
}
