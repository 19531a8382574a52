//! The default path on a user's own data: graphs and columns in any order
//! and with any names reload bit for bit, the fit standardises internally
//! (the same answers in any units), and the default model recovers a
//! known effect on raw-scale data.

use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Mechanism, Noise, Scm};
use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

/// A graph as DoWhy writes it for `linear_dataset` (three common causes,
/// one instrument), children before parents in the text.
const DOWHY_DOT: &str = "digraph {v0->y;W0-> v0; W1-> v0; W2-> v0;Z0-> v0;W0-> y; W1-> y; W2-> y;}";

/// The true model behind [`DOWHY_DOT`], in raw units: `y` spans about
/// −150..250 and the effect of `v0` on `y` is 10.
fn raw_truth() -> Scm {
    let graph = CausalGraph::from_dot_str(DOWHY_DOT).unwrap();
    let mut truth = Scm::builder(graph).build().unwrap();
    truth.set_params("Z0", &[0.5]).unwrap();
    truth.set_params("W0", &[1.0]).unwrap();
    truth.set_params("W1", &[-2.0]).unwrap();
    truth.set_params("W2", &[10.0]).unwrap();
    // Parents in declaration order: v0 <- W0, W1, W2, Z0; y <- v0, W0, W1, W2.
    truth
        .set_params("v0", &[-30.0, 1.5, -0.7, 3.0, 2.0])
        .unwrap();
    truth
        .set_params("y", &[100.0, 10.0, 5.0, 4.0, -8.0])
        .unwrap();
    for (variable, scale) in [
        ("Z0", 1.0),
        ("W0", 3.0),
        ("W1", 6.0),
        ("W2", 0.5),
        ("v0", 1.0),
        ("y", 2.0),
    ] {
        truth
            .set_noise(
                variable,
                causalgrad::scm::Noise::Gaussian {
                    log_scale: (scale as f32).ln(),
                },
            )
            .unwrap();
    }
    truth
}

/// The default model of a graph: a learned mean for roots, a 16-unit tanh
/// MLP of the parents for every other variable.
fn default_model(graph: &CausalGraph, seed: u64) -> Scm {
    let mut builder = Scm::builder(graph.clone());
    for (index, name) in graph.topological_order().iter().enumerate() {
        let arity = graph.parents(name).unwrap().len();
        builder = builder.mechanism(name, Mechanism::default_for(arity, seed + index as u64));
    }
    builder.build().unwrap()
}

/// On raw-unit data with a known effect of 10, the default model and the
/// default settings estimate it within 2%.
#[test]
fn the_default_fit_recovers_a_raw_scale_effect() {
    let truth = raw_truth();
    let data = truth.sample(5000, 11).unwrap();
    let y = data.column("y").unwrap();
    let (low, high) = y
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    assert!(high - low > 250.0, "y spans {low}..{high}");
    let mut model = default_model(truth.graph(), 0);
    model.fit(&data, &FitConfig::default()).unwrap();
    let effect = model.ate("v0", "y", 0.0, 1.0, 20_000, 3).unwrap();
    assert!(
        (effect.ate - 10.0).abs() < 0.2,
        "ATE {} (truth 10)",
        effect.ate
    );
    let noise = model.noise("y").unwrap().scale().unwrap();
    assert!(
        (noise - 2.0).abs() < 0.3,
        "noise scale of y {noise} (truth 2)"
    );
}

/// One column multiplied by 1e4 and another shifted by 1e6 give, in the
/// data's units, the noise scales, samples and effects of the fit on the
/// original data, to 1e-3 relative.
#[test]
fn fits_in_any_units_give_the_same_answers() {
    let truth = raw_truth();
    let original = truth.sample(2000, 5).unwrap();
    let transformed = Dataset::from_columns(original.names().iter().map(|name| {
        let column = original.column(name).unwrap();
        let values = match name.as_str() {
            "W1" => column.iter().map(|v| v * 1e4).collect(),
            "y" => column.iter().map(|v| v + 1e6).collect(),
            _ => column.to_vec(),
        };
        (name.clone(), values)
    }))
    .unwrap();
    let config = FitConfig::adam(1e-2).with_steps(300);
    let mut a = default_model(truth.graph(), 1);
    let mut b = default_model(truth.graph(), 1);
    a.fit(&original, &config).unwrap();
    b.fit(&transformed, &config).unwrap();
    let close = |x: f64, y: f64, what: &str| {
        assert!(
            (x - y).abs() <= 1e-3 * x.abs().max(y.abs()).max(1e-9),
            "{what}: {x} vs {y}"
        )
    };
    for ((name, sa), (_, sb)) in a.noise_scales().into_iter().zip(b.noise_scales()) {
        let factor = if name == "W1" { 1e4 } else { 1.0 };
        close(sa * factor, sb, &format!("noise scale of {name}"));
    }
    let (da, db) = (a.sample(1000, 9).unwrap(), b.sample(1000, 9).unwrap());
    let sd_y = a.noise("y").unwrap().scale().unwrap();
    for (ya, yb) in da.column("y").unwrap().iter().zip(db.column("y").unwrap()) {
        assert!(
            ((yb - 1e6) - ya).abs() < 1e-3 * sd_y.max(1.0) * 10.0,
            "{ya} vs {yb}"
        );
    }
    for (wa, wb) in da
        .column("W1")
        .unwrap()
        .iter()
        .zip(db.column("W1").unwrap())
    {
        close(wa * 1e4, *wb, "a sample of W1");
    }
    let ea = a.ate("v0", "y", 0.0, 1.0, 5000, 2).unwrap();
    let eb = b.ate("v0", "y", 0.0, 1.0, 5000, 2).unwrap();
    close(ea.ate, eb.ate, "the effect of v0 on y");
    let ea = a.ate("W1", "y", -3.0, 0.0, 5000, 2).unwrap();
    let eb = b.ate("W1", "y", -3.0e4, 0.0, 5000, 2).unwrap();
    close(ea.ate, eb.ate, "the effect of W1 on y");
}

