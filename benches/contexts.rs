//! The cost of context graphs: one full-batch Adam step of a fit over 50
//! contexts against one step of the ordinary fit on the same rows pooled,
//! on the scm5 model (quickstart initialisation), Flex CPU backend.
//!
//! - `contexts/pooled/<n>`: `Scm::trainer` on all n rows;
//! - `contexts/one_context/<n>`: `Scm::context_trainer` with the n rows
//!   as a single context (the context trainer's own overhead);
//! - `contexts/50_contexts/<n>`: the same rows split into 50 contexts
//!   of n / 50 rows, without interventions (the objective is then the
//!   pooled one, so only the bookkeeping differs);
//! - `contexts/50_intervened/<n>`: 50 contexts of n / 50 rows, each
//!   sampled under its own intervention, cycling through: none,
//!   `do(x2 = v)`, a shift of x3's mean by `v`, and a changed x5 (its own
//!   parameters, tied to the first context's), with `v` different in
//!   every context.
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
use causalgrad::scm::{Intervention, Scm};
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

/// 50 contexts of `rows` rows each under their own interventions, sampled
/// from `truth`.
fn intervened(truth: &Scm, rows: usize) -> ContextGraph {
    let mut builder = ContextGraph::builder();
    for c in 0..CONTEXTS {
        let name = format!("c{c}");
        let value = 0.05 * c as f64 - 1.0;
        let seed = c as u64 + 10;
        let context = match c % 4 {
            0 => Context::new(name, truth.sample(rows, seed).expect("sampling")),
            1 => {
                let data = truth.intervene(&[("x2", value)]).expect("x2 exists");
                Context::new(name, data.sample(rows, seed).expect("sampling")).set("x2", value)
            }
            2 => {
                let data = truth
                    .intervene_with("x3", Intervention::Shift(value))
                    .expect("x3 exists");
                Context::new(name, data.sample(rows, seed).expect("sampling")).shift("x3", value)
            }
            _ => Context::new(name, truth.sample(rows, seed).expect("sampling")).changed("x5"),
        };
        builder = builder.context(context);
    }
    for c in (3..CONTEXTS).step_by(4) {
        builder = builder.tie("c0", &format!("c{c}"), 1.0);
    }
    builder.build().expect("valid contexts")
}

fn steps(c: &mut Criterion) {
    let dir = scm5::data_dir();
    let init = Init::from_json_file(dir.join("init_seed0.json")).expect("bundled init");
    let truth = Truth::from_json_file(dir.join("truth.json")).expect("bundled truth");
    let config = FitConfig::adam(1e-2).with_steps(usize::MAX);
    let mut group = c.benchmark_group("contexts");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for n in [10_000usize, 100_000] {
        let sampler = scm5::model(&truth.params);
        let data = sampler.sample(n, 1).expect("sampling");
        group.throughput(Throughput::Elements(n as u64));

        let mut model = scm5::model(&init);
        let mut trainer = model.trainer(&data, &config).expect("a valid fit");
        group.bench_function(BenchmarkId::new("pooled", n), |b| {
            b.iter(|| black_box(trainer.step().expect("finite loss")));
        });

        let graphs = [
            ("one_context", contexts(&data, 1)),
            ("50_contexts", contexts(&data, CONTEXTS)),
            ("50_intervened", intervened(&sampler, n / CONTEXTS)),
        ];
        for (name, graph) in graphs {
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
