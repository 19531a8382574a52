//! The CLI's errors: each one a paragraph naming the file, the line and
//! column or the variable, and what to do. All of them exit with code 2.

use std::path::PathBuf;

use causalgrad::context::ContextError;
use causalgrad::data::DataError;
use causalgrad::fit::FitError;
use causalgrad::graph::GraphError;
use causalgrad::scm::{ModelFileError, ScmError};

/// Everything that can go wrong in a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The graph file is missing, malformed or cyclic.
    #[error("{source}\nThe graph file must be a directed acyclic graph of the model's variables: DOT (`digraph {{ a -> b; }}`), dagitty (`dag {{ a -> b }}`) or GML (`graph [ directed 1 ... ]`); fix it and run again.")]
    Graph {
        /// What the graph parser said (it names the file, line and column).
        source: GraphError,
    },
    /// A CSV file is missing or malformed.
    #[error("{source}\nFix the CSV file (a header line of variable names, then one row of numbers per observation) and run again.")]
    Data {
        /// What the CSV reader said (it names the file, row and column).
        source: DataError,
    },
    /// A CSV file lacks a column the model or graph needs.
    #[error("{data}: no column for the variable{} {} of {model}; its columns are {}.\nName the CSV columns after the variables of {model} (extra columns are ignored).", if .missing.len() > 1 { "s" } else { "" }, .missing.join(", "), .available.join(", "), data = .data.display(), model = .model.display())]
    Columns {
        /// The CSV file.
        data: PathBuf,
        /// The graph or model file whose variables are missing.
        model: PathBuf,
        /// The missing variables.
        missing: Vec<String>,
        /// The columns the CSV file has.
        available: Vec<String>,
    },
    /// A variable named on the command line or in `model.toml` is not in the model.
    #[error("{origin}: unknown variable `{variable}`; the model's variables are {}.\nUse one of these names.", .known.join(", "))]
    UnknownVariable {
        /// Where the name came from (`--do x9=1`, `model.toml:3:1`, ..).
        origin: String,
        /// The unknown name.
        variable: String,
        /// The variables there are.
        known: Vec<String>,
    },
    /// `model.toml` is malformed.
    #[error("{}:{line}:{column}: {message}\nSee `causalgrad fit --help` for the format of the model file.", .path.display())]
    Spec {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}\nCheck the path and its permissions.", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An output file could not be written.
    #[error("cannot write {}: {source}\nCheck that its directory exists and is writable; nothing was written there.", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A model file is missing, unreadable, truncated or from an
    /// incompatible version.
    #[error("{source}\nPass a model file written by `causalgrad fit` (with this version of causalgrad), or fit the model again.")]
    ModelFile {
        /// What the model-file reader said (it names the file).
        source: ModelFileError,
    },
    /// A contexts file is malformed, or its data do not fit the graph.
    #[error("{source}\nSee docs/contexts.md for the contexts file (`[[context]]` tables with `name`, `data`, `do`, `shift`, `shifted`); fix it and run again.")]
    Contexts {
        /// What the context-graph loader said (it names the file, line and column).
        source: ContextError,
    },
    /// `--context` names a context the model was not fitted over.
    #[error("{}: no context `{name}`; the model was fitted over the contexts {}.\nUse one of these names.", .model.display(), .known.join(", "))]
    UnknownContext {
        /// The model file.
        model: PathBuf,
        /// The unknown name.
        name: String,
        /// The contexts there are.
        known: Vec<String>,
    },
    /// `--context` was given for a model fitted on one data set.
    #[error("{}: --context {context}, but this model was fitted on one data set, not over a context graph, so it has no contexts.\nDrop --context, or fit the model with `causalgrad fit --contexts contexts.toml`.", .model.display())]
    NoContexts {
        /// The model file.
        model: PathBuf,
        /// The context asked for.
        context: String,
    },
    /// The fit failed (non-finite loss, bad settings).
    #[error("fitting {} failed: {source}", .data.display())]
    Fit {
        /// The training data.
        data: PathBuf,
        /// What went wrong (boxed: a fit error is large).
        source: Box<FitError>,
    },
    /// A query on the model failed.
    #[error("{source}")]
    Scm {
        /// What went wrong.
        #[from]
        source: ScmError,
    },
    /// A value on the command line that its variable does not take.
    #[error("{origin}: {source}")]
    Value {
        /// The flag (`--do c=purple`, `--a 2`).
        origin: String,
        /// What is wrong (boxed: a model error is large).
        source: Box<ScmError>,
    },
    /// The fit report beside a model is unreadable.
    #[error("{}: {message}\nRun `causalgrad fit` again to rewrite it, or delete it to plot without the loss curve.", .path.display())]
    Report {
        /// The report file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A figure could not be drawn.
    #[error("cannot draw {}: {message}", .path.display())]
    Plot {
        /// The figure's file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Structure learning failed or was given bad knowledge or settings.
    #[error("{source}\nSee `causalgrad discover --help` and docs/discover.md.")]
    Discover {
        /// What went wrong (names the variable, edge or setting).
        source: causalgrad::discover::DiscoverError,
    },
    /// Inconsistent command-line options.
    #[error("{0}")]
    Usage(String),
    /// The server could not listen on its address.
    #[error(
        "cannot serve on {addr}: {source}\nChoose another --addr (port 0 takes any free port)."
    )]
    Listen {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
}
