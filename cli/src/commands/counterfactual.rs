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
intervention keep their observed values. With --context (a model from
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
}

/// Runs `counterfactual`.
pub fn run(args: CounterfactualArgs) -> Result<Output, CliError> {
    let scm = args.model.load()?;
    let known: Vec<String> = scm.variables().map(str::to_string).collect();
    let interventions = inputs::check_assignments(&args.interventions, &known)?;
    let (observed, _) = inputs::data(&args.rows, &args.model.model, scm.variables())?;
    let counterfactual = scm.counterfactual(&observed, &interventions)?;
    output::write_csv(&args.out, &counterfactual)?;

    let mut text = format!(
        "wrote {} counterfactual rows under {}{} to {}\n",
        observed.n_rows(),
        inputs::assignments_text(&args.interventions),
        args.model.context_text(),
        args.out.display()
    );
    let mut change = serde_json::Map::new();
    for name in &known {
        let column = |data: &causalgrad::data::Dataset| {
            data.column(name)
                .map(output::mean)
                .map_err(causalgrad::scm::ScmError::from)
        };
        let delta = column(&counterfactual)? - column(&observed)?;
        writeln!(text, "  mean change of {name}: {delta:+.4}").expect("to a string");
        change.insert(name.clone(), delta.into());
    }
    let json = json!({
        "out": args.out,
        "rows": observed.n_rows(),
        "columns": known,
        "interventions": inputs::assignments_json(&args.interventions),
        "context": args.model.context_json(),
        "mean_change": change,
    });
    Ok(Output { text, json })
}
