//! The `causalgrad` binary run as a user would: happy paths on a small
//! slice of the bundled scm5 data, and every kind of bad input (exit code
//! 2, a message naming the file, line, column or variable, no panic, no
//! output file left behind).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::cargo::cargo_bin_cmd;
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

/// The bundled scm5 files.
fn scm5(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/scm5")
        .join(file)
}

fn causalgrad() -> Command {
    cargo_bin_cmd!("causalgrad")
}

/// The header and first `rows` rows of the bundled scm5 CSV `file`,
/// written to `to`.
fn write_head(file: &str, rows: usize, to: &Path) {
    let text = std::fs::read_to_string(scm5(file)).unwrap();
    let head: Vec<&str> = text.lines().take(rows + 1).collect();
    std::fs::write(to, head.join("\n") + "\n").unwrap();
}

/// The first `rows` rows of the scm5 training data, written to `dir`.
fn small_data(dir: &Path, rows: usize) -> PathBuf {
    let path = dir.join("train.csv");
    write_head("train_10k.csv", rows, &path);
    path
}

/// Runs the command, expects success, and parses its `--json` output.
fn json(command: &mut Command) -> Value {
    let output = command
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    serde_json::from_str(&stdout).unwrap()
}

/// Runs the command and expects a user error: exit code 2, stderr
/// containing each of `expected`, no panic, nothing on stdout.
fn fails(command: &mut Command, expected: &[&str]) {
    let output = command.assert().code(2).get_output().clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    for part in expected {
        assert!(stderr.contains(part), "`{part}` not in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.stdout.is_empty(), "stdout on error");
}

/// A model fitted once for all tests (40 steps on 400 rows), in a
/// directory that lives as long as the test process.
fn fitted() -> &'static Path {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &MODEL
        .get_or_init(|| fit_once("--data", |dir| small_data(dir, 400), "model.cg"))
        .1
}

/// Fits 40 steps on what `input` writes to a new directory under
/// `target/` (a static holds it and is never dropped, so the directory
/// stays) and returns the directory and the model's path `out` in it.
fn fit_once(
    input_flag: &str,
    input: impl FnOnce(&Path) -> PathBuf,
    out: &str,
) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let input = input(dir.path());
    let model = dir.path().join(out);
    causalgrad()
        .args(["fit", "--quiet", "--steps", "40", "--lr", "0.05"])
        .arg(input_flag)
        .arg(&input)
        .arg("--graph")
        .arg(scm5("graph.dot"))
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    (dir, model)
}

