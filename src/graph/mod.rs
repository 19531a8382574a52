//! Causal graphs: directed acyclic graphs of named variables.
//!
//! A [`CausalGraph`] is built from an edge list ([`CausalGraph::new`]) or
//! read from a file in one of the text formats causal tools write:
//! [`CausalGraph::from_file`] tells them apart by their content (never by
//! the file's extension), [`CausalGraph::from_dot_str`] and
//! [`CausalGraph::from_gml_str`] read text of a known kind.
//!
//! | format | written by | starts with |
//! |---|---|---|
//! | DOT | Graphviz, networkx (`nx.nx_pydot.write_dot`), pydot, DoWhy (`dot_graph`), pgmpy via pygraphviz | `digraph`, `strict digraph` |
//! | dagitty (DOT-like) | dagitty.net, the dagitty R package, ggdag, pgmpy (`DAG.to_dagitty()`) | `dag`, `pdag` |
//! | GML | networkx (`nx.write_gml`), DoWhy (`gml_graph`) | `graph [` (after `Creator`/`Version` lines, if any) |
//!
//! GML is read as described in [`CausalGraph::from_gml_str`]. DOT and
//! dagitty are read with names quoted or not (numerals too), attribute lists
//! (ignored, also over several lines), `graph`/`node`/`edge` defaults,
//! `rankdir=LR`-style graph attributes, subgraphs and `{ a b } -> c`
//! groups (an edge to or from a group joins each member), comments, with or
//! without `;`, with CRLF line ends and a byte-order mark. **A variable is
//! named by its ID**: `v0 [label="treatment"]` is the variable `v0`, whose
//! CSV column must be `v0`. What a causal graph cannot be is a located
//! error: an undirected `graph {}` or edge `a -- b`, dagitty's bidirected
//! `a <-> b` (a latent confounder) or `[latent]` variable, an HTML-like
//! `<..>` ID, a cycle; so is a repeated edge, except in a `strict digraph`
//! and in dagitty, which merge it.
//!
//! It is a plain petgraph `DiGraph` underneath; the topological order is
//! computed once and cached.
//!
//! ```
//! use causalgrad::graph::CausalGraph;
//!
//! let graph = CausalGraph::from_dot_str("digraph { x1 -> x2; x1 -> x3; x2 -> x3 }")?;
//! assert_eq!(graph.topological_order(), ["x1", "x2", "x3"]);
//! assert_eq!(graph.parents("x3")?, ["x1", "x2"]);
//! assert!(CausalGraph::from_dot_str("digraph { a -> b -> a }").is_err());
//! # Ok::<(), causalgrad::graph::GraphError>(())
//! ```

mod dot;
mod gml;
mod lex;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

