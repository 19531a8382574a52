//! Invariants of structural causal models: `do` on a root equals
//! conditioning, fitted models reproduce the data's moments, and the
//! counterfactual of the factual intervention is the observed row.

use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Intervention, Mechanism, Noise, Scm};

fn nonlinear_chain() -> Scm {
    let graph = CausalGraph::new(["a", "b", "c"], [("a", "b"), ("a", "c"), ("b", "c")]).unwrap();
    let mut scm = Scm::builder(graph)
        .mechanism("b", Mechanism::additive(1, 4, 1))
        .build()
        .unwrap();
    scm.set_params("a", &[0.2]).unwrap();
    scm.set_params("c", &[0.1, 0.8, -0.6]).unwrap();
    scm.set_noise(
        "b",
        Noise::Gaussian {
            log_scale: (0.4f32).ln(),
        },
    )
    .unwrap();
    scm.set_noise(
        "c",
        Noise::Gaussian {
            log_scale: (0.3f32).ln(),
        },
    )
    .unwrap();
    scm
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn do_on_a_root_equals_conditioning_on_it() {
    let scm = nonlinear_chain();
    let samples = scm.sample(400_000, 21).unwrap();
    let (a, c) = (samples.column("a").unwrap(), samples.column("c").unwrap());
    let near: Vec<f64> = a
        .iter()
        .zip(c)
        .filter(|(a, _)| (**a - 1.0).abs() < 0.02)
        .map(|(_, c)| *c)
        .collect();
    assert!(near.len() > 1000);
    let conditioned = mean(&near);
    let intervened = scm
        .interventional_mean("c", &[("a", 1.0)], 200_000, 22)
        .unwrap();
    assert!(
        (conditioned - intervened).abs() < 0.03,
        "{conditioned} vs {intervened}"
    );
}

#[test]
fn samples_of_a_fitted_model_reproduce_the_data_moments() {
    let truth = nonlinear_chain();
    let data = truth.sample(20_000, 3).unwrap();
    let mut model = Scm::builder(truth.graph().clone())
        .mechanism("b", Mechanism::additive(1, 4, 9))
        .build()
        .unwrap();
    model
        .fit(&data, &FitConfig::adam(0.05).with_steps(400))
        .unwrap();
    let samples = model.sample(20_000, 4).unwrap();
    let names = ["a", "b", "c"];
    for x in names {
        let (d, s) = (data.column(x).unwrap(), samples.column(x).unwrap());
        assert!((mean(d) - mean(s)).abs() < 0.05, "mean of {x}");
        for y in names {
            let cov = |u: &[f64], v: &[f64]| {
                let (mu, mv) = (mean(u), mean(v));
                u.iter()
                    .zip(v)
                    .map(|(a, b)| (a - mu) * (b - mv))
                    .sum::<f64>()
                    / u.len() as f64
            };
            let (cd, cs) = (
                cov(d, data.column(y).unwrap()),
                cov(s, samples.column(y).unwrap()),
            );
            assert!(
                (cd - cs).abs() < 0.05 * (1.0 + cd.abs()),
                "cov({x}, {y}): {cd} vs {cs}"
            );
        }
    }
}

#[test]
fn counterfactual_of_the_factual_intervention_is_the_observation() {
    let scm = nonlinear_chain();
    let observed = scm.sample(20, 8).unwrap();
    assert_eq!(scm.counterfactual(&observed, &[]).unwrap(), observed);
    for row in 0..observed.n_rows() {
        let one = observed.take_rows(&[row]);
        let b = one.column("b").unwrap()[0];
        let cf = scm.counterfactual(&one, &[("b", b)]).unwrap();
        for name in ["a", "b", "c"] {
            let (x, y) = (cf.column(name).unwrap()[0], one.column(name).unwrap()[0]);
            assert!((x - y).abs() < 1e-5, "row {row}, {name}: {x} vs {y}");
        }
    }
}

#[test]
fn counterfactuals_move_only_descendants_by_the_right_amount() {
    let graph = CausalGraph::new(["a", "b", "c"], [("a", "b"), ("b", "c")]).unwrap();
    let mut scm = Scm::builder(graph).build().unwrap();
    scm.set_params("b", &[0.0, 2.0]).unwrap();
    scm.set_params("c", &[1.0, 3.0]).unwrap();
    let observed =
        Dataset::from_columns([("a", vec![1.0]), ("b", vec![2.5]), ("c", vec![8.0])]).unwrap();
    let cf = scm.counterfactual(&observed, &[("b", 0.0)]).unwrap();
    // Abduction: c's noise is 8 - (1 + 3 * 2.5) = -0.5; prediction: 1 + 0 - 0.5.
    assert_eq!(cf.column("a").unwrap(), [1.0]);
    assert!((cf.column("c").unwrap()[0] - 0.5).abs() < 1e-5);
}

#[test]
fn soft_interventions_shift_or_replace_mechanisms() {
    let scm = nonlinear_chain();
    let base = scm.interventional_mean("c", &[], 50_000, 1).unwrap();
    let shifted = scm
        .intervene_with("b", Intervention::Shift(1.0))
        .unwrap()
        .sample(50_000, 1)
        .unwrap();
    // c = 0.1 + 0.8 a - 0.6 b: shifting b by 1 moves c by -0.6.
    assert!((mean(shifted.column("c").unwrap()) - (base - 0.6)).abs() < 0.02);
    let replaced = scm
        .intervene_with("b", Intervention::Replace(Mechanism::linear(1)))
        .unwrap();
    assert!(replaced.sample(10, 1).is_ok());
    assert!(scm
        .intervene_with("b", Intervention::Replace(Mechanism::linear(2)))
        .is_err());
}
