//! `causalgrad effect`: an average causal effect by Monte Carlo.

use std::fmt::Write;

use causalgrad::scm::Scm;
use causalgrad::uncertainty::{Estimate, IntervalMethod, DEFAULT_LEVEL, DIAGNOSTIC_SAMPLES};
use clap::Args;
use serde_json::json;
use serde_json::Value;

use crate::error::CliError;
use crate::inputs;
use crate::model_file::ModelChoice;
use crate::output::Output;

/// The average causal effect of setting TREATMENT from A to B on OUTCOME:
/// E[OUTCOME | do(TREATMENT = B)] - E[OUTCOME | do(TREATMENT = A)], with
/// an interval at --level that covers the fit's uncertainty (from the
/// model's ensemble members) and the Monte-Carlo error (both arms share
/// their noise draws), which is also given on its own.
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
    /// The interval's level (a fraction: 0.95 for 95%).
    #[arg(long, default_value_t = DEFAULT_LEVEL)]
    pub level: f64,
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
    check_level(args.level)?;
    if scm.kind(&args.outcome)?.levels().is_some() {
        return level_effects(&args, &scm, a, b);
    }
    let ate = |m: &Scm| {
        m.ate(
            &args.treatment,
            &args.outcome,
            a,
            b,
            args.samples,
            args.seed,
        )
    };
    let effect = ate(&scm)?;
    let interval =
        scm.interval_around(effect.ate, effect.stderr, args.level, |m| Ok(ate(m)?.ate))?;
    let mut text = format!(
        "E[{o} | do({t} = {b})] - E[{o} | do({t} = {a})] = {ate:.4}{c}, {interval}\n  Monte-Carlo standard error {se:.4} ({n} samples per arm)\n  E[{o} | do({t} = {a})] = {ma:.4}\n  E[{o} | do({t} = {b})] = {mb:.4}\n",
        o = args.outcome,
        t = args.treatment,
        a = args.a,
        b = args.b,
        ate = effect.ate,
        interval = interval_text(&interval),
        se = effect.stderr,
        n = effect.samples,
        ma = effect.mean_a,
        mb = effect.mean_b,
        c = args.model.context_text(),
    );
    no_members_note(&interval, &mut text);
    let extrapolation = extrapolation(&args, &scm, a, b, &mut text)?;
    let json = json!({
        "ate": effect.ate,
        "ci_low": interval.low,
        "ci_high": interval.high,
        "level": interval.level,
        "interval_method": interval.method.name(),
        "mc_stderr": effect.stderr,
        "model_stderr": interval.model_stderr,
        "member_estimates": interval.members,
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
        "extrapolation": extrapolation,
    });
    Ok(Output { text, json })
}

/// The positivity diagnostic of both arms: per variable downstream of the
/// treatment, the share of each arm's samples whose parents lie outside
/// the training data's support, with a warning in `text` for those above
/// the threshold; `null` for a model without a support sample.
fn extrapolation(
    args: &EffectArgs,
    scm: &Scm,
    a: f64,
    b: f64,
    text: &mut String,
) -> Result<Value, CliError> {
    if scm.support_rows() == 0 {
        return Ok(Value::Null);
    }
    let arm =
        |value: f64| scm.extrapolation(&[(&args.treatment, value)], DIAGNOSTIC_SAMPLES, args.seed);
    let (in_a, in_b) = (arm(a)?, arm(b)?);
    let mut entries = Vec::new();
    for (ea, eb) in in_a.iter().zip(&in_b) {
        for (e, value) in [(ea, &args.a), (eb, &args.b)] {
            if e.warns() {
                writeln!(
                    text,
                    "warning: under do({t} = {value}), {pct:.0}% of the samples of {v}'s parents ({parents}) lie outside the region the training data cover (about 1% would by chance): the answer extrapolates {v}'s mechanism, and the interval may not cover the truth",
                    t = args.treatment,
                    pct = 100.0 * e.outside,
                    v = e.variable,
                    parents = e.parents.join(", "),
                )
                .expect("to a string");
            }
        }
        entries.push(json!({
            "variable": ea.variable,
            "parents": ea.parents,
            "outside_a": ea.outside,
            "outside_b": eb.outside,
        }));
    }
    Ok(Value::Array(entries))
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
    let member_levels = scm
        .member_models()
        .iter()
        .map(|m| {
            m.ate_levels(
                &args.treatment,
                &args.outcome,
                a,
                b,
                args.samples,
                args.seed,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (o, t) = (&args.outcome, &args.treatment);
    let mut text = format!(
        "P({o} = level | do({t} = {b})) - P({o} = level | do({t} = {a})){c}, with {pct}% intervals ({n} samples per arm):\n",
        a = args.a,
        b = args.b,
        c = args.model.context_text(),
        pct = 100.0 * args.level,
        n = args.samples,
    );
    let mut json_levels = Vec::new();
    let mut last = None;
    for (l, level) in levels.iter().enumerate() {
        let e = &level.effect;
        let members = member_levels.iter().map(|m| m[l].effect.ate).collect();
        let interval = Estimate::new(e.ate, e.stderr, members, args.level);
        writeln!(
            text,
            "  {}: {:+.4}, [{:+.4}, {:+.4}], Monte-Carlo standard error {:.4} ({:.4} → {:.4})",
            level.level, e.ate, interval.low, interval.high, e.stderr, e.mean_a, e.mean_b
        )
        .expect("to a string");
        json_levels.push(json!({
            "level": level.level,
            "ate": e.ate,
            "ci_low": interval.low,
            "ci_high": interval.high,
            "mc_stderr": e.stderr,
            "model_stderr": interval.model_stderr,
            "stderr": e.stderr,
            "mean_a": e.mean_a,
            "mean_b": e.mean_b,
        }));
        last = Some(interval);
    }
    let method = last
        .as_ref()
        .map_or(IntervalMethod::MonteCarlo, |i| i.method);
    if let Some(interval) = &last {
        no_members_note(interval, &mut text);
    }
    let extrapolation = extrapolation(args, scm, a, b, &mut text)?;
    let json = json!({
        "levels": json_levels,
        "extrapolation": extrapolation,
        "level": args.level,
        "interval_method": method.name(),
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

/// `95% interval [lo, hi] (ensemble of K members)`.
/// `--level` must be a fraction strictly between 0 and 1.
pub(crate) fn check_level(level: f64) -> Result<(), CliError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "--level {level} is not a fraction in (0, 1); use e.g. --level 0.95 for a 95% interval"
        )))
    }
}

pub(crate) fn interval_text(interval: &Estimate) -> String {
    let what = match interval.method {
        IntervalMethod::Ensemble => format!("ensemble of {} members", interval.members.len()),
        IntervalMethod::MonteCarlo => "Monte-Carlo error only".to_string(),
    };
    format!(
        "{}% interval [{:.4}, {:.4}] ({what})",
        100.0 * interval.level,
        interval.low,
        interval.high
    )
}

/// A note when the interval covers the Monte-Carlo error only.
pub(crate) fn no_members_note(interval: &Estimate, text: &mut String) {
    if interval.method == IntervalMethod::MonteCarlo {
        text.push_str(
            "note: the model has no ensemble members (fitted with --members 0 or by an older causalgrad), so the interval covers the sampler's Monte-Carlo error only, not the fit's uncertainty; refit with `causalgrad fit --members 8`\n",
        );
    }
}
