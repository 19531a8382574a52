//! Graphs and data as other tools write them: the corpus in
//! `tests/corpus/tools/`, each file with the graph, the data or the exact
//! error (with its line and column) it must give.
//!
//! How the files were made (Python 3.11, networkx 3.6.1, pydot 4.0.1,
//! pgmpy 1.1.2, dowhy 0.14, pandas 3.1.1, numpy 2.4.6):
//!
//! - `dowhy_linear.dot`: `dowhy.datasets.linear_dataset(beta=10,
//!   num_common_causes=3, num_instruments=1, num_samples=2000,
//!   treatment_is_binary=False)["dot_graph"]` after `np.random.seed(0)`
//!   (the graph of `data/dowhy_linear/`); `dowhy_linear.gml`: its
//!   `gml_graph`.
//! - `networkx_write_gml.gml`: `nx.write_gml` of a `DiGraph` with
//!   attributes; `networkx_undirected.gml`: of a `Graph`.
//! - `networkx_write_dot.dot`: `nx.nx_pydot.write_dot` of a `DiGraph` with
//!   `label` and `weight` attributes, integer nodes and names that need
//!   quotes; `networkx_windows.dot` is the same text with CRLF line ends
//!   and a byte-order mark, as a Windows editor saves it.
//! - `pydot_cluster.dot`: `pydot.Dot("G", graph_type="digraph")` with a
//!   `pydot.Cluster`, an HTML label, node and edge defaults, `to_string()`;
//!   `pydot_undirected.dot`: a `graph_type="graph"` one.
//! - `pgmpy_asia_dagitty.txt`: `pgmpy.base.DAG(asia edges).to_dagitty()`.
//! - the CSV files: the first four rows of the DoWhy data rounded to 3
//!   digits, written by `df.to_csv()` (`pandas_index.csv`; with a string
//!   index, `pandas_string_index.csv`), read back and written with
//!   `index=False` (`pandas_unnamed_0.csv`), with
//!   `encoding="utf-8-sig", lineterminator="\r\n",
//!   quoting=csv.QUOTE_NONNUMERIC` (`excel_bom_crlf.csv`), with
//!   `quoting=csv.QUOTE_ALL` (`quoted_headers.csv`); a frame with columns
//!   `x, y, x` (`duplicate_names.csv`).
//! - by hand, from the Graphviz language guide and the dagitty manual:
//!   `graphviz_groups.dot`, `undirected_edge.dot`, `html_id.dot`, and the
//!   other `dagitty_*.txt` files.

#[path = "common/corpus.rs"]
mod corpus;

use std::path::Path;

use causalgrad::data::Dataset;
use causalgrad::graph::{CausalGraph, GraphError};
use corpus::corpus_dir;

