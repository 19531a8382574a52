//! The CSV loader and the DOT and GML parsers under attack: arbitrary bytes, and
//! valid files mutated (bit flips, insertions of nasty snippets, deletions,
//! truncations, duplicated lines, huge numbers, NaN/inf spellings, byte-order
//! marks, CRLF, unicode names, empty lines, quotes, deep nesting).
//!
//! Every input must either parse into a well-formed value or be rejected
//! with a typed error whose message names where: the file and a row (and
//! column) for CSV, `file:line:column` for DOT. A panic fails the test.
//!
//! The normal suite runs 500 cases per parser; the `#[ignore]`d versions
//! run 10,000 (`cargo test --release --test fuzz_parsers -- --ignored`).
//! The inputs that broke the parsers are kept in `tests/corpus/` and
//! replayed by `corpus_regressions`.

#[path = "common/corpus.rs"]
mod corpus;

use std::cell::Cell;
use std::path::Path;

use causalgrad::data::{DataError, Dataset};
use causalgrad::graph::{CausalGraph, GraphError};
use corpus::corpus_dir;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/// Snippets inserted into valid files: each one has broken a parser
/// somewhere.
const NASTY: &[&str] = &[
    "NaN",
    "-nan",
    "inf",
    "-Infinity",
    "1e400",
    "-1e999",
    "1e-400",
    "1e30",
    "179769313486231570814527423731704356798070e300",
    "0x1p3",
    "\u{feff}",
    "\r\n",
    "\r",
    "\n\n",
    "\"",
    "\"\"",
    "\\",
    "\\\"",
    ",",
    ",,",
    ";",
    "é",
    "変数",
    "\u{202e}",
    "\0",
    "->",
    "--",
    "<-",
    "<->",
    "<b>",
    "[latent]",
    "[label=<<i>x</i>>, weight=0.5]",
    "{ a b } -> ",
    " -> { c d }",
    "subgraph cluster_x {",
    "\\\n",
    "dag",
    "pdag",
    "node",
    "{",
    "}",
    "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{",
    "[",
    "]",
    "=",
    ":",
    "<",
    ">",
    "/*",
    "*/",
    "//",
    "#",
    "digraph",
    "strict",
    "subgraph",
    "graph",
    " ",
    "\t",
];

/// A name for a column or a variable: plain, unicode, or with characters
/// that need quoting.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_]{0,6}",
        "[α-ω変数é][a-z]{0,3}",
        "[a-z]{1,3}[ /\"\\\\.-][a-z]{1,3}",
    ]
}

/// A finite number, written the way `{:?}` writes it (exact round trip).
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e3f64..1e3,
        Just(0.0),
        Just(-0.0),
        Just(1e30),
        Just(-1e300),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
    ]
}

/// A valid CSV file and the values it holds.
fn valid_csv() -> impl Strategy<Value = (String, Vec<String>, Vec<Vec<f64>>)> {
    (
        prop::collection::hash_set(name(), 1..5),
        1usize..6,
        any::<bool>(),
    )
        .prop_flat_map(|(names, rows, crlf)| {
            let names: Vec<String> = names.into_iter().collect();
            let width = names.len();
            (
                Just(names),
                prop::collection::vec(prop::collection::vec(number(), width), rows),
                Just(crlf),
            )
        })
        .prop_map(|(names, rows, crlf)| {
            let end = if crlf { "\r\n" } else { "\n" };
            let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
            let mut text = names.iter().map(|n| quote(n)).collect::<Vec<_>>().join(",");
            text.push_str(end);
            for row in &rows {
                let cells: Vec<String> = row.iter().map(|v| format!("{v:?}")).collect();
                text.push_str(&cells.join(","));
                text.push_str(end);
            }
            (text, names, rows)
        })
}

