//! What a model is before it is fitted: its graph and the mechanism,
//! noise and kind declared for some variables (the rest take the
//! defaults `causalgrad fit` uses: a tanh MLP of 16 hidden units for a
//! variable with parents, a learned mean for a root, the kind the data
//! suggest and that kind's noise).

use std::collections::BTreeMap;

use causalgrad::data::Dataset;
use causalgrad::fit::select::Family;
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Activation, Mechanism, MechanismSpec, Noise, Scm, VariableKind};

use crate::errors::Error;

/// Hidden layer widths of the default mechanism (as `causalgrad fit`).
const DEFAULT_MLP: [usize; 1] = [16];
/// Hidden units per parent of an `additive` mechanism without a width.
const ADDITIVE_HIDDEN: usize = 8;

/// The mechanism families a string names.
#[derive(Clone, Debug, PartialEq)]
pub enum MechanismChoice {
    /// `"linear"`.
    Linear,
    /// `"additive"` or `"additive(8)"`.
    Additive(usize),
    /// `"mlp"`, `"mlp(16)"`, `"mlp(32, 32)"`: tanh hidden layers.
    Mlp(Vec<usize>),
    /// A formula of the parents and declared parameters
    /// (`docs/formulas.md`): one per output, or one for all.
    Formula {
        /// The formulas' texts.
        formulas: Vec<String>,
        /// The parameters in declaration order, each with its starting value.
        params: Vec<(String, f32)>,
    },
}

impl From<&Family> for MechanismChoice {
    fn from(family: &Family) -> Self {
        match family {
            Family::Linear => MechanismChoice::Linear,
            Family::Additive { hidden } => MechanismChoice::Additive(*hidden),
            Family::Mlp { hidden } => MechanismChoice::Mlp(hidden.clone()),
        }
    }
}

impl MechanismChoice {
    /// Reads `linear`, `additive`, `additive(H)`, `mlp`, `mlp(W, ..)`.
    pub fn parse(variable: &str, text: &str) -> Result<MechanismChoice, Error> {
        let bad = || {
            Error::Usage(format!(
                "the mechanism `{text}` for `{variable}` is not one of \"linear\", \"additive\", \"additive(8)\", \"mlp\", \"mlp(16)\", \"mlp(32, 32)\""
            ))
        };
        let text = text.trim();
        let (name, widths) = match text.split_once('(') {
            Some((name, rest)) => {
                let inner = rest.strip_suffix(')').ok_or_else(bad)?;
                let widths = inner
                    .split(',')
                    .map(|w| {
                        w.trim()
                            .parse::<usize>()
                            .ok()
                            .filter(|&w| (1..=4096).contains(&w))
                    })
                    .collect::<Option<Vec<usize>>>()
                    .ok_or_else(bad)?;
                (name.trim(), Some(widths))
            }
            None => (text, None),
        };
        match (name, widths) {
            ("linear", None) => Ok(MechanismChoice::Linear),
            ("additive", None) => Ok(MechanismChoice::Additive(ADDITIVE_HIDDEN)),
            ("additive", Some(w)) if w.len() == 1 => Ok(MechanismChoice::Additive(w[0])),
            ("mlp", None) => Ok(MechanismChoice::Mlp(DEFAULT_MLP.to_vec())),
            ("mlp", Some(w)) if w.len() <= 16 => Ok(MechanismChoice::Mlp(w)),
            _ => Err(bad()),
        }
    }

    /// The family a string names (`"linear"`, `"additive(8)"`, `"mlp(32, 32)"`),
    /// for mechanism selection's candidates.
    pub fn family(variable: &str, text: &str) -> Result<Family, Error> {
        match MechanismChoice::parse(variable, text)? {
            MechanismChoice::Linear => Ok(Family::Linear),
            MechanismChoice::Additive(hidden) => Ok(Family::Additive { hidden }),
            MechanismChoice::Mlp(hidden) => Ok(Family::Mlp { hidden }),
            MechanismChoice::Formula { .. } => unreachable!("parse reads no formula"),
        }
    }

