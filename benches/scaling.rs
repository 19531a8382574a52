//! How the time of one full-batch Adam step grows with the data and with
//! the model, on the Flex CPU backend:
//!
//! - `scaling/scm5_rows/<n>`: the scm5 model (quickstart initialisation) at
//!   n = 10k, 100k and 1M rows sampled from its true model;
//! - `scaling/random_variables/<v>`: seeded random sparse DAGs
//!   ([`RandomScm`], 2 expected parents, the default mix of linear,
//!   additive and MLP mechanisms) with v = 5 .. 200 variables, at 10k rows.
//!
//! Run with `cargo bench --bench scaling` (a few minutes); then
//! `cargo run --profile bench --example scaling_report` fits the slopes
//! and draws `docs/img/scaling.svg` from `target/criterion/scaling/`.

use std::hint::black_box;
use std::time::Duration;

use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::models::random::RandomScm;
use causalgrad::models::scm5::{self, Init, Truth};
use causalgrad::scm::Scm;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion};
use criterion::{measurement::WallTime, Throughput};

/// Rows of the data in the variables sweep.
const ROWS: usize = 10_000;

/// Times one full-batch step of `model` on `data`.
fn bench_step(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    model: &mut Scm,
    data: &Dataset,
) {
    let config = FitConfig::adam(1e-2).with_steps(usize::MAX);
    let mut trainer = model.trainer(data, &config).expect("a valid fit");
    group.bench_function(id, |b| {
        b.iter(|| black_box(trainer.step().expect("finite loss")));
    });
}

fn rows(c: &mut Criterion) {
    let dir = scm5::data_dir();
    let init = Init::from_json_file(dir.join("init_seed0.json")).expect("bundled init");
    let truth = Truth::from_json_file(dir.join("truth.json")).expect("bundled truth");
    let mut group = c.benchmark_group("scaling");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for n in [10_000usize, 100_000, 1_000_000] {
        let data = scm5::model(&truth.params).sample(n, 1).expect("sampling");
        group.throughput(Throughput::Elements(n as u64));
        bench_step(
            &mut group,
            BenchmarkId::new("scm5_rows", n),
            &mut scm5::model(&init),
            &data,
        );
    }
    group.finish();
}

fn variables(c: &mut Criterion) {
    let mut group = c.benchmark_group("scaling");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for v in [5usize, 10, 20, 50, 100, 200] {
        let random = RandomScm::new(v, 1).generate().expect("valid settings");
        let data = random.truth().sample(ROWS, 2).expect("sampling");
        group.throughput(Throughput::Elements(v as u64));
        bench_step(
            &mut group,
            BenchmarkId::new("random_variables", v),
            &mut random.fresh(3),
            &data,
        );
    }
    group.finish();
}

criterion_group!(benches, rows, variables);
criterion_main!(benches);
