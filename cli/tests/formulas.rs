//! Formula mechanisms in `model.toml`: the bundled scm5 written as
//! formulas recovers the generator's coefficients and the true effect;
//! a binary variable's formula is its logit; broken formulas are errors
//! that name the file, line and column, the variable and the formula.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use assert_cmd::Command;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};
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

/// Runs the command with `--json`, expects success, and parses stdout.
fn json(command: &mut Command) -> Value {
    let output = command
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .clone();
    serde_json::from_str(&String::from_utf8(output.stdout).unwrap()).unwrap()
}

/// The fitted value of parameter `param` of `variable` in `fit --json`.
fn param(fitted: &Value, variable: &str, param: &str) -> f64 {
    let entry = fitted["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == variable)
        .unwrap();
    entry["params"][param]
        .as_f64()
        .unwrap_or_else(|| panic!("no {param} for {variable}: {entry}"))
}

/// `fit` on scm5's graph with the model file `spec` (written to `dir`)
/// and the data `data`, run as far as its errors: the command's stderr,
/// with exit code 2 and no panic expected.
fn refused(dir: &Path, spec: &str) -> String {
    let path = dir.join("model.toml");
    std::fs::write(&path, spec).unwrap();
    let output = causalgrad()
        .args(["fit", "--quiet", "--members", "0", "--steps", "5"])
        .arg("--data")
        .arg(scm5("train_10k.csv"))
        .arg("--graph")
        .arg(scm5("graph.dot"))
        .arg("--model")
        .arg(&path)
        .arg("--out")
        .arg(dir.join("model.cg"))
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!dir.join("model.cg").exists(), "a model was written");
    stderr
}

#[test]
fn scm5_as_formulas_recovers_the_generator_and_the_true_effect() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.cg");
    let fitted = json(
        causalgrad()
            .args(["fit", "--quiet", "--members", "0"])
            .arg("--data")
            .arg(scm5("train_10k.csv"))
            .arg("--graph")
            .arg(scm5("graph.dot"))
            .arg("--model")
            .arg(scm5("formulas.toml"))
            .arg("--out")
            .arg(&model),
    );
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(scm5("truth.json")).unwrap()).unwrap();
    for (variable, names) in [("x2", "abc"), ("x3", "de"), ("x5", "fgh")] {
        for name in names.chars().map(String::from) {
            let (fitted, true_value) = (
                param(&fitted, variable, &name),
                truth["params"][&name].as_f64().unwrap(),
            );
            // 10,000 rows pin each coefficient to about 1%.
            assert!(
                (fitted - true_value).abs() < 0.05 * true_value.abs(),
                "{variable}'s {name}: fitted {fitted}, truth {true_value}"
            );
        }
    }
    // The saved model keeps the formulas' text and compiles them again.
    let effect = json(
        causalgrad()
            .args(["effect", "--treatment", "x2", "--outcome", "x5"])
            .args(["--a", "-1", "--b", "1", "--model"])
            .arg(&model),
    );
    let interventions = &truth["interventions"];
    let true_effect = interventions["do(x2=1.0)"]["E_x5_mc"].as_f64().unwrap()
        - interventions["do(x2=-1.0)"]["E_x5_mc"].as_f64().unwrap();
    let ate = effect["ate"].as_f64().unwrap();
    eprintln!("x2 -> x5 with formulas: {ate:.4}, truth {true_effect:.4}");
    // The default networks miss by about 0.2; the formulas' error is the
    // network of x4 and the sampling error of 10,000 rows.
    assert!(
        (ate - true_effect).abs() < 0.05,
        "fitted {ate}, truth {true_effect}"
    );
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

