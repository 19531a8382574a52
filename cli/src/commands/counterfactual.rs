//! `causalgrad counterfactual`: what observed rows would have been under
//! interventions.

use std::fmt::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::error::CliError;
use crate::inputs::{self, Assignment};
use crate::model_file::ModelChoice;
use crate::output::{self, Output};

/// Counterfactuals of observed rows: each row's noise is inferred from its
/// values (abduction), the interventions are applied, and the variables
/// downstream of them are recomputed with the same noise.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  causalgrad counterfactual --model model.cg --rows observed.csv --do x2=1.0 --out cf.csv
  causalgrad counterfactual --model model.cg --rows data/scm5/test_10k.csv --do x2=1 --do x3=0 --out cf.csv --json
  causalgrad counterfactual --model contexts.cg --context x3-changed --rows rows.csv --do x2=1 --out cf.csv

The rows need a column per model variable (others are ignored). The output
has one row per observed row, in order; variables not downstream of an
intervention keep their observed values. Continuous noise is inferred
exactly; a binary, categorical or count variable's noise is drawn from its
posterior given the observed value (uniform on the step of its CDF there),
once per row, or K times with --samples K (then a `sample` column numbers
the draws). A categorical variable is set by label: --do colour=green. With --context (a model from
`fit --contexts`) the rows are taken as observed in that context: its own
mechanisms infer their noise and its interventions stay active.")]
pub struct CounterfactualArgs {
    /// The model (and context) to ask.
    #[command(flatten)]
    pub model: ModelChoice,
    /// Observed rows (CSV with a column per model variable).
    #[arg(long, value_name = "CSV")]
    pub rows: PathBuf,
    /// Set a variable: do(VAR = VALUE). Repeat for several.
    #[arg(long = "do", value_name = "VAR=VALUE", value_parser = inputs::parse_assignment, required = true)]
    pub interventions: Vec<Assignment>,
    /// Where to write the counterfactual rows (CSV).
    #[arg(long, value_name = "CSV")]
    pub out: PathBuf,
    /// Draws of each row's counterfactual: the noise of a discrete
    /// variable is not determined by its value, so each draw takes one
    /// sample from its posterior; with more than one, the output has a
    /// `sample` column numbering them (draw 0's rows, then draw 1's, ..).
    #[arg(long = "samples", value_name = "K", default_value_t = 1)]
    pub draws: usize,
    /// Seed of the posterior draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs `counterfactual`.
pub fn run(args: CounterfactualArgs) -> Result<Output, CliError> {
    let scm = args.model.load()?;
    let known: Vec<String> = scm.variables().map(str::to_string).collect();
    let interventions = inputs::check_assignments(&args.interventions, &scm)?;
    let (observed, _) = inputs::data(&args.rows, &args.model.model, scm.variables())?;
    let observed = inputs::coded_for(&scm, observed)?;
    if args.draws == 0 {
        return Err(CliError::Usage(
            "--samples 0 asks for no draws; use 1 or more".into(),
        ));
    }
    let counterfactual =
        scm.counterfactual_draws(&observed, &interventions, args.draws, args.seed)?;
    output::write_csv(&args.out, &counterfactual)?;

    let mut text = format!(
        "wrote {} counterfactual rows under {}{} to {}\n",
        counterfactual.n_rows(),
        inputs::assignments_text(&args.interventions),
        args.model.context_text(),
        args.out.display()
    );
    let mut change = serde_json::Map::new();
    for name in &known {
        let (summary, delta) = output::summary_change(&observed, &counterfactual, name)?;
        match delta.as_f64() {
            Some(delta) => writeln!(text, "  mean change of {name}: {delta:+.4}"),
            None => writeln!(text, "  {name}: {summary}"),
        }
        .expect("to a string");
        change.insert(name.clone(), delta);
    }
    let json = json!({
        "out": args.out,
        "rows": counterfactual.n_rows(),
        "draws": args.draws,
        "seed": args.seed,
        "columns": known,
        "interventions": inputs::assignments_json(&args.interventions),
        "context": args.model.context_json(),
        "mean_change": change,
    });
    Ok(Output { text, json })
}
