//! Seeded random sparse causal models, for scaling benchmarks and tests.
//!
//! [`RandomScm`] draws a DAG over `x1 .. xN` (in topological order) and a
//! mechanism for every variable with parents, from a mix of kinds
//! ([`MechanismMix`]): linear, additive (`b + Σ f_i(x_i)` with
//! `#[differentiable]` tanh networks, [`Mechanism::additive`]) and small
//! burn MLPs ([`Mechanism::mlp`]). The result, a [`RandomModel`], holds the
//! true model to sample data from and makes fresh models of the same
//! structure, with other parameters, to fit.
//!
//! How the graph is drawn: variable `j` (0-based) takes each earlier
//! variable as a parent with probability `min(1, k / j)`, `k` the expected
//! number of parents, so variables after the first `k` have `k` parents on
//! average and the number of edges grows linearly with the number of
//! variables; a variable with more than `max_parents` keeps a random
//! `max_parents` of them. The same settings and seed give the same model.
//!
//! The true parameters keep every variable on a unit scale however deep
//! the graph is: each linear mechanism's weights are rescaled so that its
//! mean has at most unit standard deviation on a pilot sample, the
//! networks are bounded (tanh), and the noise scales lie in `[0.5, 1]`.
//!
//! ```
//! use causalgrad::fit::FitConfig;
//! use causalgrad::models::random::RandomScm;
//!
//! let random = RandomScm::new(20, 7).expected_parents(2.0).generate()?;
//! assert_eq!(random.truth().graph().len(), 20);
//! let data = random.truth().sample(2_000, 1)?;
//! let mut model = random.fresh(8);
//! let report = model.fit(&data, &FitConfig::adam(0.05).with_steps(30))?;
//! assert!(report.losses.last() < report.losses.first());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use crate::graph::CausalGraph;
use crate::scm::{Activation, Mechanism, Noise, Scm};

/// Rows of the pilot sample that sets the linear mechanisms' scale.
const PILOT_ROWS: usize = 1024;

/// Errors in the settings of a [`RandomScm`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RandomScmError {
    /// A model with no variables.
    #[error("a random model needs at least one variable; `variables` is 0")]
    NoVariables,
    /// An expected parent count that is negative or not finite.
    #[error("`expected_parents` must be a finite number ≥ 0, got {0}")]
    ExpectedParents(f64),
    /// Mix weights that are negative, not finite, or all zero.
    #[error("the mechanism mix needs finite weights ≥ 0, not all zero; got linear {linear}, additive {additive}, mlp {mlp}")]
    Mix {
        /// Weight of linear mechanisms.
        linear: f64,
        /// Weight of additive mechanisms.
        additive: f64,
        /// Weight of MLP mechanisms.
        mlp: f64,
    },
    /// A network with no hidden units.
    #[error("`hidden` must be at least 1 unit")]
    Hidden,
}

/// The kind of a variable's mechanism in a random model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MechanismKind {
    /// A variable without parents: its mean is one learned parameter.
    Root,
    /// `b + Σ w_i x_i` ([`Mechanism::linear`]).
    Linear,
    /// `b + Σ f_i(x_i)`, each `f_i` a one-input tanh network written with
    /// `#[differentiable]` ([`Mechanism::additive`]).
    Additive,
    /// A one-hidden-layer tanh burn MLP over all parents ([`Mechanism::mlp`]).
    Mlp,
}

/// Relative weights of the mechanism kinds of variables with parents.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MechanismMix {
    /// Weight of linear mechanisms.
    pub linear: f64,
    /// Weight of additive mechanisms.
    pub additive: f64,
    /// Weight of MLP mechanisms.
    pub mlp: f64,
}

impl Default for MechanismMix {
    /// Half linear, a third additive, a sixth MLP.
    fn default() -> Self {
        MechanismMix {
            linear: 3.0,
            additive: 2.0,
            mlp: 1.0,
        }
    }
}

impl MechanismMix {
    fn check(&self) -> Result<(), RandomScmError> {
        let weights = [self.linear, self.additive, self.mlp];
        let valid =
            weights.iter().all(|w| w.is_finite() && *w >= 0.0) && weights.iter().sum::<f64>() > 0.0;
        if valid {
            Ok(())
        } else {
            Err(RandomScmError::Mix {
                linear: self.linear,
                additive: self.additive,
                mlp: self.mlp,
            })
        }
    }