    /// The string that [`MechanismChoice::parse`] reads back for a fitted
    /// mechanism of a built-in kind (`None` for a formula or a mechanism
    /// from user code).
    pub fn name_of(spec: Option<MechanismSpec>) -> Option<String> {
        let family = match spec? {
            MechanismSpec::Linear { .. } => Family::Linear,
            MechanismSpec::Additive { hidden, .. } => Family::Additive { hidden },
            MechanismSpec::Mlp { hidden, .. } => Family::Mlp { hidden },
            MechanismSpec::Formula { .. } => return None,
        };
        Some(family.name())
    }

    /// The mechanism of `variable` over `parents` (each with the number of
    /// columns it is read as), its weights drawn from `seed`.
    fn build(
        &self,
        variable: &str,
        parents: &[(&str, usize)],
        seed: u64,
    ) -> Result<Mechanism, Error> {
        let arity = parents.iter().map(|(_, width)| width).sum();
        Ok(match self {
            MechanismChoice::Linear => Mechanism::linear(arity),
            MechanismChoice::Additive(hidden) => Mechanism::additive(arity, *hidden, seed),
            MechanismChoice::Mlp(hidden) => Mechanism::mlp(arity, hidden, Activation::Tanh, seed),
            MechanismChoice::Formula { formulas, params } => {
                if let Some((parent, _)) = parents.iter().find(|(_, width)| *width != 1) {
                    return Err(Error::Usage(format!(
                        "`{variable}`'s formula cannot read its categorical parent `{parent}`: a formula reads numbers; declare `{parent}` binary or count if it is one, or give `{variable}` another mechanism"
                    )));
                }
                let texts: Vec<&str> = formulas.iter().map(String::as_str).collect();
                let inputs: Vec<&str> = parents.iter().map(|(name, _)| *name).collect();
                let params: Vec<(&str, f32)> = params
                    .iter()
                    .map(|(name, value)| (name.as_str(), *value))
                    .collect();
                Mechanism::formulas(&texts, &inputs, &params).map_err(|error| {
                    Error::Usage(format!(
                        "`{variable}`'s formula `{}`, column {}: {}",
                        error.formula, error.column, error.problem
                    ))
                })?
            }
        })
    }
}

impl MechanismChoice {
    /// The choice a built-in mechanism of a fitted model is (a formula
    /// starting from its fitted values); `None` for one from user code or
    /// with an activation other than tanh, which no choice makes.
    pub fn of(mechanism: &Mechanism) -> Option<MechanismChoice> {
        Some(match mechanism.spec()? {
            MechanismSpec::Linear { .. } => MechanismChoice::Linear,
            MechanismSpec::Additive { hidden, .. } => MechanismChoice::Additive(hidden),
            MechanismSpec::Mlp {
                hidden,
                activation: Activation::Tanh,
                ..
            } => MechanismChoice::Mlp(hidden),
            MechanismSpec::Mlp { .. } => return None,
            MechanismSpec::Formula {
                formulas, params, ..
            } => {
                let values = mechanism.params();
                let params = params
                    .into_iter()
                    .enumerate()
                    .map(|(i, name)| (name, values.get(i).copied().unwrap_or(FORMULA_DEFAULT_INIT)))
                    .collect();
                MechanismChoice::Formula { formulas, params }
            }
        })
    }

    /// The text [`MechanismChoice::parse`] reads back (`None` for a
    /// formula, declared with its texts and parameters).
    pub fn name(&self) -> Option<String> {
        let widths = |w: &[usize]| {
            w.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            MechanismChoice::Linear => Some("linear".into()),
            MechanismChoice::Additive(hidden) => Some(format!("additive({hidden})")),
            MechanismChoice::Mlp(hidden) => Some(format!("mlp({})", widths(hidden))),
            MechanismChoice::Formula { .. } => None,
        }
    }
}

/// Where a formula parameter declared without a starting value starts (as
/// in a model file's `params = [..]`): not 0, so that a product of
/// parameters (`a * b * x`) has a gradient.
pub const FORMULA_DEFAULT_INIT: f32 = 0.1;

