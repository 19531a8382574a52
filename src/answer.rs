//! Query answers as the JSON objects the command-line tool prints
//! (`causalgrad effect --json`) and the HTTP server returns
//! (`POST /v1/effect`): one place builds them, so both give the same
//! object, with the same numbers, for the same model, query and seed.
//!
//! ```
//! use causalgrad::answer::{effect, EffectQuery};
//! use causalgrad::graph::CausalGraph;
//! use causalgrad::scm::Scm;
//!
//! let graph = CausalGraph::new(["t", "y"], [("t", "y")])?;
//! let mut scm = Scm::builder(graph).build()?;
//! scm.set_params("y", &[0.0, 3.0])?;
//! let query = EffectQuery::new("t", "y", "-1", "1").with_samples(10_000);
//! let answer = effect(&scm, &query)?;
//! let json = answer.json();
//! assert!((json["ate"].as_f64().unwrap() - 6.0).abs() < 1e-4);
//! assert_eq!(json["a"], -1.0);
//! assert_eq!(json["interval_method"], "monte_carlo");
//! // The same query gives the same object.
//! assert_eq!(effect(&scm, &query)?.json(), json);
//! # Ok::<(), causalgrad::Error>(())
//! ```

use serde_json::{json, Value};

use crate::scm::{Effect, LevelEffect, Scm, ScmError};
use crate::uncertainty::{
    Estimate, Extrapolation, IntervalMethod, DEFAULT_LEVEL, DIAGNOSTIC_SAMPLES,
};

/// Monte-Carlo samples per arm an effect query draws by default.
pub const DEFAULT_EFFECT_SAMPLES: usize = 100_000;

/// One effect query: the effect of setting `treatment` from `a` to `b` on
/// `outcome`, with the values as the caller spelled them (a number, or a
/// categorical treatment's label).
#[derive(Clone, Debug, PartialEq)]
pub struct EffectQuery {
    /// The variable intervened on.
    pub treatment: String,
    /// The variable whose mean (or level probabilities) changes.
    pub outcome: String,
    /// The reference value of the treatment, as text.
    pub a: String,
    /// The value compared with it, as text.
    pub b: String,
    /// Monte-Carlo samples per arm.
    pub samples: usize,
    /// Seed of the noise.
    pub seed: u64,
    /// The interval's level (a fraction).
    pub level: f64,
    /// The context the model answers in (a model fitted over contexts),
    /// echoed in the answer; the caller passes that context's model.
    pub context: Option<String>,
}

impl EffectQuery {
    /// The query with [`DEFAULT_EFFECT_SAMPLES`] samples, seed 0, the
    /// [`DEFAULT_LEVEL`] and no context.
    pub fn new(treatment: &str, outcome: &str, a: &str, b: &str) -> Self {
        EffectQuery {
            treatment: treatment.to_string(),
            outcome: outcome.to_string(),
            a: a.to_string(),
            b: b.to_string(),
            samples: DEFAULT_EFFECT_SAMPLES,
            seed: 0,
            level: DEFAULT_LEVEL,
            context: None,
        }
    }

    /// The query with `samples` per arm.
    pub fn with_samples(mut self, samples: usize) -> Self {
        self.samples = samples;
        self
    }

    /// The query with seed `seed`.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// What an effect query found.
#[derive(Clone, Debug, PartialEq)]
pub enum EffectFinding {
    /// On a continuous, count or binary-as-mean outcome: the change in its
    /// mean, with its interval.
    Mean {
        /// The estimate with the model's own parameters.
        effect: Effect,
        /// Its interval (from the members, or the Monte-Carlo error).
        interval: Estimate,
    },
    /// On a categorical (or binary) outcome: per level, the change in its
    /// probability with its interval.
    Levels {
        /// Each level's effect and interval, in level order.
        levels: Vec<(LevelEffect, Estimate)>,
        /// What the intervals account for.
        method: IntervalMethod,
    },
}

/// The positivity diagnostic of one variable under both arms.
#[derive(Clone, Debug, PartialEq)]
pub struct ArmsExtrapolation {
    /// Under `do(treatment = a)`.
    pub a: Extrapolation,
    /// Under `do(treatment = b)`.
    pub b: Extrapolation,
}

/// An effect query's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct EffectAnswer {
    /// The query asked.
    pub query: EffectQuery,
    /// What it found.
    pub finding: EffectFinding,
    /// Per variable downstream of the treatment, the share of each arm's
    /// samples outside the training data's support; `None` for a model
    /// without a support sample.
    pub extrapolation: Option<Vec<ArmsExtrapolation>>,
}

