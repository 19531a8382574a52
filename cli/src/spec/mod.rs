//! `model.toml`: the mechanism and noise model of each variable.
//!
//! Each top-level table is a variable of the graph; variables without one
//! get the defaults (a `2 → 16 → 1`-style tanh MLP of their parents, a
//! learned mean for roots, learned mixture noise for continuous variables,
//! their kind's family for the others):
//!
//! ```toml
//! [x2]
//! mechanism = "linear"
//!
//! [x3]
//! mechanism = { additive = { hidden = 8 } }   # one small MLP per parent, summed
//!
//! [x4]
//! mechanism = { mlp = { hidden = [16], activation = "tanh" } }
//! noise = { gaussian = { scale = 0.2 } }      # learned, starting at 0.2 standard deviations
//!
//! [x5]
//! mechanism = { formula = "f * exp(-g * x3^2) + h * x4", params = ["f", "g", "h"] }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use causalgrad::fit::select::Family;
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Activation, Mechanism, Scm, VariableKind};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use crate::error::CliError;

mod formula;
mod kinds;
mod noise;

pub use formula::FormulaChoice;
pub use kinds::KindChoice;
use noise::NoiseSpec;

/// Hidden units of each per-parent network of an `additive` mechanism by default.
const ADDITIVE_HIDDEN: usize = 8;
/// Hidden layer widths of an `mlp` mechanism by default.
const MLP_HIDDEN: [usize; 1] = [16];

/// The mechanisms and noise models chosen in a `model.toml`.
#[derive(Debug, Default)]
pub struct ModelSpec {
    /// The file, for errors.
    path: Option<PathBuf>,
    /// The file's text, to locate errors.
    text: String,
    variables: BTreeMap<Spanned<String>, VariableSpec>,
}

/// One variable's table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VariableSpec {
    kind: Option<Spanned<KindChoice>>,
    mechanism: Option<Spanned<MechanismChoice>>,
    noise: Option<Spanned<NoiseSpec>>,
}

/// A mechanism kind and its options.
#[derive(Clone, Debug, PartialEq)]
pub enum MechanismChoice {
    /// `b + Σ w_i x_i`.
    Linear,
    /// `b + Σ f_i(x_i)`, each `f_i` a `1 → hidden → 1` tanh network.
    Additive {
        /// Hidden units per parent.
        hidden: usize,
    },
    /// A multilayer perceptron of all parents.
    Mlp {
        /// Hidden layer widths.
        hidden: Vec<usize>,
        /// The hidden layers' activation.
        activation: Activation,
    },
    /// A formula of the parents and declared parameters.
    Formula(FormulaChoice),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinearOptions {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdditiveOptions {
    #[serde(default = "additive_hidden")]
    hidden: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MlpOptions {
    #[serde(default = "mlp_hidden")]
    hidden: Vec<usize>,
    #[serde(default = "tanh")]
    activation: Activation,
}

/// The widest hidden layer a model file may ask for (a typo such as
/// `hidden = [160000000]` is an error, not an allocation failure).
const MAX_WIDTH: usize = 4096;
/// The most hidden layers a model file may ask for.
const MAX_LAYERS: usize = 16;

fn additive_hidden() -> usize {
    ADDITIVE_HIDDEN
}

fn mlp_hidden() -> Vec<usize> {
    MLP_HIDDEN.to_vec()
}

fn tanh() -> Activation {
    Activation::Tanh
}

const MECHANISMS: &[&str] = &["linear", "additive", "mlp", "formula"];

/// `"kind"` or `{ kind = { options } }`.
impl<'de> Deserialize<'de> for MechanismChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Kind;
        impl<'de> Visitor<'de> for Kind {
            type Value = MechanismChoice;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a mechanism: "linear", "additive", "mlp", a table such as { mlp = { hidden = [16], activation = "tanh" } }, or a formula such as { formula = "a + b * x", params = ["a", "b"] }"#)
            }
            fn visit_str<E: de::Error>(self, kind: &str) -> Result<MechanismChoice, E> {
                match kind {
                    "linear" => Ok(MechanismChoice::Linear),
                    "additive" => Ok(MechanismChoice::Additive {
                        hidden: ADDITIVE_HIDDEN,
                    }),
                    "mlp" => Ok(MechanismChoice::Mlp {
                        hidden: mlp_hidden(),
                        activation: Activation::Tanh,
                    }),
                    other => Err(E::unknown_variant(other, MECHANISMS)),
                }
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<MechanismChoice, M::Error> {
                let kind: String = map
                    .next_key()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                if formula::is_formula_key(&kind) {
                    return formula::read(kind, &mut map);
                }
                let spec = match kind.as_str() {
                    "linear" => {
                        map.next_value::<LinearOptions>()?;
                        MechanismChoice::Linear
                    }
                    "additive" => {
                        let options: AdditiveOptions = map.next_value()?;
                        if !(1..=MAX_WIDTH).contains(&options.hidden) {
                            return Err(de::Error::custom(format!(
                                "`hidden` must be between 1 and {MAX_WIDTH}"
                            )));
                        }
                        MechanismChoice::Additive {
                            hidden: options.hidden,
                        }
                    }
                    "mlp" => {
                        let options: MlpOptions = map.next_value()?;
                        if options.hidden.contains(&0) {
                            return Err(de::Error::custom(
                                "every hidden layer needs at least 1 unit",
                            ));
                        }
                        if options.hidden.len() > MAX_LAYERS
                            || options.hidden.iter().any(|&width| width > MAX_WIDTH)
                        {
                            return Err(de::Error::custom(format!(
                                "at most {MAX_LAYERS} hidden layers of at most {MAX_WIDTH} units each"
                            )));
                        }
                        MechanismChoice::Mlp {
                            hidden: options.hidden,
                            activation: options.activation,
                        }
                    }
                    other => return Err(de::Error::unknown_variant(other, MECHANISMS)),
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "one mechanism per variable: `{kind}` and `{extra}` are both given"
                    )));
                }
                Ok(spec)
            }
        }
        deserializer.deserialize_any(Kind)
    }
}

