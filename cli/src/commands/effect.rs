//! `causalgrad effect`: an average causal effect by Monte Carlo.

use std::fmt::Write;

use causalgrad::scm::Scm;
use clap::Args;
use serde_json::json;

use crate::error::CliError;
use crate::inputs;
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
    /// The reference value of the treatment (a number, or a categorical
    /// treatment's label).
    #[arg(long, allow_negative_numbers = true)]
    pub a: String,
    /// The value compared with it.
    #[arg(long, allow_negative_numbers = true)]
    pub b: String,
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
    let a = inputs::value_of(&scm, &args.treatment, &args.a, &format!("--a {}", args.a))?;
    let b = inputs::value_of(&scm, &args.treatment, &args.b, &format!("--b {}", args.b))?;
    if scm.kind(&args.outcome)?.levels().is_some() {
        return level_effects(&args, &scm, a, b);
    }
    let effect = scm.ate(
        &args.treatment,
        &args.outcome,
        a,
        b,
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
        "a": inputs::value_json(&args.a),
        "b": inputs::value_json(&args.b),
        "seed": args.seed,
        "context": args.model.context_json(),
    });
    Ok(Output { text, json })
}

/// `effect` on a categorical outcome: the change in the probability of
/// each level.
fn level_effects(args: &EffectArgs, scm: &Scm, a: f64, b: f64) -> Result<Output, CliError> {
    let levels = scm.ate_levels(
        &args.treatment,
        &args.outcome,
        a,
        b,
        args.samples,
        args.seed,
    )?;
    let (o, t) = (&args.outcome, &args.treatment);
    let mut text = format!(
        "P({o} = level | do({t} = {b})) - P({o} = level | do({t} = {a})){c}, ± Monte-Carlo standard error, {n} samples per arm:\n",
        a = args.a,
        b = args.b,
        c = args.model.context_text(),
        n = args.samples,
    );
    let mut json_levels = Vec::new();
    for level in &levels {
        let e = &level.effect;
        writeln!(
            text,
            "  {}: {:+.4} ± {:.4} ({:.4} → {:.4})",
            level.level, e.ate, e.stderr, e.mean_a, e.mean_b
        )
        .expect("to a string");
        json_levels.push(json!({
            "level": level.level,
            "ate": e.ate,
            "stderr": e.stderr,
            "mean_a": e.mean_a,
            "mean_b": e.mean_b,
        }));
    }
    let json = json!({
        "levels": json_levels,
        "samples": args.samples,
        "treatment": args.treatment,
        "outcome": args.outcome,
        "a": inputs::value_json(&args.a),
        "b": inputs::value_json(&args.b),
        "seed": args.seed,
        "context": args.model.context_json(),
    });
    Ok(Output { text, json })
}
