//! Structure learning on the Sachs et al. (2005) flow-cytometry data,
//! with and without the interventional conditions, scored against the
//! 17-edge consensus network of `data/sachs/graph.dot` (pgmpy's / the
//! bnlearn repository's encoding; see `data/sachs/SOURCE.md`).
//!
//! Runs (linear mechanisms, least squares, `ln` intensities, standardised):
//! 1. observational only: the two general-stimulation conditions;
//! 2. all rows pooled as if observational;
//! 3. the nine conditions as contexts, each reagent's target a known
//!    hard `do` (its likelihood term dropped there);
//! 4. the same with each target "shifted" (mechanism changed in an
//!    unknown way: its own intercept there), as `examples/sachs.rs`
//!    models the inhibitors.
//!
//! Run with `cargo build --examples && ./target/debug/examples/discover_sachs`.

use std::error::Error;
use std::time::Instant;

use causalgrad::context::{Context, ContextGraph, ContextIntervention};
use causalgrad::data::Dataset;
use causalgrad::discover::{accuracy, discover, discover_contexts, DiscoverConfig, Discovered};
use causalgrad::graph::CausalGraph;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sachs");

fn main() -> Result<(), Box<dyn Error>> {
    let raw = Dataset::from_csv(format!("{DIR}/cyto_full_data.csv"))?;
    let logged = Dataset::from_columns(raw.names().iter().map(|name| {
        let column = raw.column(name).expect("a listed column");
        (name.clone(), column.iter().map(|v| v.ln()).collect())
    }))?;
    let truth = CausalGraph::from_dot_file(format!("{DIR}/graph.dot"))?;
    let truth: Vec<(String, String)> = truth
        .edges()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let table = std::fs::read_to_string(format!("{DIR}/conditions.csv"))?;
    let mut conditions = Vec::new();
    for line in table.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let [name, first, last, _, _, _, target] = cells.as_slice() else {
            return Err(format!("conditions.csv: bad line `{line}`").into());
        };
        let (first, last): (usize, usize) = (first.parse()?, last.parse()?);
        let rows: Vec<usize> = (first - 1..last).collect();
        conditions.push((
            name.to_string(),
            target.to_string(),
            logged.take_rows(&rows),
        ));
    }
    let variables = logged.names().to_vec();
    let config = DiscoverConfig::linear();
    let contexts_with =
        |intervention: Option<ContextIntervention>| -> Result<ContextGraph, Box<dyn Error>> {
            let mut builder = ContextGraph::builder();
            for (name, target, data) in &conditions {
                let mut context = Context::new(name.clone(), data.clone());
                if let (Some(intervention), false) = (intervention, target.is_empty()) {
                    context = context.intervention(target, intervention);
                }
                builder = builder.context(context);
            }
            Ok(builder.build()?)
        };
    let observational: Vec<usize> = conditions
        .iter()
        .scan(0, |start, (_, target, data)| {
            let rows: Vec<usize> = (*start..*start + data.n_rows()).collect();
            *start += data.n_rows();
            Some(if target.is_empty() { rows } else { Vec::new() })
        })
        .flatten()
        .collect();
    println!("Sachs et al. (2005), 11 proteins, consensus graph: 17 edges (data/sachs/graph.dot)");
    println!("| run | rows | edges | SHD | TPR | FDR | seconds |");
    println!("|---|---|---|---|---|---|---|");
    let report = |label: &str, rows: usize, found: Discovered, seconds: f64| {
        let acc = accuracy(&found.edge_names(), &truth);
        println!(
            "| {label} | {rows} | {} | {} | {:.2} | {:.2} | {seconds:.1} |",
            acc.predicted, acc.shd, acc.tpr, acc.fdr
        );
        found
    };
    let t = Instant::now();
    let obs = logged.take_rows(&observational);
    let found_obs = discover(&obs, &config)?;
    let found_obs = report(
        "observational only (2 conditions)",
        obs.n_rows(),
        found_obs,
        t.elapsed().as_secs_f64(),
    );
    let t = Instant::now();
    let pooled = discover(&logged, &config)?;
    report(
        "all 9 conditions pooled, no contexts",
        logged.n_rows(),
        pooled,
        t.elapsed().as_secs_f64(),
    );
    let t = Instant::now();
    let graph = contexts_with(Some(ContextIntervention::Do(0.0)))?;
    let found_do = discover_contexts(&graph, &variables, &config, &mut |_| {})?;
    let found_do = report(
        "contexts, targets as do",
        logged.n_rows(),
        found_do,
        t.elapsed().as_secs_f64(),
    );
    let t = Instant::now();
    let graph = contexts_with(Some(ContextIntervention::Changed))?;
    let found_changed = discover_contexts(&graph, &variables, &config, &mut |_| {})?;
    let found_changed = report(
        "contexts, targets shifted",
        logged.n_rows(),
        found_changed,
        t.elapsed().as_secs_f64(),
    );
    for (label, found) in [
        ("observational only", &found_obs),
        ("contexts, targets as do", &found_do),
        ("contexts, targets shifted", &found_changed),
    ] {
        let edges: Vec<String> = found
            .edge_names()
            .iter()
            .map(|&(a, b)| {
                let mark = if truth.iter().any(|(x, y)| x == a && y == b) {
                    ""
                } else if truth.iter().any(|(x, y)| x == b && y == a) {
                    " (reversed)"
                } else {
                    " (absent)"
                };
                format!("{a}->{b}{mark}")
            })
            .collect();
        println!("\n{label}: {}", edges.join(", "));
    }
    Ok(())
}
