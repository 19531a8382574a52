//! Quickstart: fit the bundled 5-variable causal model and ask it causal
//! questions.
//!
//! Run with `cargo run --release --example quickstart`.
//!
//! The model family is the one that generated `data/scm5` (see its
//! `SOURCE.md`): each mechanism is a `#[differentiable]` Rust function
//! (`causalgrad::models::scm5`), the one for `x4` a 2-16-1 tanh network
//! written as loops over a weight struct. The fit is 500 full-batch Adam
//! steps through burn, from the shared initialisation. The last line is
//! one JSON object: the fitted noise scales, the RMSE of each fitted
//! conditional mean against the true one on the test set, and
//! `E[x5 | do(x2 = ±1)]` from the fitted model.

use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::models::scm5::{self, Init, Truth};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = scm5::data_dir();
    let train = Dataset::from_csv(dir.join("train_10k.csv"))?;
    let test = Dataset::from_csv(dir.join("test_10k.csv"))?;
    let init = Init::from_json_file(dir.join("init_seed0.json"))?;
    let truth = Truth::from_json_file(dir.join("truth.json"))?;

    let mut model = scm5::model(&init);
    let started = std::time::Instant::now();
    let report = model.fit(&train, &FitConfig::adam(1e-2).with_steps(500))?;
    for (step, loss) in report.losses.iter().enumerate().step_by(50) {
        eprintln!("step {:>3}  loss {loss:.6}", step + 1);
    }
    eprintln!(
        "step 500  loss {:.6}  ({:.2} s)",
        report.losses.last().copied().unwrap_or(f64::NAN),
        started.elapsed().as_secs_f64()
    );

    // Fitted vs true conditional means on held-out data.
    let true_model = scm5::model(&truth.params);
    let fitted = model.conditional_means(&test)?;
    let expected = true_model.conditional_means(&test)?;
    let mut noise_scale = serde_json::Map::new();
    let mut mean_rmse = serde_json::Map::new();
    for (name, scale) in model.noise_scales() {
        if name == "x1" {
            continue;
        }
        let (a, b) = (fitted.column(&name)?, expected.column(&name)?);
        let rmse =
            (a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt();
        noise_scale.insert(name.clone(), scale.into());
        mean_rmse.insert(name, rmse.into());
    }
    let e_x5_do_x2_1 = model.interventional_mean("x5", &[("x2", 1.0)], 100_000, 4242)?;
    let e_x5_do_x2_m1 = model.interventional_mean("x5", &[("x2", -1.0)], 100_000, 4242)?;
    eprintln!(
        "E[x5 | do(x2 = 1)] = {e_x5_do_x2_1:.4} (truth {:.4}), E[x5 | do(x2 = -1)] = {e_x5_do_x2_m1:.4} (truth {:.4})",
        truth.e_x5_do_x2_1, truth.e_x5_do_x2_m1
    );
    let summary = serde_json::json!({
        "noise_scale": noise_scale,
        "mean_rmse": mean_rmse,
        "e_x5_do_x2_1": e_x5_do_x2_1,
        "e_x5_do_x2_m1": e_x5_do_x2_m1,
    });
    println!("{summary}");
    Ok(())
}