/// Errors building or querying a causal graph.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The edges form a cycle; the variables on it are listed in order.
    #[error("the causal graph has a cycle: {} -> {}; a causal graph must be acyclic, remove one of these edges", .cycle.join(" -> "), .cycle[0])]
    Cycle {
        /// The variables on the cycle, each a parent of the next.
        cycle: Vec<String>,
    },
    /// A variable is declared twice.
    #[error("the variable `{name}` is declared twice; variable names must be unique")]
    DuplicateVariable {
        /// The repeated name.
        name: String,
    },
    /// An edge or a query names a variable the graph does not have.
    #[error("unknown variable `{name}`; the graph's variables are: {}", .known.join(", "))]
    UnknownVariable {
        /// The unknown name.
        name: String,
        /// The graph's variables.
        known: Vec<String>,
    },
    /// The same edge is given twice.
    #[error("the edge `{from} -> {to}` is given twice")]
    DuplicateEdge {
        /// The parent.
        from: String,
        /// The child.
        to: String,
    },
    /// An undirected edge (`a -- b`): every edge of a causal graph has a
    /// direction.
    #[error("the edge `{from} -- {to}` is undirected; a causal graph must be directed: write `{from} -> {to}` or `{to} -> {from}`")]
    UndirectedEdge {
        /// The variable (or `{group}`) before `--`.
        from: String,
        /// The variable (or `{group}`) after `--`.
        to: String,
    },
    /// A bidirected edge (dagitty's `a <-> b`): an unobserved common cause.
    #[error("the edge `{from} <-> {to}` is bidirected: it stands for an unobserved common cause of both, and causalgrad fits models whose variables are all observed; add the common cause as a variable with data (`u -> {from}; u -> {to}`) or remove the edge")]
    BidirectedEdge {
        /// The variable (or `{group}`) before `<->`.
        from: String,
        /// The variable (or `{group}`) after `<->`.
        to: String,
    },
    /// A variable marked unobserved (dagitty's `x [latent]`).
    #[error("the variable `{name}` is marked `latent`: causalgrad fits models whose variables are all observed; remove `{name}` from the graph, or give it a column of data and drop `latent`")]
    LatentVariable {
        /// The variable.
        name: String,
    },
    /// A DOT file could not be parsed.
    #[error("{}:{line}:{column}: {message}", .file.as_deref().map_or_else(|| "<dot>".to_string(), |f| f.display().to_string()))]
    Parse {
        /// The file, if the text came from one.
        file: Option<PathBuf>,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was wrong and what was expected.
        message: String,
    },
    /// An error about the graph a file describes (a cycle, an undirected or
    /// bidirected edge, a latent variable), at the line and column of the
    /// edge or attribute that caused it.
    #[error("{}:{line}:{column}: {error}", .file.as_deref().map_or_else(|| "<dot>".to_string(), |f| f.display().to_string()))]
    Located {
        /// The file, if the text came from one.
        file: Option<PathBuf>,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The error.
        #[source]
        error: Box<GraphError>,
    },
    /// A DOT file could not be read.
    #[error("cannot read the graph file {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A directed acyclic graph of named variables.
#[derive(Clone, Debug)]
pub struct CausalGraph {
    graph: DiGraph<String, ()>,
    index: HashMap<String, NodeIndex>,
    /// Variable names in topological order (parents before children).
    order: Vec<String>,
}

impl CausalGraph {
    /// Builds a graph from its variables and its edges `(parent, child)`.
    ///
    /// Variables that only appear in edges are added in order of first
    /// appearance after the listed ones. Returns [`GraphError::Cycle`] for a
    /// cycle (naming its variables), and typed errors for duplicate
    /// variables or edges.
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    ///
    /// let graph = CausalGraph::new(["x1", "x2"], [("x1", "x2")])?;
    /// assert_eq!(graph.roots(), ["x1"]);
    /// # Ok::<(), causalgrad::graph::GraphError>(())
    /// ```
    pub fn new<V, E, S, T>(variables: V, edges: E) -> Result<Self, GraphError>
    where
        V: IntoIterator<Item = S>,
        S: AsRef<str>,
        E: IntoIterator<Item = (T, T)>,
        T: AsRef<str>,
    {
        let mut graph = DiGraph::new();
        let mut index = HashMap::new();
        for name in variables {
            let name = name.as_ref();
            if index.contains_key(name) {
                return Err(GraphError::DuplicateVariable {
                    name: name.to_string(),
                });
            }
            index.insert(name.to_string(), graph.add_node(name.to_string()));
        }
        for (from, to) in edges {
            let mut node = |name: &str| {
                *index
                    .entry(name.to_string())
                    .or_insert_with(|| graph.add_node(name.to_string()))
            };
            let (a, b) = (node(from.as_ref()), node(to.as_ref()));
            if graph.find_edge(a, b).is_some() {
                return Err(GraphError::DuplicateEdge {
                    from: from.as_ref().to_string(),
                    to: to.as_ref().to_string(),
                });
            }
            graph.add_edge(a, b, ());
        }
        let order = topological_order(&graph)?;
        Ok(CausalGraph {
            graph,
            index,
            order,
        })
    }