    fn draw(&self, rng: &mut StdRng) -> MechanismKind {
        let total = self.linear + self.additive + self.mlp;
        let u = rng.random_range(0.0..total);
        if u < self.linear {
            MechanismKind::Linear
        } else if u < self.linear + self.additive || self.mlp == 0.0 {
            MechanismKind::Additive
        } else {
            MechanismKind::Mlp
        }
    }
}

/// Settings of a random sparse causal model; [`RandomScm::generate`]
/// draws it.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomScm {
    variables: usize,
    seed: u64,
    expected_parents: f64,
    max_parents: usize,
    mix: MechanismMix,
    hidden: usize,
}

impl RandomScm {
    /// `variables` variables drawn from `seed`, with 2 expected parents
    /// (at most 4), the default [`MechanismMix`] and 4 hidden units per
    /// network.
    pub fn new(variables: usize, seed: u64) -> Self {
        RandomScm {
            variables,
            seed,
            expected_parents: 2.0,
            max_parents: 4,
            mix: MechanismMix::default(),
            hidden: 4,
        }
    }

    /// The expected number of parents of a variable (once there are enough
    /// earlier variables).
    pub fn expected_parents(mut self, parents: f64) -> Self {
        self.expected_parents = parents;
        self
    }

    /// The most parents a variable keeps.
    pub fn max_parents(mut self, parents: usize) -> Self {
        self.max_parents = parents;
        self
    }

    /// The mix of mechanism kinds.
    pub fn mix(mut self, mix: MechanismMix) -> Self {
        self.mix = mix;
        self
    }

    /// Hidden units of each additive mechanism's per-parent networks and of
    /// each MLP's hidden layer.
    pub fn hidden(mut self, units: usize) -> Self {
        self.hidden = units;
        self
    }

    /// Draws the graph, the mechanism kinds and the true parameters.
    pub fn generate(&self) -> Result<RandomModel, RandomScmError> {
        if self.variables == 0 {
            return Err(RandomScmError::NoVariables);
        }
        if !self.expected_parents.is_finite() || self.expected_parents < 0.0 {
            return Err(RandomScmError::ExpectedParents(self.expected_parents));
        }
        self.mix.check()?;
        if self.hidden == 0 {
            return Err(RandomScmError::Hidden);
        }
        let mut rng = StdRng::seed_from_u64(self.seed);
        let names: Vec<String> = (1..=self.variables).map(|i| format!("x{i}")).collect();
        let mut parents: Vec<Vec<usize>> = Vec::with_capacity(self.variables);
        for j in 0..self.variables {
            let p = if j == 0 {
                0.0
            } else {
                (self.expected_parents / j as f64).min(1.0)
            };
            let mut chosen: Vec<usize> = (0..j).filter(|_| rng.random_bool(p)).collect();
            if chosen.len() > self.max_parents {
                chosen.shuffle(&mut rng);
                chosen.truncate(self.max_parents);
                chosen.sort_unstable();
            }
            parents.push(chosen);
        }
        let kinds: Vec<MechanismKind> = parents
            .iter()
            .map(|p| {
                if p.is_empty() {
                    MechanismKind::Root
                } else {
                    self.mix.draw(&mut rng)
                }
            })
            .collect();
        let edges = parents
            .iter()
            .enumerate()
            .flat_map(|(j, p)| p.iter().map(move |&i| (i, j)))
            .map(|(i, j)| (names[i].clone(), names[j].clone()));
        let graph = CausalGraph::new(names.clone(), edges)
            .expect("edges run from earlier to later variables, so the graph is a DAG");
        let structure = Structure {
            graph,
            names,
            parents,
            kinds,
            hidden: self.hidden,
        };
        let truth = structure.truth(&mut rng);
        Ok(RandomModel { structure, truth })
    }
}

/// The drawn graph and mechanism kinds.
#[derive(Clone, Debug)]
struct Structure {
    graph: CausalGraph,
    names: Vec<String>,
    /// Parents of each variable (indices of earlier variables, ascending).
    parents: Vec<Vec<usize>>,
    kinds: Vec<MechanismKind>,
    hidden: usize,
}

impl Structure {
    /// A mechanism of variable `j`'s kind, its networks initialised from
    /// `seed`; linear mechanisms start at zero.
    fn mechanism(&self, j: usize, seed: u64) -> Mechanism {
        let arity = self.parents[j].len();
        match self.kinds[j] {
            MechanismKind::Root => Mechanism::linear(0),
            MechanismKind::Linear => Mechanism::linear(arity),
            MechanismKind::Additive => Mechanism::additive(arity, self.hidden, seed),
            MechanismKind::Mlp => Mechanism::mlp(arity, &[self.hidden], Activation::Tanh, seed),
        }
    }