#[test]
fn every_command_has_help_with_examples() {
    for command in [
        "fit",
        "sample",
        "effect",
        "counterfactual",
        "plot",
        "graph",
        "serve",
    ] {
        causalgrad()
            .args([command, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Examples:"))
            .stdout(predicate::str::contains(format!("causalgrad {command} ")));
    }
    causalgrad()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples"));
}

#[test]
fn graph_prints_order_roots_and_parents() {
    causalgrad()
        .arg("graph")
        .arg("--graph")
        .arg(scm5("graph.dot"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "topological order: x1, x2, x3, x4, x5",
        ))
        .stdout(predicate::str::contains("roots: x1"))
        .stdout(predicate::str::contains("x4 <- x2, x3"));
    let out = json(
        causalgrad()
            .arg("graph")
            .arg("--graph")
            .arg(scm5("graph.dot")),
    );
    assert_eq!(
        out["order"],
        serde_json::json!(["x1", "x2", "x3", "x4", "x5"])
    );
    assert_eq!(out["roots"], serde_json::json!(["x1"]));
    assert_eq!(out["parents"]["x5"], serde_json::json!(["x3", "x4"]));
    assert_eq!(out["edges"], 7);
}

#[test]
fn fit_saves_a_model_and_its_report_with_progress_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_data(dir.path(), 300);
    let model = dir.path().join("m.cg");
    let output = causalgrad()
        .args([
            "fit",
            "--quiet",
            "--steps",
            "20",
            "--eval-every",
            "5",
            "--json",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--graph")
        .arg(scm5("graph.dot"))
        .arg("--out")
        .arg(&model)
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("step 2/20"), "{stderr}");
    assert!(
        stderr.contains("step 20/20") && stderr.contains("validation"),
        "{stderr}"
    );
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(out["steps"], 20);
    assert_eq!(out["rows"], 300);
    assert_eq!(out["stop"], "completed");
    assert!(out["final_loss"].as_f64().unwrap().is_finite());
    assert!(out["final_validation_loss"].as_f64().unwrap().is_finite());
    let variables = out["variables"].as_array().unwrap();
    assert_eq!(variables.len(), 5);
    assert_eq!(variables[0]["mechanism"], "linear", "a root's learned mean");
    assert!(
        variables[4]["mechanism"]
            .as_str()
            .unwrap()
            .starts_with("mlp"),
        "{}",
        variables[4]
    );
    assert!(model.is_file());
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("m.cg.report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["losses"].as_array().unwrap().len(), 20);
    assert_eq!(report["validation"].as_array().unwrap().len(), 4);
}

#[test]
fn a_model_toml_chooses_mechanisms_and_noise() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_data(dir.path(), 200);
    let spec = dir.path().join("model.toml");
    std::fs::write(
        &spec,
        "[x2]\nmechanism = \"linear\"\n\n[x3]\nmechanism = { additive = { hidden = 4 } }\n\n\
         [x4]\nmechanism = { mlp = { hidden = [8, 4], activation = \"relu\" } }\n\
         noise = { gaussian = { scale = 0.2 } }\n",
    )
    .unwrap();
    let out = json(
        causalgrad()
            .args(["fit", "--quiet", "--steps", "5"])
            .arg("--data")
            .arg(&data)
            .arg("--graph")
            .arg(scm5("graph.dot"))
            .arg("--model")
            .arg(&spec)
            .arg("--out")
            .arg(dir.path().join("m.cg")),
    );
    let mechanism = |i: usize| {
        out["variables"][i]["mechanism"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(mechanism(1), "linear");
    assert!(mechanism(2).starts_with("additive (4"), "{}", mechanism(2));
    assert!(
        mechanism(3).contains("8→4") && mechanism(3).contains("relu"),
        "{}",
        mechanism(3)
    );
    assert!(
        mechanism(4).starts_with("mlp"),
        "the default: {}",
        mechanism(4)
    );
}

#[test]
fn effect_prints_the_ate_with_a_standard_error() {
    let model = fitted();
    causalgrad()
        .args([
            "effect",
            "--treatment",
            "x2",
            "--outcome",
            "x5",
            "--a",
            "-1",
            "--b",
            "1",
        ])
        .arg("--model")
        .arg(model)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "E[x5 | do(x2 = 1)] - E[x5 | do(x2 = -1)] = ",
        ));
    let out = json(
        causalgrad()
            .args([
                "effect",
                "--treatment",
                "x2",
                "--outcome",
                "x5",
                "--a",
                "-1",
                "--b",
                "1",
            ])
            .args(["-n", "5000", "--seed", "3"])
            .arg("--model")
            .arg(model),
    );
    let (ate, stderr) = (
        out["ate"].as_f64().unwrap(),
        out["stderr"].as_f64().unwrap(),
    );
    assert!(ate.is_finite() && stderr > 0.0 && stderr < 1.0, "{out}");
    let difference = out["mean_b"].as_f64().unwrap() - out["mean_a"].as_f64().unwrap();
    assert!((difference - ate).abs() < 1e-9, "{out}");
    assert_eq!(out["samples"], 5000);
    // Setting the treatment to the same value twice has no effect.
    let none = json(
        causalgrad()
            .args([
                "effect",
                "--treatment",
                "x2",
                "--outcome",
                "x5",
                "--a",
                "1",
                "--b",
                "1",
            ])
            .arg("--model")
            .arg(model),
    );
    assert_eq!(none["ate"], 0.0);
}

#[test]
fn sample_writes_csv_under_interventions() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("samples.csv");
    let out = json(
        causalgrad()
            .args(["sample", "-n", "500", "--do", "x2=1.5", "--do", "x4=-1"])
            .arg("--model")
            .arg(fitted())
            .arg("--out")
            .arg(&out_path),
    );
    assert_eq!(out["rows"], 500);
    assert_eq!(
        out["interventions"],
        serde_json::json!({"x2": 1.5, "x4": -1.0})
    );
    assert_eq!(out["means"]["x2"], 1.5);
    let text = std::fs::read_to_string(&out_path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("x1,x2,x3,x4,x5"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 500);
    assert!(rows.iter().all(|r| r[1] == 1.5 && r[3] == -1.0));
    assert!(rows.iter().any(|r| r[0] != rows[0][0]), "x1 still varies");
}

#[test]
fn counterfactual_keeps_upstream_rows_and_changes_downstream_ones() {
    let dir = tempfile::tempdir().unwrap();
    let observed = small_data(dir.path(), 50);
    let cf = dir.path().join("cf.csv");
    let out = json(
        causalgrad()
            .args(["counterfactual", "--do", "x3=0.5"])
            .arg("--model")
            .arg(fitted())
            .arg("--rows")
            .arg(&observed)
            .arg("--out")
            .arg(&cf),
    );
    assert_eq!(out["rows"], 50);
    assert!(out["mean_change"]["x1"].as_f64().unwrap().abs() < 1e-6);
    assert!(out["mean_change"]["x2"].as_f64().unwrap().abs() < 1e-6);
    assert!(out["mean_change"]["x5"].as_f64().unwrap().abs() > 0.0);
    let text = std::fs::read_to_string(&cf).unwrap();
    assert_eq!(text.lines().count(), 51);
    assert!(text
        .lines()
        .skip(1)
        .all(|l| l.split(',').nth(2) == Some("0.5")));
}

#[test]
fn plot_draws_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_data(dir.path(), 100);
    let report = dir.path().join("report");
    let out = json(
        causalgrad()
            .args(["plot", "--do", "x2=1", "--do", "x3=-0.5", "-n", "500"])
            .arg("--model")
            .arg(fitted())
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&report),
    );
    let kinds: Vec<&str> = out["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "loss",
            "fit",
            "graph",
            "intervention",
            "support",
            "intervention",
            "support"
        ]
    );
    for name in [
        "loss.svg",
        "fit.svg",
        "graph.svg",
        "do_x2_1.svg",
        "support_do_x2_1.svg",
        "do_x3_-0.5.svg",
        "support_do_x3_-0.5.svg",
    ] {
        let svg = std::fs::read_to_string(report.join(name)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{name}"
        );
    }
    let graph: String = std::fs::read_to_string(report.join("graph.svg"))
        .unwrap()
        .split_whitespace()
        .collect();
    for variable in ["x1", "x2", "x3", "x4", "x5"] {
        assert!(
            graph.contains(&format!(">{variable}</text>")),
            "{variable} labelled"
        );
    }
    let loss = std::fs::read_to_string(report.join("loss.svg")).unwrap();
    assert!(loss.contains("over 40 steps"), "the fit's report is drawn");
    // x2's descendants with parents: x3 (x1, x2), x4 (x2, x3), x5 (x3, x4).
    let support: String = std::fs::read_to_string(report.join("support_do_x2_1.svg"))
        .unwrap()
        .split_whitespace()
        .collect();
    for panel in ["x3←x1,x2:", "x4←x2,x3:", "x5←x3,x4:"] {
        assert!(support.contains(panel), "{panel}");
    }
}