/// What a corpus file must give.
enum Expect {
    /// A graph with these variables (in declaration order) and edges (in
    /// file order).
    Graph(
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    ),
    /// A data set with these columns, this many rows and this first row.
    Data(&'static [&'static str], usize, &'static [f64]),
    /// This error, exactly, after `path:` (graphs) or `path: ` (data).
    Error(&'static str),
}

use Expect::{Data, Error, Graph};

const DOWHY_VARIABLES: &[&str] = &["Z0", "W0", "W1", "W2", "v0", "y"];
const DOWHY_FIRST_ROW: &[f64] = &[0.0, -2.171, 1.764, -0.637, -1.178, -18.86];
const NETWORKX_VARIABLES: &[&str] = &["v0", "y", "W0", "1", "2", "my var", "p44/42"];
const NETWORKX_EDGES: &[(&str, &str)] = &[
    ("v0", "y"),
    ("W0", "v0"),
    ("1", "2"),
    ("my var", "y"),
    ("p44/42", "y"),
];

const TOOLS: &[(&str, Expect)] = &[
    (
        "dowhy_linear.dot",
        Graph(
            &["v0", "y", "W0", "W1", "W2", "Z0"],
            &[
                ("v0", "y"),
                ("W0", "v0"),
                ("W1", "v0"),
                ("W2", "v0"),
                ("Z0", "v0"),
                ("W0", "y"),
                ("W1", "y"),
                ("W2", "y"),
            ],
        ),
    ),
    (
        "dowhy_linear.gml",
        Graph(
            &["y", "W0", "W1", "W2", "Z0", "v0"],
            &[
                ("v0", "y"),
                ("W0", "v0"),
                ("W1", "v0"),
                ("W2", "v0"),
                ("Z0", "v0"),
                ("W0", "y"),
                ("W1", "y"),
                ("W2", "y"),
            ],
        ),
    ),
    (
        "networkx_write_gml.gml",
        Graph(
            &["W0", "v0", "y", "my var"],
            &[("W0", "v0"), ("W0", "y"), ("v0", "y"), ("my var", "y")],
        ),
    ),
    (
        "networkx_undirected.gml",
        Error("1:1: an undirected GML graph (without `directed 1`) cannot be a causal graph; a causal graph must be directed: add `directed 1`"),
    ),
    (
        "networkx_write_dot.dot",
        Graph(NETWORKX_VARIABLES, NETWORKX_EDGES),
    ),
    ("networkx_windows.dot", Graph(NETWORKX_VARIABLES, NETWORKX_EDGES)),
    (
        "pydot_cluster.dot",
        Graph(
            &["W0", "W1", "v0", "y"],
            &[
                ("W0", "v0"),
                ("W1", "v0"),
                ("W0", "y"),
                ("W1", "y"),
                ("v0", "y"),
            ],
        ),
    ),
    (
        "pydot_undirected.dot",
        Error("1:1: an undirected `graph` cannot be a causal graph; a causal graph must be directed: write `digraph`"),
    ),
    (
        "graphviz_groups.dot",
        Graph(
            &["W0", "W1", "v0", "y", "m", "Z0", "-1.5", "W2"],
            &[
                ("W0", "v0"),
                ("W1", "v0"),
                ("v0", "y"),
                ("v0", "m"),
                ("m", "y"),
                ("Z0", "v0"),
                ("-1.5", "y"),
                ("W2", "v0"),
                ("W2", "y"),
            ],
        ),
    ),
    (
        "undirected_edge.dot",
        Error("3:5: the edge `b -- c` is undirected; a causal graph must be directed: write `b -> c` or `c -> b`"),
    ),
    (
        "html_id.dot",
        Error("2:3: an HTML-like `<..>` ID cannot name a variable; write the name in quotes"),
    ),
    (
        "pgmpy_asia_dagitty.txt",
        Graph(
            &["asia", "tub", "bronc", "dysp", "either", "xray", "lung", "smoke"],
            &[
                ("asia", "tub"),
                ("bronc", "dysp"),
                ("either", "dysp"),
                ("either", "xray"),
                ("lung", "either"),
                ("smoke", "bronc"),
                ("smoke", "lung"),
                ("tub", "either"),
            ],
        ),
    ),
    (
        "dagitty_web.txt",
        Graph(
            &["W0", "v0", "y", "Z0", "W1", "W2"],
            &[
                ("W0", "v0"),
                ("v0", "y"),
                ("W0", "y"),
                ("Z0", "v0"),
                ("W1", "y"),
                ("W2", "y"),
                ("W1", "v0"),
                ("W2", "v0"),
            ],
        ),
    ),
    (
        "dagitty_bidirected.txt",
        Error("3:5: the edge `x <-> y` is bidirected: it stands for an unobserved common cause of both, and causalgrad fits models whose variables are all observed; add the common cause as a variable with data (`u -> x; u -> y`) or remove the edge"),
    ),
    (
        "dagitty_latent.txt",
        Error("2:6: the variable `U` is marked `latent`: causalgrad fits models whose variables are all observed; remove `U` from the graph, or give it a column of data and drop `latent`"),
    ),
    (
        "dagitty_pdag_undirected.txt",
        Error("3:5: the edge `b -- c` is undirected; a causal graph must be directed: write `b -> c` or `c -> b`"),
    ),
    (
        "pandas_index.csv",
        Data(DOWHY_VARIABLES, 4, DOWHY_FIRST_ROW),
    ),
    (
        "pandas_string_index.csv",
        Data(DOWHY_VARIABLES, 4, DOWHY_FIRST_ROW),
    ),
    (
        "pandas_unnamed_0.csv",
        Data(DOWHY_VARIABLES, 4, DOWHY_FIRST_ROW),
    ),
    (
        "excel_bom_crlf.csv",
        Data(DOWHY_VARIABLES, 4, DOWHY_FIRST_ROW),
    ),
    (
        "quoted_headers.csv",
        Data(DOWHY_VARIABLES, 4, DOWHY_FIRST_ROW),
    ),
    (
        "duplicate_names.csv",
        Error("the column `x` appears twice in the header, as columns 1 and 3; rename one of them"),
    ),
    (
        "empty_name.csv",
        Error("the header's column 2 has no name; name every column"),
    ),
];

/// Edges as `(parent, child)` names.
type Edges = Vec<(String, String)>;

/// The graph file's variables and edges, or its error, read as the
/// command line reads `--graph`.
fn read_graph(path: &Path) -> Result<(Vec<String>, Edges), GraphError> {
    let graph = CausalGraph::from_file(path)?;
    let variables = graph.variables().map(str::to_string).collect();
    let edges = graph
        .edges()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    Ok((variables, edges))
}

#[test]
fn every_tool_file_gives_its_result() {
    let dir = corpus_dir("tools", TOOLS.iter().map(|(file, _)| *file));
    for (file, expect) in TOOLS {
        let path = dir.join(file);
        let shown = path.display();
        if file.ends_with(".csv") {
            match (Dataset::from_csv(&path), expect) {
                (Ok(data), Data(names, rows, first)) => {
                    assert_eq!(data.names(), *names, "{file}");
                    assert_eq!(data.n_rows(), *rows, "{file}");
                    let row: Vec<f64> = names.iter().map(|n| data.column(n).unwrap()[0]).collect();
                    assert_eq!(row, *first, "{file}");
                }
                (Err(error), Error(message)) => {
                    assert_eq!(error.to_string(), format!("{shown}: {message}"), "{file}");
                }
                (result, _) => panic!("{file}: unexpected {result:?}"),
            }
        } else {
            match (read_graph(&path), expect) {
                (Ok((variables, edges)), Graph(want_variables, want_edges)) => {
                    assert_eq!(variables, *want_variables, "{file}");
                    let want: Vec<(String, String)> = want_edges
                        .iter()
                        .map(|(a, b)| (a.to_string(), b.to_string()))
                        .collect();
                    assert_eq!(edges, want, "{file}");
                }
                (Err(error), Error(message)) => {
                    assert_eq!(error.to_string(), format!("{shown}:{message}"), "{file}");
                }
                (result, _) => panic!("{file}: unexpected {result:?}"),
            }
        }
    }
}

#[test]
fn semantic_errors_are_typed_and_located() {
    let dir = corpus_dir("tools", TOOLS.iter().map(|(file, _)| *file));
    let inner = |file: &str| match CausalGraph::from_file(dir.join(file)) {
        Err(GraphError::Located { error, .. }) => *error,
        other => panic!("{file}: {other:?}"),
    };
    assert!(matches!(
        inner("undirected_edge.dot"),
        GraphError::UndirectedEdge { from, to } if from == "b" && to == "c"
    ));
    assert!(matches!(
        inner("dagitty_bidirected.txt"),
        GraphError::BidirectedEdge { from, to } if from == "x" && to == "y"
    ));
    assert!(matches!(
        inner("dagitty_latent.txt"),
        GraphError::LatentVariable { name } if name == "U"
    ));
}

#[test]
fn the_dowhy_linear_data_set_reads_with_its_graph() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/dowhy_linear");
    let graph = CausalGraph::from_dot_file(dir.join("graph.dot")).unwrap();
    let data = Dataset::from_csv(dir.join("data.csv")).unwrap();
    assert_eq!(data.names(), DOWHY_VARIABLES);
    assert_eq!(data.n_rows(), 2000);
    data.require(graph.variables()).unwrap();
    assert_eq!(graph.parents("y").unwrap(), ["v0", "W0", "W1", "W2"]);
    assert_eq!(graph.parents("v0").unwrap(), ["W0", "W1", "W2", "Z0"]);
}

