//! The subcommands, one module each, and the command line they share.

mod counterfactual;
mod discover;
mod effect;
mod fit;
mod graph;
mod plot;
mod sample;
mod serve;

use clap::{Parser, Subcommand};

use crate::error::CliError;
use crate::output::Output;

/// Fit structural causal models to CSV data and ask them causal questions.
#[derive(Debug, Parser)]
#[command(
    name = "causalgrad",
    version,
    after_help = "Examples (on the bundled data):
  causalgrad graph --graph data/scm5/graph.dot
  causalgrad discover --data data/scm5/train_10k.csv --out learned.dot
  causalgrad fit --data data/scm5/train_10k.csv --graph data/scm5/graph.dot --out model.cg
  causalgrad effect --model model.cg --treatment x2 --outcome x5 --a -1 --b 1
  causalgrad sample --model model.cg -n 10000 --do x2=1.0 --out samples.csv
  causalgrad counterfactual --model model.cg --rows data/scm5/test_10k.csv --do x2=1.0 --out cf.csv
  causalgrad plot --model model.cg --data data/scm5/test_10k.csv --do x2=1 --out report/
  causalgrad serve --model model.cg --addr 127.0.0.1:8080

Every command takes --json to print its result as one JSON object.
Bad input exits with code 2 and a message naming the file, line or variable."
)]
pub struct Cli {
    /// Print the result as one JSON object on stdout (fields in docs/cli.md).
    #[arg(long, global = true)]
    pub json: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// A subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit a model to CSV data on a causal graph and save it.
    Fit(fit::FitArgs),
    /// Draw samples from a fitted model, optionally under interventions.
    Sample(sample::SampleArgs),
    /// The average causal effect of one variable on another.
    Effect(effect::EffectArgs),
    /// Counterfactual values of observed rows under interventions.
    Counterfactual(counterfactual::CounterfactualArgs),
    /// SVG figures of a fitted model: loss curves, fit, graph, interventions.
    Plot(plot::PlotArgs),
    /// Check a causal graph and print its order, roots and parents.
    Graph(graph::GraphArgs),
    /// Learn a causal graph from data (gradient-based structure learning).
    Discover(discover::DiscoverArgs),
    /// Serve a fitted model over HTTP (effects, samples, counterfactuals).
    Serve(serve::ServeArgs),
}

/// Runs the command.
pub fn run(command: Command) -> Result<Output, CliError> {
    match command {
        Command::Fit(args) => fit::run(args),
        Command::Sample(args) => sample::run(args),
        Command::Effect(args) => effect::run(args),
        Command::Counterfactual(args) => counterfactual::run(args),
        Command::Plot(args) => plot::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Discover(args) => discover::run(args),
        Command::Serve(args) => serve::run(args),
    }
}
