//! `effect` intervals from `fit`'s ensemble members, their level, the
//! Monte-Carlo error beside them, and the extrapolation warning.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use assert_cmd::Command;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde_json::Value;

fn causalgrad() -> Command {
    cargo_bin_cmd!("causalgrad")
}

/// y = 2 x + 0.5 e with x ~ N(0, 1), 2000 rows, and its graph, in a
/// fresh directory.
fn data(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("causalgrad-intervals-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut csv = String::from("x,y\n");
    for _ in 0..2000 {
        let x: f64 = StandardNormal.sample(&mut rng);
        let e: f64 = StandardNormal.sample(&mut rng);
        csv.push_str(&format!("{x},{}\n", 2.0 * x + 0.5 * e));
    }
    std::fs::write(dir.join("data.csv"), csv).unwrap();
    std::fs::write(dir.join("graph.dot"), "digraph { x -> y }\n").unwrap();
    (dir.join("data.csv"), dir.join("graph.dot"), dir)
}

fn fit(name: &str, members: &str) -> PathBuf {
    let (csv, graph, dir) = data(name);
    let model = dir.join("model.cg");
    let output = causalgrad()
        .args([
            "fit",
            "--quiet",
            "--steps",
            "600",
            "--members",
            members,
            "--json",
        ])
        .arg("--data")
        .arg(&csv)
        .arg("--graph")
        .arg(&graph)
        .arg("--out")
        .arg(&model)
        .assert()
        .success()
        .get_output()
        .clone();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["members"], members.parse::<u64>().unwrap());
    model
}

fn effect(model: &Path, extra: &[&str]) -> (Value, String) {
    let run = |json: bool| {
        let mut command = causalgrad();
        command
            .args(["effect", "--treatment", "x", "--outcome", "y", "--a", "0"])
            .args(extra)
            .arg("--model")
            .arg(model);
        if json {
            command.arg("--json");
        }
        let output = command.assert().success().get_output().clone();
        String::from_utf8(output.stdout).unwrap()
    };
    (serde_json::from_str(&run(true)).unwrap(), run(false))
}

#[test]
fn effect_gives_an_ensemble_interval_that_covers_the_truth() {
    let model = fit("ensemble", "4");
    let (json, text) = effect(&model, &["--b", "1"]);
    let (ate, low, high) = (
        json["ate"].as_f64().unwrap(),
        json["ci_low"].as_f64().unwrap(),
        json["ci_high"].as_f64().unwrap(),
    );
    assert!(low < ate && ate < high, "{json}");
    assert!(
        low <= 2.0 && 2.0 <= high,
        "the truth 2 is outside [{low}, {high}]"
    );
    assert!(
        high - low < 0.5,
        "[{low}, {high}] is too wide to say anything"
    );
    assert_eq!(json["level"], 0.95);
    assert_eq!(json["interval_method"], "ensemble");
    assert_eq!(json["member_estimates"].as_array().unwrap().len(), 4);
    assert!(json["model_stderr"].as_f64().unwrap() > 0.0);
    assert_eq!(json["mc_stderr"], json["stderr"]);
    assert!(text.contains("95% interval ["), "{text}");
    assert!(text.contains("ensemble of 4 members"), "{text}");
    assert!(!text.contains("warning"), "{text}");
    let y = &json["extrapolation"][0];
    assert_eq!(y["variable"], "y");
    assert!(y["outside_b"].as_f64().unwrap() < 0.05, "{y}");

    // A lower level gives a narrower interval around the same estimate.
    let (narrow, _) = effect(&model, &["--b", "1", "--level", "0.8"]);
    assert_eq!(narrow["ate"], json["ate"]);
    let width = |j: &Value| j["ci_high"].as_f64().unwrap() - j["ci_low"].as_f64().unwrap();
    assert!(width(&narrow) < width(&json));

    // Far outside the data: warned, in the text and the JSON.
    let (far, text) = effect(&model, &["--b", "8"]);
    assert!(text.contains("warning: under do(x = 8)"), "{text}");
    assert!(far["extrapolation"][0]["outside_b"].as_f64().unwrap() > 0.9);
}

#[test]
fn without_members_the_interval_says_it_is_monte_carlo_only() {
    let model = fit("none", "0");
    let (json, text) = effect(&model, &["--b", "1"]);
    assert_eq!(json["interval_method"], "monte_carlo");
    assert!(text.contains("no ensemble members"), "{text}");
}