#[test]
fn plot_writes_png_figures_with_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let out = json(
        causalgrad()
            .args([
                "plot", "--format", "png", "--format", "svg", "-n", "100", "--do", "x2=1",
            ])
            .arg("--model")
            .arg(fitted())
            .arg("--data")
            .arg(small_data(dir.path(), 100))
            .arg("--out")
            .arg(&report),
    );
    let paths: Vec<&str> = out["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 10, "{paths:?}");
    for name in ["loss", "fit", "graph", "do_x2_1", "support_do_x2_1"] {
        let png = report.join(format!("{name}.png"));
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        assert!(
            frame.width > 300 && frame.height > 100,
            "{name}: {}x{}",
            frame.width,
            frame.height
        );
        // Text is the only black in the figures: the bundled font drew it.
        let black = pixels
            .chunks(3)
            .filter(|p| p.iter().all(|&c| c < 40))
            .count();
        assert!(black > 100, "{name}: {black} black pixels");
        assert!(report.join(format!("{name}.svg")).is_file());
    }
}

#[test]
fn plot_without_a_fit_report_skips_the_loss_curve() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("copy.cg");
    std::fs::copy(fitted(), &model).unwrap();
    let out = json(
        causalgrad()
            .arg("plot")
            .arg("--model")
            .arg(&model)
            .arg("--data")
            .arg(small_data(dir.path(), 50))
            .arg("--out")
            .arg(dir.path().join("r")),
    );
    assert_eq!(out["figures"].as_array().unwrap().len(), 2);
    assert!(out["skipped"][0]
        .as_str()
        .unwrap()
        .contains("copy.cg.report.json"));
}

