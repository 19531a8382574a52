//! Structure learning recovers planted graphs: linear-Gaussian SEMs with
//! equal noise variances (identifiable from observational data in their
//! raw units), nonlinear additive-noise models, interventional contexts,
//! and prior knowledge; every output is acyclic.

use causalgrad::context::{Context, ContextGraph};
use causalgrad::data::Dataset;
use causalgrad::discover::{
    accuracy, bootstrap, discover, discover_contexts, DiscoverConfig, Input, Knowledge,
};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// A random DAG over `d` variables in the order x0, x1, ..: each forward
/// pair is an edge with probability `p`, weight ±U(0.5, 2).
fn random_dag(d: usize, p: f64, rng: &mut rand::rngs::StdRng) -> Vec<(usize, usize, f64)> {
    let mut edges = Vec::new();
    for i in 0..d {
        for j in i + 1..d {
            if rng.random_range(0.0..1.0) < p {
                let w: f64 = rng.random_range(0.5..2.0);
                edges.push((
                    i,
                    j,
                    if rng.random_range(0.0..1.0) < 0.5 {
                        -w
                    } else {
                        w
                    },
                ));
            }
        }
    }
    edges
}

/// Samples `n` rows; `f(j, parents' contribution)` is variable j's mean,
/// `clamp[j]` a hard intervention.
// Row `r` of variable `j` reads row `r` of its parents: indices, not an iterator.
#[allow(clippy::needless_range_loop)]
fn sample(
    d: usize,
    edges: &[(usize, usize, f64)],
    n: usize,
    rng: &mut rand::rngs::StdRng,
    nonlinear: bool,
    clamp: &[(usize, f64)],
) -> Dataset {
    let mut x = vec![vec![0.0; n]; d];
    for j in 0..d {
        for r in 0..n {
            let noise: f64 = StandardNormal.sample(rng);
            x[j][r] = match clamp.iter().find(|(v, _)| *v == j) {
                Some(&(_, value)) => value + 0.1 * noise,
                None => {
                    let mean: f64 = edges
                        .iter()
                        .filter(|e| e.1 == j)
                        .map(|&(i, _, w)| {
                            if nonlinear {
                                // A different smooth nonlinearity per edge.
                                match (i + j) % 3 {
                                    0 => 2.0 * (w * x[i][r]).tanh(),
                                    1 => 2.0 * (0.8 * x[i][r]).sin() * w.signum(),
                                    _ => 0.5 * x[i][r] * x[i][r] - 1.0,
                                }
                            } else {
                                w * x[i][r]
                            }
                        })
                        .sum();
                    mean + if nonlinear { 0.5 * noise } else { noise }
                }
            };
        }
    }
    Dataset::from_columns((0..d).map(|j| (format!("x{j}"), x[j].clone()))).unwrap()
}

fn names(edges: &[(usize, usize, f64)]) -> Vec<(String, String)> {
    edges
        .iter()
        .map(|&(i, j, _)| (format!("x{i}"), format!("x{j}")))
        .collect()
}

#[test]
fn linear_graph_with_ten_variables_is_recovered() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(10);
    let truth = random_dag(10, 0.3, &mut rng);
    let data = sample(10, &truth, 2000, &mut rng, false, &[]);
    let mut config = DiscoverConfig::linear();
    config.standardize = false;
    let found = discover(&data, &config).unwrap();
    let acc = accuracy(&found.edge_names(), &names(&truth));
    assert!(acc.shd <= 2, "{} true edges, {acc:?}", truth.len());
    // The output reads back as a causal graph (acyclic).
    let graph = causalgrad::graph::CausalGraph::from_dot_str(&found.to_dot()).unwrap();
    assert_eq!(graph.edges().count(), found.edges.len());
}

#[test]
fn nonlinear_graph_with_five_variables_is_recovered() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let truth = vec![
        (0, 1, 1.0),
        (1, 2, 1.5),
        (0, 3, -1.0),
        (2, 4, 1.0),
        (3, 4, 1.2),
    ];
    let data = sample(5, &truth, 600, &mut rng, true, &[]);
    let mut config = DiscoverConfig::mlp();
    // Equal noise scales: least squares on the raw units identifies the
    // directions (standardising would hide them from an observational fit).
    config.standardize = false;
    let found = discover(&data, &config).unwrap();
    let acc = accuracy(&found.edge_names(), &names(&truth));
    assert!(acc.shd <= 2, "{acc:?}: {:?}", found.edge_names());
}

