//! A burn network as a mechanism: fit scm5 with a burn MLP for `x4`
//! (the other mechanisms stay `#[differentiable]` Rust functions), with
//! checkpoints, then save the model, load it back and query it.
//!
//! Run with `cargo run --release --example neural_mechanism`.
//!
//! Every parameter — the macro-written mechanisms', the network's weights
//! and the noise scales — trains in one burn Adam step. The fit writes a
//! checkpoint every 100 steps (run the example twice: the second run
//! resumes from the finished checkpoint and does no more work). The saved
//! model is reloaded into a model rebuilt by the same code, and the
//! reloaded model samples bit for bit like the fitted one.

use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::models::scm5::{self, Init, Truth};
use causalgrad::scm::{Activation, Mechanism, MlpConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = scm5::data_dir();
    let train = Dataset::from_csv(dir.join("train_10k.csv"))?;
    let test = Dataset::from_csv(dir.join("test_10k.csv"))?;
    let init = Init::from_json_file(dir.join("init_seed0.json"))?;
    let truth = Truth::from_json_file(dir.join("truth.json"))?;

    // x4 = a 2-16-1 tanh network built by burn's `Config`/`Module` machinery.
    let network = || {
        MlpConfig::new(2)
            .with_hidden(vec![16])
            .with_activation(Activation::Tanh)
            .with_seed(0)
            .init(&burn::tensor::Device::flex())
    };
    let mut model = scm5::model_with_x4(&init, Mechanism::neural(network()))?;
    eprintln!("x4's mechanism: {}", model.mechanism("x4")?.describe());

    let out = std::env::temp_dir().join("causalgrad-neural-mechanism");
    std::fs::create_dir_all(&out)?;
    let checkpoint = out.join("fit.ckpt");
    let config = FitConfig::adam(1e-2)
        .with_steps(800)
        .with_checkpoint(&checkpoint, 100)
        .with_resume();
    let started = std::time::Instant::now();
    let report = model.fit(&train, &config)?;
    eprintln!(
        "{} steps, final loss {:.5} ({:.2} s; checkpoint {})",
        report.losses.len(),
        report.losses.last().copied().unwrap_or(f64::NAN),
        started.elapsed().as_secs_f64(),
        checkpoint.display()
    );

    let path = out.join("scm5-neural.cg");
    model.save(&path)?;
    let mut loaded = scm5::model_with_x4(&init, Mechanism::neural(network()))?;
    loaded.load_parameters(&path)?;
    let identical = loaded.sample(10_000, 7)? == model.sample(10_000, 7)?;
    eprintln!(
        "saved to {}; reloaded samples identical: {identical}",
        path.display()
    );

    let true_model = scm5::model(&truth.params);
    let fitted = loaded.conditional_means(&test)?;
    let expected = true_model.conditional_means(&test)?;
    let (a, b) = (fitted.column("x4")?, expected.column("x4")?);
    let rmse = (a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt();
    let effect = loaded.ate("x2", "x5", -1.0, 1.0, 100_000, 4242)?;
    let true_effect = truth.e_x5_do_x2_1 - truth.e_x5_do_x2_m1;
    eprintln!(
        "x4 conditional-mean RMSE {rmse:.4}; ATE of x2: -1 → 1 on x5 = {:.4} ± {:.4} (truth {true_effect:.4})",
        effect.ate, effect.stderr
    );
    println!(
        "{}",
        serde_json::json!({
            "steps": report.losses.len(),
            "final_loss": report.losses.last(),
            "x4_mean_rmse": rmse,
            "reloaded_identical": identical,
            "ate_x2_on_x5": effect.ate,
            "ate_stderr": effect.stderr,
            "ate_truth": true_effect,
        })
    );
    if !identical {
        return Err("the reloaded model does not sample like the fitted one".into());
    }
    Ok(())
}