#[test]
fn missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.cg");
    fails(
        causalgrad()
            .args(["fit", "--data", "no/such/train.csv"])
            .arg("--graph")
            .arg(scm5("graph.dot"))
            .arg("--out")
            .arg(&model),
        &["cannot read no/such/train.csv", "Check the path"],
    );
    fails(
        causalgrad().args(["graph", "--graph", "no/such/graph.dot"]),
        &["cannot read no/such/graph.dot", "Check the path"],
    );
    fails(
        causalgrad()
            .args(["effect", "--model", "no/such/model.cg"])
            .args([
                "--treatment",
                "x2",
                "--outcome",
                "x5",
                "--a",
                "0",
                "--b",
                "1",
            ]),
        &["no/such/model.cg"],
    );
    fails(
        causalgrad()
            .arg("fit")
            .arg("--data")
            .arg(scm5("train_10k.csv"))
            .arg("--graph")
            .arg(scm5("graph.dot"))
            .arg("--out")
            .arg(dir.path().join("missing-dir/m.cg")),
        &["missing-dir", "does not exist"],
    );
    assert!(!model.exists());
}

#[test]
fn a_csv_that_does_not_match_the_graph_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.cg");
    let fit = |data: &Path| {
        let mut command = causalgrad();
        command
            .arg("fit")
            .arg("--data")
            .arg(data)
            .arg("--graph")
            .arg(scm5("graph.dot"))
            .arg("--out")
            .arg(&model);
        command
    };
    let missing = dir.path().join("missing.csv");
    std::fs::write(&missing, "x1,x2,x3,x4,y\n1,2,3,4,5\n").unwrap();
    fails(
        &mut fit(&missing),
        &[
            "missing.csv: no column for the variable x5",
            "x1, x2, x3, x4, y",
        ],
    );
    let bad_cell = dir.path().join("bad.csv");
    // A typo among many numbers (a column of text would be categorical).
    let mut rows = String::from("x1,x2,x3,x4,x5\n");
    for i in 0..30 {
        let x3 = if i == 1 {
            "oops".to_string()
        } else {
            format!("{}.5", i)
        };
        rows.push_str(&format!("{i},2,{x3},4,{}\n", i % 7));
    }
    std::fs::write(&bad_cell, rows).unwrap();
    fails(
        &mut fit(&bad_cell),
        &["bad.csv: row 2, column `x3`: `oops`"],
    );
    assert!(!model.exists());
    // Counterfactual rows are checked against the model's variables.
    std::fs::write(&missing, "x1,x2\n1,2\n").unwrap();
    fails(
        causalgrad()
            .args(["counterfactual", "--do", "x2=1"])
            .arg("--model")
            .arg(fitted())
            .arg("--rows")
            .arg(&missing)
            .arg("--out")
            .arg(dir.path().join("cf.csv")),
        &["no column for the variables x3, x4, x5"],
    );
    assert!(!dir.path().join("cf.csv").exists());
}

