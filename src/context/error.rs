//! The errors of building, loading and querying context graphs.

use std::path::PathBuf;

use crate::data::DataError;
use crate::scm::ScmError;

/// An invalid context graph, a context file that cannot be used, or a query
/// naming something the fitted contexts do not have.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// Two contexts have the same name.
    #[error("the context `{name}` is declared twice; context names must be unique")]
    DuplicateContext {
        /// The repeated name.
        name: String,
    },
    /// A context's data set has no rows.
    #[error(
        "the context `{context}` has no data (0 rows); give it a data set with at least one row"
    )]
    EmptyContext {
        /// The context.
        context: String,
    },
    /// A tie, a query or a time step names a context that is not declared.
    #[error("unknown context `{name}`; the contexts are: {}", .known.join(", "))]
    UnknownContext {
        /// The unknown name.
        name: String,
        /// The declared contexts.
        known: Vec<String>,
    },
    /// A tie joins a context to itself or has a strength that is negative or
    /// not finite.
    #[error("the tie between `{a}` and `{b}` is invalid: {reason}")]
    BadTie {
        /// The first context.
        a: String,
        /// The second context.
        b: String,
        /// What is wrong.
        reason: String,
    },
    /// A context's data set has a column that is not a variable of the
    /// causal graph.
    #[error("the data of context `{context}` have a column `{variable}` that is not a variable of the causal graph; the variables are: {}", .known.join(", "))]
    UnknownDataVariable {
        /// The context.
        context: String,
        /// The column.
        variable: String,
        /// The graph's variables.
        known: Vec<String>,
    },
    /// A context intervenes on a variable the causal graph does not have.
    #[error("the context `{context}` intervenes on `{variable}`, which is not a variable of the causal graph; the variables are: {}", .known.join(", "))]
    UnknownInterventionVariable {
        /// The context.
        context: String,
        /// The variable.
        variable: String,
        /// The graph's variables.
        known: Vec<String>,
    },
    /// A context intervenes twice on one variable.
    #[error("the context `{context}` intervenes on `{variable}` twice; give each variable one intervention per context")]
    DuplicateIntervention {
        /// The context.
        context: String,
        /// The variable.
        variable: String,
    },
    /// An intervention value that is not finite.
    #[error(
        "the context `{context}` sets `{variable}` with the value {value}, which is not finite"
    )]
    BadInterventionValue {
        /// The context.
        context: String,
        /// The variable.
        variable: String,
        /// The value.
        value: f64,
    },
    /// A context's data lack a variable the model needs there.
    #[error("the data of context `{context}` have no column `{variable}`, and it is not a lagged value that an earlier time step provides; the columns are: {}", .available.join(", "))]
    MissingVariable {
        /// The context.
        context: String,
        /// The variable.
        variable: String,
        /// The data's columns.
        available: Vec<String>,
    },
    /// Time steps named twice.
    #[error("the time step `{name}` is declared twice")]
    DuplicateTimeStep {
        /// The repeated name.
        name: String,
    },
    /// A `next` edge or a context names a time step that is not declared.
    #[error("unknown time step `{name}`{}", .context.as_deref().map_or_else(String::new, |c| format!(" (context `{c}`)")))]
    UnknownTimeStep {
        /// The unknown step.
        name: String,
        /// The context that names it, if one does.
        context: Option<String>,
    },
    /// The `next` edges between time steps form a cycle.
    #[error("the time steps form a cycle: {} -> {}; time must run forward", .cycle.join(" -> "), .cycle[0])]
    TimeCycle {
        /// The steps on the cycle, each followed by the next.
        cycle: Vec<String>,
    },
    /// A time step with two successors or two predecessors.
    #[error("the time step `{step}` has two {which} (`{first}` and `{second}`); time steps form one chain")]
    TimeBranch {
        /// The step.
        step: String,
        /// `"successors"` or `"predecessors"`.
        which: &'static str,
        /// One neighbour.
        first: String,
        /// The other.
        second: String,
    },
    /// A lagged variable (`x[t-1]`) that has parents in the causal graph or
    /// names no variable of it.
    #[error("the lagged variable `{variable}` {reason}")]
    BadLagVariable {
        /// The lagged variable.
        variable: String,
        /// What is wrong.
        reason: String,
    },
    /// Lagged values for a context are ambiguous or do not line up.
    #[error("context `{context}`: {reason}")]
    BadLag {
        /// The context.
        context: String,
        /// What is wrong.
        reason: String,
    },
    /// Two contexts combined for a prediction intervene differently on one
    /// variable.
    #[error("the contexts `{first}` and `{second}` both intervene on `{variable}`, differently; they cannot be combined")]
    ConflictingInterventions {
        /// The variable.
        variable: String,
        /// One context.
        first: String,
        /// The other.
        second: String,
    },
    /// A context file could not be read.
    #[error("cannot read the context file {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A context file is not valid TOML or does not have the expected keys.
    #[error("{}:{line}:{column}: {message}", .file.display())]
    Toml {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// An entry of a context file is invalid (the wrapped error says how).
    #[error("{}:{line}:{column}: {source}", .file.display())]
    InFile {
        /// The file.
        file: PathBuf,
        /// 1-based line of the entry.
        line: usize,
        /// 1-based column of the entry.
        column: usize,
        /// The error.
        source: Box<ContextError>,
    },
    /// A data file named by a context could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A model error while applying a context (e.g. a parameter count).
    #[error(transparent)]
    Scm(#[from] ScmError),
}