/// A random graph over `names` (each pair ordered by a random permutation,
/// an edge with probability one half), its edges in random order.
fn random_graph(names: &[String], rng: &mut rand::rngs::StdRng) -> CausalGraph {
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.shuffle(rng);
    let mut edges = Vec::new();
    for i in 0..names.len() {
        for j in i + 1..names.len() {
            if rng.random_range(0.0..1.0) < 0.5 {
                edges.push((names[order[i]].clone(), names[order[j]].clone()));
            }
        }
    }
    edges.shuffle(rng);
    let mut declared = names.to_vec();
    declared.shuffle(rng);
    CausalGraph::new(declared, edges).unwrap()
}

/// A name of mixed case, digits and an underscore.
fn random_name(rng: &mut rand::rngs::StdRng, taken: &[String]) -> String {
    const FIRST: &[u8] = b"abcxyzABCXYZ_";
    const REST: &[u8] = b"abcxyzABCXYZ_0123456789";
    loop {
        let len = rng.random_range(1..5usize);
        let mut name = String::new();
        name.push(FIRST[rng.random_range(0..FIRST.len())] as char);
        for _ in 1..len {
            name.push(REST[rng.random_range(0..REST.len())] as char);
        }
        if !taken.contains(&name) {
            return name;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// fit → save → load → effect and samples equal the in-memory model's
    /// bit for bit, for random names, edge orders and column orders.
    #[test]
    fn fitted_models_reload_bit_for_bit(seed in 0u64..1_000_000) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let count = rng.random_range(2..6usize);
        let mut names = Vec::new();
        for _ in 0..count {
            let name = random_name(&mut rng, &names);
            names.push(name);
        }
        let graph = random_graph(&names, &mut rng);
        let mut truth = Scm::builder(graph.clone()).build().unwrap();
        for name in graph.topological_order() {
            let arity = graph.parents(name).unwrap().len();
            let params: Vec<f32> = (0..=arity).map(|_| rng.random_range(-3.0..3.0)).collect();
            truth.set_params(name, &params).unwrap();
        }
        let sampled = truth.sample(300, seed).unwrap();
        let mut columns: Vec<(String, Vec<f64>)> = sampled
            .names()
            .iter()
            .map(|n| (n.clone(), sampled.column(n).unwrap().to_vec()))
            .collect();
        columns.shuffle(&mut rng);
        let data = Dataset::from_columns(columns).unwrap();
        let mut model = default_model(&graph, seed);
        model.fit(&data, &FitConfig::adam(1e-2).with_steps(5)).unwrap();
        let path = std::env::temp_dir().join(format!(
            "causalgrad-reload-{}-{seed}.cg",
            std::process::id()
        ));
        model.save(&path).unwrap();
        let loaded = Scm::load(&path);
        std::fs::remove_file(&path).ok();
        let loaded = loaded.unwrap();
        let (treatment, outcome) = (&names[0], &names[count - 1]);
        let here = model.ate(treatment, outcome, -1.0, 1.0, 500, 1).unwrap();
        let there = loaded.ate(treatment, outcome, -1.0, 1.0, 500, 1).unwrap();
        prop_assert_eq!(here.ate.to_bits(), there.ate.to_bits());
        prop_assert_eq!(model.sample(50, 2).unwrap(), loaded.sample(50, 2).unwrap());
    }
}

/// DoWhy's own linear data set (`data/dowhy_linear`: its CSV and its DOT
/// as DoWhy writes them, effect 10, `y` in the hundreds): the default model
/// and settings estimate the effect within 5%.
///
/// Not within 2%, and the default ensemble's interval does not cover the
/// truth here: over seeds 0–7 the default networks are 1–8% low (9.68
/// for seed 0, interval [9.42, 9.94]). Early stopping keeps the
/// validation-best networks, which approximate a linear `y` of this range
/// only to a few percent, and every member shares that bias, so the
/// ensemble does not see it. `fit --select` picks linear mechanisms here
/// and is exact.
#[test]
fn the_default_fit_recovers_dowhys_linear_effect() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/dowhy_linear");
    let graph = CausalGraph::from_file(dir.join("graph.dot")).unwrap();
    let data = Dataset::from_csv(dir.join("data.csv")).unwrap();
    let mut model = default_model(&graph, 0);
    model.fit(&data, &FitConfig::default()).unwrap();
    let effect = model.ate("v0", "y", 0.0, 1.0, 20_000, 3).unwrap();
    assert!(
        (effect.ate - 10.0).abs() < 0.5,
        "ATE {} (truth 10)",
        effect.ate
    );
}

