//! Time per full-batch Adam step on the scm5 model (the quickstart's model
//! family and initialisation), at n = 10k, 100k and 1M rows, on the Flex CPU
//! backend: `scm5_step` with every mechanism a `#[differentiable]` function,
//! `scm5_burn_mlp_step` with x4 a burn MLP (`Mechanism::burn_mlp`),
//! `default_step` with the command line's default mechanisms on the scm5
//! graph (x1 a learned mean, x2..x5 each a 16-unit tanh MLP on SIMD lanes,
//! mixture noise, `scm5::default_model`; the model the peers in
//! `benches/peers/` fit), `default_gaussian_step` the same with Gaussian
//! noise, and
//! at 100k `cli_default_step`, that model under `FitConfig::default()` (what
//! `causalgrad fit` runs, its validation split included). Results land in
//! `target/criterion/fit/<id>/<n>/`.
//!
//! `formula_step` is scm5 with all five mechanisms written as formulas
//! (`Mechanism::formula`; x4's network spelled out, 65 parameters) against
//! `formula_step_macro`, the same model with the `#[differentiable]`
//! mechanisms of `scm5_step`, from the same initialisation, at 10k and 100k.
//!
//! `mixed_step` is a mixed-type model (categorical, binary, skewed
//! continuous, binary outcome) at 100k rows.
//!
//! Run with `cargo bench --bench fit` (about two minutes on two cores).
//! The 10k rows are the bundled training set; the 100k and 1M rows are
//! sampled from the true model (seed 1). Larger sizes take fewer samples,
//! so that each size costs about the same time.

use std::hint::black_box;
use std::time::Duration;

use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::models::scm5::{self, Init, Truth};
use causalgrad::scm::{Activation, Mechanism, Noise, Scm};
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};

/// The training data at `n` rows.
fn data(n: usize) -> Dataset {
    let dir = scm5::data_dir();
    if n <= 10_000 {
        return Dataset::from_csv(dir.join("train_10k.csv"))
            .expect("bundled data")
            .head(n);
    }
    let truth = Truth::from_json_file(dir.join("truth.json")).expect("bundled truth");
    scm5::model(&truth.params).sample(n, 1).expect("sampling")
}

/// `model` with `noise` on every variable.
fn with_noise(mut model: Scm, noise: Noise) -> Scm {
    for name in ["x1", "x2", "x3", "x4", "x5"] {
        model.set_noise(name, noise).expect("an scm5 variable");
    }
    model
}

/// One Adam step per iteration, on a trainer set up once per size.
fn fit_step(c: &mut Criterion) {
    let init =
        Init::from_json_file(scm5::data_dir().join("init_seed0.json")).expect("bundled init");
    let mut group = c.benchmark_group("fit");
    // Flat sampling: every sample runs the same number of steps, which
    // keeps the slowest cases (x4 a burn MLP at 1M rows) within their time.
    group
        .warm_up_time(Duration::from_secs(2))
        .sampling_mode(SamplingMode::Flat);
    for (n, samples, seconds) in [(10_000usize, 20, 8), (100_000, 10, 8), (1_000_000, 10, 10)] {
        group
            .sample_size(samples)
            .measurement_time(Duration::from_secs(seconds));
        let data = data(n);
        let config = FitConfig::adam(1e-2).with_steps(usize::MAX);
        group.throughput(Throughput::Elements(n as u64));
        let models = [
            ("scm5_step", scm5::model(&init)),
            (
                "scm5_burn_mlp_step",
                scm5::model_with_x4(&init, Mechanism::burn_mlp(2, &[16], Activation::Tanh, 0))
                    .expect("x4 reads two parents"),
            ),
            // The command line's default model: every non-root a 16-unit
            // tanh MLP on the lane kernel.
            ("default_step", scm5::default_model(0)),
            // The same with Gaussian noise everywhere (the default before
            // the mixture).
            (
                "default_gaussian_step",
                with_noise(scm5::default_model(0), Noise::gaussian()),
            ),
        ];
        for (name, mut model) in models {
            let mut trainer = model.trainer(&data, &config).expect("a valid fit");
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| black_box(trainer.step().expect("finite loss")));
            });
        }
        if n == 100_000 {
            // Whatever `causalgrad fit` does by default: its model and its
            // settings (a validation split evaluated every 25 steps), without
            // the early stop that would end the benchmark.
            let mut model = scm5::default_model(0);
            let config = FitConfig::default()
                .with_steps(usize::MAX)
                .without_early_stopping();
            let mut trainer = model.trainer(&data, &config).expect("a valid fit");
            group.bench_with_input(BenchmarkId::new("cli_default_step", n), &n, |b, _| {
                b.iter(|| black_box(trainer.step().expect("finite loss")));
            });
        }
    }
    group.finish();
}

