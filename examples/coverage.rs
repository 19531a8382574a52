//! The coverage study of effect intervals at full size: replicate data
//! sets from a true model, each fitted with the defaults (tanh MLPs,
//! Gaussian noise, early stopping) and the default number of members
//! (`DEFAULT_MEMBERS`, or the fifth argument), and an effect asked
//! with a 95% interval, for three designs: the confounded model of
//! `causalgrad::models::confounded` (do(x = 1) against do(x = -1), inside
//! the data's support), and the bundled scm5's effect of x2 on x5 for
//! do(x2 = 1) against do(x2 = -1) and for the 99th percentile of x2
//! against its median (both ask x3's mechanism about (x1, x2) pairs the
//! data barely hold).
//!
//! ```sh
//! cargo run --release --example coverage                 # 40 replicates at 1k and at 10k rows
//! cargo run --release --example coverage -- 100 1000     # 100 replicates of 1k rows
//! cargo run --release --example coverage -- 8 1000 seeds  # members from seeds only (or: bootstrap)
//! cargo run --release --example coverage -- 40 1000 ensemble confounded  # designs whose name starts so
//! cargo run --release --example coverage -- 40 1000 ensemble confounded 4  # 4 members instead of 8
//! ```
//!
//! The third argument chooses how members are made: `ensemble` (the
//! default: bootstrap resamples from fresh initial weights), `seeds`
//! (fresh weights on all rows) or `bootstrap` (resamples from the fitted
//! values).
//!
//! Prints, per design and size: the true effect, coverage, mean width,
//! oracle width (2 · 1.96 · the estimates' spread across replicates),
//! their ratio, and the estimates' bias.

use causalgrad::fit::{FitConfig, MemberConfig, DEFAULT_MEMBERS};
use causalgrad::models::{confounded, scm5};
use causalgrad::scm::Scm;
use causalgrad::uncertainty::coverage::{study, Design};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let replicates: u64 = args.first().map_or(Ok(40), |a| a.parse())?;
    let sizes: Vec<usize> = match args.get(1) {
        Some(rows) => vec![rows.parse()?],
        None => vec![1000, 10_000],
    };
    let count: usize = args.get(4).map_or(Ok(DEFAULT_MEMBERS), |a| a.parse())?;
    let members = match args.get(2).map(String::as_str) {
        None | Some("ensemble") => MemberConfig::new(count),
        Some("seeds") => MemberConfig::new(count).without_resampling(),
        Some("bootstrap") => MemberConfig::new(count).without_reinitialization(),
        Some(other) => {
            return Err(format!("unknown method `{other}`: ensemble, seeds or bootstrap").into())
        }
    };
    let truth = scm5::Truth::from_json_file(scm5::data_dir().join("truth.json"))?;
    let true_model = scm5::model(&truth.params);
    let x2 = {
        let mut x2 = true_model.sample(1_000_000, 99)?.column("x2")?.to_vec();
        x2.sort_by(f64::total_cmp);
        x2
    };
    let quantile = |q: f64| x2[((x2.len() - 1) as f64 * q) as usize];
    struct Case {
        name: &'static str,
        truth: Scm,
        fresh: fn(u64) -> Scm,
        treatment: &'static str,
        outcome: &'static str,
        a: f64,
        b: f64,
    }
    let cases = [
        Case {
            name: "confounded: do(x = 1) - do(x = -1)",
            truth: confounded::truth(),
            fresh: confounded::default_model,
            treatment: "x",
            outcome: "y",
            a: -1.0,
            b: 1.0,
        },
        Case {
            name: "scm5: do(x2 = 1) - do(x2 = -1)",
            truth: true_model.clone(),
            fresh: scm5::default_model,
            treatment: "x2",
            outcome: "x5",
            a: -1.0,
            b: 1.0,
        },
        Case {
            name: "scm5: x2 at its 99th percentile - at its median",
            truth: true_model.clone(),
            fresh: scm5::default_model,
            treatment: "x2",
            outcome: "x5",
            a: quantile(0.5),
            b: quantile(0.99),
        },
    ];
    println!("design | rows | truth | coverage | mean width | oracle width | ratio | bias");
    let only = args.get(3).map_or("", String::as_str);
    for &rows in &sizes {
        for case in cases.iter().filter(|case| case.name.starts_with(only)) {
            let design = Design {
                truth: case.truth.clone(),
                fresh: &|_| (case.fresh)(0),
                rows,
                treatment: case.treatment.into(),
                outcome: case.outcome.into(),
                a: case.a,
                b: case.b,
            };
            let started = std::time::Instant::now();
            let report = study(&design, replicates, &FitConfig::default(), &members, 0.95)?;
            println!(
                "{} | {rows} | {:.4} | {:.3} | {:.4} | {:.4} | {:.2} | {:+.4}   ({:.0} s)",
                case.name,
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
