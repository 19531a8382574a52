//! A user's CSV with a string category, 0/1 columns and a skewed continuous
//! column, fitted with the defaults: kinds detected, effects within
//! sampling error of the truth, labels kept in every output, bad values
//! named.

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use assert_cmd::Command;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp, Normal};
use serde_json::Value;

fn causalgrad() -> Command {
    cargo_bin_cmd!("causalgrad")
}

fn json(command: &mut Command) -> Value {
    let output = command
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .clone();
    serde_json::from_str(&String::from_utf8(output.stdout).unwrap()).unwrap()
}

/// `causalgrad effect` on `model` from `a` to `b`, as JSON.
fn effect_json(model: &Path, treatment: &str, outcome: &str, a: &str, b: &str) -> Value {
    json(
        causalgrad()
            .args(["effect", "--treatment", treatment, "--outcome", outcome])
            .args(["--a", a, "--b", b])
            .arg("--model")
            .arg(model),
    )
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

const REGIONS: [&str; 3] = ["north", "south", "west"];

/// One unit of the truth: region (string), age (raw years), then
/// treated ~ logistic(age, region), dose = 2 + 1.5 treated + Exp(1)
/// (skewed), outcome ~ logistic(dose, region, age).
struct Unit {
    region: usize,
    age: f64,
    skew: f64,
    u_treated: f64,
    u_outcome: f64,
}

fn draw(rng: &mut rand::rngs::StdRng) -> Unit {
    let p: f64 = rng.random();
    Unit {
        region: if p < 0.5 {
            0
        } else if p < 0.8 {
            1
        } else {
            2
        },
        age: Normal::new(40.0, 10.0).unwrap().sample(rng),
        skew: Exp::new(1.0).unwrap().sample(rng),
        u_treated: rng.random(),
        u_outcome: rng.random(),
    }
}

fn p_treated(unit: &Unit) -> f64 {
    sigmoid(-0.5 + 0.05 * (unit.age - 40.0) + [0.0, 0.8, -0.6][unit.region])
}

fn dose(unit: &Unit, treated: f64) -> f64 {
    2.0 + 1.5 * treated + unit.skew
}

fn p_outcome(unit: &Unit, dose: f64) -> f64 {
    sigmoid(-3.0 + 0.9 * dose + [0.0, 0.7, -0.4][unit.region] - 0.03 * (unit.age - 40.0))
}

/// The truth's effect of do(treated = 1) against do(treated = 0) on
/// P(outcome = 1).
fn true_effect() -> f64 {
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let n = 400_000;
    (0..n)
        .map(|_| {
            let unit = draw(&mut rng);
            p_outcome(&unit, dose(&unit, 1.0)) - p_outcome(&unit, dose(&unit, 0.0))
        })
        .sum::<f64>()
        / f64::from(n)
}

fn write_data(path: &Path, rows: usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut csv = String::from("id,region,age,treated,dose,outcome\n");
    for i in 0..rows {
        let unit = draw(&mut rng);
        let treated = f64::from(u8::from(unit.u_treated < p_treated(&unit)));
        let dose = dose(&unit, treated);
        let outcome = u8::from(unit.u_outcome < p_outcome(&unit, dose));
        csv.push_str(&format!(
            "u{i},{},{:.1},{treated},{dose:.4},{outcome}\n",
            REGIONS[unit.region], unit.age
        ));
    }
    std::fs::write(path, csv).unwrap();
}

#[test]
fn a_mixed_type_csv_fits_with_the_defaults_and_answers_within_sampling_error() {
    let dir = tempfile::tempdir().unwrap();
    let (data, graph, model) = (
        dir.path().join("data.csv"),
        dir.path().join("graph.dot"),
        dir.path().join("model.cg"),
    );
    write_data(&data, 10_000);
    std::fs::write(
        &graph,
        "digraph { region -> treated; age -> treated; treated -> dose; dose -> outcome; region -> outcome; age -> outcome; }",
    )
    .unwrap();
    let fitted = json(
        causalgrad()
            .args(["fit", "--quiet"])
            .arg("--data")
            .arg(&data)
            .arg("--graph")
            .arg(&graph)
            .arg("--out")
            .arg(&model),
    );
    let kinds: Vec<(String, String)> = fitted["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().into(),
                v["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    for (name, kind) in [
        ("region", "categorical"),
        ("age", "continuous"),
        ("treated", "binary"),
        ("dose", "continuous"),
        ("outcome", "binary"),
    ] {
        assert!(
            kinds.contains(&(name.into(), kind.into())),
            "{name}: {kinds:?}"
        );
    }
    let region = fitted["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "region")
        .unwrap();
    assert_eq!(region["levels"], serde_json::json!(REGIONS));
    assert_eq!(region["kind_source"], "detected");

    let effect = effect_json(&model, "treated", "outcome", "0", "1");
    let (ate, truth) = (effect["ate"].as_f64().unwrap(), true_effect());
    eprintln!("effect of treated on outcome: fitted {ate:.4}, truth {truth:.4}");
    // The default mixture noise fits the skewed mediator's Exp(1) errors;
    // the sampling error of the fitted effect from 10k rows is about 0.013.
    assert!((ate - truth).abs() < 0.02, "fitted {ate} vs truth {truth}");

    // The same with a Gaussian noise for the skewed mediator, which
    // misses its shape (the effect comes out further from the truth).
    let spec = dir.path().join("model.toml");
    std::fs::write(&spec, "[dose]\nnoise = \"gaussian\"\n").unwrap();
    let gaussian_model = dir.path().join("gaussian.cg");
    json(
        causalgrad()
            .args(["fit", "--quiet"])
            .arg("--data")
            .arg(&data)
            .arg("--graph")
            .arg(&graph)
            .arg("--model")
            .arg(&spec)
            .arg("--out")
            .arg(&gaussian_model),
    );
    let with_gaussian = effect_json(&gaussian_model, "treated", "outcome", "0", "1")["ate"]
        .as_f64()
        .unwrap();
    eprintln!("with a Gaussian for dose: {with_gaussian:.4}");
    assert!(
        (with_gaussian - truth).abs() < 0.04,
        "Gaussian {with_gaussian} vs truth {truth}"
    );

    // A categorical treatment is set by label.
    let by_region = effect_json(&model, "region", "outcome", "north", "south");
    assert!(by_region["ate"].as_f64().unwrap() > 0.0, "{by_region}");
    assert_eq!(by_region["b"], "south");

    // A categorical outcome: one effect per level, summing to zero.
    let on_region = effect_json(&model, "age", "region", "30", "50");
    let levels = on_region["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 3);
    let total: f64 = levels.iter().map(|l| l["ate"].as_f64().unwrap()).sum();
    assert!(total.abs() < 1e-9, "{on_region}");

    // Samples keep the labels and the 0/1 values.
    let samples = dir.path().join("samples.csv");
    let sampled = json(
        causalgrad()
            .args(["sample", "-n", "2000", "--do", "region=west"])
            .arg("--model")
            .arg(&model)
            .arg("--out")
            .arg(&samples),
    );
    assert_eq!(sampled["means"]["region"]["west"], 1.0);
    let text = std::fs::read_to_string(&samples).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "region,age,treated,dose,outcome");
    for line in lines.take(50) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0], "west");
        assert!(
            ["0", "1"].contains(&cells[2]) && ["0", "1"].contains(&cells[4]),
            "{line}"
        );
    }

    // Counterfactuals: one row per observed row per draw, labels kept.
    let cf = dir.path().join("cf.csv");
    let answered = json(
        causalgrad()
            .args(["counterfactual", "--do", "treated=1", "--samples", "3"])
            .arg("--model")
            .arg(&model)
            .arg("--rows")
            .arg(&data)
            .arg("--out")
            .arg(&cf),
    );
    assert_eq!(answered["rows"], 30_000);
    let text = std::fs::read_to_string(&cf).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "region,age,treated,dose,outcome,sample"
    );
    let first = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    assert!(REGIONS.contains(&first.as_str()), "{first}");

    // Plots draw discrete variables as bars of shares.
    let report = dir.path().join("report");
    json(
        causalgrad()
            .args([
                "plot",
                "--do",
                "treated=1",
                "--do",
                "region=west",
                "-n",
                "2000",
            ])
            .arg("--model")
            .arg(&model)
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&report),
    );
    for figure in ["do_treated_1.svg", "do_region_west.svg", "fit.svg"] {
        let svg = std::fs::read_to_string(report.join(figure)).unwrap();
        assert!(svg.contains("<svg"), "{figure}");
    }
    let svg = std::fs::read_to_string(report.join("do_treated_1.svg")).unwrap();
    assert!(
        svg.contains("share of each value") && svg.contains("north"),
        "bars with labels"
    );

    // Bad values name the variable and what it takes.
    let output = causalgrad()
        .args(["sample", "-n", "10", "--do", "region=east"])
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(dir.path().join("never.csv"))
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("--do region=east") && stderr.contains("north, south, west"),
        "{stderr}"
    );
    let output = causalgrad()
        .args([
            "effect",
            "--treatment",
            "treated",
            "--outcome",
            "outcome",
            "--a",
            "0",
            "--b",
            "2",
        ])
        .arg("--model")
        .arg(&model)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("`treated` is binary: 2 is not 0 or 1"),
        "{stderr}"
    );
}

