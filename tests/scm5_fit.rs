//! Acceptance: fitting the scm5 model family to 10k training rows recovers
//! the noise scales (within 10%), the conditional means (RMSE < 0.1 on the
//! test set) and E[x5 | do(x2 = ±1)] (within 0.1 of the truth).

use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::models::scm5::{self, Init, Truth};

#[test]
fn fitted_scm5_matches_the_ground_truth() {
    let dir = scm5::data_dir();
    let train = Dataset::from_csv(dir.join("train_10k.csv")).unwrap();
    let test = Dataset::from_csv(dir.join("test_10k.csv")).unwrap();
    let truth = Truth::from_json_file(dir.join("truth.json")).unwrap();
    let mut model = scm5::model(&Init::from_json_file(dir.join("init_seed0.json")).unwrap());
    let report = model
        .fit(&train, &FitConfig::adam(1e-2).with_steps(500))
        .unwrap();
    assert!(report.losses[499] < report.losses[0]);

    let true_model = scm5::model(&truth.params);
    let fitted = model.conditional_means(&test).unwrap();
    let expected = true_model.conditional_means(&test).unwrap();
    for (index, name) in ["x1", "x2", "x3", "x4", "x5"].iter().enumerate() {
        let scale = model.noise(name).unwrap().scale().unwrap();
        let true_scale = f64::from(truth.params.scales[index]);
        assert!(
            (scale / true_scale - 1.0).abs() < 0.1,
            "{name}: scale {scale} vs {true_scale}"
        );
        if index == 0 {
            continue;
        }
        let (a, b) = (fitted.column(name).unwrap(), expected.column(name).unwrap());
        let rmse =
            (a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt();
        assert!(rmse < 0.1, "{name}: conditional-mean RMSE {rmse}");
    }
    let up = model
        .interventional_mean("x5", &[("x2", 1.0)], 100_000, 4242)
        .unwrap();
    let down = model
        .interventional_mean("x5", &[("x2", -1.0)], 100_000, 4242)
        .unwrap();
    assert!((up - truth.e_x5_do_x2_1).abs() < 0.1, "{up}");
    assert!((down - truth.e_x5_do_x2_m1).abs() < 0.1, "{down}");
}