#[derive(causalgrad::Differentiable, Clone, Debug)]
struct Affine {
    a: f32,
    b: f32,
}

/// `a + b x`, as user code.
#[causalgrad::differentiable]
fn affine(p: &Affine, x: [f32; 1]) -> f32 {
    p.a + p.b * x[0]
}

/// A mechanism from user code sees the data's units (its variable and its
/// parents stay unscaled) unless it opts in; either way the fitted effect
/// is in the data's units.
#[test]
fn user_mechanisms_see_the_data_units_unless_they_opt_in() {
    let graph = CausalGraph::new(["x", "y"], [("x", "y")]).unwrap();
    let mut truth = Scm::builder(graph.clone()).build().unwrap();
    truth.set_params("x", &[50.0]).unwrap();
    truth.set_params("y", &[3.0, 2.0]).unwrap();
    truth
        .set_noise(
            "x",
            causalgrad::scm::Noise::Gaussian {
                log_scale: 10f32.ln(),
            },
        )
        .unwrap();
    let data = truth.sample(2000, 1).unwrap();
    let user = Mechanism::from_fn(affine::Function, Affine { a: 0.0, b: 0.0 });
    for (mechanism, scaled) in [
        (user.clone(), false),
        (user.with_standardized_units(), true),
    ] {
        let mut model = Scm::builder(graph.clone())
            .mechanism("y", mechanism)
            .build()
            .unwrap();
        model
            .fit(&data, &FitConfig::default().with_learning_rate(0.05))
            .unwrap();
        for variable in ["x", "y"] {
            let identity = model.scaling(variable).unwrap().is_identity();
            assert_eq!(identity, !scaled, "{variable}, opted in: {scaled}");
        }
        let effect = model.ate("x", "y", 40.0, 60.0, 2000, 1).unwrap().ate;
        assert!((effect - 40.0).abs() < 1.0, "{effect} (opted in: {scaled})");
    }
}

/// A fit of a model under a soft intervention (a shifted mean, in the
/// data's units) on data drawn under it recovers the unshifted mechanism,
/// when the fit standardises as when it does not.
#[test]
fn a_shifted_mean_is_read_in_the_data_units_by_the_fit() {
    let graph = CausalGraph::new(["x", "y"], [("x", "y")]).unwrap();
    let mut truth = Scm::builder(graph.clone()).build().unwrap();
    truth.set_params("x", &[20.0]).unwrap();
    truth.set_params("y", &[1.0, 2.0]).unwrap();
    truth
        .set_noise(
            "x",
            causalgrad::scm::Noise::Gaussian {
                log_scale: 5f32.ln(),
            },
        )
        .unwrap();
    let shift = causalgrad::scm::Intervention::Shift(30.0);
    let data = truth
        .intervene_with("y", shift.clone())
        .unwrap()
        .sample(2000, 4)
        .unwrap();
    for standardize in [true, false] {
        // Gaussian noise: its mean is zero, so `y[0]` is the intercept.
        let mut model = Scm::builder(graph.clone())
            .noise_default(Noise::gaussian())
            .build()
            .unwrap()
            .intervene_with("y", shift.clone())
            .unwrap();
        let config = FitConfig::default()
            .with_learning_rate(0.05)
            .with_standardize(standardize);
        model.fit(&data, &config).unwrap();
        let y = model.params("y").unwrap();
        assert!(
            (y[0] - 1.0).abs() < 0.5 && (y[1] - 2.0).abs() < 0.05,
            "standardised: {standardize}: {y:?}"
        );
    }
}