    /// Parses DOT (`digraph { .. }`) or dagitty (`dag { .. }`) text, told
    /// apart by the leading keyword (see the [module docs](self)).
    ///
    /// Node statements (`a;`, `a [label="A"];`), edge chains (`a -> b -> c;`,
    /// dagitty's `a -> b <- c`), groups (`{a b} -> c`), subgraphs, quoted
    /// names (`"p44/42"`, with `\"` and `\\` escapes), `//`, `/* */` and `#`
    /// comments are read; attributes and graph/node/edge default statements
    /// are ignored, and the variable is the ID, not its `label`. A repeated
    /// edge is an error, merged in a `strict digraph` and in dagitty. Every
    /// error names a line and a column: syntax errors are
    /// [`GraphError::Parse`]; an undirected or bidirected edge, a latent
    /// variable or a cycle is [`GraphError::Located`] at the edge or
    /// attribute that caused it. No input makes the parser panic
    /// (`tests/fuzz_parsers.rs`).
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    ///
    /// // DoWhy's `dot_graph`, and the same graph as dagitty writes it.
    /// let dowhy = CausalGraph::from_dot_str("digraph {v0->y;W0-> v0; W0-> y;}")?;
    /// let dagitty = CausalGraph::from_dot_str("dag {\n v0 [exposure]\n W0 -> v0 -> y <- W0\n}")?;
    /// assert_eq!(dowhy.parents("y")?, ["v0", "W0"]);
    /// assert_eq!(dagitty.parents("y")?, ["v0", "W0"]);
    /// let err = CausalGraph::from_dot_str("dag { x -> y; x <-> y }").unwrap_err();
    /// assert!(err.to_string().starts_with("<dot>:1:17: the edge `x <-> y` is bidirected"));
    /// # Ok::<(), causalgrad::graph::GraphError>(())
    /// ```
    pub fn from_dot_str(text: &str) -> Result<Self, GraphError> {
        dot::parse(text, None)
    }

    /// Reads a DOT or dagitty file, whatever its extension (see
    /// [`CausalGraph::from_dot_str`]); bytes that are not UTF-8 are a
    /// [`GraphError::Parse`] at their line and column.
    pub fn from_dot_file(path: impl AsRef<Path>) -> Result<Self, GraphError> {
        let path = path.as_ref();
        dot::parse(&read_text(path)?, Some(path))
    }

    /// Parses GML, as networkx's `write_gml` and DoWhy's `gml_graph` write
    /// it: the `graph [ .. ]` list must say `directed 1`; each
    /// `node [ id .. label .. ]` is a variable named by its `label` (by its
    /// `id` when it has none, as networkx's `read_gml` names nodes), each
    /// `edge [ source .. target .. ]` an edge between node ids; other keys
    /// are ignored. Errors are located like DOT's.
    ///
    /// ```
    /// use causalgrad::graph::CausalGraph;
    ///
    /// // DoWhy's `gml_graph`, with its `directed 1node[` run together.
    /// let text = r#"graph[directed 1node[ id "y" label "y"]node[ id "v0" label "v0"]edge[source "v0" target "y"]]"#;
    /// assert_eq!(CausalGraph::from_gml_str(text)?.parents("y")?, ["v0"]);
    /// # Ok::<(), causalgrad::graph::GraphError>(())
    /// ```
    pub fn from_gml_str(text: &str) -> Result<Self, GraphError> {
        gml::parse(text, None)
    }

