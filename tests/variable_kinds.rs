//! Binary, categorical and count variables: recovery of known models,
//! effects on every kind, counterfactual abduction, model files, context
//! fits and bad input (the continuous families are in `noise_families.rs`).

use causalgrad::context::{Context, ContextGraph};
use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Mechanism, Noise, Scm, VariableKind};

fn config(steps: usize) -> FitConfig {
    FitConfig::adam(0.05).with_steps(steps)
}

/// `x → t → y`, `x → y`: a continuous confounder, a binary treatment and a
/// binary outcome, all logistic-linear.
fn binary_truth() -> Scm {
    let graph = CausalGraph::new(["x", "t", "y"], [("x", "t"), ("x", "y"), ("t", "y")]).unwrap();
    let mut truth = Scm::builder(graph)
        .kind("t", VariableKind::Binary)
        .kind("y", VariableKind::Binary)
        .build()
        .unwrap();
    truth.set_params("x", &[0.5]).unwrap();
    truth.set_params("t", &[-0.3, 1.2]).unwrap();
    truth.set_params("y", &[-0.5, 0.8, 1.5]).unwrap();
    truth
}

#[test]
fn a_logistic_mechanism_recovers_its_coefficients() {
    let truth = binary_truth();
    let data = truth.sample(20_000, 1).unwrap();
    assert!(data
        .column("y")
        .unwrap()
        .iter()
        .all(|&v| v == 0.0 || v == 1.0));
    let graph = truth.graph().clone();
    let mut model = Scm::builder(graph)
        .kind("t", VariableKind::Binary)
        .kind("y", VariableKind::Binary)
        .build()
        .unwrap();
    model.fit(&data, &config(600)).unwrap();
    for (variable, expected) in [("t", [-0.3, 1.2].as_slice()), ("y", &[-0.5, 0.8, 1.5])] {
        let fitted = model.params(variable).unwrap();
        for (f, e) in fitted.iter().zip(expected) {
            assert!(
                (f - e).abs() < 0.12,
                "{variable}: {fitted:?} vs {expected:?}"
            );
        }
    }
}

#[test]
fn the_effect_on_a_binary_outcome_is_a_difference_of_probabilities() {
    let truth = binary_truth();
    let exact = truth.ate("t", "y", 0.0, 1.0, 200_000, 9).unwrap();
    // By hand: E_x[sigmoid(-0.5 + 0.8x + 1.5) − sigmoid(-0.5 + 0.8x)], x ~ N(0.5, 1).
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    let n = 200_000;
    let by_hand: f64 = (0..n)
        .map(|i| {
            let u = (i as f64 + 0.5) / n as f64;
            let x = 0.5 + normal_quantile(u);
            sigmoid(-0.5 + 0.8 * x + 1.5) - sigmoid(-0.5 + 0.8 * x)
        })
        .sum::<f64>()
        / n as f64;
    assert!(
        (exact.ate - by_hand).abs() < 3e-3,
        "{} vs {by_hand}",
        exact.ate
    );
    assert!(exact.mean_a > 0.0 && exact.mean_b < 1.0);

    let data = truth.sample(10_000, 2).unwrap();
    let graph = truth.graph().clone();
    let mut model = Scm::builder(graph.clone())
        .kind("t", VariableKind::Binary)
        .kind("y", VariableKind::Binary)
        .mechanism("t", Mechanism::default_for(1, 3))
        .mechanism("y", Mechanism::default_for(2, 4))
        .build()
        .unwrap();
    model.fit(&data, &FitConfig::default()).unwrap();
    let fitted = model.ate("t", "y", 0.0, 1.0, 100_000, 5).unwrap();
    assert!(
        (fitted.ate - by_hand).abs() < 0.03,
        "{} vs {by_hand}",
        fitted.ate
    );
    let levels = model.ate_levels("t", "y", 0.0, 1.0, 10_000, 5).unwrap();
    assert_eq!(levels.len(), 2);
    assert!((levels[1].effect.ate + levels[0].effect.ate).abs() < 1e-9);
}