#[test]
fn unknown_variables_are_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("samples.csv");
    std::fs::write(&out, "previous contents").unwrap();
    fails(
        causalgrad()
            .args(["sample", "-n", "10", "--do", "x9=1"])
            .arg("--model")
            .arg(fitted())
            .arg("--out")
            .arg(&out),
        &["--do x9=1: unknown variable `x9`", "x1, x2, x3, x4, x5"],
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous contents");
    fails(
        causalgrad()
            .args([
                "effect",
                "--treatment",
                "x2",
                "--outcome",
                "y",
                "--a",
                "0",
                "--b",
                "1",
            ])
            .arg("--model")
            .arg(fitted()),
        &["--outcome y: unknown variable `y`"],
    );
    fails(
        causalgrad()
            .args(["sample", "--do", "x2", "--out"])
            .arg(dir.path().join("s.csv"))
            .arg("--model")
            .arg(fitted()),
        &["`x2` is not VAR=VALUE"],
    );
    fails(
        causalgrad()
            .args(["plot", "--do", "x7=0"])
            .arg("--model")
            .arg(fitted())
            .arg("--data")
            .arg(scm5("test_10k.csv"))
            .arg("--out")
            .arg(dir.path().join("report")),
        &["unknown variable `x7`"],
    );
    assert!(!dir.path().join("report").exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary files"
    );
}

#[test]
fn malformed_toml_and_dot_files_name_the_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_data(dir.path(), 20);
    let model = dir.path().join("m.cg");
    let fit = |graph: &Path, spec: Option<&Path>| {
        let mut command = causalgrad();
        command
            .arg("fit")
            .arg("--data")
            .arg(&data)
            .arg("--graph")
            .arg(graph)
            .arg("--out")
            .arg(&model);
        if let Some(spec) = spec {
            command.arg("--model").arg(spec);
        }
        command
    };
    let spec = dir.path().join("model.toml");
    let graph = scm5("graph.dot");
    let cases: &[(&str, &[&str])] = &[
        (
            "[x2]\nmechanism = \"cubic\"\n",
            &["model.toml:2:13", "unknown variant `cubic`"],
        ),
        (
            "[x2]\nmechanism = { mlp = { hidden = [16], activation = \"tahn\" } }\n",
            &["model.toml:2:", "tahn"],
        ),
        ("[x2\nmechanism = \"linear\"\n", &["model.toml:1:"]),
        (
            "[x2]\nmechanism = \"linear\"\n[x9]\nmechanism = \"linear\"\n",
            &["model.toml:3:2: unknown variable `x9`"],
        ),
        (
            "[x1]\nmechanism = \"mlp\"\n",
            &["model.toml:2:13", "`x1` has no parents"],
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(&spec, text).unwrap();
        fails(&mut fit(&graph, Some(&spec)), expected);
    }
    let dot = dir.path().join("graph.dot");
    std::fs::write(&dot, "digraph {\n  x1 -> x2;\n  x2 -> ;\n}\n").unwrap();
    fails(&mut fit(&dot, None), &["graph.dot:3:"]);
    std::fs::write(&dot, "digraph { x1 -> x2; x2 -> x1; }\n").unwrap();
    fails(
        causalgrad().arg("graph").arg("--graph").arg(&dot),
        &["cycle: x1 -> x2 -> x1"],
    );
    assert!(!model.exists());
}

