//! Fits how the time per training step grows with the rows and with the
//! variables, from the results of `cargo bench --bench scaling`, prints
//! the slopes and the log-log exponents, draws `docs/img/scaling.svg`,
//! and prints the context-graph ratios from `cargo bench --bench contexts`
//! when those have been run.
//!
//! ```text
//! cargo bench --bench scaling
//! cargo bench --bench contexts
//! cargo run --profile bench --example scaling_report
//! ```
//!
//! Criterion's results are read from `target/criterion` (or
//! `$CARGO_TARGET_DIR/criterion`).

mod estimates;
mod plot;
mod slopes;

use std::path::{Path, PathBuf};

use causalgrad::models::random::RandomScm;
use estimates::{mean_ms, ReportError};
use plot::Panel;
use slopes::growth;

const ROWS: [usize; 3] = [10_000, 100_000, 1_000_000];
const VARIABLES: [usize; 6] = [5, 10, 20, 50, 100, 200];
const CONTEXT_ROWS: [usize; 2] = [10_000, 100_000];

fn criterion_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("criterion")
}

fn sweep(
    criterion: &Path,
    function: &str,
    sizes: &[usize],
) -> Result<Vec<(f64, f64)>, ReportError> {
    sizes
        .iter()
        .map(|&size| {
            Ok((
                size as f64,
                mean_ms(criterion, "scaling", "scaling", function, size)?,
            ))
        })
        .collect()
}

fn main() -> Result<(), ReportError> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let criterion = criterion_dir(root);

    let rows = sweep(&criterion, "scm5_rows", &ROWS)?;
    let variables = sweep(&criterion, "random_variables", &VARIABLES)?;
    let (by_rows, by_variables) = (growth(&rows), growth(&variables));
    println!("ms per full-batch Adam step (criterion median)");
    println!("\nscm5, by rows:");
    for (n, ms) in &rows {
        println!("  {n:>9}  {ms:>10.3} ms  ({:.1} ns per row)", ms * 1e6 / n);
    }
    println!(
        "  least squares: {:.3} ms + {:.4} ms per 10k rows (R² {:.4}); log-log exponent {:.3}",
        by_rows.intercept,
        by_rows.slope * 1e4,
        by_rows.r_squared,
        by_rows.exponent
    );
    println!("\nrandom sparse DAGs at 10k rows, by variables:");
    for (v, ms) in &variables {
        // The benchmark's models: seed 1, default settings.
        let edges = RandomScm::new(*v as usize, 1)
            .generate()
            .expect("the default settings are valid")
            .edges();
        println!(
            "  {v:>9}  {ms:>10.3} ms  ({:.3} ms per variable, {edges} edges)",
            ms / v
        );
    }
    println!(
        "  least squares: {:.3} ms + {:.4} ms per variable (R² {:.4}); log-log exponent {:.3}",
        by_variables.intercept, by_variables.slope, by_variables.r_squared, by_variables.exponent
    );

    let figure = root.join("docs").join("img").join("scaling.svg");
    plot::write_svg(
        &figure,
        &[
            Panel {
                title: "scm5: time per step vs rows",
                x_label: "rows",
                points: &rows,
                growth: by_rows,
            },
            Panel {
                title: "random sparse DAGs, 10k rows: time per step vs variables",
                x_label: "variables",
                points: &variables,
                growth: by_variables,
            },
        ],
    )?;
    println!("\nwrote {}", figure.display());

    println!("\ncontext graphs (scm5), ms per step:");
    for n in CONTEXT_ROWS {
        let time = |function| mean_ms(&criterion, "contexts", "contexts", function, n);
        let pooled = match time("pooled") {
            Ok(pooled) => pooled,
            Err(error) => {
                println!("  {error}");
                continue;
            }
        };
        println!("  {n:>7} rows: pooled {pooled:.3}");
        for function in ["one_context", "50_contexts", "50_intervened"] {
            match time(function) {
                Ok(ms) => println!(
                    "           {function:<14} {ms:.3} ({:.2}x pooled)",
                    ms / pooled
                ),
                Err(error) => println!("           {error}"),
            }
        }
    }
    Ok(())
}