fn normal_quantile(p: f64) -> f64 {
    // Acklam's rational approximation is enough for the test's integrals.
    let a = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    let b = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    let c = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    let d = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0)
    }
}

/// `c → y`: a three-level categorical cause of a continuous outcome.
fn categorical_truth() -> Scm {
    let graph = CausalGraph::new(["c", "y"], [("c", "y")]).unwrap();
    let mut truth = Scm::builder(graph)
        .kind("c", VariableKind::categorical(["blue", "green", "red"]))
        .build()
        .unwrap();
    // Level probabilities 0.2, 0.5, 0.3: logits ln(0.5/0.2), ln(0.3/0.2).
    truth
        .set_params("c", &[(2.5f32).ln(), (1.5f32).ln()])
        .unwrap();
    // y = 1 + 2·[green] − 3·[red] + N(0, 0.5²).
    truth.set_params("y", &[1.0, 2.0, -3.0]).unwrap();
    truth
        .set_noise(
            "y",
            Noise::Gaussian {
                log_scale: 0.5f32.ln(),
            },
        )
        .unwrap();
    truth
}

#[test]
fn a_categorical_variable_recovers_its_level_probabilities_and_effects() {
    let truth = categorical_truth();
    let data = truth.sample(20_000, 3).unwrap();
    let share = |level: f64| {
        let c = data.column("c").unwrap();
        c.iter().filter(|&&v| v == level).count() as f64 / c.len() as f64
    };
    assert!((share(0.0) - 0.2).abs() < 0.01 && (share(2.0) - 0.3).abs() < 0.01);

    let graph = truth.graph().clone();
    let mut model = Scm::builder(graph)
        .kind("c", VariableKind::categorical(["blue", "green", "red"]))
        .mechanism("y", Mechanism::default_for(2, 1))
        .build()
        .unwrap();
    model.fit(&data, &FitConfig::default()).unwrap();
    let samples = model.sample(50_000, 4).unwrap();
    let c = samples.column("c").unwrap();
    for (level, p) in [(0.0, 0.2), (1.0, 0.5), (2.0, 0.3)] {
        let got = c.iter().filter(|&&v| v == level).count() as f64 / c.len() as f64;
        assert!((got - p).abs() < 0.015, "level {level}: {got} vs {p}");
    }
    let green = model.value_of("c", "green").unwrap();
    let red = model.value_of("c", "red").unwrap();
    let effect = model.ate("c", "y", green, red, 20_000, 5).unwrap();
    assert!((effect.ate + 5.0).abs() < 0.1, "{}", effect.ate);
    let err = model.value_of("c", "purple").unwrap_err().to_string();
    assert!(
        err.contains("no level `purple`") && err.contains("blue, green, red"),
        "{err}"
    );
}