/// Answers `query` on `scm`: the effect on the outcome's mean (on each
/// level's probability for a categorical outcome), its interval at the
/// query's level, and the positivity diagnostic of both arms.
///
/// The values `a` and `b` are read as [`Scm::value_of`] reads them; an
/// unknown variable or label is an error naming it, and so is a level
/// outside (0, 1).
pub fn effect(scm: &Scm, query: &EffectQuery) -> Result<EffectAnswer, ScmError> {
    if !(query.level > 0.0 && query.level < 1.0) {
        return Err(ScmError::BadLevel { level: query.level });
    }
    let a = scm.value_of(&query.treatment, &query.a)?;
    let b = scm.value_of(&query.treatment, &query.b)?;
    let (t, o, n, seed) = (&query.treatment, &query.outcome, query.samples, query.seed);
    let finding = if scm.kind(o)?.levels().is_some() {
        let levels = scm.ate_levels(t, o, a, b, n, seed)?;
        let member_levels = scm.member_answers(n, |m, n| {
            let levels = m.ate_levels(t, o, a, b, n, seed)?;
            Ok::<_, ScmError>(
                levels
                    .iter()
                    .map(|l| (l.effect.ate, l.effect.stderr))
                    .collect(),
            )
        })?;
        let levels: Vec<(LevelEffect, Estimate)> = levels
            .into_iter()
            .enumerate()
            .map(|(l, level)| {
                let members = member_levels.iter().map(|m| m[l]).collect();
                let e = &level.effect;
                let interval = Estimate::new(e.ate, e.stderr, members, query.level);
                (level, interval)
            })
            .collect();
        let method = levels
            .last()
            .map_or(IntervalMethod::MonteCarlo, |(_, i)| i.method);
        EffectFinding::Levels { levels, method }
    } else {
        let effect = scm.ate(t, o, a, b, n, seed)?;
        let members = scm.member_answers(n, |m, n| {
            let e = m.ate(t, o, a, b, n, seed)?;
            Ok::<_, ScmError>(vec![(e.ate, e.stderr)])
        })?;
        let members = members.into_iter().map(|values| values[0]).collect();
        let interval = Estimate::new(effect.ate, effect.stderr, members, query.level);
        EffectFinding::Mean { effect, interval }
    };
    let extrapolation = if scm.support_rows() == 0 {
        None
    } else {
        let arm = |value: f64| scm.extrapolation(&[(t, value)], DIAGNOSTIC_SAMPLES, seed);
        let (in_a, in_b) = (arm(a)?, arm(b)?);
        Some(
            in_a.into_iter()
                .zip(in_b)
                .map(|(a, b)| ArmsExtrapolation { a, b })
                .collect(),
        )
    };
    Ok(EffectAnswer {
        query: query.clone(),
        finding,
        extrapolation,
    })
}

impl EffectAnswer {
    /// The answer as the JSON object `causalgrad effect --json` prints and
    /// `POST /v1/effect` returns (the fields are in `docs/cli.md`).
    pub fn json(&self) -> Value {
        let q = &self.query;
        let extrapolation = self.extrapolation.as_ref().map_or(Value::Null, |arms| {
            arms.iter()
                .map(|e| {
                    json!({
                        "variable": e.a.variable,
                        "parents": e.a.parents,
                        "outside_a": e.a.outside,
                        "outside_b": e.b.outside,
                    })
                })
                .collect()
        });
        let mut object = match &self.finding {
            EffectFinding::Mean { effect, interval } => json!({
                "ate": effect.ate,
                "ci_low": interval.low,
                "ci_high": interval.high,
                "interval_method": interval.method.name(),
                "mc_stderr": effect.stderr,
                "model_stderr": interval.model_stderr,
                "member_estimates": interval.members,
                "stderr": effect.stderr,
                "mean_a": effect.mean_a,
                "mean_b": effect.mean_b,
                "samples": effect.samples,
            }),
            EffectFinding::Levels { levels, method } => json!({
                "levels": levels
                    .iter()
                    .map(|(level, interval)| {
                        let e = &level.effect;
                        json!({
                            "level": level.level,
                            "ate": e.ate,
                            "ci_low": interval.low,
                            "ci_high": interval.high,
                            "mc_stderr": e.stderr,
                            "model_stderr": interval.model_stderr,
                            "stderr": e.stderr,
                            "mean_a": e.mean_a,
                            "mean_b": e.mean_b,
                        })
                    })
                    .collect::<Vec<_>>(),
                "interval_method": method.name(),
                "samples": q.samples,
            }),
        };
        let fields = [
            ("level", json!(q.level)),
            ("treatment", json!(q.treatment)),
            ("outcome", json!(q.outcome)),
            ("a", value_json(&q.a)),
            ("b", value_json(&q.b)),
            ("seed", json!(q.seed)),
            ("context", json!(q.context)),
            ("extrapolation", extrapolation),
        ];
        let map = object.as_object_mut().expect("built as an object");
        for (name, value) in fields {
            map.insert(name.to_string(), value);
        }
        object
    }
}

/// A value as a caller spelled it, as JSON: a number when it reads as a
/// finite one, else the text (a label).
///
/// ```
/// use causalgrad::answer::value_json;
///
/// assert_eq!(value_json("-1"), -1.0);
/// assert_eq!(value_json("green"), "green");
/// assert_eq!(value_json("inf"), "inf");
/// ```
pub fn value_json(text: &str) -> Value {
    match text.parse::<f64>() {
        Ok(number) if number.is_finite() => number.into(),
        _ => text.into(),
    }
}
