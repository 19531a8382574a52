//! The same seed gives bit-identical fitted parameters and samples: twice
//! in one process, and on rayon pools of 1, 2 and 3 threads.
//!
//! The data have more than 4096 rows, so the mechanism kernels split every
//! batch into several chunks evaluated in parallel; their gradients are
//! combined in chunk order (`combine_chunks`, `sum_chunks`), and burn's
//! Flex backend is built without its `rayon` feature, so its reductions
//! are sequential (as is its matrix product for the burn MLP mechanism).
//! Nothing depends on how many threads run the chunks.

use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::graph::CausalGraph;
use causalgrad::models::scm5::{self, Init};
use causalgrad::scm::{Activation, Mechanism, Scm};

/// Every fitted parameter, noise log-scale and sampled value, as bits.
fn fingerprint(scm: &Scm, samples: &Dataset) -> Vec<u64> {
    let mut bits = Vec::new();
    for variable in scm.variables() {
        let params = scm.params(variable).unwrap();
        bits.extend(params.iter().map(|p| u64::from(p.to_bits())));
        let log_scale = scm.noise(variable).unwrap().params()[0];
        bits.push(u64::from(log_scale.to_bits()));
    }
    for name in samples.names() {
        bits.extend(samples.column(name).unwrap().iter().map(|v| v.to_bits()));
    }
    bits
}

/// Fits `model` to `data` under `config` and samples from the result.
fn fit_and_sample(mut model: Scm, data: &Dataset, config: &FitConfig) -> Vec<u64> {
    model.fit(data, config).unwrap();
    let samples = model.sample(6000, 11).unwrap();
    fingerprint(&model, &samples)
}

/// The same fit on a pool of `threads` threads.
fn on_threads(threads: usize, run: impl Fn() -> Vec<u64> + Send) -> Vec<u64> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(run)
}

fn assert_reproducible(run: impl Fn() -> Vec<u64> + Send + Sync) {
    let first = run();
    assert_eq!(first, run(), "two runs in one process differ");
    for threads in [1, 2, 3] {
        assert_eq!(
            first,
            on_threads(threads, &run),
            "a pool of {threads} threads gives other bits"
        );
    }
}

#[test]
fn scm5_fits_and_samples_are_bit_identical_across_runs_and_thread_counts() {
    let dir = scm5::data_dir();
    let train = Dataset::from_csv(dir.join("train_10k.csv")).unwrap();
    assert!(train.n_rows() > 2 * 4096, "several chunks per batch");
    let init = Init::from_json_file(dir.join("init_seed0.json")).unwrap();
    // Full batches, then shuffled mini-batches with a validation split.
    let configs = [
        FitConfig::adam(1e-2).with_steps(12).with_seed(3),
        FitConfig::adam(1e-2)
            .with_steps(12)
            .with_batch_size(4500)
            .with_validation(0.1)
            .with_eval_every(4)
            .with_seed(5),
    ];
    for config in &configs {
        assert_reproducible(|| fit_and_sample(scm5::model(&init), &train, config));
    }
}

#[test]
fn additive_and_neural_mechanisms_are_bit_identical_across_thread_counts() {
    let graph = CausalGraph::new(["a", "b", "c"], [("a", "b"), ("a", "c"), ("b", "c")]).unwrap();
    let mut truth = Scm::builder(graph.clone()).build().unwrap();
    truth.set_params("b", &[0.5, -1.5]).unwrap();
    truth.set_params("c", &[0.0, 1.0, 0.7]).unwrap();
    let data = truth.sample(9000, 21).unwrap();
    let model = || {
        Scm::builder(graph.clone())
            .mechanism("b", Mechanism::additive(1, 6, 1))
            .mechanism("c", Mechanism::additive(2, 6, 2))
            .build()
            .unwrap()
    };
    let config = FitConfig::adam(2e-2).with_steps(12);
    assert_reproducible(|| fit_and_sample(model(), &data, &config));
    // A burn MLP for `c`, trained through burn's own autodiff.
    let neural = || {
        Scm::builder(graph.clone())
            .mechanism("b", Mechanism::additive(1, 6, 1))
            .mechanism("c", Mechanism::mlp(2, &[8], Activation::Tanh, 3))
            .build()
            .unwrap()
    };
    assert_reproducible(|| fit_and_sample(neural(), &data, &config));
}