#[test]
fn group_edges_and_dagitty_forms() {
    let edges = |text: &str| -> Vec<(String, String)> {
        CausalGraph::from_dot_str(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .edges()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    // dagitty's nested groups: `x -> {z -> y}` is x -> z, z -> y, x -> y.
    assert_eq!(
        edges("dag { x -> {z -> y} }"),
        pairs(&[("z", "y"), ("x", "z"), ("x", "y")])
    );
    // A chain with both arrows, statements without `;`, repeats merged.
    assert_eq!(
        edges("dag{ a -> b <- c  a -> b\r\n c -> d }"),
        pairs(&[("a", "b"), ("c", "b"), ("c", "d")])
    );
    // `{..} -> {..}` joins every pair; a quoted keyword is a plain name.
    assert_eq!(
        edges("digraph { {a \"node\"} -> {c d} }"),
        pairs(&[("a", "c"), ("a", "d"), ("node", "c"), ("node", "d")])
    );
    // A quoted name continued over two lines with `\`.
    assert_eq!(
        edges("digraph { \"long\\\nname\" -> b }"),
        pairs(&[("longname", "b")])
    );
    for (text, message) in [
        ("digraph { node -> a }", "<dot>:1:11: `node` is a DOT keyword; write it in quotes (`\"node\"`) to name a variable"),
        ("digraph { \"\" -> a }", "<dot>:1:11: a variable name cannot be empty"),
        ("pag { a -> b }", "<dot>:1:1: a `pag` (partial ancestral graph) is a class of causal graphs, not one; write the DAG you assume as `dag { .. }`"),
        ("mag { a -> b }", "<dot>:1:1: a `mag` (maximal ancestral graph) relates variables through latent ones and is not one causal graph; write the DAG you assume as `dag { .. }`"),
        ("a -> b", "<dot>:1:1: expected `digraph` (DOT) or `dag` (dagitty)"),
        ("digraph { a [label=] }", "<dot>:1:20: expected a value after `=`"),
        ("digraph { a [=1] }", "<dot>:1:14: expected an attribute name or `]` closing the attribute list"),
        ("digraph { {a b} -- c }", "<dot>:1:17: the edge `{a b} -- c` is undirected; a causal graph must be directed: write `{a b} -> c` or `c -> {a b}`"),
        ("dag { a -> b -> a }", "<dot>:1:14: the causal graph has a cycle: a -> b -> a; a causal graph must be acyclic, remove one of these edges"),
    ] {
        let error = CausalGraph::from_dot_str(text).unwrap_err().to_string();
        assert_eq!(error, message, "{text}");
    }
}

#[test]
fn gml_errors_are_located() {
    let graph = CausalGraph::from_gml_str(
        "# networkx\ngraph [ directed 1 node [ id 0 label \"a\" ] node [ id 1 ] edge [ source 0 target 1 weight 1e-3 ] ]",
    )
    .unwrap();
    assert_eq!(graph.edges().collect::<Vec<_>>(), [("a", "1")]);
    // `1edge`: the number ends where the key starts.
    let graph = CausalGraph::from_gml_str(
        "graph[directed 1node[id 0]node[id 1]directed 1edge[source 1 target 0]]",
    );
    assert_eq!(graph.unwrap().edges().collect::<Vec<_>>(), [("1", "0")]);
    for (text, message) in [
        ("graph [ directed 1\n  edge [ source 0 target 9 ] ]", "<dot>:2:17: no node has the id `0`"),
        ("graph [ directed 1 node [ label \"a\" ] ]", "<dot>:1:20: this node has no `id`"),
        ("graph [ directed 1 node [ id 0 ] node [ id 0 ] ]", "<dot>:1:44: the node id `0` is given twice"),
        ("graph [ directed 1 node [ id 0 label \"a ] ]", "<dot>:1:38: unterminated string"),
        ("graph [ directed 1 node [ id 0 ]", "<dot>:1:33: expected `]` closing the list (at the end of the file)"),
        ("graph [ ] ]", "<dot>:1:11: unexpected `]`"),
        ("Creator \"x\"", "<dot>:1:12: expected a `graph [ .. ]` list (at the end of the file)"),
        ("graph [ directed 1 node [ id 0 ] node [ id 1 ]\n edge [ source 0 target 1 ]\n edge [ source 1 target 0 ] ]", "<dot>:3:25: the causal graph has a cycle: 0 -> 1 -> 0; a causal graph must be acyclic, remove one of these edges"),
    ] {
        let error = CausalGraph::from_gml_str(text).unwrap_err().to_string();
        assert_eq!(error, message, "{text}");
    }
}
