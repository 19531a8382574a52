//! The coverage study in the suite: effect intervals from the default
//! fit (tanh MLPs, Gaussian noise, early stopping) and its eight
//! ensemble members, on replicate data sets of a known confounded
//! nonlinear model, must cover the true effect in at least 90% of the
//! replicates at nominal 95%, with a mean width at most 1.5 times the
//! oracle width (2 · 1.96 · the estimates' spread across replicates), so
//! coverage is not bought with width. Fixed seeds; the full-size study on
//! scm5 is `cargo run --release --example coverage`.

use causalgrad::fit::{FitConfig, MemberConfig};
use causalgrad::models::confounded;
use causalgrad::uncertainty::coverage::{study, CoverageReport, Design};

fn run(rows: usize, a: f64, b: f64) -> CoverageReport {
    let design = Design {
        truth: confounded::truth(),
        fresh: &|_| confounded::default_model(0),
        rows,
        treatment: "x".into(),
        outcome: "y".into(),
        a,
        b,
    };
    let report = study(
        &design,
        40,
        &FitConfig::default(),
        &MemberConfig::default(),
        0.95,
    )
    .unwrap();
    eprintln!(
        "rows {rows}, do(x = {b}) - do(x = {a}): truth {:.4}, coverage {:.3}, mean width {:.4}, oracle width {:.4}, bias {:+.4}",
        report.truth,
        report.coverage(),
        report.mean_width(),
        report.oracle_width(),
        report.bias()
    );
    report
}

#[test]
fn default_intervals_cover_the_effect_without_buying_it_with_width() {
    let report = run(1000, -1.0, 1.0);
    assert!(
        (report.truth - 3.0 * 1f64.tanh()).abs() < 0.01,
        "{}",
        report.truth
    );
    assert!(report.coverage() >= 0.9, "coverage {}", report.coverage());
    assert!(
        report.mean_width() <= 1.5 * report.oracle_width(),
        "width {} against the oracle's {}",
        report.mean_width(),
        report.oracle_width()
    );
}
