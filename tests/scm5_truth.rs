//! The scm5 model family at the true parameters reproduces the ground truth
//! of `truth.json` (a check of the mechanisms, the sampler and `do`).

use causalgrad::models::scm5::{self, Truth};

#[test]
fn true_model_reproduces_interventional_means_and_the_data_likelihood() {
    let truth = Truth::from_json_file(scm5::data_dir().join("truth.json")).unwrap();
    let model = scm5::model(&truth.params);
    let e1 = model
        .interventional_mean("x5", &[("x2", 1.0)], 200_000, 11)
        .unwrap();
    let em1 = model
        .interventional_mean("x5", &[("x2", -1.0)], 200_000, 12)
        .unwrap();
    assert!((e1 - truth.e_x5_do_x2_1).abs() < 0.01, "{e1}");
    assert!((em1 - truth.e_x5_do_x2_m1).abs() < 0.01, "{em1}");
    // The conditional means explain the data up to the noise scales.
    let data = causalgrad::data::Dataset::from_csv(scm5::data_dir().join("test_10k.csv")).unwrap();
    let means = model.conditional_means(&data).unwrap();
    for (name, scale) in [("x2", 0.3), ("x3", 0.3), ("x4", 0.2), ("x5", 0.25)] {
        let (x, m) = (data.column(name).unwrap(), means.column(name).unwrap());
        let rms =
            (x.iter().zip(m).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
        assert!(
            (rms - scale).abs() < 0.02 * scale.max(0.25) * 3.0,
            "{name}: {rms} vs {scale}"
        );
    }
}