    /// Reads a graph file in any of the formats of the [module docs](self),
    /// told apart by the content: GML when the first key, after `#`
    /// comment lines, is followed by `[` (`graph [`) or is `Creator` or
    /// `Version`; DOT or dagitty otherwise. This is what the command line's
    /// `--graph` reads.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, GraphError> {
        let path = path.as_ref();
        let text = read_text(path)?;
        if looks_like_gml(&text) {
            gml::parse(&text, Some(path))
        } else {
            dot::parse(&text, Some(path))
        }
    }

    /// The graph in DOT, variables in declaration order.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph {\n");
        for node in self.graph.node_indices() {
            out.push_str(&format!("  {};\n", dot::quote(&self.graph[node])));
        }
        for edge in self.graph.edge_indices() {
            let (a, b) = self.graph.edge_endpoints(edge).expect("edge exists");
            out.push_str(&format!(
                "  {} -> {};\n",
                dot::quote(&self.graph[a]),
                dot::quote(&self.graph[b])
            ));
        }
        out.push_str("}\n");
        out
    }

    /// The number of variables.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// Whether the graph has no variables.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// Variable names in declaration order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.graph
            .node_indices()
            .map(|node| self.graph[node].as_str())
    }

    /// Whether the graph has a variable of this name.
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Variable names with every parent before its children.
    pub fn topological_order(&self) -> &[String] {
        &self.order
    }

    /// The variables without parents, in declaration order.
    pub fn roots(&self) -> Vec<&str> {
        self.graph
            .node_indices()
            .filter(|node| {
                self.graph
                    .neighbors_directed(*node, Direction::Incoming)
                    .next()
                    .is_none()
            })
            .map(|node| self.graph[node].as_str())
            .collect()
    }

    /// The parents of `name`, in declaration order.
    pub fn parents(&self, name: &str) -> Result<Vec<&str>, GraphError> {
        self.neighbours(name, Direction::Incoming)
    }

    /// The children of `name`, in declaration order.
    pub fn children(&self, name: &str) -> Result<Vec<&str>, GraphError> {
        self.neighbours(name, Direction::Outgoing)
    }

    /// The edges `(parent, child)`, in the order they were given.
    pub fn edges(&self) -> impl Iterator<Item = (&str, &str)> {
        self.graph.edge_indices().map(|edge| {
            let (a, b) = self.graph.edge_endpoints(edge).expect("edge exists");
            (self.graph[a].as_str(), self.graph[b].as_str())
        })
    }

    /// The node of a variable, or [`GraphError::UnknownVariable`].
    fn node(&self, name: &str) -> Result<NodeIndex, GraphError> {
        self.index
            .get(name)
            .copied()
            .ok_or_else(|| GraphError::UnknownVariable {
                name: name.to_string(),
                known: self.variables().map(str::to_string).collect(),
            })
    }

    /// The unknown-variable error for `name`, listing the known ones.
    pub fn unknown(&self, name: &str) -> GraphError {
        GraphError::UnknownVariable {
            name: name.to_string(),
            known: self.variables().map(str::to_string).collect(),
        }
    }

    /// The position of `name` in declaration order.
    pub fn position(&self, name: &str) -> Result<usize, GraphError> {
        self.node(name).map(NodeIndex::index)
    }

    fn neighbours(&self, name: &str, direction: Direction) -> Result<Vec<&str>, GraphError> {
        let node = self.node(name)?;
        let mut found: Vec<NodeIndex> = self.graph.neighbors_directed(node, direction).collect();
        found.sort();
        Ok(found.into_iter().map(|n| self.graph[n].as_str()).collect())
    }
}

/// The text of a graph file; bytes that are not UTF-8 are a located error.
fn read_text(path: &Path) -> Result<String, GraphError> {
    let bytes = std::fs::read(path).map_err(|source| GraphError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes)
        .map_err(|error| lex::not_utf8(error.as_bytes(), &error.utf8_error(), path))
}

/// Whether `text` is GML: its first word (after a byte-order mark, blanks
/// and `#` comment lines) is followed by `[`, or is `Creator` or `Version`.
fn looks_like_gml(text: &str) -> bool {
    let mut rest = text.strip_prefix('\u{feff}').unwrap_or(text).trim_start();
    while rest.starts_with('#') {
        rest = rest
            .split_once('\n')
            .map_or("", |(_, after)| after)
            .trim_start();
    }
    let word_end = rest
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(rest.len());
    let (word, after) = rest.split_at(word_end);
    !word.is_empty()
        && (after.trim_start().starts_with('[') || matches!(word, "Creator" | "Version"))
}

