//! A fitted model is shared between threads: `Scm`, `Dataset` and
//! `CausalGraph` are `Send + Sync` (checked at compile time), and queries
//! run from several threads at once give the single-threaded answers, bit
//! for bit.

use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::graph::CausalGraph;
use causalgrad::models::scm5::{self, Init};
use causalgrad::scm::Scm;

const fn assert_send_sync<T: Send + Sync>() {}
const _: () = {
    assert_send_sync::<Scm>();
    assert_send_sync::<Dataset>();
    assert_send_sync::<CausalGraph>();
};

/// The answers of every query, as bits.
fn answers(scm: &Scm, observed: &Dataset, seed: u64) -> Vec<u64> {
    let mut bits = Vec::new();
    let mut dataset = |data: &Dataset| {
        for name in data.names() {
            bits.extend(data.column(name).unwrap().iter().map(|v| v.to_bits()));
        }
    };
    dataset(&scm.sample(5000, seed).unwrap());
    dataset(&scm.counterfactual(observed, &[("x2", 1.0)]).unwrap());
    let effect = scm.ate("x2", "x5", -1.0, 1.0, 5000, seed).unwrap();
    bits.extend([effect.ate, effect.stderr, effect.mean_a, effect.mean_b].map(f64::to_bits));
    bits.push(scm.log_likelihood(observed).unwrap().to_bits());
    bits
}

#[test]
fn one_fitted_model_answers_many_threads_as_it_answers_one() {
    let dir = scm5::data_dir();
    let train = Dataset::from_csv(dir.join("train_10k.csv")).unwrap();
    let observed = Dataset::from_csv(dir.join("test_10k.csv"))
        .unwrap()
        .head(4500);
    let mut scm = scm5::model(&Init::from_json_file(dir.join("init_seed0.json")).unwrap());
    scm.fit(&train, &FitConfig::adam(1e-2).with_steps(10))
        .unwrap();

    let seeds = [1u64, 2, 3, 4, 5, 6];
    let alone: Vec<Vec<u64>> = seeds
        .iter()
        .map(|&seed| answers(&scm, &observed, seed))
        .collect();
    let (scm, observed) = (&scm, &observed);
    // Every seed twice, all threads at once.
    let together: Vec<(u64, Vec<u64>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .iter()
            .chain(&seeds)
            .map(|&seed| scope.spawn(move || (seed, answers(scm, observed, seed))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (seed, bits) in together {
        let index = seeds.iter().position(|&s| s == seed).unwrap();
        assert_eq!(
            bits, alone[index],
            "seed {seed}: another answer on a thread"
        );
    }
}