#[test]
fn a_level_that_is_not_a_fraction_is_a_usage_error() {
    let model = fit("level", "2");
    let output = causalgrad()
        .args([
            "effect",
            "--treatment",
            "x",
            "--outcome",
            "y",
            "--a",
            "0",
            "--b",
            "1",
        ])
        .args(["--level", "95", "--model"])
        .arg(&model)
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--level 95 is not a fraction"), "{stderr}");
}

/// `fit --select` on y = 2 x + 0.5 e: a linear mechanism for y, the
/// choice and every candidate's score in the JSON and the text, and a
/// noise the model file declares kept as declared.
#[test]
fn select_chooses_per_variable_and_keeps_declarations() {
    let (csv, graph, dir) = data("select");
    std::fs::write(dir.join("model.toml"), "[x]\nnoise = \"laplace\"\n").unwrap();
    let run = |json: bool| {
        let mut command = causalgrad();
        command
            .args(["fit", "--quiet", "--select", "--members", "0"])
            .arg("--data")
            .arg(&csv)
            .arg("--graph")
            .arg(&graph)
            .arg("--model")
            .arg(dir.join("model.toml"))
            .arg("--out")
            .arg(dir.join("model.cg"));
        if json {
            command.arg("--json");
        }
        let output = command.assert().success().get_output().clone();
        String::from_utf8(output.stdout).unwrap()
    };
    let json: Value = serde_json::from_str(&run(true)).unwrap();
    let selection = &json["selection"];
    assert_eq!(
        selection["candidates"],
        serde_json::json!(["linear", "additive(8)", "mlp(16)", "mixture noise"])
    );
    let y = &selection["variables"][1];
    assert_eq!(y["name"], "y");
    assert_eq!(y["chosen"], "linear", "{selection}");
    assert_eq!(y["mechanism"], "linear");
    assert!(y["validation_log_likelihood"]["mlp(16)"].is_number());
    let x = &selection["variables"][0];
    assert_eq!(x["noise"], "laplace", "{selection}");
    assert_eq!(json["variables"][0]["noise"], "laplace");
    let text = run(false);
    assert!(
        text.contains("mechanism selection: 4 candidates") && text.contains("  y: linear ("),
        "{text}"
    );

    // Selection compares held-out rows: none is a usage error.
    let output = causalgrad()
        .args(["fit", "--quiet", "--select", "--validation", "0"])
        .arg("--data")
        .arg(&csv)
        .arg("--graph")
        .arg(&graph)
        .arg("--out")
        .arg(dir.join("none.cg"))
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("validation split"), "{stderr}");
}

/// `counterfactual` gives each mean change an interval from the members
/// (y = 2 x + 0.5 e: do(x = 1) moves y by 2 (1 − mean x) on average), and
/// a model without members says its intervals are the Monte-Carlo error's.
#[test]
fn counterfactual_mean_changes_carry_intervals() {
    let (csv, ..) = data("cf");
    for (members, method) in [("4", "ensemble"), ("0", "monte_carlo")] {
        let model = fit(&format!("cf-{members}"), members);
        let out = model.with_file_name("cf.csv");
        let run = |json: bool| {
            let mut command = causalgrad();
            command
                .args(["counterfactual", "--do", "x=1"])
                .arg("--model")
                .arg(&model)
                .arg("--rows")
                .arg(&csv)
                .arg("--out")
                .arg(&out);
            if json {
                command.arg("--json");
            }
            String::from_utf8(command.assert().success().get_output().stdout.clone()).unwrap()
        };
        let json: Value = serde_json::from_str(&run(true)).unwrap();
        let y = &json["mean_change_interval"]["y"];
        assert_eq!(y["interval_method"], method);
        let change = json["mean_change"]["y"].as_f64().unwrap();
        let (low, high) = (
            y["ci_low"].as_f64().unwrap(),
            y["ci_high"].as_f64().unwrap(),
        );
        assert!(low <= change && change <= high, "{json}");
        let text = run(false);
        assert!(text.contains("mean change of y: "), "{text}");
        if members == "0" {
            assert!(
                text.contains("note: the model has no ensemble members"),
                "{text}"
            );
        } else {
            assert!(
                high - low > 0.0 && text.contains("(ensemble of 4 members)"),
                "{text}"
            );
        }
    }
}