impl ModelSpec {
    /// Reads and parses a `model.toml`.
    pub fn from_file(path: &Path) -> Result<Self, CliError> {
        let text = std::fs::read_to_string(path).map_err(|source| CliError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(text, Some(path))
    }

    fn parse(text: String, path: Option<&Path>) -> Result<Self, CliError> {
        match toml::from_str(&text) {
            Ok(variables) => Ok(ModelSpec {
                path: path.map(Path::to_path_buf),
                text,
                variables,
            }),
            Err(error) => {
                let offset = error.span().map_or(0, |span| span.start);
                let (line, column) = line_column(&text, offset);
                Err(CliError::Spec {
                    path: path.map_or_else(|| "<model.toml>".into(), Path::to_path_buf),
                    line,
                    column,
                    message: error.message().trim_end().to_string(),
                })
            }
        }
    }

    fn located(&self, offset: usize) -> String {
        let (line, column) = line_column(&self.text, offset);
        let path = self
            .path
            .as_deref()
            .map_or_else(|| "<model.toml>".to_string(), |p| p.display().to_string());
        format!("{path}:{line}:{column}")
    }

    /// An error at byte `offset` of the file.
    fn error_at(&self, offset: usize, message: String) -> CliError {
        let (line, column) = line_column(&self.text, offset);
        CliError::Spec {
            path: self.path.clone().unwrap_or_else(|| "<model.toml>".into()),
            line,
            column,
            message,
        }
    }

    /// Builds the model on `graph`: each variable of the kind `kinds` gives
    /// it (continuous when absent; see [`ModelSpec::resolve_kinds`]), with
    /// its chosen mechanism and noise, or the defaults; network weights
    /// initialised from `seed`; MLPs on the CPU's SIMD lanes with `lanes`
    /// (a fit on burn's Flex backend), else as burn modules.
    pub fn build(
        &self,
        graph: CausalGraph,
        seed: u64,
        lanes: bool,
        kinds: &BTreeMap<String, VariableKind>,
    ) -> Result<Scm, CliError> {
        let default = MechanismChoice::Mlp {
            hidden: mlp_hidden(),
            activation: Activation::Tanh,
        };
        self.build_with(graph, seed, lanes, kinds, &default)
    }

    /// [`ModelSpec::build`] with `default` as the mechanism of every
    /// variable with parents that the file leaves out (the candidates of
    /// `fit --select`).
    pub fn build_with(
        &self,
        graph: CausalGraph,
        seed: u64,
        lanes: bool,
        kinds: &BTreeMap<String, VariableKind>,
        default: &MechanismChoice,
    ) -> Result<Scm, CliError> {
        let known: Vec<String> = graph.variables().map(str::to_string).collect();
        for name in self.variables.keys() {
            if !graph.contains(name.get_ref()) {
                return Err(CliError::UnknownVariable {
                    origin: self.located(name.span().start),
                    variable: name.get_ref().clone(),
                    known,
                });
            }
        }
        let kind_of = |name: &str| kinds.get(name).cloned().unwrap_or(VariableKind::Continuous);
        let mut builder = Scm::builder(graph.clone());
        for (index, name) in graph.topological_order().iter().enumerate() {
            let kind = kind_of(name);
            builder = builder.kind(name, kind.clone());
            let parents = graph
                .parents(name)
                .map_err(|source| CliError::Graph { source })?;
            // A categorical parent is read as its indicator columns.
            let columns: Vec<(&str, usize)> = parents
                .iter()
                .map(|&p| (p, kind_of(p).input_width()))
                .collect();
            let spec = self.variables.get(name.as_str());
            let chosen = spec.and_then(|s| s.mechanism.as_ref());
            let mechanism = match chosen {
                Some(choice)
                    if parents.is_empty() && *choice.get_ref() != MechanismChoice::Linear =>
                {
                    return Err(self.error_at(choice.span().start, format!(
                        "`{name}` has no parents in the graph, so it has nothing to be a network of; use `mechanism = \"linear\"` (a learned mean) or leave it out"
                    )));
                }
                Some(choice) => choice.get_ref().clone(),
                None if parents.is_empty() => MechanismChoice::Linear,
                None => default.clone(),
            };
            builder = builder.mechanism(
                name,
                mechanism.build(self, name, &columns, seed.wrapping_add(index as u64), lanes)?,
            );
            if let Some(noise) = spec.and_then(|s| s.noise.as_ref()) {
                let levels = kind.levels().map_or(0, <[String]>::len);
                let family = noise.get_ref().noise(levels);
                if !kind.allows(&family) {
                    return Err(self.error_at(
                        noise.span().start,
                        format!(
                            "`{name}` is {}, which {} noise does not model; use {} noise (its default) or declare another `kind`",
                            kind.name(),
                            family.name(),
                            kind.default_noise().name()
                        ),
                    ));
                }
                builder = builder.noise(name, family);
            }
        }
        Ok(builder.build()?)
    }
}

impl ModelSpec {
    /// The warnings about the file's formulas on `graph` (each parent a
    /// formula never reads), the variables' kinds from `kinds`.
    pub fn warnings(
        &self,
        graph: &CausalGraph,
        kinds: &BTreeMap<String, VariableKind>,
    ) -> Vec<String> {
        let width = |name: &str| kinds.get(name).map_or(1, VariableKind::input_width);
        let mut warnings = Vec::new();
        for (name, spec) in &self.variables {
            let Some(MechanismChoice::Formula(choice)) =
                spec.mechanism.as_ref().map(Spanned::get_ref)
            else {
                continue;
            };
            let Ok(parents) = graph.parents(name.get_ref()) else {
                continue;
            };
            let columns: Vec<(&str, usize)> = parents.iter().map(|&p| (p, width(p))).collect();
            warnings.extend(self.formula_warnings(name.get_ref(), choice, &columns));
        }
        warnings
    }