#[test]
fn interventions_orient_edges_that_standardised_observations_cannot() {
    // Standardised data remove the variance ordering; hard interventions
    // on some variables put it back.
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let truth = random_dag(6, 0.4, &mut rng);
    let obs = sample(6, &truth, 1500, &mut rng, false, &[]);
    let mut builder = ContextGraph::builder().context(Context::new("obs", obs));
    for v in 0..6 {
        let clamped = sample(6, &truth, 500, &mut rng, false, &[(v, 2.0)]);
        builder =
            builder.context(Context::new(format!("do-x{v}"), clamped).set(&format!("x{v}"), 2.0));
    }
    let contexts = builder.build().unwrap();
    let variables: Vec<String> = (0..6).map(|j| format!("x{j}")).collect();
    let config = DiscoverConfig::linear();
    let found = discover_contexts(&contexts, &variables, &config, &mut |_| {}).unwrap();
    let acc = accuracy(&found.edge_names(), &names(&truth));
    assert!(acc.shd <= 2, "{} true edges, {acc:?}", truth.len());
}

#[test]
fn prior_knowledge_is_respected_and_the_output_is_acyclic() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let truth = random_dag(6, 0.5, &mut rng);
    let data = sample(6, &truth, 500, &mut rng, false, &[]);
    let knowledge = Knowledge::new()
        .require("x5", "x4") // against the truth's order
        .forbid("x0", "x1")
        .tier(["x2"])
        .tier(["x0", "x3"]);
    let mut config = DiscoverConfig::linear().with_knowledge(knowledge);
    config.path.warm_iterations = 3000;
    config.path.last_iterations = 6000;
    let found = discover(&data, &config).unwrap();
    let edges = found.edge_names();
    assert!(edges.contains(&("x5", "x4")));
    assert!(!edges.contains(&("x0", "x1")));
    assert!(!edges
        .iter()
        .any(|e| *e == ("x0", "x2") || *e == ("x3", "x2")));
    found.graph().expect("acyclic");
}

#[test]
fn bootstrap_stability_is_high_for_true_edges() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    let truth = vec![(0, 1, 1.5), (1, 2, -1.2), (0, 3, 1.0)];
    let data = sample(4, &truth, 1000, &mut rng, false, &[]);
    let mut config = DiscoverConfig::linear();
    config.standardize = false;
    let share = bootstrap(Input::Data(&data), &config, 8).unwrap();
    for &(i, j, _) in &truth {
        assert!(share[[i, j]] >= 0.75, "x{i} -> x{j}: {}", share[[i, j]]);
    }
    assert!(share[[1, 3]] <= 0.25 && share[[3, 0]] <= 0.25, "{share}");
    let found = discover(&data, &config).unwrap().with_stability(share);
    assert!(found.to_dot().contains("stability="));
}

#[test]
fn interventions_orient_a_nonlinear_graph_on_standardised_data() {
    // The MLP search over contexts, on the defaults (standardised
    // columns): the observational rows alone leave directions open, a
    // hard intervention on each variable settles them.
    let mut rng = rand::rngs::StdRng::seed_from_u64(21);
    let truth = vec![(0, 1, 1.0), (1, 2, 1.5), (0, 3, -1.0), (2, 4, 1.0)];
    let obs = sample(5, &truth, 600, &mut rng, true, &[]);
    let mut builder = ContextGraph::builder().context(Context::new("obs", obs.clone()));
    for v in 0..5 {
        let clamped = sample(5, &truth, 300, &mut rng, true, &[(v, 1.5)]);
        builder =
            builder.context(Context::new(format!("do-x{v}"), clamped).set(&format!("x{v}"), 1.5));
    }
    let contexts = builder.build().unwrap();
    let variables: Vec<String> = (0..5).map(|j| format!("x{j}")).collect();
    let config = DiscoverConfig::mlp();
    let found = discover_contexts(&contexts, &variables, &config, &mut |_| {}).unwrap();
    let with_contexts = accuracy(&found.edge_names(), &names(&truth));
    let observational = accuracy(
        &discover(&obs, &config).unwrap().edge_names(),
        &names(&truth),
    );
    assert!(
        with_contexts.shd <= 1,
        "{with_contexts:?}: {:?}",
        found.edge_names()
    );
    assert!(
        with_contexts.shd < observational.shd,
        "contexts {with_contexts:?}, observational {observational:?}"
    );
}
