//! Extreme data either fit or give a typed error naming the cause, and a
//! diverging fit stops at its first non-finite loss with the parameters of
//! its last good step.

use causalgrad::data::Dataset;
use causalgrad::fit::{FitConfig, FitError};
use causalgrad::graph::CausalGraph;
use causalgrad::scm::Scm;

/// `a -> b` with linear mechanisms at zero.
fn model() -> Scm {
    let graph = CausalGraph::new(["a", "b"], [("a", "b")]).unwrap();
    Scm::builder(graph).build().unwrap()
}

/// `a` and `b = 1 + 2 a + noise` from a fixed pseudo-random sequence, with
/// `a` scaled by `scale` and shifted by `offset`.
fn data(rows: usize, scale: f64, offset: f64) -> Dataset {
    let noise = |i: usize, k: f64| ((i as f64 * k).sin() * 43_758.545).fract();
    let a: Vec<f64> = (0..rows)
        .map(|i| offset + scale * noise(i, 12.9898))
        .collect();
    let b: Vec<f64> = a
        .iter()
        .enumerate()
        .map(|(i, &a)| 1.0 + 2.0 * a + 0.5 * noise(i, 78.233))
        .collect();
    Dataset::from_columns([("a", a), ("b", b)]).unwrap()
}

fn all_params(scm: &Scm) -> Vec<f32> {
    let mut values = Vec::new();
    for variable in ["a", "b"] {
        values.extend_from_slice(&scm.params(variable).unwrap());
        let log_scale = scm.noise(variable).unwrap().params()[0];
        values.push(log_scale);
    }
    values
}

