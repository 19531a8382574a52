//! Errors of structure learning: each names the variable, edge or setting.

/// What can go wrong in [`discover`](super::discover).
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// Prior knowledge or a setting names a variable the data do not have.
    #[error("{origin}: unknown variable `{variable}`; the variables are {}", .known.join(", "))]
    UnknownVariable {
        /// Where the name came from (`required edge a -> b`, `tier 2`, ..).
        origin: String,
        /// The unknown name.
        variable: String,
        /// The variables there are.
        known: Vec<String>,
    },
    /// An edge given as text is not `a -> b`.
    #[error("`{text}` is not an edge; write it as `from -> to`, e.g. `x1 -> x2`")]
    BadEdge {
        /// The text given.
        text: String,
    },
    /// An edge from a variable to itself.
    #[error("{origin}: `{variable} -> {variable}` is a self-loop; a causal graph has none")]
    SelfLoop {
        /// Where the edge came from.
        origin: String,
        /// The variable.
        variable: String,
    },
    /// An edge is both required and forbidden (directly or by the tiers).
    #[error("the edge `{from} -> {to}` is required but {why}")]
    Contradiction {
        /// The edge's parent.
        from: String,
        /// The edge's child.
        to: String,
        /// What forbids it (`forbidden`, `forbidden by the tiers: ...`).
        why: String,
    },
    /// The required edges alone form a cycle.
    #[error("the required edges form a cycle: {}", .cycle.join(" -> "))]
    RequiredCycle {
        /// The variables on the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// A variable appears in two tiers.
    #[error("`{variable}` is in tier {first} and in tier {second}; put each variable in one tier")]
    TierTwice {
        /// The variable.
        variable: String,
        /// Its first tier (1-based).
        first: usize,
        /// Its second tier (1-based).
        second: usize,
    },
    /// Too few rows, or too few variables, to learn a graph.
    #[error("{what}")]
    Data {
        /// What is wrong (names the context or column).
        what: String,
    },
    /// A setting out of its range.
    #[error("setting `{setting}`: {why}")]
    Config {
        /// The setting's name.
        setting: &'static str,
        /// What is wrong with its value.
        why: String,
    },
    /// The optimisation produced a non-finite objective.
    #[error("the objective became non-finite at stage {stage}, iteration {iteration}; standardise the data (the default) or lower the learning rate")]
    NonFinite {
        /// The central-path stage (1-based).
        stage: usize,
        /// The iteration within it (1-based).
        iteration: usize,
    },
}
