//! `causalgrad counterfactual`: what observed rows would have been under
//! interventions.

use std::fmt::Write;
use std::path::PathBuf;

use causalgrad::uncertainty::DEFAULT_LEVEL;
use clap::Args;
use serde_json::json;

use super::effect::{check_level, interval_text, no_members_note};
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
    /// The level of each mean change's interval (from the model's
    /// ensemble members; a fraction: 0.95 for 95%).
    #[arg(long, default_value_t = DEFAULT_LEVEL)]
    pub level: f64,
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
    check_level(args.level)?;
    let counterfactual =
        scm.counterfactual_draws(&observed, &interventions, args.draws, args.seed)?;
    let intervals = scm.counterfactual_mean_intervals(
        &observed,
        &interventions,
        args.draws,
        args.seed,
        args.level,
    )?;
    output::write_csv(&args.out, &counterfactual)?;

    let mut text = format!(
        "wrote {} counterfactual rows under {}{} to {}\n",
        counterfactual.n_rows(),
        inputs::assignments_text(&args.interventions),
        args.model.context_text(),
        args.out.display()
    );
    let mut change = serde_json::Map::new();
    let mut change_intervals = serde_json::Map::new();
    let mut first_interval = None;
    for name in &known {
        let (summary, delta) = output::summary_change(&observed, &counterfactual, name)?;
        let interval = intervals.iter().find(|m| &m.variable == name);
        match (delta.as_f64(), interval) {
            (Some(delta), Some(interval)) => {
                // The observed mean is fixed: the change's interval is the
                // counterfactual mean's, shifted by it.
                let shift = delta - interval.mean.estimate;
                let mut shifted = interval.mean.clone();
                shifted.estimate = delta;
                shifted.low += shift;
                shifted.high += shift;
                shifted.members.iter_mut().for_each(|m| *m += shift);
                change_intervals.insert(
                    name.clone(),
                    json!({
                        "ci_low": shifted.low,
                        "ci_high": shifted.high,
                        "level": shifted.level,
                        "interval_method": shifted.method.name(),
                        "mc_stderr": shifted.mc_stderr,
                        "model_stderr": shifted.model_stderr,
                    }),
                );
                writeln!(
                    text,
                    "  mean change of {name}: {delta:+.4}, {}",
                    interval_text(&shifted)
                )
                .expect("to a string");
                first_interval.get_or_insert(shifted);
            }
            (Some(delta), None) => {
                writeln!(text, "  mean change of {name}: {delta:+.4}").expect("to a string")
            }
            (None, _) => writeln!(text, "  {name}: {summary}").expect("to a string"),
        }
        change.insert(name.clone(), delta);
    }
    if let Some(interval) = &first_interval {
        no_members_note(interval, &mut text);
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
        "mean_change_interval": change_intervals,
    });
    Ok(Output { text, json })
}