/// One full-batch Adam step of scm5 with every variable that has parents
/// (x2..x5) a burn [`Mlp`](causalgrad::scm::Mlp) (`k → 16 → 1`, tanh),
/// built explicitly with `Mechanism::neural` so it stays a burn module, and
/// x1 a learned mean: the network of the torch eager peer
/// (`benches/peers/default_model_torch.py`).
fn burn_mlp_step(c: &mut Criterion) {
    use burn::tensor::Device;
    use causalgrad::scm::MlpConfig;

    let mut group = c.benchmark_group("burn_mlp_step");
    group
        .warm_up_time(Duration::from_secs(2))
        .sampling_mode(SamplingMode::Flat);
    for (n, samples, seconds) in [(10_000usize, 20, 6), (100_000, 10, 8)] {
        group
            .sample_size(samples)
            .measurement_time(Duration::from_secs(seconds));
        let data = data(n);
        let graph = scm5::graph();
        let mut builder = Scm::builder(graph.clone());
        for (seed, name) in ["x2", "x3", "x4", "x5"].into_iter().enumerate() {
            let k = graph.parents(name).expect("an scm5 variable").len();
            let mlp = MlpConfig::new(k)
                .with_seed(seed as u64)
                .init(&Device::flex());
            builder = builder.mechanism(name, Mechanism::neural(mlp));
        }
        let mut model = builder.build().expect("the MLPs match the graph");
        let config = FitConfig::adam(1e-2).with_steps(usize::MAX);
        let mut trainer = model.trainer(&data, &config).expect("a valid fit");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| black_box(trainer.step().expect("finite loss")));
        });
    }
    group.finish();
}

/// A small deterministic generator (splitmix64) for the mixed-type data.
struct SplitMix(u64);

impl SplitMix {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// `n` rows of the mixed-type truth: `c` a 3-level categorical root with
/// level probabilities (0.5, 0.3, 0.2); `t ~ Bernoulli(sigmoid(−0.5 +
/// [c=1] − 0.5 [c=2]))`; `m = 1 + t + Exp(1)`; `y ~ Bernoulli(sigmoid(−1 +
/// 0.5 [c=1] − 0.3 [c=2] + 0.8 t + 0.4 (m − 2)))`. The same model as
/// `benches/peers/mixed_model_torch.py` generates.
fn mixed_data(n: usize, seed: u64) -> Dataset {
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    let mut rng = SplitMix(seed);
    let (mut c, mut t, mut m, mut y) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for _ in 0..n {
        let u = rng.uniform();
        let level = if u < 0.5 {
            0.0
        } else if u < 0.8 {
            1.0
        } else {
            2.0
        };
        let (c1, c2) = (f64::from(level == 1.0), f64::from(level == 2.0));
        let treated = f64::from(rng.uniform() < sigmoid(-0.5 + c1 - 0.5 * c2));
        let mediator = 1.0 + treated - rng.uniform().ln();
        let outcome = f64::from(
            rng.uniform()
                < sigmoid(-1.0 + 0.5 * c1 - 0.3 * c2 + 0.8 * treated + 0.4 * (mediator - 2.0)),
        );
        c.push(level);
        t.push(treated);
        m.push(mediator);
        y.push(outcome);
    }
    Dataset::from_columns([("c", c), ("t", t), ("m", m), ("y", y)]).expect("four columns")
}

/// One full-batch Adam step of the default-path mixed-type model at 100k
/// rows: `c` a 3-level categorical root (a learned logit per level after
/// the first), `t` binary with parent `c`, `m` continuous with parent `t`,
/// `y` binary with parents `c`, `t`, `m`; every variable with parents a
/// 16-unit tanh MLP (`Mechanism::default_for`, `c` read as 2 indicator
/// columns), each kind's default noise on the command line (categorical
/// softmax, Bernoulli logit, and for `m` the three-component mixture).
/// The torch eager peer is `benches/peers/mixed_model_torch.py`.
fn mixed_step(c: &mut Criterion) {
    use causalgrad::graph::CausalGraph;
    use causalgrad::scm::{Scm, VariableKind};

    let mut group = c.benchmark_group("mixed_step");
    group
        .warm_up_time(Duration::from_secs(2))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    let n = 100_000usize;
    let data = mixed_data(n, 1);
    let graph = CausalGraph::new(
        ["c", "t", "m", "y"],
        [("c", "t"), ("t", "m"), ("c", "y"), ("t", "y"), ("m", "y")],
    )
    .expect("an acyclic graph");
    // Input widths: c as 2 indicators, t and m one column each.
    let mut model = Scm::builder(graph)
        .kind("c", VariableKind::categorical(["a", "b", "c"]))
        .kind("t", VariableKind::Binary)
        .kind("y", VariableKind::Binary)
        .mechanism("c", Mechanism::default_for(0, 0))
        .mechanism("t", Mechanism::default_for(2, 1))
        .mechanism("m", Mechanism::default_for(1, 2))
        .mechanism("y", Mechanism::default_for(4, 3))
        .noise("m", Noise::mixture())
        .build()
        .expect("the mechanisms match the graph");
    let config = FitConfig::adam(1e-2).with_steps(usize::MAX);
    let mut trainer = model.trainer(&data, &config).expect("a valid fit");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
        b.iter(|| black_box(trainer.step().expect("finite loss")));
    });
    group.finish();
}