#[test]
fn broken_and_incompatible_model_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fitted()).unwrap();
    let effect = |model: &Path| {
        let mut command = causalgrad();
        command
            .args([
                "effect",
                "--treatment",
                "x2",
                "--outcome",
                "x5",
                "--a",
                "0",
                "--b",
                "1",
            ])
            .arg("--model")
            .arg(model);
        command
    };
    let truncated = dir.path().join("truncated.cg");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    fails(
        &mut effect(&truncated),
        &["truncated.cg", "not a complete causalgrad model file"],
    );
    let csv = dir.path().join("data.cg");
    std::fs::copy(scm5("graph.dot"), &csv).unwrap();
    fails(
        &mut effect(&csv),
        &["data.cg", "not a complete causalgrad model file"],
    );
    // The same file claiming format version 9.
    let marker = format!("causalgrad.versiona{}", causalgrad::scm::FORMAT_VERSION).into_bytes();
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker.as_slice())
        .expect("the version is in the metadata");
    let mut future = bytes.clone();
    future[at + marker.len() - 1] = b'9';
    let newer = dir.path().join("newer.cg");
    std::fs::write(&newer, future).unwrap();
    fails(
        &mut effect(&newer),
        &["newer.cg", "format version 9", "refit the model"],
    );
}

/// The fit command on `data` with `args`, saving `model`.
fn fit_command(data: &Path, model: &Path, args: &[&str]) -> Command {
    let mut command = causalgrad();
    command
        .args(["fit", "--quiet"])
        .args(args)
        .arg("--data")
        .arg(data)
        .arg("--graph")
        .arg(scm5("graph.dot"))
        .arg("--out")
        .arg(model);
    command
}

fn losses(model: &Path) -> Vec<f64> {
    let mut path = model.as_os_str().to_owned();
    path.push(".report.json");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    report["losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn an_interrupted_fit_resumes_on_the_same_loss_curve() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_data(dir.path(), 200);
    let settings = ["--batch", "64", "--seed", "5", "--checkpoint-every", "4"];
    let whole = dir.path().join("whole.cg");
    json(fit_command(&data, &whole, &settings).args(["--steps", "12"]));

    let parts = dir.path().join("parts.cg");
    let first = json(fit_command(&data, &parts, &settings).args(["--steps", "8"]));
    assert_eq!(first["resumed_from_step"], 0);
    let checkpoint = first["checkpoint"].as_str().unwrap().to_string();
    assert!(checkpoint.ends_with("parts.cg.checkpoint") && Path::new(&checkpoint).is_file());
    let second = json(fit_command(&data, &parts, &settings).args(["--steps", "12", "--resume"]));
    assert_eq!(second["resumed_from_step"], 8);
    assert_eq!(second["steps"], 12);
    assert_eq!(losses(&parts), losses(&whole));
    assert_eq!(losses(&whole).len(), 12);

    // Other settings cannot resume from that checkpoint.
    fails(
        &mut fit_command(&data, &parts, &["--steps", "16", "--resume", "--lr", "0.5"]),
        &["parts.cg.checkpoint", "cannot resume"],
    );
}

#[test]
fn devices_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_data(dir.path(), 20);
    let model = dir.path().join("m.cg");
    fails(
        &mut fit_command(&data, &model, &["--device", "tpu"]),
        &["unknown device `tpu`"],
    );
    #[cfg(not(feature = "wgpu"))]
    fails(
        &mut fit_command(&data, &model, &["--device", "wgpu"]),
        &["no `wgpu` backend", "--features wgpu"],
    );
    assert!(!model.exists());
    let out = json(&mut fit_command(
        &data,
        &model,
        &["--device", "flex", "--steps", "2"],
    ));
    assert_eq!(out["device"], "flex");
}

/// The bundled contexts (`data/scm5/contexts.toml`) cut to `rows` rows each,
/// written with their contexts file to `dir`.
fn small_contexts(dir: &Path, rows: usize) -> PathBuf {
    for file in [
        "train_10k.csv",
        "do_x2_1.csv",
        "shift_x3_1.csv",
        "x5_changed.csv",
    ] {
        write_head(file, rows, &dir.join(file));
    }
    let path = dir.join("contexts.toml");
    std::fs::copy(scm5("contexts.toml"), &path).unwrap();
    path
}

/// A model fitted over the bundled contexts (40 steps, 200 rows each).
fn fitted_contexts() -> &'static Path {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &MODEL
        .get_or_init(|| fit_once("--contexts", |dir| small_contexts(dir, 200), "contexts.cg"))
        .1
}

