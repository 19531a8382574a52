//! The context-graph TOML loader under attack: arbitrary bytes and
//! mutations of a valid file are loaded or refused with an error that names
//! the file, never a panic (500 cases each; 10,000 with `--ignored`).

#[path = "common/corpus.rs"]
mod corpus;

use std::path::{Path, PathBuf};

use causalgrad::context::ContextGraph;
use causalgrad::graph::CausalGraph;
use corpus::corpus_dir;
use proptest::prelude::*;

const EXAMPLE: &str = r#"[[context]]
name = "baseline"
data = "obs.csv"

[[context]]
name = "x2-clamped"
data = "clamped.csv"
do = { x2 = 1.0 }

[[context]]
name = "x3-shifted"
data = "shifted.csv"
shifted = ["x3"]

[[tie]]
contexts = ["baseline", "x3-shifted"]
strength = 10.0
"#;

/// Pieces of TOML and of numbers that break files in interesting ways.
const SNIPPETS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "=",
    "\"",
    "'",
    "{",
    "}",
    ",",
    "#",
    "\n",
    "\r\n",
    "1e400",
    "nan",
    "inf",
    "-0.0",
    "\u{feff}",
    "é",
    "\\",
    "x9",
    "context",
    "tie",
    "do",
    "shifted",
    "strength = -1",
    "data = \"missing.csv\"",
    "\0",
];

fn dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("causalgrad-fuzz-toml-{}", std::process::id()));
    if !dir.join("obs.csv").exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let rows = "x1,x2,x3\n0.1,0.3,1.0\n-0.4,0.2,0.5\n1.2,1.0,2.0\n0.0,-0.5,0.1\n";
        for file in ["obs.csv", "clamped.csv", "shifted.csv"] {
            std::fs::write(dir.join(file), rows).unwrap();
        }
    }
    dir
}

fn graph() -> CausalGraph {
    CausalGraph::new(
        ["x1", "x2", "x3"],
        [("x1", "x2"), ("x2", "x3"), ("x1", "x3")],
    )
    .unwrap()
}

fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let len = EXAMPLE.len();
    prop::collection::vec(
        (
            0usize..5,
            0..len,
            any::<u8>(),
            0..SNIPPETS.len(),
            1usize..40,
        ),
        1..6,
    )
    .prop_map(move |edits| {
        let mut bytes = EXAMPLE.as_bytes().to_vec();
        for (kind, at, byte, snippet, span) in edits {
            let at = at.min(bytes.len());
            match kind {
                0 if at < bytes.len() => bytes[at] ^= byte | 1,
                1 => bytes
                    .splice(at..at, SNIPPETS[snippet].bytes())
                    .for_each(drop),
                2 => {
                    let end = (at + span).min(bytes.len());
                    bytes.drain(at..end);
                }
                3 => {
                    let line_start = bytes[..at]
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(0, |i| i + 1);
                    let line_end = bytes[at..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(bytes.len(), |i| at + i + 1);
                    let line = bytes[line_start..line_end].to_vec();
                    bytes.splice(line_end..line_end, line).for_each(drop);
                }
                _ => bytes.truncate(at),
            }
        }
        bytes
    })
}

fn check(name: &str, bytes: &[u8]) {
    let path: PathBuf = dir().join(name);
    std::fs::write(&path, bytes).unwrap();
    let file = path.file_name().unwrap().to_string_lossy().to_string();
    for result in [
        ContextGraph::from_toml_file(&path),
        ContextGraph::from_toml_file_for(&path, &graph()),
    ] {
        if let Err(error) = result {
            let message = error.to_string();
            assert!(
                message.contains(&file),
                "the error does not name {file}: {message}"
            );
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = ContextGraph::from_toml_str(text, Path::new(&dir()), &path);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]
    #[test]
    fn mutated_context_files_are_loaded_or_refused_with_the_file_named(bytes in mutated()) {
        check("mutated.toml", &bytes);
    }

    #[test]
    fn arbitrary_bytes_are_refused_with_the_file_named(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check("arbitrary.toml", &bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]
    #[test]
    #[ignore = "10,000 cases; run with --ignored"]
    fn mutated_context_files_10k(bytes in mutated()) {
        check("mutated-10k.toml", &bytes);
    }
}

#[test]
fn the_unmutated_file_loads() {
    let path = dir().join("valid.toml");
    std::fs::write(&path, EXAMPLE).unwrap();
    let contexts = ContextGraph::from_toml_file_for(&path, &graph()).unwrap();
    assert_eq!(contexts.contexts().count(), 3);
}

/// The nastiest context files found, kept in `tests/corpus/toml/`, with
/// the error each must give (after `file:`).
const CORPUS: &[(&str, &str)] = &[
    ("deep_array.toml", "1:85: cannot recurse further"),
    ("deep_table.toml", "1:405: cannot recurse further"),
    (
        "nan_do.toml",
        "1:1: the context `a` sets `x2` with the value NaN",
    ),
    (
        "duplicate_context.toml",
        "4:1: the context `a` is declared twice",
    ),
    ("tie_unknown.toml", "5:18: unknown context `b`"),
    (
        "duplicate_intervention.toml",
        "1:1: the context `a` intervenes on `x3` twice",
    ),
    ("invalid_utf8.toml", "2:9: the byte 0xff is not UTF-8"),
];

#[test]
fn corpus_regressions() {
    let corpus = corpus_dir("toml", CORPUS.iter().map(|(file, _)| *file));
    for (file, expected) in CORPUS {
        let bytes = std::fs::read(corpus.join(file)).unwrap();
        check(file, &bytes);
        let path = dir().join(file);
        let error = ContextGraph::from_toml_file_for(&path, &graph()).unwrap_err();
        let want = format!("{}:{expected}", path.display());
        assert!(error.to_string().starts_with(&want), "{file}: {error}");
    }
}