#[test]
fn a_binary_variables_formula_is_its_logit() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let age = Normal::new(40.0, 10.0).unwrap();
    let mut csv = String::from("age,treated\n");
    for _ in 0..8000 {
        let age: f64 = age.sample(&mut rng);
        let p = sigmoid(-0.5 + 0.08 * (age - 40.0));
        let treated = u8::from(rng.random::<f64>() < p);
        csv.push_str(&format!("{age:.2},{treated}\n"));
    }
    let (data, graph, spec) = (
        dir.path().join("data.csv"),
        dir.path().join("graph.dot"),
        dir.path().join("model.toml"),
    );
    std::fs::write(&data, csv).unwrap();
    std::fs::write(&graph, "digraph { age -> treated; }").unwrap();
    std::fs::write(
        &spec,
        "[treated]\nmechanism = { formula = \"a + b * (age - 40)\", params = [\"a\", \"b\"] }\n",
    )
    .unwrap();
    let fitted = json(
        causalgrad()
            .args(["fit", "--quiet", "--members", "0", "--lr", "0.05"])
            .arg("--data")
            .arg(&data)
            .arg("--graph")
            .arg(&graph)
            .arg("--model")
            .arg(&spec)
            .arg("--out")
            .arg(dir.path().join("model.cg")),
    );
    let treated = &fitted["variables"][1];
    assert_eq!(treated["kind"], "binary", "{treated}");
    let (a, b) = (
        param(&fitted, "treated", "a"),
        param(&fitted, "treated", "b"),
    );
    // Standard errors from 8,000 rows: about 0.025 for a, 0.0025 for b.
    assert!((a + 0.5).abs() < 0.1, "a = {a}");
    assert!((b - 0.08).abs() < 0.01, "b = {b}");
}

#[test]
fn a_misspelt_parent_is_located_with_the_closest_name() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = refused(
        dir.path(),
        "[x5]\nmechanism = { formula = \"f * exp(-g * x9^2) + h * x4\", params = [\"f\", \"g\", \"h\"] }\n",
    );
    // `x9` is the formula's 14th character, the line's 39th.
    for part in [
        "model.toml:2:39:",
        "`x5`'s formula `f * exp(-g * x9^2) + h * x4`, column 14",
        "unknown name `x9`; did you mean `x3`?",
        "the parents are x3, x4",
    ] {
        assert!(stderr.contains(part), "`{part}` not in: {stderr}");
    }
    // An undeclared parameter is the same error, not a new parameter.
    let stderr = refused(
        dir.path(),
        "[x5]\nmechanism = { formula = \"f * exp(-g * x3^2) + hh * x4\", init = { f = 1.0, g = 1.0, h = 0.0 } }\n",
    );
    assert!(
        stderr.contains("model.toml:2:47:") && stderr.contains("did you mean `h`?"),
        "{stderr}"
    );
}

#[test]
fn unknown_functions_and_broken_syntax_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str])] = &[
        (
            "mechanism = { formula = \"f * epx(x3) + x4\", params = [\"f\"] }",
            &[
                "model.toml:2:30:",
                "column 5",
                "unknown function `epx`; did you mean `exp`?",
            ],
        ),
        (
            "mechanism = { formula = \"f * gamma(x3) + x4\", params = [\"f\"] }",
            &[
                "model.toml:2:30:",
                "unknown function `gamma` (the functions are",
                "softplus",
            ],
        ),
        (
            "mechanism = { formula = \"f * (x3 + x4\", params = [\"f\"] }",
            &["model.toml:2:38:", "column 13", "expected `)`"],
        ),
        (
            "mechanism = { formula = \"f * x3 + x4\", params = [\"f\"], init = { g = 1.0 } }",
            &[
                "model.toml:2:13:",
                "`init` gives `g`, which `params` does not declare",
            ],
        ),
        (
            "mechanism = { formula = \"x3 * x4\", params = [\"x3\"] }",
            &["`x3` is a parent and cannot also be a parameter"],
        ),
        (
            "mechanism = { formula = \"f * x3 + x4\", parms = [\"f\"] }",
            &["model.toml:2:13:", "unknown field `parms`"],
        ),
    ];
    for (line, expected) in cases {
        let stderr = refused(dir.path(), &format!("[x5]\n{line}\n"));
        for part in *expected {
            assert!(stderr.contains(part), "{line}: `{part}` not in: {stderr}");
        }
    }
}

#[test]
fn a_parent_the_formula_never_reads_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("model.toml");
    std::fs::write(
        &spec,
        "[x5]\nmechanism = { formula = \"f * exp(-g * x3^2)\", params = [\"f\", \"g\"] }\n",
    )
    .unwrap();
    let output = causalgrad()
        .args(["fit", "--quiet", "--members", "0", "--steps", "5"])
        .arg("--data")
        .arg(scm5("train_10k.csv"))
        .arg("--graph")
        .arg(scm5("graph.dot"))
        .arg("--model")
        .arg(&spec)
        .arg("--out")
        .arg(dir.path().join("model.cg"))
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("warning: ")
            && stderr.contains("model.toml:2:25: `x5`'s formula never reads its parent `x4`"),
        "{stderr}"
    );
}
