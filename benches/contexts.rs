//! The cost of context graphs: one full-batch Adam step of a fit over 50
//! contexts against one step of the ordinary fit on the same rows pooled,
//! on the scm5 model (quickstart initialisation), Flex CPU backend.
//!
//! - `contexts/pooled/<n>`: `Scm::trainer` on all n rows;
//! - `contexts/one_context/<n>`: `Scm::context_trainer` with the n rows
//!   as a single context (the context trainer's own overhead);
//! - `contexts/50_contexts/<n>`: the same rows split into 50 contexts
//!   of n / 50 rows, without interventions (the objective is then the
//!   pooled one, so only the bookkeeping differs).
//!
//! Run with `cargo bench --bench contexts`; the report example
//! (`cargo run --profile bench --example scaling_report`) prints the
//! ratios from `target/criterion/contexts/`.

use std::hint::black_box;
use std::time::Duration;

use causalgrad::context::{Context, ContextGraph};
use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::models::scm5::{self, Init, Truth};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Number of contexts the pooled rows are split into.
const CONTEXTS: usize = 50;

/// `data` split into `parts` contexts of consecutive rows.
fn contexts(data: &Dataset, parts: usize) -> ContextGraph {
    let n = data.n_rows();
    let mut builder = ContextGraph::builder();
    for c in 0..parts {
        let rows: Vec<usize> = (c * n / parts..(c + 1) * n / parts).collect();
        builder = builder.context(Context::new(format!("c{c}"), data.take_rows(&rows)));
    }
    builder.build().expect("valid contexts")
}

fn steps(c: &mut Criterion) {
    let dir = scm5::data_dir();
    let init = Init::from_json_file(dir.join("init_seed0.json")).expect("bundled init");
    let truth = Truth::from_json_file(dir.join("truth.json")).expect("bundled truth");
    let config = FitConfig::adam(1e-2).steps(usize::MAX);
    let mut group = c.benchmark_group("contexts");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for n in [10_000usize, 100_000] {
        let data = scm5::model(&truth.params).sample(n, 1).expect("sampling");
        group.throughput(Throughput::Elements(n as u64));

        let mut model = scm5::model(&init);
        let mut trainer = model.trainer(&data, &config).expect("a valid fit");
        group.bench_function(BenchmarkId::new("pooled", n), |b| {
            b.iter(|| black_box(trainer.step().expect("finite loss")));
        });

        for (name, parts) in [("one_context", 1), ("50_contexts", CONTEXTS)] {
            let graph = contexts(&data, parts);
            let mut model = scm5::model(&init);
            let mut trainer = model.context_trainer(&graph, &config).expect("a valid fit");
            group.bench_function(BenchmarkId::new(name, n), |b| {
                b.iter(|| black_box(trainer.step().expect("finite loss")));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
