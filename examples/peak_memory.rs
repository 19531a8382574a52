//! Peak memory of a full-batch fit against the size of its data, read from
//! `/proc/self/status` (Linux).
//!
//! Samples n rows (default 1M) from the scm5 model, resets the peak
//! resident set (`/proc/self/clear_refs`) so that sampling does not count,
//! runs a few full-batch Adam steps and reads the peak (`VmHWM`). A
//! `Dataset` stores `f64` columns, so the data take `rows × columns × 8`
//! bytes.
//!
//! ```text
//! cargo run --profile bench --example peak_memory            # 1M rows
//! cargo run --profile bench --example peak_memory -- 100000  # other sizes
//! ```

use std::error::Error;

use causalgrad::fit::FitConfig;
use causalgrad::models::scm5::{self, Init, Truth};

/// Full-batch steps of the fit.
const STEPS: usize = 5;

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> Result<u64, Box<dyn Error>> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("/proc/self/status: {e} (this program needs Linux)"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with(field) && line[field.len()..].starts_with(':'))
        .ok_or_else(|| format!("/proc/self/status has no `{field}` line"))?;
    let kb: u64 = line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .map_err(|e| format!("/proc/self/status `{line}`: {e}"))?;
    Ok(kb * 1024)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() -> Result<(), Box<dyn Error>> {
    let rows: usize = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|e| format!("the number of rows `{arg}`: {e}"))?,
        None => 1_000_000,
    };
    let dir = scm5::data_dir();
    let init = Init::from_json_file(dir.join("init_seed0.json"))?;
    let truth = Truth::from_json_file(dir.join("truth.json"))?;
    let mut model = scm5::model(&init);
    let sampler = scm5::model(&truth.params);
    let before = status_bytes("VmRSS")?;

    let data = sampler.sample(rows, 1)?;
    let data_bytes = (data.n_rows() * data.names().len() * std::mem::size_of::<f64>()) as u64;
    // Writing 5 resets VmHWM to the current resident set (Linux ≥ 4.0).
    std::fs::write("/proc/self/clear_refs", "5")
        .map_err(|e| format!("/proc/self/clear_refs: {e} (cannot reset the peak)"))?;
    let with_data = status_bytes("VmRSS")?;

    let report = model.fit(&data, &FitConfig::adam(1e-2).with_steps(STEPS))?;
    let peak = status_bytes("VmHWM")?;

    println!(
        "{} rows × {} columns of f64: data {:.1} MiB",
        data.n_rows(),
        data.names().len(),
        mib(data_bytes)
    );
    println!("resident before sampling   {:>8.1} MiB", mib(before));
    println!("resident with the data     {:>8.1} MiB", mib(with_data));
    println!(
        "peak during {STEPS} full-batch steps {:>8.1} MiB (final loss {:.4})",
        mib(peak),
        report.losses.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "peak above the pre-data baseline: {:.2}x the data; the fit's own: {:.2}x the data",
        peak.saturating_sub(before) as f64 / data_bytes as f64,
        peak.saturating_sub(with_data) as f64 / data_bytes as f64
    );
    Ok(())
}