/// A valid DOT file (an acyclic graph: edges go from earlier to later
/// variables) and its edges: as `to_dot` writes it, decorated the way
/// Graphviz, networkx and pydot write DOT, or as dagitty text.
fn valid_dot() -> impl Strategy<Value = (String, Vec<(String, String)>)> {
    prop::collection::hash_set(name(), 1..6)
        .prop_flat_map(|names| {
            let names: Vec<String> = names.into_iter().collect();
            let n = names.len();
            (
                Just(names),
                prop::collection::btree_set((0..n, 0..n), 0..8),
                0u8..3,
            )
        })
        .prop_map(|(names, pairs, style)| {
            let edges: Vec<(String, String)> = pairs
                .into_iter()
                .filter(|(a, b)| a < b)
                .map(|(a, b)| (names[a].clone(), names[b].clone()))
                .collect();
            let graph = CausalGraph::new(&names, edges.iter().map(|(a, b)| (a, b))).unwrap();
            let mut text = graph.to_dot();
            if style == 1 {
                text = text.replace(
                    "digraph {\n",
                    "/* header */ strict digraph g {\n  rankdir = LR; node [shape=box];\n  // c\n  subgraph cluster_x { graph [label=\"x\"] }\n",
                );
            } else if style == 2 {
                text = text
                    .replace("digraph {\n", "dag {\nbb=\"0,0,1,1\"\n")
                    .replace(";\n", "\n");
            }
            (text, edges)
        })
}

/// One change to a file.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(usize, u8),
    Insert(usize, &'static str),
    InsertByte(usize, u8),
    Delete(usize, usize),
    Truncate(usize),
    DuplicateLine(usize),
    RemoveNewlines,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        (any::<usize>(), prop::sample::select(NASTY)).prop_map(|(at, s)| Mutation::Insert(at, s)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::InsertByte(at, b)),
        (any::<usize>(), 1usize..8).prop_map(|(at, len)| Mutation::Delete(at, len)),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        Just(Mutation::RemoveNewlines),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
    match *mutation {
        Mutation::FlipBit(i, bit) if !bytes.is_empty() => {
            let i = i % bytes.len();
            bytes[i] ^= 1 << bit;
        }
        Mutation::FlipBit(..) => {}
        Mutation::Insert(i, text) => {
            let i = at(i, bytes.len());
            bytes.splice(i..i, text.bytes());
        }
        Mutation::InsertByte(i, byte) => {
            let i = at(i, bytes.len());
            bytes.insert(i, byte);
        }
        Mutation::Delete(i, len) => {
            let i = at(i, bytes.len());
            bytes.drain(i..(i + len).min(bytes.len()));
        }
        Mutation::Truncate(len) => bytes.truncate(at(len, bytes.len())),
        Mutation::DuplicateLine(i) => {
            let lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
            if !lines.is_empty() {
                let i = i % lines.len();
                let mut out = Vec::with_capacity(bytes.len() + lines[i].len());
                for (j, line) in lines.iter().enumerate() {
                    out.extend_from_slice(line);
                    if j == i {
                        out.extend_from_slice(line);
                    }
                }
                *bytes = out;
            }
        }
        Mutation::RemoveNewlines => bytes.retain(|&b| b != b'\n'),
    }
}

/// `valid` with some mutations applied.
fn mutated(valid: impl Strategy<Value = String>) -> impl Strategy<Value = Vec<u8>> {
    (valid, prop::collection::vec(mutation(), 1..5)).prop_map(|(text, mutations)| {
        let mut bytes = text.into_bytes();
        for mutation in &mutations {
            apply(&mut bytes, mutation);
        }
        bytes
    })
}

/// A valid GML file (as networkx's `write_gml` lays it out) of a valid
/// DOT file's graph.
fn valid_gml() -> impl Strategy<Value = String> {
    valid_dot().prop_map(|(text, _)| {
        let graph = CausalGraph::from_dot_str(&text).unwrap();
        let names: Vec<&str> = graph.variables().collect();
        let mut out = String::from("graph [\n  directed 1\n");
        for (id, name) in names.iter().enumerate() {
            let label = name.replace('"', "&quot;");
            out.push_str(&format!(
                "  node [\n    id {id}\n    label \"{label}\"\n  ]\n"
            ));
        }
        for (a, b) in graph.edges() {
            let id = |n: &str| names.iter().position(|m| *m == n).unwrap();
            out.push_str(&format!(
                "  edge [ source {} target {} weight 1e-3 ]\n",
                id(a),
                id(b)
            ));
        }
        out.push_str("]\n");
        out
    })
}