#[test]
fn a_categorical_outcome_gives_an_effect_per_level() {
    // t → c: a binary treatment moves a three-level outcome.
    let graph = CausalGraph::new(["t", "c"], [("t", "c")]).unwrap();
    let build = |graph: CausalGraph| {
        Scm::builder(graph)
            .kind("t", VariableKind::Binary)
            .kind("c", VariableKind::categorical(["a", "b", "c"]))
            .build()
            .unwrap()
    };
    let mut truth = build(graph.clone());
    // Two heads, [b, w] each: logits of b and c against a.
    truth.set_params("c", &[0.0, 1.0, -0.5, 1.5]).unwrap();
    let data = truth.sample(20_000, 6).unwrap();
    let mut model = build(graph);
    model.fit(&data, &config(500)).unwrap();
    let exact = truth.ate_levels("t", "c", 0.0, 1.0, 1000, 1).unwrap();
    let fitted = model.ate_levels("t", "c", 0.0, 1.0, 1000, 1).unwrap();
    assert_eq!(
        fitted.iter().map(|l| l.level.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    for (e, f) in exact.iter().zip(&fitted) {
        assert!(
            (e.effect.ate - f.effect.ate).abs() < 0.03,
            "{}: {} vs {}",
            e.level,
            f.effect.ate,
            e.effect.ate
        );
    }
    let total: f64 = fitted.iter().map(|l| l.effect.ate).sum();
    assert!(total.abs() < 1e-9);
}

#[test]
fn poisson_and_negative_binomial_counts_recover_their_means() {
    let graph = CausalGraph::new(["x", "k"], [("x", "k")]).unwrap();
    for noise in [Noise::Poisson, Noise::negative_binomial()] {
        let mut truth = Scm::builder(graph.clone())
            .kind("k", VariableKind::Count)
            .noise("k", noise)
            .build()
            .unwrap();
        truth.set_params("k", &[0.5, 0.8]).unwrap();
        if let Noise::NegativeBinomial { .. } = noise {
            truth
                .set_noise(
                    "k",
                    Noise::NegativeBinomial {
                        log_dispersion: 0.5f32.ln(),
                    },
                )
                .unwrap();
        }
        let data = truth.sample(20_000, 7).unwrap();
        let k = data.column("k").unwrap();
        assert!(k.iter().all(|&v| v >= 0.0 && v.fract() == 0.0));
        let mut model = Scm::builder(graph.clone())
            .kind("k", VariableKind::Count)
            .noise("k", noise)
            .build()
            .unwrap();
        model.fit(&data, &config(600)).unwrap();
        let params = model.params("k").unwrap();
        assert!(
            (params[0] - 0.5).abs() < 0.06 && (params[1] - 0.8).abs() < 0.05,
            "{noise:?}: {params:?}"
        );
        if let Noise::NegativeBinomial { log_dispersion } = model.noise("k").unwrap() {
            assert!(
                (log_dispersion.exp() - 0.5).abs() < 0.08,
                "α = {}",
                log_dispersion.exp()
            );
        }
    }
}

#[test]
fn counterfactuals_abduct_discrete_noise_from_its_posterior() {
    let truth = binary_truth();
    let observed = truth.sample(2000, 12).unwrap();
    // Nothing intervened: the rows come back as they were.
    assert_eq!(truth.counterfactual(&observed, &[]).unwrap(), observed);
    // do(t = 1): rows already treated keep y; the draws are seeded.
    let first = truth
        .counterfactual_draws(&observed, &[("t", 1.0)], 4, 3)
        .unwrap();
    assert_eq!(
        first,
        truth
            .counterfactual_draws(&observed, &[("t", 1.0)], 4, 3)
            .unwrap()
    );
    assert_eq!(first.n_rows(), 4 * 2000);
    assert_eq!(first.column("sample").unwrap()[2000], 1.0);
    let (t, y) = (observed.column("t").unwrap(), observed.column("y").unwrap());
    let cf = first.column("y").unwrap();
    for draw in 0..4 {
        for r in 0..2000 {
            let value = cf[draw * 2000 + r];
            assert!(value == 0.0 || value == 1.0);
            if t[r] == 1.0 {
                assert_eq!(value, y[r], "an already treated row keeps its outcome");
            }
            // The logit rises with t: monotone noise keeps a 1 a 1.
            if y[r] == 1.0 {
                assert_eq!(value, 1.0);
            }
        }
    }
    // The counterfactual mean matches the interventional probability
    // among the untreated (the population is large).
    let untreated: Vec<usize> = (0..2000).filter(|&r| t[r] == 0.0).collect();
    let flipped = untreated
        .iter()
        .flat_map(|&r| (0..4).map(move |d| d * 2000 + r))
        .filter(|&i| cf[i] == 1.0)
        .count() as f64
        / (4 * untreated.len()) as f64;
    assert!(flipped > y.iter().sum::<f64>() / 2000.0);
}

#[test]
fn every_kind_survives_a_model_file() {
    let graph = CausalGraph::new(
        ["c", "t", "k", "y"],
        [("c", "t"), ("t", "k"), ("c", "y"), ("k", "y")],
    )
    .unwrap();
    let mut scm = Scm::builder(graph)
        .kind("c", VariableKind::categorical(["x", "y", "z"]))
        .kind("t", VariableKind::Binary)
        .kind("k", VariableKind::Count)
        .noise("k", Noise::negative_binomial())
        .noise("y", Noise::student_t(5.0))
        .mechanism("y", Mechanism::default_for(3, 1))
        .build()
        .unwrap();
    let data = scm.sample(3000, 1).unwrap();
    scm.fit(&data, &config(30)).unwrap();
    let path = std::env::temp_dir().join("causalgrad-test-kinds.cg");
    scm.save(&path).unwrap();
    let loaded = Scm::load(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(loaded.kind("c").unwrap(), scm.kind("c").unwrap());
    assert_eq!(loaded.noise("k").unwrap(), scm.noise("k").unwrap());
    assert_eq!(loaded.sample(500, 2).unwrap(), scm.sample(500, 2).unwrap());
    assert_eq!(
        loaded.counterfactual(&data, &[("t", 1.0)]).unwrap(),
        scm.counterfactual(&data, &[("t", 1.0)]).unwrap()
    );
}

#[test]
fn a_context_fit_shares_discrete_mechanisms() {
    let truth = binary_truth();
    let observational = truth.sample(5000, 20).unwrap();
    let treated = truth
        .intervene(&[("t", 1.0)])
        .unwrap()
        .sample(5000, 21)
        .unwrap();
    let contexts = ContextGraph::builder()
        .context(Context::new("observational", observational))
        .context(Context::new("treated", treated).set("t", 1.0))
        .build()
        .unwrap();
    let mut model = Scm::builder(truth.graph().clone())
        .kind("t", VariableKind::Binary)
        .kind("y", VariableKind::Binary)
        .build()
        .unwrap();
    let report = model.fit_contexts(&contexts, &config(500)).unwrap();
    let params = model.params("y").unwrap();
    for (f, e) in params.iter().zip([-0.5, 0.8, 1.5]) {
        assert!((f - e).abs() < 0.15, "{params:?}");
    }
    let treated = report.fitted.in_context("treated").unwrap();
    let effect = treated.ate("x", "y", 0.0, 1.0, 10_000, 1).unwrap();
    assert!(effect.ate > 0.0);
}

#[test]
fn values_a_kind_does_not_take_are_errors_naming_the_variable() {
    let graph = CausalGraph::new(["t", "k"], [("t", "k")]).unwrap();
    let mut model = Scm::builder(graph)
        .kind("t", VariableKind::Binary)
        .kind("k", VariableKind::Count)
        .build()
        .unwrap();
    let fit = |model: &mut Scm, t: Vec<f64>, k: Vec<f64>| {
        let data = Dataset::from_columns([("t", t), ("k", k)]).unwrap();
        model.fit(&data, &config(5)).unwrap_err().to_string()
    };
    let err = fit(&mut model, vec![0.0, 1.0, 2.0], vec![1.0, 2.0, 3.0]);
    assert!(
        err.contains("`t` is binary") && err.contains("row 3") && err.contains("2 is not 0 or 1"),
        "{err}"
    );
    let err = fit(&mut model, vec![0.0, 1.0, 1.0], vec![1.0, -1.0, 3.0]);
    assert!(
        err.contains("`k` is count") && err.contains("row 2") && err.contains("not a count"),
        "{err}"
    );
    let err = fit(&mut model, vec![0.0, 1.0, 1.0], vec![1.0, 1.5, 3.0]);
    assert!(err.contains("1.5 is not a count"), "{err}");
    let err = model.intervene(&[("t", 0.5)]).unwrap_err().to_string();
    assert!(err.contains("`t` is binary: 0.5 is not 0 or 1"), "{err}");
    let err = Scm::builder(CausalGraph::new(["t"], Vec::<(&str, &str)>::new()).unwrap())
        .kind("t", VariableKind::Binary)
        .noise("t", Noise::gaussian())
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`t` is binary, which gaussian noise does not model"),
        "{err}"
    );
    let err = model
        .set_noise("t", Noise::gaussian())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`t` is binary, which gaussian noise does not model"),
        "{err}"
    );
    let graph = CausalGraph::new(["x", "y"], [("x", "y")]).unwrap();
    let mut continuous = Scm::builder(graph).build().unwrap();
    let err = continuous
        .set_noise("y", Noise::Heteroscedastic)
        .unwrap_err()
        .to_string();
    assert!(err.contains("has 1 outputs but its noise reads 2"), "{err}");
    continuous.set_noise("y", Noise::laplace()).unwrap();
}

/// A context's own mechanism and noise come back in the data's units when
/// the fit standardised the variable (they are kept in the model's units
/// and must not be converted twice).
#[test]
fn a_changed_context_keeps_its_own_noise_in_the_data_units() {
    let graph = CausalGraph::new(["x", "y"], [("x", "y")]).unwrap();
    let truth = |weight: f32, scale: f32| {
        let mut scm = Scm::builder(graph.clone()).build().unwrap();
        scm.set_params("x", &[10.0]).unwrap();
        scm.set_noise(
            "x",
            Noise::Gaussian {
                log_scale: 5.0f32.ln(),
            },
        )
        .unwrap();
        scm.set_params("y", &[3.0, weight]).unwrap();
        scm.set_noise(
            "y",
            Noise::Gaussian {
                log_scale: scale.ln(),
            },
        )
        .unwrap();
        scm
    };
    let contexts = ContextGraph::builder()
        .context(Context::new(
            "base",
            truth(2.0, 0.5).sample(5000, 50).unwrap(),
        ))
        .context(Context::new("changed", truth(-1.0, 4.0).sample(5000, 51).unwrap()).changed("y"))
        .build()
        .unwrap();
    let mut model = Scm::builder(graph.clone()).build().unwrap();
    let report = model.fit_contexts(&contexts, &config(1500)).unwrap();
    assert!(
        model.scaling("y").unwrap().scale > 5.0,
        "the fit standardised y"
    );
    let changed = report.fitted.in_context("changed").unwrap();
    let scale = changed.noise("y").unwrap().scale().unwrap();
    assert!((scale - 4.0).abs() < 0.2, "own noise scale {scale}");
    let params = changed.params("y").unwrap();
    assert!((params[1] + 1.0).abs() < 0.1, "own weight {params:?}");
    let shared = model.noise("y").unwrap().scale().unwrap();
    assert!((shared - 0.5).abs() < 0.05, "shared noise scale {shared}");
}

#[test]
fn a_binary_variable_upstream_of_the_intervention_has_an_exact_counterfactual_mean() {
    let truth = binary_truth();
    let rows = truth.sample(300, 4).unwrap();
    let observed_t = rows.column("t").unwrap().iter().sum::<f64>() / 300.0;
    // `t` is upstream of `y`: every counterfactual keeps its observed `t`,
    // so its mean is exact and its interval has no width.
    let means = truth
        .counterfactual_mean_intervals(&rows, &[("y", 1.0)], 1, 0, 0.95)
        .unwrap();
    let t = &means.iter().find(|m| m.variable == "t").unwrap().mean;
    assert!((t.estimate - observed_t).abs() < 1e-12, "{t:?}");
    assert_eq!((t.low, t.high, t.mc_stderr), (t.estimate, t.estimate, 0.0));
    // Downstream of `x`, `t` is drawn from its noise posterior: the mean
    // has a Monte-Carlo error.
    let means = truth
        .counterfactual_mean_intervals(&rows, &[("x", 1.0)], 1, 0, 0.95)
        .unwrap();
    let t = &means.iter().find(|m| m.variable == "t").unwrap().mean;
    assert!(t.mc_stderr > 0.0 && t.low < t.high, "{t:?}");
}
