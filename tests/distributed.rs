//! Data-parallel fitting gives the parameters of a single-device fit,
//! resumes from its checkpoints like one, and refuses device lists it
//! cannot run.
//!
//! The parameters agree to 1e-5 absolute, not bit for bit: each device sums
//! its shard's rows in `f32`, and the shards' sums are weighted by their
//! share of the rows (rounded to `f32`) and added afterwards, so the
//! gradient's last bits differ from the single sum over all rows. Over 30
//! steps on the scm5 model the largest difference measured was 2.4e-7 (two
//! ulps of a parameter near 1); the bound leaves a factor of forty.

use causalgrad::data::Dataset;
use causalgrad::fit::{FitConfig, FitDevice, FitError, StopReason};
use causalgrad::models::scm5::{self, Init};
use causalgrad::scm::Scm;

const TOLERANCE: f32 = 1e-5;

fn model() -> Scm {
    scm5::model(&Init::from_json_file(scm5::data_dir().join("init_seed0.json")).unwrap())
}

fn data(rows: usize) -> Dataset {
    Dataset::from_csv(scm5::data_dir().join("train_10k.csv"))
        .unwrap()
        .head(rows)
}

/// Every mechanism parameter and log noise scale, by variable.
fn parameters(scm: &Scm) -> Vec<(String, Vec<f32>)> {
    scm.variables()
        .map(|name| {
            let mut values = scm.params(name).unwrap().to_vec();
            let log_scale = scm.noise(name).unwrap().params()[0];
            values.push(log_scale);
            (name.to_string(), values)
        })
        .collect()
}

/// The largest difference between two models' parameters, after checking
/// that the fit moved them at all.
fn largest_difference(single: &Scm, parallel: &Scm) -> f32 {
    let start = parameters(&model());
    let (single, parallel) = (parameters(single), parameters(parallel));
    assert_ne!(single, start, "the fit changed nothing");
    single
        .iter()
        .zip(&parallel)
        .flat_map(|((name, a), (_, b))| {
            assert_eq!(a.len(), b.len(), "{name}");
            a.iter().zip(b).map(|(x, y)| (x - y).abs())
        })
        .fold(0.0, f32::max)
}

fn compare(data: &Dataset, config: &FitConfig, devices: &[FitDevice]) {
    let mut single = model();
    let single_report = single.fit(data, config).unwrap();
    let mut parallel = model();
    let parallel_report = parallel.fit_data_parallel(data, config, devices).unwrap();
    let difference = largest_difference(&single, &parallel);
    assert!(
        difference <= TOLERANCE,
        "{} devices: parameters differ by {difference}",
        devices.len()
    );
    assert_eq!(single_report.losses.len(), parallel_report.losses.len());
    for (step, (a, b)) in single_report
        .losses
        .iter()
        .zip(&parallel_report.losses)
        .enumerate()
    {
        assert!(
            (a - b).abs() <= 1e-5 * a.abs().max(1.0),
            "step {step}: loss {a} vs {b}"
        );
    }
    assert_eq!(single_report.stop, parallel_report.stop);
}

#[test]
fn two_devices_full_batch_match_one_device() {
    compare(
        &data(2000),
        &FitConfig::adam(1e-2).with_steps(30),
        &[FitDevice::Flex, FitDevice::Flex],
    );
}

#[test]
fn uneven_shards_of_mini_batches_with_validation_and_sgd_match_one_device() {
    // 3 devices share batches of 200 rows as 66 + 67 + 67; the validation
    // split and the batch order are those of the single-device fit. SGD's
    // step is proportional to the gradient (Adam's is not), so a wrongly
    // weighted sum of the shards' gradients shows in the parameters.
    let config = FitConfig::sgd(1e-2, 0.9)
        .with_steps(30)
        .with_batch_size(200)
        .with_validation(0.2)
        .with_eval_every(10)
        .with_seed(7);
    compare(
        &data(1000),
        &config,
        &[FitDevice::Flex, FitDevice::Flex, FitDevice::Flex],
    );
}

#[test]
fn one_device_is_the_single_device_fit_bit_for_bit() {
    let (data, config) = (data(500), FitConfig::adam(1e-2).with_steps(10));
    let mut single = model();
    single.fit(&data, &config).unwrap();
    let mut parallel = model();
    parallel
        .fit_data_parallel(&data, &config, &[FitDevice::Flex])
        .unwrap();
    assert_eq!(parameters(&single), parameters(&parallel));
}

#[test]
fn an_empty_device_list_is_refused() {
    let err = model()
        .fit_data_parallel(&data(100), &FitConfig::adam(1e-2), &[])
        .unwrap_err();
    assert!(matches!(err, FitError::NoDevices), "{err}");
}

#[cfg(not(feature = "cuda"))]
#[test]
fn a_device_without_its_feature_is_refused_naming_the_feature() {
    let err = model()
        .fit_data_parallel(
            &data(100),
            &FitConfig::adam(1e-2),
            &[FitDevice::Flex, FitDevice::Cuda(1)],
        )
        .unwrap_err();
    assert!(
        matches!(&err, FitError::Config(message) if message.contains("--features cuda")),
        "{err}"
    );
}

#[test]
fn fewer_rows_than_devices_is_refused() {
    let four = [FitDevice::Flex; 4];
    // Three rows in all, or batches of three rows.
    for (rows, config) in [
        (3, FitConfig::adam(1e-2)),
        (100, FitConfig::adam(1e-2).with_batch_size(3)),
    ] {
        let err = model()
            .fit_data_parallel(&data(rows), &config, &four)
            .unwrap_err();
        assert!(
            matches!(
                err,
                FitError::FewerRowsThanDevices {
                    rows: 3,
                    devices: 4
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn a_resumed_data_parallel_fit_continues_bit_for_bit() {
    let dir = std::env::temp_dir().join(format!("causalgrad-distributed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (whole_path, split_path) = (dir.join("whole.ckpt"), dir.join("split.ckpt"));
    for path in [&whole_path, &split_path] {
        std::fs::remove_file(path).ok();
    }
    let (data, devices) = (data(600), [FitDevice::Flex, FitDevice::Flex]);
    let config = FitConfig::adam(1e-2).with_batch_size(128).with_seed(3);

    let mut whole = model();
    let whole_report = whole
        .fit_data_parallel(
            &data,
            &config
                .clone()
                .with_steps(20)
                .with_checkpoint(&whole_path, 10),
            &devices,
        )
        .unwrap();
    let mut first = model();
    first
        .fit_data_parallel(
            &data,
            &config
                .clone()
                .with_steps(10)
                .with_checkpoint(&split_path, 10),
            &devices,
        )
        .unwrap();
    let mut resumed = model();
    let resume = config
        .with_steps(20)
        .with_checkpoint(&split_path, 10)
        .with_resume();
    let mut trainer = resumed
        .trainer_data_parallel(&data, &resume, &devices)
        .unwrap();
    assert_eq!(
        trainer.steps_taken(),
        10,
        "the trainer starts at the checkpoint"
    );
    while trainer.steps_taken() < 20 {
        trainer.step().unwrap();
    }
    let resumed_report = trainer.finish(StopReason::Completed).unwrap();
    assert_eq!(whole_report.losses, resumed_report.losses);
    assert_eq!(parameters(&whole), parameters(&resumed));
    std::fs::remove_dir_all(&dir).ok();
}
