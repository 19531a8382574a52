//! `causalgrad serve` as a user runs it: on a model fitted over contexts by
//! `causalgrad fit`, its `/v1/effect` answers byte for byte what
//! `causalgrad effect --json` prints (in a context too), SIGHUP reloads
//! the file, each request is logged, and SIGTERM stops it cleanly.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn scm5(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/scm5")
        .join(file)
}

/// The bundled contexts, 150 rows of each, in `dir`.
fn small_contexts(dir: &Path) -> PathBuf {
    for file in [
        "train_10k.csv",
        "do_x2_1.csv",
        "shift_x3_1.csv",
        "x5_changed.csv",
    ] {
        let text = std::fs::read_to_string(scm5(file)).unwrap();
        let head: Vec<&str> = text.lines().take(151).collect();
        std::fs::write(dir.join(file), head.join("\n") + "\n").unwrap();
    }
    let path = dir.join("contexts.toml");
    std::fs::copy(scm5("contexts.toml"), &path).unwrap();
    path
}

/// Fits a model over the contexts with `seed`, to `out`.
fn fit(contexts: &Path, out: &Path, seed: &str) {
    cargo_bin_cmd!("causalgrad")
        .args([
            "fit",
            "--quiet",
            "--steps",
            "20",
            "--lr",
            "0.05",
            "--members",
            "2",
        ])
        .args(["--seed", seed, "--contexts"])
        .arg(contexts)
        .arg("--graph")
        .arg(scm5("graph.dot"))
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

/// `causalgrad --json effect` with `extra` flags: its stdout line.
fn cli_effect(model: &Path, extra: &[&str]) -> String {
    let output = cargo_bin_cmd!("causalgrad")
        .args(["--json", "effect", "--treatment", "x2", "--outcome", "x5"])
        .args(["--a", "-1", "--b", "1", "-n", "3000", "--seed", "4"])
        .args(extra)
        .arg("--model")
        .arg(model)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

fn post(agent: &ureq::Agent, url: &str, body: &str) -> (u16, String) {
    let mut response = agent.post(url).send(body).unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn serve_answers_as_the_cli_reloads_on_sighup_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let contexts = small_contexts(dir.path());
    let model = dir.path().join("contexts.cg");
    fit(&contexts, &model, "0");

    let mut child = Command::new(env!("CARGO_BIN_EXE_causalgrad"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--threads",
            "2",
            "--model",
        ])
        .arg(&model)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in: {first}"))
        .to_string();
    let log = std::thread::spawn(move || {
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        rest
    });
    let url = |path: &str| format!("http://{addr}{path}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();

    let request =
        r#"{"treatment": "x2", "outcome": "x5", "a": -1, "b": 1, "samples": 3000, "seed": 4}"#;
    let (status, body) = post(&agent, &url("/v1/effect"), request);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, cli_effect(&model, &[]));
    let in_context = r#"{"treatment": "x2", "outcome": "x5", "a": -1, "b": 1, "samples": 3000, "seed": 4, "context": "x5-changed"}"#;
    let (status, body) = post(&agent, &url("/v1/effect"), in_context);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, cli_effect(&model, &["--context", "x5-changed"]));
    assert_ne!(body, cli_effect(&model, &[]));

    let description: Value = serde_json::from_str(
        &agent
            .get(url("/v1/model"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    let names: Vec<&str> = description["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["observational", "x2-clamped", "x3-shifted", "x5-changed"]
    );
    assert_eq!(description["generation"], 1);

    // A model fitted with another seed replaces the file; SIGHUP loads it.
    fit(&contexts, &model, "1");
    signal(&child, "-HUP");
    let mut generation = Value::Null;
    for _ in 0..100 {
        let text = agent
            .get(url("/v1/model"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        generation = serde_json::from_str::<Value>(&text).unwrap()["generation"].clone();
        if generation == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(generation, 2, "SIGHUP did not reload");
    let (_, body) = post(&agent, &url("/v1/effect"), request);
    assert_eq!(body, cli_effect(&model, &[]));

    signal(&child, "-TERM");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let log = log.join().unwrap();
    assert!(log.contains("POST /v1/effect 200"), "{log}");
    assert!(log.contains("GET /v1/model 200"), "{log}");
    assert!(log.contains("SIGHUP: reloaded the model"), "{log}");
}

#[test]
fn serve_names_a_bad_model_file_and_a_busy_address() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.cg");
    std::fs::write(&bad, "not a model").unwrap();
    let output = cargo_bin_cmd!("causalgrad")
        .args(["serve", "--addr", "127.0.0.1:0", "--model"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("bad.cg"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let model = dir.path().join("contexts.cg");
    fit(&small_contexts(dir.path()), &model, "0");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = cargo_bin_cmd!("causalgrad")
        .args(["serve", "--addr", &addr, "--model"])
        .arg(&model)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!("cannot serve on {addr}")),
        "{stderr}"
    );
}