#[test]
fn fit_over_contexts_reports_every_context() {
    let dir = tempfile::tempdir().unwrap();
    let contexts = small_contexts(dir.path(), 100);
    let model = dir.path().join("c.cg");
    let out = json(
        causalgrad()
            .args(["fit", "--quiet", "--steps", "10", "--eval-every", "5"])
            .arg("--contexts")
            .arg(&contexts)
            .arg("--graph")
            .arg(scm5("graph.dot"))
            .arg("--out")
            .arg(&model),
    );
    assert_eq!(out["rows"], 400);
    assert_eq!(out["steps"], 10);
    let found: Vec<(&str, Vec<&str>, Vec<&str>)> = out["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let strings = |key: &str| -> Vec<&str> {
                c[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect()
            };
            (
                c["name"].as_str().unwrap(),
                strings("interventions"),
                strings("own_mechanisms"),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("observational", vec![], vec![]),
            ("x2-clamped", vec!["do(x2 = 1)"], vec![]),
            ("x3-shifted", vec!["x3 shifted by 1"], vec![]),
            ("x5-changed", vec!["x5 changed"], vec!["x5"]),
        ]
    );
    for context in out["contexts"].as_array().unwrap() {
        assert!(context["loss"].as_f64().unwrap().is_finite(), "{context}");
    }
    let record: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("c.cg.report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["contexts"], true);
    assert_eq!(record["losses"].as_array().unwrap().len(), 10);
    assert_eq!(record["validation"].as_array().unwrap().len(), 2);
}

#[test]
fn queries_answer_in_the_context_named() {
    let model = fitted_contexts();
    let dir = tempfile::tempdir().unwrap();
    // x2 is held at 1 in `x2-clamped`: x1 cannot move it there.
    let clamped = json(
        causalgrad()
            .args([
                "effect",
                "--context",
                "x2-clamped",
                "--treatment",
                "x1",
                "--outcome",
                "x2",
            ])
            .args(["--a", "-1", "--b", "1", "-n", "200", "--model"])
            .arg(model),
    );
    assert_eq!(clamped["context"], "x2-clamped");
    assert_eq!(clamped["ate"], 0.0);
    assert_eq!(clamped["mean_a"], 1.0);
    let shared = json(
        causalgrad()
            .args(["effect", "--treatment", "x1", "--outcome", "x2"])
            .args(["--a", "-1", "--b", "1", "-n", "200", "--model"])
            .arg(model),
    );
    assert_eq!(shared["context"], Value::Null);
    assert!(shared["ate"].as_f64().unwrap() > 0.5, "{shared}");

    let samples = dir.path().join("s.csv");
    let out = json(
        causalgrad()
            .args(["sample", "--context", "x2-clamped", "-n", "50", "--model"])
            .arg(model)
            .arg("--out")
            .arg(&samples),
    );
    assert_eq!(out["means"]["x2"], 1.0);
    assert_eq!(out["context"], "x2-clamped");

    let cf = dir.path().join("cf.csv");
    let out = json(
        causalgrad()
            .args([
                "counterfactual",
                "--context",
                "x5-changed",
                "--do",
                "x5=0",
                "--model",
            ])
            .arg(model)
            .arg("--rows")
            .arg(scm5("x5_changed.csv"))
            .arg("--out")
            .arg(&cf),
    );
    assert_eq!(out["context"], "x5-changed");
    assert_eq!(out["mean_change"]["x4"], 0.0);
    assert!(cf.is_file());
}

#[test]
fn bad_contexts_are_errors_naming_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let contexts = small_contexts(dir.path(), 20);
    let model = dir.path().join("c.cg");
    let fit = |contexts: &Path| {
        let mut command = causalgrad();
        command
            .args(["fit", "--quiet", "--steps", "2", "--contexts"])
            .arg(contexts)
            .arg("--graph")
            .arg(scm5("graph.dot"))
            .arg("--out")
            .arg(&model);
        command
    };
    let bad = dir.path().join("bad.toml");
    let cases: &[(&str, &[&str])] = &[
        (
            "[[context]]\nname = \"a\"\ndata = \"train_10k.csv\"\ndo = { x9 = 1.0 }\n",
            &["bad.toml:", "x9"],
        ),
        (
            "[[context]]\nname = \"a\"\ndata = \"missing.csv\"\n",
            &["bad.toml:3:", "missing.csv"],
        ),
        ("[[context]\nname = \"a\"\n", &["bad.toml:1:"]),
    ];
    for (text, expected) in cases {
        std::fs::write(&bad, text).unwrap();
        fails(&mut fit(&bad), expected);
    }
    // --data and --contexts together are a usage error.
    fails(
        fit(&contexts).arg("--data").arg(scm5("train_10k.csv")),
        &["--data", "--contexts"],
    );
    assert!(!model.exists());

    let effect = |model: &Path, context: &str| {
        let mut command = causalgrad();
        command
            .args([
                "effect",
                "--treatment",
                "x1",
                "--outcome",
                "x2",
                "--a",
                "0",
                "--b",
                "1",
            ])
            .args(["--context", context, "--model"])
            .arg(model);
        command
    };
    fails(
        &mut effect(fitted_contexts(), "x9-clamped"),
        &[
            "no context `x9-clamped`",
            "observational, x2-clamped, x3-shifted, x5-changed",
        ],
    );
    fails(
        &mut effect(fitted(), "x2-clamped"),
        &["model.cg", "not over a context graph", "Drop --context"],
    );
}

