//! `causalgrad`: the command-line tool of the causalgrad library.
//!
//! `fit` a structural causal model to CSV data on a DOT graph, then
//! `sample` from it, estimate an `effect`, compute `counterfactual`s,
//! `plot` it, or check a `graph`. `causalgrad --help` and
//! `causalgrad <command> --help` show the options with examples;
//! `docs/cli.md` documents every command and its JSON output.

mod commands;
mod error;
mod inputs;
mod model_file;
mod output;
mod plot;
mod progress;
mod spec;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    match commands::run(cli.command) {
        Ok(output) => {
            output.print(cli.json);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
