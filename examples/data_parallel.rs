//! Data-parallel fitting: the scm5 model fitted on one device and with
//! every step's batch shared out over several, from the same start.
//!
//! Run with `cargo run --release --example data_parallel -- flex flex`
//! (the devices to share over: `flex`, `cpu`, `cuda`, `cuda:N`, `wgpu`;
//! two `flex` workers when none are given). The devices other than `flex`
//! need the cargo feature of the same name.
//!
//! The data are 100k rows sampled from the true model (seed 1); the fit is
//! 100 full-batch Adam steps. The output gives each fit's time per step,
//! its final loss, and the largest difference between the two fits'
//! parameters (nonzero only through `f32` rounding: the shards' sums add up
//! in another order than the single sum over all rows).

use causalgrad::fit::{FitConfig, FitDevice};
use causalgrad::models::scm5::{self, Init, Truth};
use causalgrad::scm::Scm;

/// Every mechanism parameter and log noise scale, variable by variable.
fn parameters(scm: &Scm) -> Vec<f32> {
    scm.variables()
        .flat_map(|name| {
            let log_scale = scm.noise(name).expect("a variable of the model").params()[0];
            let params = scm.params(name).expect("a variable of the model");
            params
                .iter()
                .copied()
                .chain([log_scale])
                .collect::<Vec<_>>()
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut devices = std::env::args()
        .skip(1)
        .map(|arg| arg.parse::<FitDevice>())
        .collect::<Result<Vec<_>, _>>()?;
    if devices.is_empty() {
        devices = vec![FitDevice::Flex, FitDevice::Flex];
    }
    let dir = scm5::data_dir();
    let init = Init::from_json_file(dir.join("init_seed0.json"))?;
    let truth = Truth::from_json_file(dir.join("truth.json"))?;
    let data = scm5::model(&truth.params).sample(100_000, 1)?;
    let steps = 100;
    let config = FitConfig::adam(1e-2)
        .with_steps(steps)
        .with_device(devices[0]);

    let mut single = scm5::model(&init);
    let started = std::time::Instant::now();
    let single_report = single.fit(&data, &config)?;
    let single_ms = started.elapsed().as_secs_f64() * 1e3 / steps as f64;

    let mut parallel = scm5::model(&init);
    let started = std::time::Instant::now();
    let parallel_report = parallel.fit_data_parallel(&data, &config, &devices)?;
    let parallel_ms = started.elapsed().as_secs_f64() * 1e3 / steps as f64;

    let difference = parameters(&single)
        .iter()
        .zip(parameters(&parallel))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let last = |losses: &[f64]| losses.last().copied().unwrap_or(f64::NAN);
    println!(
        "one device ({:?}): {single_ms:.1} ms/step, final loss {:.6}",
        devices[0],
        last(&single_report.losses)
    );
    println!(
        "{} devices {devices:?}: {parallel_ms:.1} ms/step, final loss {:.6}",
        devices.len(),
        last(&parallel_report.losses)
    );
    println!("largest parameter difference: {difference:e}");
    Ok(())
}