/// The new user's example: a graph as DoWhy writes it (children first,
/// mixed-case names), CSV columns in another order plus a string id column
/// the graph does not have, an outcome in the hundreds. `fit` then `effect` works on the
/// saved file, and the ignored column is named once.
#[test]
fn a_dowhy_style_graph_and_csv_fit_reload_and_answer() {
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("graph.dot");
    std::fs::write(
        &graph,
        "digraph {v0->y;W0-> v0; W1-> v0; W2-> v0;Z0-> v0;W0-> y; W1-> y; W2-> y;}",
    )
    .unwrap();
    let noise = |i: usize, k: f64| ((i as f64 * k).sin() * 43_758.545).fract() - 0.5;
    let mut csv = String::from("y,row_id,v0,W2,Z0,W1,W0\n");
    for i in 0..400 {
        let (w0, w1, w2, z0) = (
            3.0 * noise(i, 1.1),
            6.0 * noise(i, 2.3),
            10.0 + noise(i, 3.7),
            noise(i, 5.3),
        );
        let v0 = -30.0 + 1.5 * w0 - 0.7 * w1 + 3.0 * w2 + 2.0 * z0 + noise(i, 7.1);
        let y = 100.0 + 10.0 * v0 + 5.0 * w0 + 4.0 * w1 - 8.0 * w2 + 2.0 * noise(i, 9.7);
        csv.push_str(&format!("{y},C{i:04},{v0},{w2},{z0},{w1},{w0}\n"));
    }
    let data = dir.path().join("data.csv");
    std::fs::write(&data, csv).unwrap();
    let model = dir.path().join("m.cg");
    let fitted = json(
        causalgrad()
            .args(["fit", "--quiet", "--steps", "60"])
            .args([
                "--data".as_ref(),
                data.as_os_str(),
                "--graph".as_ref(),
                graph.as_os_str(),
                "--out".as_ref(),
                model.as_os_str(),
            ]),
    );
    assert_eq!(fitted["ignored_columns"], serde_json::json!(["row_id"]));
    assert_eq!(fitted["converged"], serde_json::json!(false));
    let effect = json(
        causalgrad()
            .args([
                "effect",
                "--treatment",
                "v0",
                "--outcome",
                "y",
                "--a",
                "0",
                "--b",
                "1",
            ])
            .arg("--model")
            .arg(&model),
    );
    assert!(effect["ate"].as_f64().unwrap().is_finite(), "{effect}");
}
