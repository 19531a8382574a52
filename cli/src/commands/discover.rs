//! `causalgrad discover`: learn a causal graph from data.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use causalgrad::context::ContextGraph;
use causalgrad::data::{DataError, Dataset};
use causalgrad::discover::{
    bootstrap, discover_contexts, discover_with_progress, CentralPath, DiscoverConfig,
    DiscoverError, Input, Knowledge, Score,
};
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::error::CliError;
use crate::output::{write_atomically, write_json, Output};
use crate::progress::Progress;

/// Learn a causal graph (a DAG) from CSV data by gradient-based structure
/// learning (DAGMA's log-det acyclicity), optionally over interventional
/// contexts, and write it as DOT for `causalgrad fit`.
#[derive(Debug, Args)]
#[command(after_help = r#"Examples:
  causalgrad discover --data data.csv --out graph.dot
  causalgrad discover --data data.csv --method mlp --out graph.dot --weights graph.json
  causalgrad discover --contexts contexts.toml --out graph.dot --bootstrap 20
  causalgrad discover --data data.csv --require 'age->income' --forbid 'income->age' \
      --tier age,sex --tier income --out graph.dot
  causalgrad fit --data data.csv --graph graph.dot --out model.cg

Every column is a variable. Columns are standardised first unless --raw:
the penalty and the threshold are in the data's units. With --contexts
(docs/contexts.md), a context's `do` targets drop out of their own
likelihood term there and its `shifted` variables get their own
intercept and noise there; the interventions are what orient edges that
observational data leave open. The DOT file has every variable and each
learned edge with `weight` (and `stability` with --bootstrap) attributes;
--weights writes the same as JSON. See docs/discover.md."#)]
pub struct DiscoverArgs {
    /// The data: a CSV file, one column per variable.
    #[arg(
        long,
        value_name = "CSV",
        required_unless_present = "contexts",
        conflicts_with = "contexts"
    )]
    pub data: Option<PathBuf>,
    /// A context graph (TOML) of data sets with their interventions.
    #[arg(long, value_name = "TOML")]
    pub contexts: Option<PathBuf>,
    /// Where to write the learned graph (DOT).
    #[arg(long, value_name = "DOT")]
    pub out: PathBuf,
    /// Also write the edges, weights, stabilities and the continuous
    /// weight matrix as JSON here.
    #[arg(long, value_name = "JSON")]
    pub weights: Option<PathBuf>,
    /// The mechanism family.
    #[arg(long, value_enum, default_value_t = MethodArg::Linear)]
    pub method: MethodArg,
    /// The data-fit term.
    #[arg(long, value_enum, default_value_t = ScoreArg::LeastSquares)]
    pub score: ScoreArg,
    /// Hidden units per variable for --method mlp.
    #[arg(long, default_value_t = 10)]
    pub hidden: usize,
    /// L1 penalty (default 0.03 linear, 0.02 mlp).
    #[arg(long)]
    pub lambda1: Option<f64>,
    /// Edges weaker than this are dropped.
    #[arg(long, default_value_t = 0.3)]
    pub threshold: f64,
    /// The optimiser of each central-path stage; quasi-newton (linear
    /// only) takes several times fewer iterations, at some cost in
    /// accuracy on raw data with many variables.
    #[arg(long, value_enum, default_value_t = SolverArg::Adam)]
    pub solver: SolverArg,
    /// Adam's learning rate on the central path (default 3e-4 linear,
    /// 2e-3 mlp); with --solver adam.
    #[arg(long)]
    pub lr: Option<f64>,
    /// An edge that must be in the graph, `a->b` (repeatable).
    #[arg(long, value_name = "EDGE")]
    pub require: Vec<String>,
    /// An edge that must not be in the graph, `a->b` (repeatable).
    #[arg(long, value_name = "EDGE")]
    pub forbid: Vec<String>,
    /// A tier of comma-separated variables (repeatable, earliest first):
    /// no edge from a later tier into an earlier one.
    #[arg(long, value_name = "VARS")]
    pub tier: Vec<String>,
    /// Edge stability from this many bootstrap resamples.
    #[arg(long, value_name = "K")]
    pub bootstrap: Option<usize>,
    /// Keep the data's own units (no standardisation).
    #[arg(long)]
    pub raw: bool,
    /// Seed of the MLP's initial weights and of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Log lines instead of a progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// `--method`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MethodArg {
    /// Linear mechanisms.
    Linear,
    /// One-hidden-layer perceptrons (DAGMA-MLP).
    Mlp,
}

/// `--solver`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SolverArg {
    /// Adam, DAGMA's solver and iteration budget.
    Adam,
    /// Projected L-BFGS on the split W = W⁺ − W⁻ (linear only).
    QuasiNewton,
}

/// `--score`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ScoreArg {
    /// Least squares.
    LeastSquares,
    /// Gaussian likelihood, one noise variance per variable.
    Likelihood,
}

/// Parses `a->b` (spaces allowed).
fn edge(text: &str) -> Result<(String, String), CliError> {
    let bad = || CliError::Discover {
        source: DiscoverError::BadEdge {
            text: text.to_string(),
        },
    };
    let (from, to) = text.split_once("->").ok_or_else(bad)?;
    let (from, to) = (from.trim(), to.trim());
    if from.is_empty() || to.is_empty() {
        return Err(bad());
    }
    Ok((from.to_string(), to.to_string()))
}

