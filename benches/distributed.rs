//! Time per full-batch Adam step of the scm5 model at 100k rows, on one
//! device and with the batch shared out over two or more: `single` is
//! `Scm::trainer` on Flex, `data_parallel/k` is `Scm::trainer_data_parallel`
//! over `k` Flex workers. Results land in
//! `target/criterion/distributed/<id>/`.
//!
//! Run with `cargo bench --bench distributed`. The rows are sampled from
//! the true model (seed 1).

use std::hint::black_box;
use std::time::Duration;

use causalgrad::fit::{FitConfig, FitDevice};
use causalgrad::models::scm5::{self, Init, Truth};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const ROWS: usize = 100_000;

fn step(c: &mut Criterion) {
    let dir = scm5::data_dir();
    let init = Init::from_json_file(dir.join("init_seed0.json")).expect("bundled init");
    let truth = Truth::from_json_file(dir.join("truth.json")).expect("bundled truth");
    let data = scm5::model(&truth.params)
        .sample(ROWS, 1)
        .expect("sampling");
    let config = FitConfig::adam(1e-2).with_steps(usize::MAX);
    let mut group = c.benchmark_group("distributed");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(ROWS as u64));

    let mut model = scm5::model(&init);
    let mut trainer = model.trainer(&data, &config).expect("a valid fit");
    group.bench_function("single", |b| {
        b.iter(|| black_box(trainer.step().expect("finite loss")));
    });
    for workers in [1usize, 2, 4] {
        let mut model = scm5::model(&init);
        let devices = vec![FitDevice::Flex; workers];
        let mut trainer = model
            .trainer_data_parallel(&data, &config, &devices)
            .expect("a valid fit");
        group.bench_with_input(
            BenchmarkId::new("data_parallel", workers),
            &workers,
            |b, _| b.iter(|| black_box(trainer.step().expect("finite loss"))),
        );
    }
    group.finish();
}

criterion_group!(benches, step);
criterion_main!(benches);
