//! `causalgrad discover` run as a user would: on a small linear-Gaussian
//! SEM with equal noise scales (identifiable in its raw units), its DOT
//! output feeds `causalgrad fit`, prior knowledge is held, the JSON has
//! its fields, bad knowledge is a typed error naming the variable, and
//! the output is a DAG whatever the threshold.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use assert_cmd::Command;
use causalgrad::graph::CausalGraph;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde_json::Value;

/// The planted graph over a, b, c, d: a -> b -> c, a -> d, c -> d.
const TRUTH: [(&str, &str); 4] = [("a", "b"), ("b", "c"), ("a", "d"), ("c", "d")];

fn causalgrad() -> Command {
    cargo_bin_cmd!("causalgrad")
}

/// 600 rows of the planted SEM (unit noise) as CSV in `dir`.
fn planted_data(dir: &Path) -> PathBuf {
    let mut rng = rand::rngs::StdRng::seed_from_u64(20);
    let mut noise = || -> f64 { StandardNormal.sample(&mut rng) };
    let mut text = String::from("a,b,c,d\n");
    for _ in 0..600 {
        let a = noise();
        let b = 1.2 * a + noise();
        let c = -b + noise();
        let d = 0.8 * a + 1.1 * c + noise();
        text.push_str(&format!("{a},{b},{c},{d}\n"));
    }
    let path = dir.join("planted.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn workdir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

/// Runs the command with `--json`, expects success, parses stdout.
fn json(command: &mut Command) -> Value {
    let output = command
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(output.stdout).unwrap();
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// `(from, to)` of every edge in the JSON output.
fn edges(report: &Value) -> Vec<(String, String)> {
    report["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap().to_string(),
                e["to"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn discover(data: &Path, out: &Path) -> Command {
    let mut command = causalgrad();
    command
        .args(["discover", "--quiet", "--raw", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out);
    command
}

#[test]
fn the_planted_graph_is_found_and_its_dot_feeds_fit() {
    let dir = workdir();
    let data = planted_data(dir.path());
    let dot = dir.path().join("learned.dot");
    let report = json(&mut discover(&data, &dot));
    let mut found = edges(&report);
    found.sort();
    let mut truth: Vec<(String, String)> = TRUTH
        .iter()
        .map(|&(a, b)| (a.to_string(), b.to_string()))
        .collect();
    truth.sort();
    assert_eq!(found, truth, "{report}");

    let model = dir.path().join("model.cg");
    causalgrad()
        .args(["fit", "--quiet", "--steps", "20", "--data"])
        .arg(&data)
        .arg("--graph")
        .arg(&dot)
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    let summary = json(causalgrad().args(["graph", "--graph"]).arg(&dot));
    assert_eq!(summary["roots"], serde_json::json!(["a"]), "{summary}");
    assert!(model.exists());
}

#[test]
fn required_and_forbidden_edges_are_held() {
    let dir = workdir();
    let data = planted_data(dir.path());
    let dot = dir.path().join("learned.dot");
    // Against the data: d -> c is required, b -> c (a true edge) forbidden.
    let report = json(
        discover(&data, &dot)
            .args(["--require", "d -> c", "--forbid", "b->c"])
            .args(["--tier", "a", "--tier", "b,c,d"]),
    );
    let found = edges(&report);
    assert!(found.contains(&("d".into(), "c".into())), "{report}");
    assert!(!found.contains(&("b".into(), "c".into())), "{report}");
    assert!(found.iter().all(|(_, to)| to != "a"), "tier: {report}");
    let required: Vec<&Value> = report["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["required"] == Value::Bool(true))
        .collect();
    assert_eq!(required.len(), 1);
    assert_eq!(required[0]["from"], "d");
    let text = std::fs::read_to_string(&dot).unwrap();
    assert!(text.contains("\"d\" -> \"c\" [") && text.contains("required=true"));
    CausalGraph::from_dot_str(&text).expect("a DAG");
}

#[test]
fn the_json_has_edges_weights_stabilities_and_stages() {
    let dir = workdir();
    let data = planted_data(dir.path());
    let dot = dir.path().join("learned.dot");
    let weights = dir.path().join("weights.json");
    let report = json(
        discover(&data, &dot)
            .args(["--bootstrap", "3", "--weights"])
            .arg(&weights),
    );
    assert_eq!(report["variables"], serde_json::json!(["a", "b", "c", "d"]));
    assert_eq!(report["input"], data.display().to_string());
    let matrix = report["weights"].as_array().unwrap();
    assert_eq!(matrix.len(), 4);
    assert!(matrix.iter().all(|row| row.as_array().unwrap().len() == 4));
    // a -> b has weight about 1.2 in raw units, b -> a about 0.
    assert!(
        (matrix[0][1].as_f64().unwrap() - 1.2).abs() < 0.15,
        "{report}"
    );
    assert!(matrix[1][0].as_f64().unwrap().abs() < 0.3, "{report}");
    let stability = report["stability"].as_array().unwrap();
    assert_eq!(stability.len(), 4);
    for edge in report["edges"].as_array().unwrap() {
        let share = edge["stability"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&share), "{edge}");
        assert!(edge["weight"].as_f64().unwrap().abs() >= 0.3, "{edge}");
        assert_eq!(edge["required"], Value::Bool(false));
    }
    let stages = report["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 5);
    for stage in stages {
        for field in ["mu", "s", "iterations", "score", "h"] {
            assert!(stage[field].is_number(), "{field} in {stage}");
        }
    }
    assert!(report["seconds"].as_f64().unwrap() > 0.0);
    // --weights writes the same record.
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&weights).unwrap()).unwrap();
    assert_eq!(written["edges"], report["edges"]);
    let text = std::fs::read_to_string(&dot).unwrap();
    assert!(text.contains("stability="), "{text}");
}

/// Expects exit code 2 with each of `expected` on stderr, no panic and no
/// output file.
fn fails(command: &mut Command, out: &Path, expected: &[&str]) {
    let output = command.assert().code(2).get_output().clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    for part in expected {
        assert!(stderr.contains(part), "`{part}` not in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.exists(), "{} written on error", out.display());
}

#[test]
fn bad_knowledge_is_an_error_naming_the_variable_or_edge() {
    let dir = workdir();
    let data = planted_data(dir.path());
    let dot = dir.path().join("learned.dot");
    fails(
        discover(&data, &dot).args(["--require", "a->zz"]),
        &dot,
        &["required edge", "unknown variable `zz`", "a, b, c, d"],
    );
    fails(
        discover(&data, &dot).args(["--forbid", "q -> b"]),
        &dot,
        &["unknown variable `q`"],
    );
    fails(
        discover(&data, &dot).args(["--require", "a-b"]),
        &dot,
        &["`a-b` is not an edge"],
    );
    fails(
        discover(&data, &dot).args(["--require", "a->b", "--forbid", "a->b"]),
        &dot,
        &["a -> b"],
    );
    fails(
        discover(&data, &dot).args(["--require", "a->b", "--require", "b->a"]),
        &dot,
        &["cycle"],
    );
}

#[test]
fn the_output_is_acyclic_at_any_threshold() {
    let dir = workdir();
    let data = planted_data(dir.path());
    for threshold in ["0", "0.01", "0.3"] {
        for raw in [true, false] {
            let dot = dir.path().join(format!("t{threshold}-{raw}.dot"));
            let mut command = causalgrad();
            command
                .args(["discover", "--quiet", "--threshold", threshold, "--data"])
                .arg(&data)
                .arg("--out")
                .arg(&dot);
            if raw {
                command.arg("--raw");
            }
            let report = json(&mut command);
            let text = std::fs::read_to_string(&dot).unwrap();
            let graph = CausalGraph::from_dot_str(&text)
                .unwrap_or_else(|e| panic!("threshold {threshold}: {e}\n{text}"));
            assert_eq!(graph.edges().count(), edges(&report).len());
            assert_eq!(graph.len(), 4);
        }
    }
}

#[test]
fn the_quasi_newton_solver_finds_the_planted_graph_in_fewer_iterations() {
    let dir = workdir();
    let data = planted_data(dir.path());
    let dot = dir.path().join("learned.dot");
    let adam = json(&mut discover(&data, &dot));
    let report = json(discover(&data, &dot).args(["--solver", "quasi-newton"]));
    let mut found = edges(&report);
    found.sort();
    let mut truth: Vec<(String, String)> = TRUTH
        .iter()
        .map(|&(a, b)| (a.to_string(), b.to_string()))
        .collect();
    truth.sort();
    assert_eq!(found, truth, "{report}");
    let iterations = |r: &Value| -> u64 {
        r["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["iterations"].as_u64().unwrap())
            .sum()
    };
    assert!(
        5 * iterations(&report) < iterations(&adam),
        "{} against Adam's {}",
        iterations(&report),
        iterations(&adam)
    );
    // The MLP family has no quasi-Newton solver: a usage error.
    let out = dir.path().join("mlp.dot");
    let failed = discover(&data, &out)
        .args(["--method", "mlp", "--solver", "quasi-newton"])
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8(failed.stderr).unwrap();
    assert!(stderr.contains("--solver quasi-newton"), "{stderr}");
    assert!(!out.exists());
}