#[test]
fn values_around_1e30_are_an_error_naming_the_variable_and_row() {
    let mut columns = vec![1.0, -2.0, 0.5, 3.0];
    columns[2] = 1e30;
    let data = Dataset::from_columns([("a", vec![0.0, 1.0, 2.0, 3.0]), ("b", columns)]).unwrap();
    // Standardised (the default), the column is fine: it is rescaled in f64.
    let report = model().fit(&data, &FitConfig::adam(1e-2)).unwrap();
    assert!(report.losses.iter().all(|l| l.is_finite()));
    // In the data's units, f32 cannot hold its square.
    let raw = FitConfig::adam(1e-2).with_standardize(false);
    let err = model().fit(&data, &raw).unwrap_err();
    assert!(
        matches!(&err, FitError::OutOfRange { variable, row: 3, .. } if variable == "b"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("variable `b`, row 3: 1e30 is beyond"),
        "{text}"
    );
    // Beyond f32's range the value arrives as infinity; still named.
    let data = Dataset::from_columns([("a", vec![1e39, 1.0]), ("b", vec![0.0, 1.0])]).unwrap();
    let err = model().fit(&data, &raw).unwrap_err();
    assert!(
        err.to_string().starts_with("variable `a`, row 1: inf"),
        "{err}"
    );
}

#[test]
fn large_but_accepted_values_fit_to_finite_parameters() {
    let mut scm = model();
    let report = scm
        .fit(&data(200, 1e12, 0.0), &FitConfig::adam(1e-1).with_steps(50))
        .unwrap();
    assert!(report.losses.iter().all(|l| l.is_finite()));
    assert!(all_params(&scm).iter().all(|p| p.is_finite()));
}

#[test]
fn a_constant_column_is_an_error_naming_the_variable() {
    let data = Dataset::from_columns([("a", vec![1.0, 2.0, 3.0]), ("b", vec![7.0; 3])]).unwrap();
    let err = model().fit(&data, &FitConfig::adam(1e-2)).unwrap_err();
    assert!(
        matches!(&err, FitError::Constant { variable, value } if variable == "b" && *value == 7.0),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("variable `b` is constant (7)"),
        "{err}"
    );
    // Under do(b = 7) the variable has no likelihood: the fit runs.
    let mut intervened = model().intervene(&[("b", 7.0)]).unwrap();
    intervened
        .fit(&data, &FitConfig::adam(1e-2).with_steps(5))
        .unwrap();
}

#[test]
fn one_row_is_an_error() {
    let data = Dataset::from_columns([("a", vec![1.0]), ("b", vec![2.0])]).unwrap();
    let err = model().fit(&data, &FitConfig::adam(1e-2)).unwrap_err();
    assert!(matches!(err, FitError::TooFewRows { rows: 1 }), "{err:?}");
    // Two rows, one of them held out for validation, is one row too.
    let data = Dataset::from_columns([("a", vec![1.0, 2.0]), ("b", vec![2.0, 5.0])]).unwrap();
    let err = model()
        .fit(&data, &FitConfig::adam(1e-2).with_validation(0.5))
        .unwrap_err();
    assert!(matches!(err, FitError::TooFewRows { rows: 1 }), "{err:?}");
}

#[test]
fn an_offset_that_swamps_the_variation_in_f32_is_named() {
    // Standardised in f64 (the default), the offset is no problem.
    let mut scm = model();
    let report = scm
        .fit(&data(100, 0.1, 1e9), &FitConfig::adam(1e-2))
        .unwrap();
    assert!(report.losses.iter().all(|l| l.is_finite()));
    let b = scm.params("b").unwrap();
    assert!((b[1] - 2.0).abs() < 0.6, "{b:?}");
    // In the data's units f32 cannot resolve it.
    let err = model()
        .fit(
            &data(100, 0.1, 1e9),
            &FitConfig::adam(1e-2).with_standardize(false),
        )
        .unwrap_err();
    assert!(
        matches!(&err, FitError::Constant { variable, .. } if variable == "a"),
        "{err:?}"
    );
    assert!(err.to_string().contains("subtract the offset"), "{err}");
    // A large offset that f32 still resolves fits with finite values.
    let mut scm = model();
    let report = scm
        .fit(&data(100, 1.0, 1e4), &FitConfig::adam(1.0).with_steps(300))
        .unwrap();
    assert!(report.losses.iter().all(|l| l.is_finite()));
    assert!(report.losses[299] < report.losses[0]);
    assert!(all_params(&scm).iter().all(|p| p.is_finite()));
}

#[test]
fn an_exactly_determined_variable_keeps_a_finite_loss() {
    // b = 1 + a exactly: the noise scale of b is driven towards zero; the
    // loss reads it clamped, so it stays finite.
    let a: Vec<f64> = (0..64).map(|i| f64::from(i % 8)).collect();
    let b: Vec<f64> = a.iter().map(|a| 1.0 + a).collect();
    let data = Dataset::from_columns([("a", a), ("b", b)]).unwrap();
    let mut scm = model();
    scm.set_params("b", &[1.0, 1.0]).unwrap();
    let report = scm
        .fit(&data, &FitConfig::sgd(1.0, 0.0).with_steps(200))
        .unwrap();
    assert!(report.losses.iter().all(|l| l.is_finite()), "{report:?}");
    assert!(all_params(&scm).iter().all(|p| p.is_finite()));
    let likelihood = scm.log_likelihood(&data).unwrap();
    assert!(likelihood.is_finite(), "{likelihood}");
}

/// Runs `config` at learning rate 1e3 until it diverges; the model must
/// hold exactly the parameters the same fit has after `last_good_step`
/// steps, all finite.
fn diverges_and_keeps_the_last_good_step(config: FitConfig) {
    // In the data's units this learning rate diverges within a few steps.
    let config = config.with_standardize(false);
    let data = data(500, 3.0, 0.0);
    let mut diverged = model();
    let err = diverged.fit(&data, &config).unwrap_err();
    let FitError::NonFinite {
        step,
        loss,
        last_good_step,
        last_good_loss,
    } = err
    else {
        panic!("expected a non-finite loss, got {err:?}");
    };
    // Step `last_good_step + 1` computed a finite loss with the kept
    // parameters; the step after it is the first non-finite one.
    assert_eq!(step, last_good_step + 2, "the first non-finite loss");
    assert!(!loss.is_finite() && last_good_loss.is_finite());
    let kept = all_params(&diverged);
    assert!(kept.iter().all(|p| p.is_finite()), "{kept:?}");
    let mut replay = model();
    if last_good_step > 0 {
        let report = replay
            .fit(&data, &config.clone().with_steps(last_good_step))
            .unwrap();
        assert!(report.losses.iter().all(|l| l.is_finite()));
    }
    assert_eq!(
        kept,
        all_params(&replay),
        "the parameters of step {last_good_step}"
    );
}

#[test]
fn a_diverging_sgd_fit_keeps_its_last_good_parameters() {
    diverges_and_keeps_the_last_good_step(FitConfig::sgd(1e3, 0.0).with_steps(500));
}

#[test]
fn a_diverging_adam_fit_keeps_its_last_good_parameters() {
    diverges_and_keeps_the_last_good_step(FitConfig::adam(1e3).with_steps(500));
}

/// The peak resident memory of this process so far (VmHWM), in bytes.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// 10 columns by 10 million rows (a 1.3 GB CSV file written to the temp
/// folder and removed after): read row by row into columns, then fitted
/// with mini-batches. Ignored: it writes and reads the file for about a
/// minute in a release build (`cargo test --release --test numerics --
/// --ignored ten_million`).
#[test]
#[ignore]
fn ten_columns_of_ten_million_rows_read_and_fit() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    use std::io::Write;
    const ROWS: usize = 10_000_000;
    const COLUMNS: usize = 10;
    let names: Vec<String> = (0..COLUMNS).map(|i| format!("x{i}")).collect();
    let path = std::env::temp_dir().join(format!("causalgrad-10m-{}.csv", std::process::id()));
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(out, "{}", names.join(",")).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut row = [0.0f64; COLUMNS];
        for _ in 0..ROWS {
            for i in 0..COLUMNS {
                let noise: f64 = StandardNormal.sample(&mut rng);
                row[i] = if i == 0 {
                    noise
                } else {
                    0.5 * row[i - 1] + 0.5 * noise
                };
            }
            let cells: Vec<String> = row.iter().map(|v| format!("{v:.4}")).collect();
            writeln!(out, "{}", cells.join(",")).unwrap();
        }
    }
    let file_bytes = std::fs::metadata(&path).unwrap().len();
    let before = peak_memory();
    let data = Dataset::from_csv(&path);
    std::fs::remove_file(&path).ok();
    let data = data.unwrap();
    assert_eq!(data.n_rows(), ROWS);
    let column_bytes = (ROWS * COLUMNS * std::mem::size_of::<f64>()) as u64;
    if let (Some(before), Some(after)) = (before, peak_memory()) {
        // The file is streamed: reading holds the columns, not the text.
        assert!(
            after - before < column_bytes + column_bytes / 2,
            "reading {file_bytes} bytes of CSV raised the peak by {} bytes for {column_bytes} bytes of columns",
            after - before
        );
    }
    let edges: Vec<(String, String)> = (1..COLUMNS)
        .map(|i| (names[i - 1].clone(), names[i].clone()))
        .collect();
    let graph = CausalGraph::new(
        names.iter().map(String::as_str),
        edges.iter().map(|(a, b)| (a.as_str(), b.as_str())),
    )
    .unwrap();
    let mut scm = Scm::builder(graph).build().unwrap();
    let report = scm
        .fit(
            &data,
            &FitConfig::adam(0.05)
                .with_steps(200)
                .with_batch_size(100_000)
                .with_validation(0.0),
        )
        .unwrap();
    assert!(report.losses.iter().all(|l| l.is_finite()));
    let weight = scm.params("x5").unwrap()[1];
    assert!((weight - 0.5).abs() < 0.05, "x5's weight on x4: {weight}");
}