fn csv_inputs() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..200),
        4 => mutated(valid_csv().prop_map(|(text, _, _)| text)),
    ]
}

fn dot_inputs() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..200),
        4 => mutated(valid_dot().prop_map(|(text, _)| text)),
    ]
}

// ---------------------------------------------------------------------------
// What every outcome must satisfy
// ---------------------------------------------------------------------------

/// Parses `bytes` as CSV named `fuzz.csv`: a data set of finite values with
/// unique non-empty names, or an error naming the file and the row.
fn check_csv(bytes: &[u8]) -> Result<bool, TestCaseError> {
    let data = match Dataset::from_csv_reader(bytes, "fuzz.csv") {
        Ok(data) => data,
        Err(error) => {
            csv_error_is_located(&error)?;
            return Ok(false);
        }
    };
    prop_assert!(data.n_rows() >= 1);
    let mut names = data.names().to_vec();
    prop_assert!(names.iter().all(|n| !n.is_empty()));
    names.sort();
    names.dedup();
    prop_assert_eq!(names.len(), data.names().len());
    for name in data.names() {
        let column = data.column(name).unwrap();
        prop_assert_eq!(column.len(), data.n_rows());
        prop_assert!(column.iter().all(|v| v.is_finite()));
        if let Some(labels) = data.labels(name).unwrap() {
            let is_code = |c: f64| c >= 0.0 && c.fract() == 0.0 && (c as usize) < labels.len();
            prop_assert!(column.iter().all(|&c| is_code(c)));
        }
    }
    Ok(true)
}

fn csv_error_is_located(error: &DataError) -> Result<(), TestCaseError> {
    let text = error.to_string();
    let row_prefix = |row: usize| format!("fuzz.csv: row {row}");
    match error {
        DataError::Csv { row, .. }
        | DataError::Ragged { row, .. }
        | DataError::NotNumeric { row, .. }
        | DataError::EmptyCell { row, .. }
        | DataError::OutOfRange { row, .. }
        | DataError::NotFinite { row, .. } => {
            prop_assert!(text.starts_with(&row_prefix(*row)), "{}", text);
        }
        DataError::Empty { .. } => prop_assert!(text.starts_with("fuzz.csv: "), "{}", text),
        DataError::UnnamedColumn { column, .. } => {
            let expected = format!("fuzz.csv: the header's column {column} ");
            prop_assert!(text.starts_with(&expected), "{}", text);
        }
        DataError::DuplicateColumn { column, .. } => {
            let expected = format!("fuzz.csv: the column `{column}` appears twice");
            prop_assert!(text.starts_with(&expected), "{}", text);
        }
        other => prop_assert!(false, "unexpected error kind: {other:?}"),
    }
    if let DataError::NotNumeric { column, .. }
    | DataError::EmptyCell { column, .. }
    | DataError::OutOfRange { column, .. }
    | DataError::NotFinite { column, .. } = error
    {
        prop_assert!(text.contains(&format!("column `{column}`")), "{}", text);
    }
    Ok(())
}

/// Parses `bytes` as DOT (through a file when they are not UTF-8): an
/// acyclic graph that survives a round trip through `to_dot`, or an error
/// at `file:line:column` inside the text.
fn check_dot(bytes: &[u8], scratch: &Path) -> Result<bool, TestCaseError> {
    let (result, file) = match std::str::from_utf8(bytes) {
        Ok(text) => (CausalGraph::from_dot_str(text), "<dot>".to_string()),
        Err(_) => {
            std::fs::write(scratch, bytes).unwrap();
            let result = CausalGraph::from_dot_file(scratch);
            (result, scratch.display().to_string())
        }
    };
    let graph = match result {
        Ok(graph) => graph,
        Err(error) => {
            dot_error_is_located(&error, &file, bytes)?;
            return Ok(false);
        }
    };
    let order = graph.topological_order();
    let rank = |name: &str| order.iter().position(|n| n == name).unwrap();
    for (parent, child) in graph.edges() {
        prop_assert!(rank(parent) < rank(child));
    }
    let again = CausalGraph::from_dot_str(&graph.to_dot())
        .map_err(|e| TestCaseError::fail(format!("to_dot does not parse back: {e}")))?;
    prop_assert_eq!(
        again.variables().collect::<Vec<_>>(),
        graph.variables().collect::<Vec<_>>()
    );
    prop_assert_eq!(
        again.edges().collect::<Vec<_>>(),
        graph.edges().collect::<Vec<_>>()
    );
    Ok(true)
}

