//! `causalgrad effect`: an average causal effect by Monte Carlo.

use std::fmt::Write;

use causalgrad::answer::{self, EffectAnswer, EffectFinding, EffectQuery, DEFAULT_EFFECT_SAMPLES};
use causalgrad::fit::DEFAULT_MEMBERS;
use causalgrad::scm::{Effect, LevelEffect};
use causalgrad::uncertainty::{Estimate, IntervalMethod, DEFAULT_LEVEL};
use clap::Args;

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
    #[arg(short = 'n', long = "samples", default_value_t = DEFAULT_EFFECT_SAMPLES)]
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
    inputs::value_of(&scm, &args.treatment, &args.a, &format!("--a {}", args.a))?;
    inputs::value_of(&scm, &args.treatment, &args.b, &format!("--b {}", args.b))?;
    check_level(args.level)?;
    let query = EffectQuery {
        treatment: args.treatment.clone(),
        outcome: args.outcome.clone(),
        a: args.a.clone(),
        b: args.b.clone(),
        samples: args.samples,
        seed: args.seed,
        level: args.level,
        context: args.model.context.clone(),
    };
    let answer = answer::effect(&scm, &query)?;
    let context = args.model.context_text();
    let mut text = match &answer.finding {
        EffectFinding::Mean { effect, interval } => mean_text(&args, effect, interval, &context),
        EffectFinding::Levels { levels, .. } => levels_text(&args, levels, &context),
    };
    extrapolation_warnings(&args, &answer, &mut text);
    Ok(Output {
        text,
        json: answer.json(),
    })
}

/// The text of an effect on a mean.
fn mean_text(args: &EffectArgs, effect: &Effect, interval: &Estimate, context: &str) -> String {
    let mut text = format!(
        "E[{o} | do({t} = {b})] - E[{o} | do({t} = {a})] = {ate:.4}{context}, {interval}\n  Monte-Carlo standard error {se:.4} ({n} samples per arm)\n  E[{o} | do({t} = {a})] = {ma:.4}\n  E[{o} | do({t} = {b})] = {mb:.4}\n",
        o = args.outcome,
        t = args.treatment,
        a = args.a,
        b = args.b,
        ate = effect.ate,
        interval = interval_text(interval),
        se = effect.stderr,
        n = effect.samples,
        ma = effect.mean_a,
        mb = effect.mean_b,
    );
    no_members_note(interval, &mut text);
    text
}

/// The text of an effect on a categorical outcome: the change in the
/// probability of each level.
fn levels_text(args: &EffectArgs, levels: &[(LevelEffect, Estimate)], context: &str) -> String {
    let (o, t) = (&args.outcome, &args.treatment);
    let mut text = format!(
        "P({o} = level | do({t} = {b})) - P({o} = level | do({t} = {a})){context}, with {pct}% intervals ({n} samples per arm):\n",
        a = args.a,
        b = args.b,
        pct = 100.0 * args.level,
        n = args.samples,
    );
    for (level, interval) in levels {
        let e = &level.effect;
        writeln!(
            text,
            "  {}: {:+.4}, [{:+.4}, {:+.4}], Monte-Carlo standard error {:.4} ({:.4} → {:.4})",
            level.level, e.ate, interval.low, interval.high, e.stderr, e.mean_a, e.mean_b
        )
        .expect("to a string");
    }
    if let Some((_, interval)) = levels.last() {
        no_members_note(interval, &mut text);
    }
    text
}

/// A warning in `text` for each variable whose parents lie outside the
/// training data's support under an arm more often than chance allows.
fn extrapolation_warnings(args: &EffectArgs, answer: &EffectAnswer, text: &mut String) {
    for arms in answer.extrapolation.iter().flatten() {
        for (e, value) in [(&arms.a, &args.a), (&arms.b, &args.b)] {
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
    }
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
        writeln!(
            text,
            "note: the model has no ensemble members (fitted with --members 0 or by an older causalgrad), so the interval covers the sampler's Monte-Carlo error only, not the fit's uncertainty; refit with `causalgrad fit --members {DEFAULT_MEMBERS}`",
        )
        .expect("to a string");
    }
}