/// Reads a noise family's name.
pub fn parse_noise(variable: &str, text: &str) -> Result<Noise, Error> {
    match text.trim() {
        "gaussian" => Ok(Noise::gaussian()),
        "laplace" => Ok(Noise::laplace()),
        "student_t" => Ok(Noise::student_t(5.0)),
        "mixture" => Ok(Noise::mixture()),
        "heteroscedastic" => Ok(Noise::Heteroscedastic),
        "bernoulli" => Ok(Noise::bernoulli()),
        "poisson" => Ok(Noise::poisson()),
        "negative_binomial" => Ok(Noise::negative_binomial()),
        other => Err(Error::Usage(format!(
            "the noise `{other}` for `{variable}` is not one of gaussian, laplace, student_t, mixture, heteroscedastic, bernoulli, poisson, negative_binomial"
        ))),
    }
}

/// A declared kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KindChoice {
    /// Real-valued.
    Continuous,
    /// 0 or 1.
    Binary,
    /// Labels.
    Categorical,
    /// Whole numbers at least 0.
    Count,
}

impl KindChoice {
    /// The choice `kind` is.
    pub fn of(kind: &VariableKind) -> KindChoice {
        match kind {
            VariableKind::Continuous => KindChoice::Continuous,
            VariableKind::Binary => KindChoice::Binary,
            VariableKind::Categorical { .. } => KindChoice::Categorical,
            VariableKind::Count => KindChoice::Count,
        }
    }

    /// The name [`parse_kind`] reads.
    pub fn name(self) -> &'static str {
        match self {
            KindChoice::Continuous => "continuous",
            KindChoice::Binary => "binary",
            KindChoice::Categorical => "categorical",
            KindChoice::Count => "count",
        }
    }
}

/// Reads a kind's name.
pub fn parse_kind(variable: &str, text: &str) -> Result<KindChoice, Error> {
    match text.trim() {
        "continuous" => Ok(KindChoice::Continuous),
        "binary" => Ok(KindChoice::Binary),
        "categorical" => Ok(KindChoice::Categorical),
        "count" => Ok(KindChoice::Count),
        other => Err(Error::Usage(format!(
            "the kind `{other}` for `{variable}` is not one of continuous, binary, categorical, count"
        ))),
    }
}

/// A graph and the choices declared for its variables.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The graph.
    pub graph: CausalGraph,
    /// Declared mechanisms.
    pub mechanisms: BTreeMap<String, MechanismChoice>,
    /// Declared noise families.
    pub noises: BTreeMap<String, Noise>,
    /// Declared kinds.
    pub kinds: BTreeMap<String, KindChoice>,
}

impl Spec {
    /// A spec with nothing declared.
    pub fn new(graph: CausalGraph) -> Spec {
        Spec {
            graph,
            mechanisms: BTreeMap::new(),
            noises: BTreeMap::new(),
            kinds: BTreeMap::new(),
        }
    }

    /// The spec a fitted model was made from, as near as the choices
    /// allow: every variable's kind, its mechanism (where a choice makes
    /// it) and its noise family (fresh parameters; a categorical
    /// variable's follows from its kind). Fitting it again keeps the
    /// model's structure.
    pub fn of_scm(scm: &Scm) -> Spec {
        let mut spec = Spec::new(scm.graph().clone());
        for name in scm.graph().variables() {
            let (Ok(kind), Ok(mechanism), Ok(noise)) =
                (scm.kind(name), scm.mechanism(name), scm.noise(name))
            else {
                continue;
            };
            spec.kinds.insert(name.into(), KindChoice::of(kind));
            if let Some(choice) = MechanismChoice::of(mechanism) {
                spec.mechanisms.insert(name.into(), choice);
            }
            if let Ok(fresh) = parse_noise(name, noise.name()) {
                spec.noises.insert(name.into(), fresh);
            }
        }
        spec
    }

    /// Checks that `variable` is in the graph.
    pub fn check_variable(&self, variable: &str) -> Result<(), Error> {
        if self.graph.contains(variable) {
            Ok(())
        } else {
            Err(self.graph.unknown(variable).into())
        }
    }