    /// A model with every mechanism from [`Structure::mechanism`] and the
    /// given noise scales.
    fn model(&self, mechanisms: Vec<Mechanism>, log_scales: &[f32]) -> Scm {
        let mut builder = Scm::builder(self.graph.clone());
        for (name, mechanism) in self.names.iter().zip(mechanisms) {
            builder = builder.mechanism(name, mechanism);
        }
        for (name, &log_scale) in self.names.iter().zip(log_scales) {
            builder = builder.noise(name, Noise::Gaussian { log_scale });
        }
        builder
            .build()
            .expect("each mechanism reads its variable's parents")
    }

    /// The true model: roots with means in `[-1, 1]`, linear weights of
    /// either sign rescaled on a pilot sample, networks drawn from `rng`,
    /// noise scales in `[0.5, 1]`.
    fn truth(&self, rng: &mut StdRng) -> Scm {
        let mut pilot: Vec<Vec<f32>> = Vec::with_capacity(self.names.len());
        let mut mechanisms = Vec::with_capacity(self.names.len());
        let mut log_scales = Vec::with_capacity(self.names.len());
        for j in 0..self.names.len() {
            let mut mechanism = self.mechanism(j, rng.random());
            match self.kinds[j] {
                MechanismKind::Root => {
                    let mean = rng.random_range(-1.0f32..=1.0);
                    mechanism.set_params(&[mean]).expect("one parameter");
                }
                MechanismKind::Linear => {
                    let mut params = vec![rng.random_range(-0.5f32..=0.5)];
                    params.extend(self.parents[j].iter().map(|_| {
                        let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
                        sign * rng.random_range(0.5f32..=1.5)
                    }));
                    mechanism.set_params(&params).expect("1 + arity parameters");
                }
                MechanismKind::Additive | MechanismKind::Mlp => {}
            }
            let columns: Vec<&[f32]> = self.parents[j]
                .iter()
                .map(|&i| pilot[i].as_slice())
                .collect();
            let mut mean = vec![0.0f32; PILOT_ROWS];
            mechanism.forward(&columns, &mut mean);
            if self.kinds[j] == MechanismKind::Linear {
                let spread = std_dev(&mean);
                if spread > 1.0 {
                    let mut params = mechanism.params().to_vec();
                    for w in &mut params[1..] {
                        *w /= spread as f32;
                    }
                    mechanism.set_params(&params).expect("same length");
                    mechanism.forward(&columns, &mut mean);
                }
            }
            let scale = rng.random_range(0.5f32..=1.0);
            for value in &mut mean {
                let e: f32 = StandardNormal.sample(rng);
                *value += scale * e;
            }
            pilot.push(mean);
            mechanisms.push(mechanism);
            log_scales.push(scale.ln());
        }
        self.model(mechanisms, &log_scales)
    }
}

fn std_dev(values: &[f32]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    var.sqrt()
}

/// A drawn random model: the true model and fresh models of the same
/// structure to fit.
#[derive(Clone, Debug)]
pub struct RandomModel {
    structure: Structure,
    truth: Scm,
}

impl RandomModel {
    /// The model with the true parameters, to sample data from.
    pub fn truth(&self) -> &Scm {
        &self.truth
    }

    /// A model of the same graph and mechanism kinds to fit: linear
    /// mechanisms and root means at zero, networks initialised from
    /// `seed`, unit noise scales.
    pub fn fresh(&self, seed: u64) -> Scm {
        let mut rng = StdRng::seed_from_u64(seed);
        let mechanisms = (0..self.structure.names.len())
            .map(|j| self.structure.mechanism(j, rng.random()))
            .collect();
        self.structure
            .model(mechanisms, &vec![0.0; self.structure.names.len()])
    }

    /// Each variable's mechanism kind, in topological order.
    pub fn kinds(&self) -> impl Iterator<Item = (&str, MechanismKind)> {
        self.structure
            .names
            .iter()
            .map(String::as_str)
            .zip(self.structure.kinds.iter().copied())
    }

    /// The number of variables of each kind.
    pub fn count(&self, kind: MechanismKind) -> usize {
        self.structure.kinds.iter().filter(|&&k| k == kind).count()
    }

