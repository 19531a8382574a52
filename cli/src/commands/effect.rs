//! `causalgrad effect`: an average causal effect by Monte Carlo.

use clap::Args;
use serde_json::json;

use crate::error::CliError;
use crate::model_file::ModelChoice;
use crate::output::Output;

/// The average causal effect of setting TREATMENT from A to B on OUTCOME:
/// E[OUTCOME | do(TREATMENT = B)] - E[OUTCOME | do(TREATMENT = A)], with
/// its Monte-Carlo standard error (both arms share their noise draws).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  causalgrad effect --model model.cg --treatment x2 --outcome x5 --a -1 --b 1
  causalgrad effect --model model.cg --treatment x2 --outcome x5 --a 0 --b 1 -n 1000000 --json
  causalgrad effect --model contexts.cg --context x2-clamped --treatment x3 --outcome x5 --a 0 --b 1

With --context (a model from `fit --contexts`) the effect is computed in
that context: its interventions are active and its own mechanisms used.")]
pub struct EffectArgs {
    /// The model (and context) to ask.
    #[command(flatten)]
    pub model: ModelChoice,
    /// The variable intervened on.
    #[arg(long, value_name = "VAR")]
    pub treatment: String,
    /// The variable whose mean changes.
    #[arg(long, value_name = "VAR")]
    pub outcome: String,
    /// The reference value of the treatment.
    #[arg(long, allow_negative_numbers = true)]
    pub a: f64,
    /// The value compared with it.
    #[arg(long, allow_negative_numbers = true)]
    pub b: f64,
    /// Monte-Carlo samples per arm.
    #[arg(short = 'n', long = "samples", default_value_t = 100_000)]
    pub samples: usize,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs `effect`.
pub fn run(args: EffectArgs) -> Result<Output, CliError> {
    if args.samples < 2 {
        return Err(CliError::Usage(
            "-n must be at least 2 for a standard error".into(),
        ));
    }
    for (flag, value) in [("--a", args.a), ("--b", args.b)] {
        if !value.is_finite() {
            return Err(CliError::Usage(format!(
                "{flag} {value} is not a finite number"
            )));
        }
    }
    let scm = args.model.load()?;
    let known: Vec<String> = scm.variables().map(str::to_string).collect();
    for (flag, name) in [
        ("--treatment", &args.treatment),
        ("--outcome", &args.outcome),
    ] {
        if !known.contains(name) {
            return Err(CliError::UnknownVariable {
                origin: format!("{flag} {name}"),
                variable: name.clone(),
                known,
            });
        }
    }
    let effect = scm.ate(
        &args.treatment,
        &args.outcome,
        args.a,
        args.b,
        args.samples,
        args.seed,
    )?;
    let text = format!(
        "E[{o} | do({t} = {b})] - E[{o} | do({t} = {a})] = {ate:.4} ± {se:.4}{c} (Monte-Carlo standard error, {n} samples per arm)\n  E[{o} | do({t} = {a})] = {ma:.4}\n  E[{o} | do({t} = {b})] = {mb:.4}\n",
        o = args.outcome,
        t = args.treatment,
        a = args.a,
        b = args.b,
        ate = effect.ate,
        se = effect.stderr,
        n = effect.samples,
        ma = effect.mean_a,
        mb = effect.mean_b,
        c = args.model.context_text(),
    );
    let json = json!({
        "ate": effect.ate,
        "stderr": effect.stderr,
        "mean_a": effect.mean_a,
        "mean_b": effect.mean_b,
        "samples": effect.samples,
        "treatment": args.treatment,
        "outcome": args.outcome,
        "a": args.a,
        "b": args.b,
        "seed": args.seed,
        "context": args.model.context_json(),
    });
    Ok(Output { text, json })
}