    /// Whether the file declares `name`'s noise.
    pub fn declared_noise(&self, name: &str) -> bool {
        self.variables
            .get(name)
            .is_some_and(|spec| spec.noise.is_some())
    }
}

impl From<&Family> for MechanismChoice {
    fn from(family: &Family) -> Self {
        match family {
            Family::Linear => MechanismChoice::Linear,
            Family::Additive { hidden } => MechanismChoice::Additive { hidden: *hidden },
            Family::Mlp { hidden } => MechanismChoice::Mlp {
                hidden: hidden.clone(),
                activation: Activation::Tanh,
            },
        }
    }
}

impl MechanismChoice {
    /// The mechanism of `variable` in `spec` over its `parents` (each with
    /// the number of columns it is read as), its weights drawn from
    /// `seed`: an MLP on the CPU's SIMD lanes with `lanes`, else the same
    /// network as a burn module (for GPU backends).
    fn build(
        &self,
        spec: &ModelSpec,
        variable: &str,
        parents: &[(&str, usize)],
        seed: u64,
        lanes: bool,
    ) -> Result<Mechanism, CliError> {
        let arity = parents.iter().map(|(_, width)| width).sum();
        Ok(match self {
            MechanismChoice::Linear => Mechanism::linear(arity),
            MechanismChoice::Additive { hidden } => Mechanism::additive(arity, *hidden, seed),
            MechanismChoice::Mlp { hidden, activation } if lanes => {
                Mechanism::mlp(arity, hidden, *activation, seed)
            }
            MechanismChoice::Mlp { hidden, activation } => {
                Mechanism::burn_mlp(arity, hidden, *activation, seed)
            }
            MechanismChoice::Formula(formula) => {
                return spec.formula_mechanism(variable, formula, parents)
            }
        })
    }
}

/// The 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ModelSpec, CliError> {
        ModelSpec::parse(text.to_string(), Some(Path::new("model.toml")))
    }

    fn chain() -> CausalGraph {
        CausalGraph::new(["a", "b", "c"], [("a", "b"), ("a", "c"), ("b", "c")]).unwrap()
    }

    #[test]
    fn every_form_parses() {
        let spec = parse(
            "[a]\nnoise = { gaussian = { scale = 0.5 } }\n[b]\nmechanism = \"linear\"\n\
             [c]\nmechanism = { mlp = { hidden = [4, 3], activation = \"relu\" } }\n",
        )
        .unwrap();
        let scm = spec.build(chain(), 0, true, &BTreeMap::new()).unwrap();
        assert_eq!(scm.mechanism("b").unwrap().describe(), "linear");
        assert!((scm.noise("a").unwrap().scale().unwrap() - 0.5).abs() < 1e-6);
        let c = &spec.variables["c"];
        assert_eq!(
            c.mechanism.as_ref().unwrap().get_ref(),
            &MechanismChoice::Mlp {
                hidden: vec![4, 3],
                activation: Activation::Relu
            }
        );
        let additive = parse("[c]\nmechanism = \"additive\"\n").unwrap();
        assert_eq!(
            additive.variables["c"]
                .mechanism
                .as_ref()
                .unwrap()
                .get_ref(),
            &MechanismChoice::Additive { hidden: 8 }
        );
    }

    #[test]
    fn formula_tables_declare_their_parameters() {
        let spec = parse(
            "[b]\nmechanism = { formula = \"w * a + k\", params = [\"w\", \"k\"], init = { k = 2.5 } }\n\
             [c]\nmechanism = { init = { u = -1, t = 0.5 }, formula = \"t * a + u * b\" }\n",
        )
        .unwrap();
        let scm = spec.build(chain(), 0, true, &BTreeMap::new()).unwrap();
        let b = scm.mechanism("b").unwrap();
        assert_eq!(b.describe(), "formula w * a + k");
        assert_eq!(b.params(), [formula::DEFAULT_INIT, 2.5]);
        // `init` alone declares its names, in the order the reader gives.
        assert_eq!(scm.mechanism("c").unwrap().params(), [0.5, -1.0]);
        assert!(!scm.mechanism("c").unwrap().reads_standardized_units());
        assert!(spec.warnings(&chain(), &BTreeMap::new()).is_empty());
        // A categorical variable: one formula per level after the first,
        // or one for all of them, each level with its own parameters.
        let kinds = BTreeMap::from([(
            "c".to_string(),
            VariableKind::Categorical {
                levels: vec!["p".into(), "q".into(), "r".into()],
            },
        )]);
        for (mechanism, params) in [
            (
                "{ formulas = [\"u + a\", \"t * b\"], params = [\"u\", \"t\"] }",
                2,
            ),
            (
                "{ formula = \"u + t * a + b\", params = [\"u\", \"t\"] }",
                4,
            ),
        ] {
            let scm = parse(&format!("[c]\nmechanism = {mechanism}\n"))
                .unwrap()
                .build(chain(), 0, true, &kinds)
                .unwrap();
            let c = scm.mechanism("c").unwrap();
            assert_eq!((c.outputs(), c.params().len()), (2, params), "{mechanism}");
        }
        let unused = parse("[c]\nmechanism = { formula = \"k * b\", params = [\"k\"] }\n").unwrap();
        let warnings = unused.warnings(&chain(), &BTreeMap::new());
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("model.toml:2:25") && warnings[0].contains("parent `a`"),
            "{warnings:?}"
        );
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let cases: &[(&str, &str)] = &[
            ("[b]\nmechanism = \"cubic\"\n", "model.toml:2:13"),
            (
                "[b]\nmechanism = { mlp = { hiden = [4] } }\n",
                "model.toml:2:",
            ),
            ("[b]\nmechansim = \"linear\"\n", "model.toml:2:1"),
            ("[b\n", "model.toml:1:"),
            ("[b]\nnoise = { gaussian = { scale = -1.0 } }\n", "positive"),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
        let err = parse("\n[zz]\nmechanism = \"linear\"\n")
            .unwrap()
            .build(chain(), 0, true, &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("model.toml:2:2: unknown variable `zz`"),
            "{err}"
        );
        let err = parse("[a]\nmechanism = \"mlp\"\n")
            .unwrap()
            .build(chain(), 0, true, &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("model.toml:2:13") && err.contains("no parents"),
            "{err}"
        );
    }

    #[test]
    fn defaults_are_a_network_per_child_and_a_learned_mean_per_root() {
        let scm = ModelSpec::default()
            .build(chain(), 0, true, &BTreeMap::new())
            .unwrap();
        assert_eq!(scm.mechanism("a").unwrap().describe(), "linear");
        assert_eq!(scm.mechanism("a").unwrap().params().len(), 1);
        assert_ne!(scm.mechanism("c").unwrap().describe(), "linear");
    }

    const VALID: &str =
        "[a]\nnoise = { gaussian = { scale = 0.5 } }\n[b]\nmechanism = \"linear\"\n\
                         [c]\nmechanism = { mlp = { hidden = [4, 3], activation = \"relu\" } }\n";

    /// Mutations of a valid file and arbitrary text: parsed and built, or
    /// refused with an error naming the file; never a panic.
    fn fuzz(text: &str) {
        match parse(text) {
            Ok(spec) => {
                if let Err(error) = spec.build(chain(), 0, true, &BTreeMap::new()) {
                    let message = error.to_string();
                    assert!(message.contains("model.toml"), "{text:?}: {message}");
                }
            }
            Err(error) => {
                let message = error.to_string();
                assert!(message.contains("model.toml:"), "{text:?}: {message}");
            }
        }
    }

    fn mutated() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        const SNIPPETS: &[&str] = &[
            "[",
            "]",
            "{",
            "}",
            "=",
            "\"",
            ",",
            "#",
            "\n",
            "9999999999",
            "-1",
            "1e400",
            "nan",
            "mlp",
            "additive",
            "linear",
            "hidden",
            "é",
            "\u{feff}",
            "0",
            "formula",
            "params",
            "init",
            "{ formula = \"a * b + exp(\", params = [\"a\"] }",
            "^",
        ];
        prop::collection::vec(
            (0usize..3, 0..VALID.len(), 0..SNIPPETS.len(), 1usize..20),
            1..5,
        )
        .prop_map(|edits| {
            let mut text: Vec<char> = VALID.chars().collect();
            for (kind, at, snippet, span) in edits {
                let at = at.min(text.len());
                match kind {
                    0 => text
                        .splice(at..at, SNIPPETS[snippet].chars())
                        .for_each(drop),
                    1 => {
                        let end = (at + span).min(text.len());
                        text.drain(at..end);
                    }
                    _ => text.truncate(at),
                }
            }
            text.into_iter().collect()
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        #[test]
        fn mutated_model_files_are_built_or_refused(text in mutated()) {
            fuzz(&text);
        }

        #[test]
        fn arbitrary_text_is_refused_or_built(text in "\\PC{0,200}") {
            fuzz(&text);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(10_000))]
        #[test]
        #[ignore = "10,000 cases; run with --ignored"]
        fn mutated_model_files_10k(text in mutated()) {
            fuzz(&text);
        }
    }
}