    /// The number of edges.
    pub fn edges(&self) -> usize {
        self.structure.parents.iter().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::FitConfig;

    #[test]
    fn graphs_are_acyclic_sparse_and_capped() {
        let random = RandomScm::new(200, 3)
            .expected_parents(2.0)
            .max_parents(4)
            .generate()
            .unwrap();
        let graph = random.truth().graph();
        assert_eq!(graph.len(), 200);
        let position = |name: &str| graph.position(name).unwrap();
        for (parent, child) in graph.edges() {
            assert!(position(parent) < position(child), "{parent} -> {child}");
        }
        for name in graph.variables() {
            assert!(graph.parents(name).unwrap().len() <= 4, "{name}");
        }
        // About 2 parents per variable: edges grow linearly.
        let edges = random.edges();
        assert!((300..=420).contains(&edges), "{edges} edges");
        assert_eq!(graph.edges().count(), edges);
    }

    #[test]
    fn the_same_seed_gives_the_same_model() {
        let settings = RandomScm::new(30, 11);
        let (a, b) = (settings.generate().unwrap(), settings.generate().unwrap());
        assert_eq!(a.kinds().collect::<Vec<_>>(), b.kinds().collect::<Vec<_>>());
        let (da, db) = (
            a.truth().sample(50, 4).unwrap(),
            b.truth().sample(50, 4).unwrap(),
        );
        for name in da.names() {
            assert_eq!(da.column(name).unwrap(), db.column(name).unwrap(), "{name}");
        }
        let other = RandomScm::new(30, 12).generate().unwrap();
        let dc = other.truth().sample(50, 4).unwrap();
        assert_ne!(da.column("x30").unwrap(), dc.column("x30").unwrap());
    }

    #[test]
    fn the_mix_decides_the_kinds() {
        let only = |mix: MechanismMix| RandomScm::new(40, 5).mix(mix).generate().unwrap();
        let linear = only(MechanismMix {
            linear: 1.0,
            additive: 0.0,
            mlp: 0.0,
        });
        let non_roots = 40 - linear.count(MechanismKind::Root);
        assert_eq!(linear.count(MechanismKind::Linear), non_roots);
        let mlp = only(MechanismMix {
            linear: 0.0,
            additive: 0.0,
            mlp: 1.0,
        });
        assert_eq!(
            mlp.count(MechanismKind::Mlp),
            40 - mlp.count(MechanismKind::Root)
        );
        let mixed = RandomScm::new(200, 5).generate().unwrap();
        for kind in [
            MechanismKind::Linear,
            MechanismKind::Additive,
            MechanismKind::Mlp,
        ] {
            assert!(mixed.count(kind) > 10, "{kind:?}: {}", mixed.count(kind));
        }
        let described: Vec<String> = mixed
            .truth()
            .variables()
            .map(|v| mixed.truth().mechanism(v).unwrap().describe())
            .collect();
        assert!(described.iter().any(|d| d.starts_with("additive")));
    }

    #[test]
    fn variables_stay_on_a_unit_scale() {
        let random = RandomScm::new(100, 9)
            .mix(MechanismMix {
                linear: 1.0,
                additive: 0.0,
                mlp: 0.0,
            })
            .generate()
            .unwrap();
        let data = random.truth().sample(2_000, 1).unwrap();
        for name in data.names() {
            let column = data.column(name).unwrap();
            let spread = std_dev(&column.iter().map(|&v| v as f32).collect::<Vec<_>>());
            assert!(spread < 3.0, "{name}: {spread}");
        }
    }

    #[test]
    fn a_fit_reduces_the_loss() {
        let random = RandomScm::new(10, 21).generate().unwrap();
        let data = random.truth().sample(2_000, 2).unwrap();
        let mut model = random.fresh(22);
        let before = model.log_likelihood(&data).unwrap();
        let report = model
            .fit(&data, &FitConfig::adam(0.05).with_steps(60))
            .unwrap();
        assert!(report.losses.last() < report.losses.first());
        assert!(model.log_likelihood(&data).unwrap() > before);
    }

    #[test]
    fn bad_settings_are_errors() {
        assert_eq!(
            RandomScm::new(0, 1).generate().unwrap_err(),
            RandomScmError::NoVariables
        );
        assert!(matches!(
            RandomScm::new(5, 1).expected_parents(f64::NAN).generate(),
            Err(RandomScmError::ExpectedParents(_))
        ));
        let zero = MechanismMix {
            linear: 0.0,
            additive: 0.0,
            mlp: 0.0,
        };
        assert!(matches!(
            RandomScm::new(5, 1).mix(zero).generate(),
            Err(RandomScmError::Mix { .. })
        ));
        assert_eq!(
            RandomScm::new(5, 1).hidden(0).generate().unwrap_err(),
            RandomScmError::Hidden
        );
    }
}
