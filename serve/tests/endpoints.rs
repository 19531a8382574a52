//! Every endpoint on a loopback port, against the library's answers (the
//! ones `causalgrad` prints), and the bad requests a client may send.

mod common;

use causalgrad::answer::{self, EffectQuery};
use causalgrad::scm::Scm;
use causalgrad_serve::Limits;
use serde_json::{json, Value};

use common::{start, REGIONS};

#[test]
fn healthz_and_model() {
    let running = start(Limits::default());
    let (status, body) = running.get("/healthz");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));

    let (status, body) = running.get("/v1/model");
    assert_eq!(status, 200, "{body}");
    let model: Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = model["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4);
    for name in ["region", "z", "t", "y"] {
        assert!(names.contains(&name), "{names:?}");
    }
    let y = model["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "y")
        .unwrap();
    let mut parents: Vec<&str> = y["parents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    parents.sort_unstable();
    assert_eq!(parents, ["region", "t", "z"]);
    assert_eq!(y["kind"], "continuous");
    let region = model["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "region")
        .unwrap();
    assert_eq!(region["kind"], "categorical");
    assert_eq!(region["levels"], json!(REGIONS));
    assert_eq!(model["members"], 3);
    assert_eq!(model["generation"], 1);
    assert_eq!(model["format_version"], causalgrad::scm::FORMAT_VERSION);
    assert_eq!(model["contexts"], json!([]));
    running.server.shutdown().unwrap();
}

#[test]
fn effect_is_the_library_answer_and_deterministic() {
    let running = start(Limits::default());
    let request =
        r#"{"treatment": "t", "outcome": "y", "a": -1, "b": 1, "samples": 2000, "seed": 7}"#;
    let (status, first) = running.post("/v1/effect", request);
    assert_eq!(status, 200, "{first}");
    let (_, second) = running.post("/v1/effect", request);
    assert_eq!(first, second, "the same request gave other bytes");

    let scm = Scm::load(&running.model).unwrap();
    let query = EffectQuery::new("t", "y", "-1", "1")
        .with_samples(2000)
        .with_seed(7);
    let expected = answer::effect(&scm, &query).unwrap().json();
    assert_eq!(first, serde_json::to_string(&expected).unwrap());
    let got: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(got["interval_method"], "ensemble");
    assert_eq!(got["member_estimates"].as_array().unwrap().len(), 3);
    assert!(got["ci_low"].as_f64().unwrap() < got["ate"].as_f64().unwrap());
    assert!(got["extrapolation"].is_array());

    // Another seed, another Monte-Carlo draw.
    let other = running.post_json(
        "/v1/effect",
        r#"{"treatment": "t", "outcome": "y", "a": -1, "b": 1, "samples": 2000, "seed": 8}"#,
        200,
    );
    assert_ne!(other["mean_a"], got["mean_a"]);
}

#[test]
fn effect_of_a_categorical_treatment_by_label() {
    let running = start(Limits::default());
    let got = running.post_json(
        "/v1/effect",
        r#"{"treatment": "region", "outcome": "y", "a": "north", "b": "west", "samples": 1000}"#,
        200,
    );
    let scm = Scm::load(&running.model).unwrap();
    let query = EffectQuery::new("region", "y", "north", "west").with_samples(1000);
    assert_eq!(got, answer::effect(&scm, &query).unwrap().json());
    assert_eq!(got["a"], "north");
}

#[test]
fn sample_draws_the_library_samples() {
    let running = start(Limits::default());
    let got = running.post_json(
        "/v1/sample",
        r#"{"n": 50, "do": {"t": 1.5, "region": "south"}, "seed": 3}"#,
        200,
    );
    let expected = Scm::load(&running.model)
        .unwrap()
        .intervene(&[("t", 1.5), ("region", 1.0)])
        .unwrap()
        .sample(50, 3)
        .unwrap();
    let columns = got["columns"].as_object().unwrap();
    assert_eq!(columns.len(), 4);
    let y: Vec<f64> = columns["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(y, expected.column("y").unwrap());
    assert!(columns["t"].as_array().unwrap().iter().all(|v| v == 1.5));
    assert!(columns["region"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v == "south"));
}

#[test]
fn counterfactual_rows_come_back_in_order() {
    let running = start(Limits::default());
    let rows = json!([
        {"region": "north", "z": 0.1, "t": 0.3, "y": 1.0, "id": 17},
        {"region": "west", "z": -1.0, "t": -0.5, "y": -2.0},
    ]);
    let request = json!({"rows": rows, "do": {"t": 1.0}}).to_string();
    let got = running.post_json("/v1/counterfactual", &request, 200);
    let scm = Scm::load(&running.model).unwrap();
    let observed = causalgrad::data::Dataset::from_columns([
        ("region", vec![0.0, 2.0]),
        ("z", vec![0.1, -1.0]),
        ("t", vec![0.3, -0.5]),
        ("y", vec![1.0, -2.0]),
    ])
    .unwrap();
    let expected = scm.counterfactual(&observed, &[("t", 1.0)]).unwrap();
    let out = got["rows"].as_array().unwrap();
    assert_eq!(out.len(), 2);
    for (i, row) in out.iter().enumerate() {
        assert_eq!(row["t"], 1.0);
        assert_eq!(row["z"], observed.column("z").unwrap()[i]);
        assert_eq!(row["y"], expected.column("y").unwrap()[i]);
        assert_eq!(row["region"], ["north", "west"][i]);
    }
    assert_ne!(out[0]["y"], 1.0, "y is downstream of t and changes");
}

/// The error body of a request that must fail with `status`.
fn error(running: &common::Running, path: &str, body: &str, status: u16) -> Value {
    let got = running.post_json(path, body, status);
    assert!(
        got["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{got}"
    );
    got
}

#[test]
fn bad_requests_get_typed_errors() {
    let limits = Limits {
        max_samples: 10_000,
        max_body_bytes: 4096,
        ..Limits::default()
    };
    let running = start(limits);

    let e = error(
        &running,
        "/v1/effect",
        r#"{"treatment": "x9", "outcome": "y", "a": 0, "b": 1, "samples": 100}"#,
        400,
    );
    assert_eq!(
        (
            e["kind"].as_str(),
            e["field"].as_str(),
            e["variable"].as_str()
        ),
        (Some("bad_request"), Some("treatment"), Some("x9"))
    );
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("unknown variable `x9`"),
        "{e}"
    );

    let e = error(
        &running,
        "/v1/sample",
        r#"{"n": 10, "do": {"region": "east"}}"#,
        400,
    );
    assert_eq!(
        (e["field"].as_str(), e["variable"].as_str()),
        (Some("do.region"), Some("region"))
    );
    assert!(e["error"].as_str().unwrap().contains("east"), "{e}");
    assert!(
        e["error"].as_str().unwrap().contains("north, south, west"),
        "{e}"
    );

    let e = error(
        &running,
        "/v1/effect",
        r#"{"treatment": "region", "outcome": "y", "a": "north", "b": "east", "samples": 100}"#,
        400,
    );
    assert_eq!(
        (e["field"].as_str(), e["variable"].as_str()),
        (Some("b"), Some("region"))
    );

    let e = error(
        &running,
        "/v1/effect",
        r#"{"treatment": "t", "outcome": "y", "a": 0, "b": 1"#,
        400,
    );
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("malformed request body"),
        "{e}"
    );
    assert!(
        e["error"].as_str().unwrap().contains("line 1 column"),
        "{e}"
    );
    assert_eq!(e["field"], Value::Null);

    let e = error(
        &running,
        "/v1/effect",
        r#"{"treatment": "t", "outcome": "y", "a": 0, "b": 1, "samples": "many"}"#,
        400,
    );
    assert_eq!(e["field"], "samples");

    let e = error(
        &running,
        "/v1/effect",
        r#"{"treatment": "t", "outcome": "y", "a": 0, "b": 1, "samples": 20000}"#,
        413,
    );
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("too_large"), Some("samples"))
    );

    let e = error(&running, "/v1/sample", r#"{"n": 1000000}"#, 413);
    assert_eq!(e["field"], "n");

    let e = error(
        &running,
        "/v1/effect",
        r#"{"treatment": "t", "outcome": "y", "a": null, "b": 1, "samples": 100}"#,
        400,
    );
    assert_eq!(e["field"], "a");

    let e = error(
        &running,
        "/v1/effect",
        r#"{"treatment": "t", "outcome": "y", "a": 0, "b": 1, "samples": 100, "level": 1.5}"#,
        400,
    );
    assert_eq!(e["field"], "level");

    let e = error(
        &running,
        "/v1/effect",
        r#"{"treatment": "t", "outcome": "y", "a": 0, "b": 1, "samples": 100, "context": "x2-clamped"}"#,
        400,
    );
    assert_eq!(e["field"], "context");

    let e = error(
        &running,
        "/v1/effect",
        r#"{"treatment": "t", "outcome": "y", "a": 0, "b": 1, "samples": 100, "sample": 10}"#,
        400,
    );
    assert!(e["error"].as_str().unwrap().contains("sample"), "{e}");

    let e = error(
        &running,
        "/v1/counterfactual",
        r#"{"rows": [{"region": "north", "z": 0.1, "t": 0.3}], "do": {"t": 1}}"#,
        400,
    );
    assert_eq!(
        (e["field"].as_str(), e["variable"].as_str()),
        (Some("rows[0]"), Some("y"))
    );

    let e = error(
        &running,
        "/v1/counterfactual",
        r#"{"rows": [], "do": {"t": 1}}"#,
        400,
    );
    assert_eq!(e["field"], "rows");

    let e = error(
        &running,
        "/v1/sample",
        r#"{"n": 10, "do": {"t": "NaN"}}"#,
        400,
    );
    assert_eq!(e["variable"], "t");

    let big = format!(r#"{{"n": 1, "seed": 0, "pad": "{}"}}"#, "x".repeat(5000));
    let e = error(&running, "/v1/sample", &big, 413);
    assert_eq!(e["kind"], "bad_body");

    // The server is still up.
    assert_eq!(running.get("/healthz").0, 200);
    assert_eq!(running.get("/v1/nothing").0, 404);
}

#[test]
fn metrics_count_requests_per_route() {
    let running = start(Limits::default());
    for _ in 0..3 {
        assert_eq!(running.get("/healthz").0, 200);
    }
    error(&running, "/v1/sample", r#"{"n": "many"}"#, 400);
    assert_eq!(running.get("/no/such/path").0, 404);
    let (status, text) = running.get("/metrics");
    assert_eq!(status, 200, "{text}");
    let count = |labels: &str| -> f64 {
        let prefix = format!("causalgrad_http_requests_total{{{labels}}} ");
        let line = text.lines().find(|l| l.starts_with(&prefix));
        let line = line.unwrap_or_else(|| panic!("no {prefix} in\n{text}"));
        line[prefix.len()..].parse().unwrap()
    };
    assert_eq!(
        count(r#"endpoint="/healthz",method="GET",status="200""#),
        3.0
    );
    assert_eq!(
        count(r#"endpoint="/v1/sample",method="POST",status="400""#),
        1.0
    );
    // An unknown path is counted under one label, not its own.
    assert_eq!(
        count(r#"endpoint="unmatched",method="GET",status="404""#),
        1.0
    );
    assert!(!text.contains("/no/such/path"));
    let timed = r#"causalgrad_http_request_duration_seconds_count{endpoint="/healthz"} 3"#;
    assert!(text.lines().any(|l| l == timed), "{text}");
}