/// Kahn's algorithm in declaration order, so the order is deterministic
/// and roots come in the order they were declared.
fn topological_order(graph: &DiGraph<String, ()>) -> Result<Vec<String>, GraphError> {
    let mut indegree: Vec<usize> = graph
        .node_indices()
        .map(|node| graph.neighbors_directed(node, Direction::Incoming).count())
        .collect();
    let mut ready: std::collections::BTreeSet<NodeIndex> = graph
        .node_indices()
        .filter(|node| indegree[node.index()] == 0)
        .collect();
    let mut order = Vec::with_capacity(graph.node_count());
    while let Some(node) = ready.pop_first() {
        order.push(graph[node].clone());
        for child in graph.neighbors_directed(node, Direction::Outgoing) {
            indegree[child.index()] -= 1;
            if indegree[child.index()] == 0 {
                ready.insert(child);
            }
        }
    }
    if order.len() == graph.node_count() {
        return Ok(order);
    }
    Err(GraphError::Cycle {
        cycle: find_cycle(graph, &indegree),
    })
}

/// A cycle among the nodes Kahn's algorithm could not order.
fn find_cycle(graph: &DiGraph<String, ()>, indegree: &[usize]) -> Vec<String> {
    let stuck = |node: NodeIndex| indegree[node.index()] > 0;
    let start = graph
        .node_indices()
        .find(|node| stuck(*node))
        .expect("a cycle leaves some node unordered");
    // Walk backwards along stuck parents until a node repeats: every stuck
    // node has a stuck parent, so the walk must close a cycle.
    let mut path = vec![start];
    let mut seen = HashMap::new();
    seen.insert(start, 0usize);
    let mut current = start;
    loop {
        let parent = graph
            .neighbors_directed(current, Direction::Incoming)
            .filter(|parent| stuck(*parent))
            .min()
            .expect("a stuck node has a stuck parent");
        if let Some(&at) = seen.get(&parent) {
            let mut cycle: Vec<String> = path[at..]
                .iter()
                .rev()
                .map(|node| graph[*node].clone())
                .collect();
            // Start the cycle at its first-declared variable.
            let first = (0..cycle.len())
                .min_by_key(|&i| graph.node_indices().position(|n| graph[n] == cycle[i]))
                .unwrap_or(0);
            cycle.rotate_left(first);
            return cycle;
        }
        seen.insert(parent, path.len());
        path.push(parent);
        current = parent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_named_in_order() {
        let err = CausalGraph::new(
            ["a", "b", "c", "d"],
            [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")],
        )
        .unwrap_err();
        match err {
            GraphError::Cycle { cycle } => assert_eq!(cycle, ["a", "b", "c"]),
            other => panic!("unexpected {other}"),
        }
        let err = CausalGraph::new(["a"], [("a", "a")]).unwrap_err();
        assert!(err.to_string().contains("a -> a"), "{err}");
    }

    #[test]
    fn duplicates_and_unknowns_are_typed_errors() {
        assert!(matches!(
            CausalGraph::new(["a", "a"], Vec::<(&str, &str)>::new()),
            Err(GraphError::DuplicateVariable { .. })
        ));
        assert!(matches!(
            CausalGraph::new(["a", "b"], [("a", "b"), ("a", "b")]),
            Err(GraphError::DuplicateEdge { .. })
        ));
        let graph = CausalGraph::new(["a", "b"], [("a", "b")]).unwrap();
        let err = graph.parents("z").unwrap_err();
        assert!(err.to_string().contains("`z`") && err.to_string().contains("a, b"));
    }

    #[test]
    fn order_parents_children_roots_and_dot_round_trip() {
        let graph = CausalGraph::new(
            ["x1", "x2", "x3", "x4", "x5"],
            [
                ("x1", "x2"),
                ("x1", "x3"),
                ("x2", "x3"),
                ("x2", "x4"),
                ("x3", "x4"),
                ("x3", "x5"),
                ("x4", "x5"),
            ],
        )
        .unwrap();
        assert_eq!(graph.topological_order(), ["x1", "x2", "x3", "x4", "x5"]);
        assert_eq!(graph.parents("x4").unwrap(), ["x2", "x3"]);
        assert_eq!(graph.children("x3").unwrap(), ["x4", "x5"]);
        assert_eq!(graph.roots(), ["x1"]);
        let again = CausalGraph::from_dot_str(&graph.to_dot()).unwrap();
        assert_eq!(
            again.edges().collect::<Vec<_>>(),
            graph.edges().collect::<Vec<_>>()
        );
    }
}