/// Parses UTF-8 `bytes` as GML: an acyclic graph, or an error at
/// `<dot>:line:column` inside the text.
fn check_gml(bytes: &[u8]) -> Result<bool, TestCaseError> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(false);
    };
    match CausalGraph::from_gml_str(text) {
        Ok(graph) => {
            prop_assert_eq!(graph.topological_order().len(), graph.len());
            Ok(true)
        }
        Err(error) => {
            dot_error_is_located(&error, "<dot>", bytes)?;
            Ok(false)
        }
    }
}

fn dot_error_is_located(error: &GraphError, file: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let text = error.to_string();
    let (line, column) = match error {
        GraphError::Parse { line, column, .. } | GraphError::Located { line, column, .. } => {
            (*line, *column)
        }
        other => return Err(TestCaseError::fail(format!("unlocated error: {other}"))),
    };
    prop_assert!(
        text.starts_with(&format!("{file}:{line}:{column}: ")),
        "{}",
        text
    );
    let lines = 1 + bytes.iter().filter(|&&b| b == b'\n').count();
    prop_assert!(
        (1..=lines).contains(&line),
        "line {} of {}: {}",
        line,
        lines,
        text
    );
    let width = String::from_utf8_lossy(bytes)
        .split('\n')
        .nth(line - 1)
        .map_or(0, |l| l.trim_start_matches('\u{feff}').chars().count());
    prop_assert!(
        (1..=width + 1).contains(&column),
        "column {} of {}: {}",
        column,
        width,
        text
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------

/// Runs `cases` inputs through `check`, reporting how many parsed.
fn fuzz(
    what: &str,
    cases: u32,
    inputs: impl Strategy<Value = Vec<u8>>,
    check: impl Fn(&[u8]) -> Result<bool, TestCaseError>,
) {
    let (parsed, rejected) = (Cell::new(0u32), Cell::new(0u32));
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&inputs, |bytes| {
            let cell = if check(&bytes)? { &parsed } else { &rejected };
            cell.set(cell.get() + 1);
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{what}: {failure}"));
    eprintln!(
        "{what}: {cases} cases, {} parsed, {} rejected with a located error",
        parsed.get(),
        rejected.get()
    );
}

fn scratch(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("causalgrad-fuzz-{}-{tag}.dot", std::process::id()))
}

#[test]
fn csv_fuzz_500() {
    fuzz("csv", 500, csv_inputs(), check_csv);
}

#[test]
#[ignore = "10,000 cases; run with --release -- --ignored"]
fn csv_fuzz_10000() {
    fuzz("csv", 10_000, csv_inputs(), check_csv);
}

#[test]
fn dot_fuzz_500() {
    let path = scratch("500");
    fuzz("dot", 500, dot_inputs(), |bytes| check_dot(bytes, &path));
}

#[test]
fn gml_fuzz_500() {
    let inputs = prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..200),
        4 => mutated(valid_gml()),
    ];
    fuzz("gml", 500, inputs, check_gml);
}