    /// Every variable's kind, declared or detected from `data` (a column
    /// of labels is categorical, one of only 0 and 1 binary, any other
    /// continuous); a column declared categorical holding numbers takes
    /// them as labels (in `data`, which is re-coded).
    pub fn kinds(&self, data: &mut Dataset) -> Result<BTreeMap<String, VariableKind>, Error> {
        let mut kinds = BTreeMap::new();
        for name in self.graph.variables() {
            let declared = self.kinds.get(name).copied();
            if declared == Some(KindChoice::Categorical) && data.labels(name)?.is_none() {
                *data = std::mem::replace(data, empty()).to_categorical(name)?;
            }
            let labels = data.labels(name)?.map(<[String]>::to_vec);
            let kind = match (declared, labels) {
                (None | Some(KindChoice::Categorical), Some(levels)) => {
                    VariableKind::Categorical { levels }
                }
                (Some(choice), Some(levels)) => {
                    return Err(Error::Usage(format!(
                        "`{name}` is declared {choice:?} but its column holds labels ({}); declare it \"categorical\" or give numbers",
                        levels.iter().take(4).cloned().collect::<Vec<_>>().join(", ")
                    )
                    .to_lowercase()))
                }
                (Some(KindChoice::Continuous), None) => VariableKind::Continuous,
                (Some(KindChoice::Binary), None) => VariableKind::Binary,
                (Some(KindChoice::Count), None) => VariableKind::Count,
                (Some(KindChoice::Categorical), None) => {
                    unreachable!("a declared categorical column was given labels above")
                }
                (None, None) => VariableKind::detect(data.column(name)?, None),
            };
            kinds.insert(name.to_string(), kind);
        }
        Ok(kinds)
    }

    /// The model to fit: each variable of its kind, with its declared
    /// mechanism and noise or the defaults; weights drawn from `seed` plus
    /// the variable's position in the topological order (as
    /// `causalgrad fit` draws them, so the same seed gives the same fit).
    pub fn build(&self, kinds: &BTreeMap<String, VariableKind>, seed: u64) -> Result<Scm, Error> {
        self.build_with(kinds, seed, &MechanismChoice::Mlp(DEFAULT_MLP.to_vec()))
    }

    /// [`Spec::build`] with `default` as the mechanism of every variable
    /// with parents that nothing is declared for (mechanism selection's
    /// candidates, as `causalgrad fit --select` builds them).
    pub fn build_with(
        &self,
        kinds: &BTreeMap<String, VariableKind>,
        seed: u64,
        default: &MechanismChoice,
    ) -> Result<Scm, Error> {
        let kind_of = |name: &str| kinds.get(name).cloned().unwrap_or(VariableKind::Continuous);
        let mut builder = Scm::builder(self.graph.clone());
        for (index, name) in self.graph.topological_order().iter().enumerate() {
            let kind = kind_of(name);
            builder = builder.kind(name, kind.clone());
            let parents = self.graph.parents(name)?;
            let columns: Vec<(&str, usize)> = parents
                .iter()
                .map(|&p| (p, kind_of(p).input_width()))
                .collect();
            let choice = match self.mechanisms.get(name.as_str()) {
                Some(choice) if parents.is_empty() && *choice != MechanismChoice::Linear => {
                    return Err(Error::Usage(format!(
                        "`{name}` has no parents in the graph, so it has nothing to be a network of; use \"linear\" (a learned mean) or leave it out"
                    )))
                }
                Some(choice) => choice.clone(),
                None if parents.is_empty() => MechanismChoice::Linear,
                None => default.clone(),
            };
            let mechanism = choice.build(name, &columns, seed.wrapping_add(index as u64))?;
            builder = builder.mechanism(name, mechanism);
            if let Some(noise) = self.noises.get(name.as_str()) {
                builder = builder.noise(name, *noise);
            }
        }
        Ok(builder.build()?)
    }
}

fn empty() -> Dataset {
    Dataset::from_columns(Vec::<(String, Vec<f64>)>::new()).expect("no columns")
}
