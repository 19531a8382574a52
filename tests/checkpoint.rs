//! Checkpoints: written every K steps, resumable on the same loss curve,
//! refused under other settings.

use std::path::PathBuf;

use causalgrad::data::Dataset;
use causalgrad::fit::{FitConfig, FitError};
use causalgrad::models::scm5::{self, Init, Params};
use causalgrad::scm::{Activation, Mechanism, Scm};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("causalgrad-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::remove_file(&path).ok();
    path
}

fn init() -> Params {
    Init::from_json_file(scm5::data_dir().join("init_seed0.json")).unwrap()
}

fn model() -> Scm {
    scm5::model_with_x4(&init(), Mechanism::mlp(2, &[8], Activation::Tanh, 4)).unwrap()
}

fn data() -> Dataset {
    Dataset::from_csv(scm5::data_dir().join("train_10k.csv")).unwrap()
}

/// Mini-batches (so the shuffled order must be restored), validation and Adam.
fn config() -> FitConfig {
    FitConfig::adam(1e-2)
        .with_steps(40)
        .with_batch_size(3000)
        .with_validation(0.2)
        .with_eval_every(5)
}

#[test]
fn an_interrupted_fit_resumes_on_the_same_loss_curve() {
    let data = data();
    let mut straight = model();
    let expected = straight.fit(&data, &config()).unwrap();

    let path = temp("resume.ckpt");
    let resumable = config().with_checkpoint(&path, 10).with_resume();
    let mut interrupted = model();
    {
        let mut trainer = interrupted.trainer(&data, &resumable).unwrap();
        for _ in 0..23 {
            trainer.step().unwrap();
        }
        // Dropped here: the process "dies" after step 23; the file holds step 20.
    }
    let mut at_checkpoint = model();
    at_checkpoint.load_parameters(&path).unwrap();

    let mut resumed = model();
    let report = resumed.fit(&data, &resumable).unwrap();
    assert_eq!(report.losses, expected.losses);
    for variable in ["x1", "x2", "x3", "x4", "x5"] {
        assert_eq!(
            resumed.params(variable).unwrap(),
            straight.params(variable).unwrap()
        );
        assert_ne!(
            at_checkpoint.params(variable).unwrap(),
            straight.params(variable).unwrap(),
            "the checkpoint holds step 20, not the end"
        );
    }
    assert_eq!(report.validation, expected.validation);

    // The final checkpoint holds the end of the fit; resuming it again is a no-op.
    let mut again = model();
    let report = again.fit(&data, &resumable).unwrap();
    assert_eq!(report.losses, expected.losses);
    assert_eq!(again.params("x4").unwrap(), straight.params("x4").unwrap());
}

#[test]
fn a_checkpoint_is_written_every_k_steps_and_loads_as_a_model() {
    let data = data();
    let path = temp("every.ckpt");
    let mut scm = model();
    let config = config().with_checkpoint(&path, 7);
    let mut after_seven = None;
    {
        let mut trainer = scm.trainer(&data, &config).unwrap();
        for step in 1..=9 {
            trainer.step().unwrap();
            if step == 7 {
                after_seven = Some(std::fs::read(&path).unwrap());
            }
        }
    }
    assert_eq!(
        Some(std::fs::read(&path).unwrap()),
        after_seven,
        "nothing written at 8 and 9"
    );
    let mut loaded = model();
    loaded.load_parameters(&path).unwrap();
    assert_ne!(loaded.params("x4").unwrap(), model().params("x4").unwrap());
}

#[test]
fn resuming_under_other_settings_is_refused() {
    let data = data();
    let path = temp("settings.ckpt");
    model()
        .fit(&data, &config().with_steps(5).with_checkpoint(&path, 5))
        .unwrap();
    let mut scm = model();
    let error = scm
        .fit(
            &data,
            &FitConfig::adam(5e-2)
                .with_steps(10)
                .with_batch_size(3000)
                .with_validation(0.2)
                .with_checkpoint(&path, 5)
                .with_resume(),
        )
        .unwrap_err();
    assert!(matches!(error, FitError::Checkpoint { .. }), "{error}");
    assert!(error.to_string().contains("other settings"), "{error}");
    assert_eq!(scm.params("x2").unwrap(), model().params("x2").unwrap());

    let error = model()
        .fit(
            &data.split(0.5, 1).0,
            &config().with_checkpoint(&path, 5).with_resume(),
        )
        .unwrap_err();
    assert!(error.to_string().contains("training rows"), "{error}");
}

#[test]
fn resume_without_a_checkpoint_file_starts_afresh() {
    let data = data();
    let path = temp("fresh.ckpt");
    let mut resumed = model();
    let report = resumed
        .fit(
            &data,
            &config()
                .with_steps(6)
                .with_checkpoint(&path, 3)
                .with_resume(),
        )
        .unwrap();
    let mut plain = model();
    let expected = plain.fit(&data, &config().with_steps(6)).unwrap();
    assert_eq!(report.losses, expected.losses);
    assert!(path.exists());
}