#[test]
fn a_declared_kind_is_checked_against_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let (data, graph, spec) = (
        dir.path().join("data.csv"),
        dir.path().join("graph.dot"),
        dir.path().join("model.toml"),
    );
    std::fs::write(&data, "t,k\n0,1\n1,2\n2,0\n1,4\n").unwrap();
    std::fs::write(&graph, "digraph { t -> k }").unwrap();
    let refused = |toml: &str| {
        std::fs::write(&spec, toml).unwrap();
        let output = causalgrad()
            .args(["fit", "--quiet", "--steps", "5"])
            .arg("--data")
            .arg(&data)
            .arg("--graph")
            .arg(&graph)
            .arg("--model")
            .arg(&spec)
            .arg("--out")
            .arg(dir.path().join("m.cg"))
            .assert()
            .code(2)
            .get_output()
            .clone();
        String::from_utf8(output.stderr).unwrap()
    };
    let stderr = refused("[t]\nkind = \"binary\"\n[k]\nkind = \"count\"\nnoise = \"poisson\"\n");
    assert!(
        stderr.contains("`t` is binary: row 3: 2 is not 0 or 1"),
        "{stderr}"
    );
    // Gaussian noise on a count is refused where it is written.
    let stderr = refused("[k]\nkind = \"count\"\nnoise = \"gaussian\"\n");
    assert!(
        stderr.contains("model.toml:3:9") && stderr.contains("`k` is count"),
        "{stderr}"
    );
}