/// scm5 with every mechanism a formula, from the values of `params`: the
/// generator's forms for x2, x3, x5 and x4's 16-unit network written out.
fn formula_model(params: &scm5::Params) -> causalgrad::scm::Scm {
    let mlp = &params.x4;
    let mut x4 = String::from("b2");
    let mut x4_params = vec![("b2".to_string(), mlp.b2)];
    for j in 0..16 {
        x4.push_str(&format!(
            " + w2_{j} * tanh(w1_{j}_0 * x2 + w1_{j}_1 * x3 + b1_{j})"
        ));
        x4_params.extend([
            (format!("w2_{j}"), mlp.w2[j]),
            (format!("w1_{j}_0"), mlp.w1[j][0]),
            (format!("w1_{j}_1"), mlp.w1[j][1]),
            (format!("b1_{j}"), mlp.b1[j]),
        ]);
    }
    let x4_params: Vec<(&str, f32)> = x4_params.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let (x2, x3, x5) = (&params.x2, &params.x3, &params.x5);
    let formula = |text: &str, inputs: &[&str], values: &[(&str, f32)]| {
        Mechanism::formula(text, inputs, values).expect("a valid formula")
    };
    let mut scm = causalgrad::scm::Scm::builder(scm5::graph())
        .mechanism(
            "x2",
            formula(
                "a * x1 + b * tanh(c * x1)",
                &["x1"],
                &[("a", x2.a), ("b", x2.b), ("c", x2.c)],
            ),
        )
        .mechanism(
            "x3",
            formula(
                "d * x1 * x2 + e * sin(x2)",
                &["x1", "x2"],
                &[("d", x3.d), ("e", x3.e)],
            ),
        )
        .mechanism("x4", formula(&x4, &["x2", "x3"], &x4_params))
        .mechanism(
            "x5",
            formula(
                "f * exp(-g * x3^2) + h * x4",
                &["x3", "x4"],
                &[("f", x5.f), ("g", x5.g), ("h", x5.h)],
            ),
        )
        .build()
        .expect("the formulas match the graph");
    for (name, scale) in ["x1", "x2", "x3", "x4", "x5"].iter().zip(params.scales) {
        scm.set_noise(
            name,
            causalgrad::scm::Noise::Gaussian {
                log_scale: scale.ln(),
            },
        )
        .expect("scm5 variables exist");
    }
    scm
}

/// One full-batch Adam step of scm5 with formula mechanisms, and of the
/// same model with `#[differentiable]` ones.
fn formula_step(c: &mut Criterion) {
    let init =
        Init::from_json_file(scm5::data_dir().join("init_seed0.json")).expect("bundled init");
    let mut group = c.benchmark_group("fit");
    group
        .warm_up_time(Duration::from_secs(2))
        .sampling_mode(SamplingMode::Flat);
    for (n, samples, seconds) in [(10_000usize, 20, 6), (100_000, 10, 8)] {
        group
            .sample_size(samples)
            .measurement_time(Duration::from_secs(seconds));
        let data = data(n);
        let config = FitConfig::adam(1e-2).with_steps(usize::MAX);
        group.throughput(Throughput::Elements(n as u64));
        let (mut formulas, mut macros) = (formula_model(&init), scm5::model(&init));
        let mut trainers = [
            (
                "formula_step",
                formulas.trainer(&data, &config).expect("a valid fit"),
            ),
            (
                "formula_step_macro",
                macros.trainer(&data, &config).expect("a valid fit"),
            ),
        ];
        // The two are one model: the same loss from the same start.
        let [first, second] = trainers
            .each_mut()
            .map(|(_, trainer)| trainer.step().expect("finite loss"));
        assert!(
            (first - second).abs() <= 1e-4 * second.abs(),
            "formulas {first} against macros {second}"
        );
        for (name, trainer) in &mut trainers {
            group.bench_with_input(BenchmarkId::new(*name, n), &n, |b, _| {
                b.iter(|| black_box(trainer.step().expect("finite loss")));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, fit_step, burn_mlp_step, mixed_step, formula_step);
criterion_main!(benches);
