//! `causalgrad sample`: draw from a fitted model.

use std::fmt::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::error::CliError;
use crate::inputs::{self, Assignment};
use crate::model_file::ModelChoice;
use crate::output::{self, Output};

/// Draw samples from a fitted model, observationally or under hard
/// interventions do(VAR = VALUE), and write them as CSV.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  causalgrad sample --model model.cg -n 10000 --out samples.csv
  causalgrad sample --model model.cg -n 10000 --do x2=1.0 --do x3=0 --out samples.csv
  causalgrad sample --model contexts.cg --context x2-clamped -n 10000 --out samples.csv

Several --do are applied together (with --context, on top of the context's
own interventions). The same --seed gives the same samples.")]
pub struct SampleArgs {
    /// The model (and context) to ask.
    #[command(flatten)]
    pub model: ModelChoice,
    /// Number of samples.
    #[arg(short = 'n', long = "samples", default_value_t = 10_000)]
    pub samples: usize,
    /// Set a variable: do(VAR = VALUE). Repeat for several.
    #[arg(long = "do", value_name = "VAR=VALUE", value_parser = inputs::parse_assignment)]
    pub interventions: Vec<Assignment>,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to write the samples (CSV, one column per variable).
    #[arg(long, value_name = "CSV")]
    pub out: PathBuf,
}

/// Runs `sample`.
pub fn run(args: SampleArgs) -> Result<Output, CliError> {
    if args.samples == 0 {
        return Err(CliError::Usage(
            "-n 0 asks for no samples; use -n 1 or more".into(),
        ));
    }
    let scm = args.model.load()?;
    let known: Vec<String> = scm.variables().map(str::to_string).collect();
    let interventions = inputs::check_assignments(&args.interventions, &scm)?;
    let samples = scm
        .intervene(&interventions)?
        .sample(args.samples, args.seed)?;
    output::write_csv(&args.out, &samples)?;

    let mut text = format!(
        "wrote {} samples{}{} to {}\n",
        args.samples,
        if args.interventions.is_empty() && args.model.context.is_some() {
            String::new()
        } else {
            format!(" under {}", inputs::assignments_text(&args.interventions))
        },
        args.model.context_text(),
        args.out.display()
    );
    let mut means = serde_json::Map::new();
    for name in &known {
        let (summary, json) = output::summary(&samples, name)?;
        match json.as_f64() {
            Some(mean) => writeln!(text, "  mean {name} = {mean:.4}"),
            None => writeln!(text, "  {name}: {summary}"),
        }
        .expect("to a string");
        means.insert(name.clone(), json);
    }
    let json = json!({
        "out": args.out,
        "rows": args.samples,
        "columns": known,
        "interventions": inputs::assignments_json(&args.interventions),
        "seed": args.seed,
        "context": args.model.context_json(),
        "means": means,
    });
    Ok(Output { text, json })
}