#[test]
#[ignore = "10,000 cases; run with --release -- --ignored"]
fn dot_fuzz_10000() {
    let path = scratch("10000");
    fuzz("dot", 10_000, dot_inputs(), |bytes| check_dot(bytes, &path));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// Unmutated valid files parse to exactly the values written.
    #[test]
    fn valid_csv_reads_back_exactly((text, names, rows) in valid_csv()) {
        let data = Dataset::from_csv_str(&text).unwrap();
        prop_assert_eq!(data.names(), &names[..]);
        for (j, name) in names.iter().enumerate() {
            let expected: Vec<f64> = rows.iter().map(|row| row[j]).collect();
            let column = data.column(name).unwrap();
            prop_assert!(
                column.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{:?} vs {:?}", column, expected
            );
        }
    }

    #[test]
    fn valid_dot_reads_back_exactly((text, edges) in valid_dot()) {
        let graph = CausalGraph::from_dot_str(&text).unwrap();
        let read: Vec<(String, String)> =
            graph.edges().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        prop_assert_eq!(read, edges);
    }
}

// ---------------------------------------------------------------------------
// The corpus of inputs that broke the parsers
// ---------------------------------------------------------------------------

/// Each corpus file, with the start of the error it must give (after the
/// file name) or `None` when it must parse.
const CSV_CORPUS: &[(&str, Option<&str>)] = &[
    ("bom_crlf_unicode.csv", None),
    (
        "empty_cell.csv",
        Some("row 2, column `y`: the cell is empty"),
    ),
    (
        "overflow.csv",
        Some("row 1, column `x`: `1e400` is too large"),
    ),
    (
        "trailing_comma.csv",
        Some("the header's column 3 has no name"),
    ),
    (
        "nan_spellings.csv",
        Some("row 1, column `b`: NaN is not a finite"),
    ),
    (
        "unterminated_quote.csv",
        Some("row 1, column `x`: `1\\n2,3` is not a number; a quote is probably not closed"),
    ),
    ("invalid_utf8.csv", Some("row 1: CSV parse error")),
];

const DOT_CORPUS: &[(&str, Option<&str>)] = &[
    ("bom.dot", None),
    ("backslash_names.dot", None),
    (
        "deep_nesting.dot",
        Some("1:73: blocks nest more than 64 deep"),
    ),
    (
        "duplicated_line.dot",
        Some("3:5: the edge `a -> b` is given twice"),
    ),
    ("strict_duplicated_line.dot", None),
    (
        "cycle.dot",
        Some("4:5: the causal graph has a cycle: a -> b -> c -> a"),
    ),
    (
        "self_loop.dot",
        Some("2:8: the causal graph has a cycle: x -> x"),
    ),
    ("invalid_utf8.dot", Some("2:8: the byte 0xff is not UTF-8")),
    (
        "unterminated_comment.dot",
        Some("2:3: unterminated `/* */` comment"),
    ),
    (
        "control_character.dot",
        Some("1:12: unexpected character '\\0'"),
    ),
];

#[test]
fn corpus_regressions() {
    let dir = corpus_dir("csv", CSV_CORPUS.iter().map(|(file, _)| *file));
    for (file, expected) in CSV_CORPUS {
        let path = dir.join(file);
        let bytes = std::fs::read(&path).unwrap();
        check_csv(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        match (Dataset::from_csv(&path), expected) {
            (Ok(_), None) => {}
            (Err(error), Some(expected)) => {
                let want = format!("{}: {expected}", path.display());
                assert!(error.to_string().starts_with(&want), "{file}: {error}");
            }
            (result, _) => panic!("{file}: unexpected {result:?}"),
        }
    }
    let dir = corpus_dir("dot", DOT_CORPUS.iter().map(|(file, _)| *file));
    let path = scratch("corpus");
    for (file, expected) in DOT_CORPUS {
        let full = dir.join(file);
        let bytes = std::fs::read(&full).unwrap();
        check_dot(&bytes, &path).unwrap_or_else(|e| panic!("{file}: {e}"));
        match (CausalGraph::from_dot_file(&full), expected) {
            (Ok(_), None) => {}
            (Err(error), Some(expected)) => {
                let want = format!("{}:{expected}", full.display());
                assert!(error.to_string().starts_with(&want), "{file}: {error}");
            }
            (result, _) => panic!("{file}: unexpected {result:?}"),
        }
    }
}
