//! `causalgrad graph`: check a DOT graph and describe it.

use std::fmt::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::error::CliError;
use crate::inputs;
use crate::output::Output;

/// Check a causal graph: it must parse and be acyclic. Prints the
/// topological order, the roots and each variable's parents.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  causalgrad graph --graph data/scm5/graph.dot
  causalgrad graph --graph data/scm5/graph.dot --json

A malformed file or a cycle is an error naming the line and column or the
variables on the cycle (exit code 2).")]
pub struct GraphArgs {
    /// The graph file: DOT (`digraph { x1 -> x2; }`), dagitty or GML.
    #[arg(long, value_name = "FILE")]
    pub graph: PathBuf,
}

/// Runs `graph`.
pub fn run(args: GraphArgs) -> Result<Output, CliError> {
    let graph = inputs::graph(&args.graph)?;
    let order = graph.topological_order();
    let mut parents = serde_json::Map::new();
    let mut text = format!(
        "{}: {} variables, {} edges, acyclic\n",
        args.graph.display(),
        graph.len(),
        graph.edges().count()
    );
    writeln!(text, "topological order: {}", order.join(", ")).expect("to a string");
    writeln!(text, "roots: {}", graph.roots().join(", ")).expect("to a string");
    for name in order {
        let of = graph
            .parents(name)
            .map_err(|source| CliError::Graph { source })?;
        if !of.is_empty() {
            writeln!(text, "  {name} <- {}", of.join(", ")).expect("to a string");
        }
        parents.insert(name.clone(), json!(of));
    }
    let json = json!({
        "graph": args.graph,
        "variables": graph.len(),
        "edges": graph.edges().count(),
        "order": order,
        "roots": graph.roots(),
        "parents": parents,
    });
    Ok(Output { text, json })
}
