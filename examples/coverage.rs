//! The coverage study of effect intervals at full size: replicate data
//! sets from the true scm5 model, each fitted with the defaults (tanh
//! MLPs, Gaussian noise, early stopping) and eight members, and the
//! effect of x2 on x5 asked with a 95% interval, for two designs:
//! do(x2 = 1) against do(x2 = -1), and the 99th percentile of x2 against
//! its median.
//!
//! ```sh
//! cargo run --release --example coverage                 # 40 replicates at 1k and at 10k rows
//! cargo run --release --example coverage -- 100 1000     # 100 replicates of 1k rows
//! ```
//!
//! Prints, per design and size: the true effect, coverage, mean width,
//! oracle width (2 · 1.96 · the estimates' spread across replicates),
//! their ratio, and the estimates' bias.

use causalgrad::fit::{FitConfig, MemberConfig};
use causalgrad::models::scm5;
use causalgrad::uncertainty::coverage::{study, Design};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let replicates: u64 = args.first().map_or(Ok(40), |a| a.parse())?;
    let sizes: Vec<usize> = match args.get(1) {
        Some(rows) => vec![rows.parse()?],
        None => vec![1000, 10_000],
    };
    let truth = scm5::Truth::from_json_file(scm5::data_dir().join("truth.json"))?;
    let true_model = scm5::model(&truth.params);
    let x2 = {
        let mut x2 = true_model.sample(1_000_000, 99)?.column("x2")?.to_vec();
        x2.sort_by(f64::total_cmp);
        x2
    };
    let quantile = |q: f64| x2[((x2.len() - 1) as f64 * q) as usize];
    let designs = [
        ("do(x2 = 1) - do(x2 = -1)", -1.0, 1.0),
        (
            "x2 at its 99th percentile - at its median",
            quantile(0.5),
            quantile(0.99),
        ),
    ];
    println!("design | rows | truth | coverage | mean width | oracle width | ratio | bias");
    for &rows in &sizes {
        for (name, a, b) in designs {
            let design = Design {
                truth: true_model.clone(),
                fresh: &|_| scm5::default_model(0),
                rows,
                treatment: "x2".into(),
                outcome: "x5".into(),
                a,
                b,
            };
            let started = std::time::Instant::now();
            let report = study(
                &design,
                replicates,
                &FitConfig::default(),
                &MemberConfig::default(),
                0.95,
            )?;
            println!(
                "{name} | {rows} | {:.4} | {:.3} | {:.4} | {:.4} | {:.2} | {:+.4}   ({:.0} s)",
                report.truth,
                report.coverage(),
                report.mean_width(),
                report.oracle_width(),
                report.mean_width() / report.oracle_width(),
                report.bias(),
                started.elapsed().as_secs_f64(),
            );
        }
    }
    Ok(())
}