fn config(args: &DiscoverArgs) -> Result<DiscoverConfig, CliError> {
    let mut config = match args.method {
        MethodArg::Linear => DiscoverConfig::linear(),
        MethodArg::Mlp => DiscoverConfig::mlp(),
    };
    if let MethodArg::Mlp = args.method {
        config.method = causalgrad::discover::Method::Mlp {
            hidden: args.hidden,
        };
    }
    config.score = match args.score {
        ScoreArg::LeastSquares => Score::LeastSquares,
        ScoreArg::Likelihood => Score::GaussianLikelihood,
    };
    if let Some(lambda1) = args.lambda1 {
        config.lambda1 = lambda1;
    }
    config.threshold = args.threshold;
    match (args.solver, args.method) {
        (SolverArg::QuasiNewton, MethodArg::Linear) => {
            config.path = CentralPath::linear_quasi_newton();
        }
        (SolverArg::QuasiNewton, MethodArg::Mlp) => {
            return Err(CliError::Usage(
                "--solver quasi-newton is for --method linear; the MLP family uses adam"
                    .to_string(),
            ))
        }
        _ => {}
    }
    if let Some(lr) = args.lr {
        config.path.learning_rate = lr;
    }
    config.standardize = !args.raw;
    config.seed = args.seed;
    let mut knowledge = Knowledge::new();
    for text in &args.require {
        let (from, to) = edge(text)?;
        knowledge = knowledge.require(from, to);
    }
    for text in &args.forbid {
        let (from, to) = edge(text)?;
        knowledge = knowledge.forbid(from, to);
    }
    for tier in &args.tier {
        knowledge = knowledge.tier(tier.split(',').map(str::trim).filter(|v| !v.is_empty()));
    }
    config.knowledge = knowledge;
    Ok(config)
}

/// Runs `discover`.
pub fn run(args: DiscoverArgs) -> Result<Output, CliError> {
    let config = config(&args)?;
    let discover_error = |source| CliError::Discover { source };
    let started = Instant::now();
    let progress = Progress::new(config.path.max_iterations(), 0, args.quiet);
    let mut report = |p: causalgrad::discover::PathProgress| {
        progress.step(p.iteration, p.score, None);
    };
    let (found, input_name) = match (&args.data, &args.contexts) {
        (Some(path), _) => {
            let data = Dataset::from_csv(path).map_err(|error| match error {
                DataError::Io { path, source } => CliError::Read { path, source },
                source => CliError::Data { source },
            })?;
            let found =
                discover_with_progress(&data, &config, &mut report).map_err(discover_error)?;
            progress.finish();
            let found = match args.bootstrap {
                Some(k) => {
                    eprintln!("bootstrap: {k} resamples");
                    found.with_stability(
                        bootstrap(Input::Data(&data), &config, k).map_err(discover_error)?,
                    )
                }
                None => found,
            };
            (found, path.display().to_string())
        }
        (None, Some(path)) => {
            let contexts = ContextGraph::from_toml_file(path)
                .map_err(|source| CliError::Contexts { source })?;
            let variables: Vec<String> = contexts
                .contexts()
                .next()
                .map(|c| c.data.names().to_vec())
                .unwrap_or_default();
            let found = discover_contexts(&contexts, &variables, &config, &mut report)
                .map_err(discover_error)?;
            progress.finish();
            let found = match args.bootstrap {
                Some(k) => {
                    eprintln!("bootstrap: {k} resamples");
                    found.with_stability(
                        bootstrap(Input::Contexts(&contexts, &variables), &config, k)
                            .map_err(discover_error)?,
                    )
                }
                None => found,
            };
            (found, path.display().to_string())
        }
        (None, None) => return Err(CliError::Usage("give --data or --contexts".to_string())),
    };
    let seconds = started.elapsed().as_secs_f64();
    let dot = found.to_dot();
    write_atomically(&args.out, |out| out.write_all(dot.as_bytes()))?;
    let weights: Vec<Vec<f64>> = found
        .weights
        .rows()
        .into_iter()
        .map(|r| r.to_vec())
        .collect();
    let json = json!({
        "input": input_name,
        "out": args.out,
        "variables": found.variables,
        "edges": found.edges,
        "weights": weights,
        "stability": found.stability.as_ref().map(|s| s.rows().into_iter().map(|r| r.to_vec()).collect::<Vec<_>>()),
        "stages": found.stages.iter().map(|s| json!({"mu": s.mu, "s": s.s, "iterations": s.iterations, "score": s.score, "h": s.h})).collect::<Vec<_>>(),
        "seconds": seconds,
    });
    if let Some(path) = &args.weights {
        write_json(path, &json)?;
    }
    let mut text = format!(
        "{input_name}: {} variables, {} edges learned in {seconds:.1}s, written to {}\n",
        found.variables.len(),
        found.edges.len(),
        args.out.display()
    );
    for e in &found.edges {
        let stability = e
            .stability
            .map(|s| format!("  stability {s:.2}"))
            .unwrap_or_default();
        writeln!(
            text,
            "  {} -> {}  weight {:+.3}{stability}",
            e.from, e.to, e.weight
        )
        .expect("to a string");
    }
    Ok(Output { text, json })
}
