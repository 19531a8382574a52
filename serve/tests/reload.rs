//! Reloading: the new model is swapped in atomically, a file that fails
//! to load leaves the old model serving, requests under load never fail,
//! and shutdown lets requests in flight finish.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use causalgrad::answer::{self, EffectQuery};
use causalgrad::scm::Scm;
use causalgrad_serve::Limits;
use serde_json::Value;

use common::start;

const EFFECT: &str = r#"{"treatment": "t", "outcome": "y", "a": 0, "b": 1, "samples": 500}"#;

/// The effect JSON `scm` gives for [`EFFECT`].
fn expected(scm: &Scm) -> String {
    let query = EffectQuery::new("t", "y", "0", "1").with_samples(500);
    serde_json::to_string(&answer::effect(scm, &query).unwrap().json()).unwrap()
}

/// `scm` with the slope of y on t moved by `delta` (all of y's
/// parameters, so whichever is t's moves).
fn changed(scm: &Scm, delta: f32) -> Scm {
    let mut scm = scm.clone();
    let params: Vec<f32> = scm.params("y").unwrap().iter().map(|p| p + delta).collect();
    scm.set_params("y", &params).unwrap();
    scm
}

#[test]
fn reload_swaps_the_model_and_a_bad_file_keeps_the_old_one() {
    let running = start(Limits::default());
    let old = Scm::load(&running.model).unwrap();
    assert_eq!(running.post("/v1/effect", EFFECT).1, expected(&old));

    let new = changed(&old, 1.0);
    new.save(&running.model).unwrap();
    // Nothing changes until the reload.
    assert_eq!(running.post("/v1/effect", EFFECT).1, expected(&old));
    let reloaded = running.post_json("/v1/reload", "", 200);
    assert_eq!(reloaded["generation"], 2);
    let new = Scm::load(&running.model).unwrap();
    assert_eq!(running.post("/v1/effect", EFFECT).1, expected(&new));
    assert_ne!(expected(&new), expected(&old));

    std::fs::write(&running.model, b"not a model file").unwrap();
    let failed = running.post_json("/v1/reload", "", 500);
    assert_eq!(failed["kind"], "reload_failed");
    let message = failed["error"].as_str().unwrap();
    assert!(message.contains("model.cg"), "{message}");
    assert!(message.contains("keeps serving"), "{message}");
    assert_eq!(running.post("/v1/effect", EFFECT).1, expected(&new));
    let model: Value = serde_json::from_str(&running.get("/v1/model").1).unwrap();
    assert_eq!(model["generation"], 2);

    std::fs::remove_file(&running.model).unwrap();
    assert_eq!(
        running.post_json("/v1/reload", "", 500)["kind"],
        "reload_failed"
    );
    assert_eq!(running.post("/v1/effect", EFFECT).1, expected(&new));
    running.server.shutdown().unwrap();
}

#[test]
fn no_request_fails_while_the_file_is_replaced_and_reloaded() {
    let running = Arc::new(start(Limits::default()));
    let first = Scm::load(&running.model).unwrap();
    let versions: Vec<Scm> = (0..4).map(|k| changed(&first, 0.5 * k as f32)).collect();
    let answers: Vec<String> = versions.iter().map(expected).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let (running, stop, answers) = (running.clone(), stop.clone(), answers.clone());
            std::thread::spawn(move || {
                let mut seen = 0;
                while !stop.load(Ordering::SeqCst) {
                    let (status, body) = running.post("/v1/effect", EFFECT);
                    assert_eq!(status, 200, "{body}");
                    assert!(answers.contains(&body), "an answer of no model: {body}");
                    seen += 1;
                }
                seen
            })
        })
        .collect();
    for (k, version) in versions.iter().enumerate().skip(1) {
        version.save(&running.model).unwrap();
        let reloaded = running.post_json("/v1/reload", "", 200);
        assert_eq!(reloaded["generation"], k as u64 + 1);
        assert_eq!(running.post("/v1/effect", EFFECT).1, answers[k]);
    }
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        assert!(client.join().unwrap() > 0);
    }
}

#[test]
fn shutdown_lets_a_request_in_flight_finish() {
    let running = start(Limits::default());
    let addr = running.server.addr();
    let slow = std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent
            .post(format!("http://{addr}/v1/effect"))
            .send(r#"{"treatment": "t", "outcome": "y", "a": 0, "b": 1, "samples": 1000000}"#)
            .unwrap();
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().unwrap())
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    running.server.shutdown().unwrap();
    let (status, body) = slow.join().unwrap();
    assert_eq!(status, 200, "{body}");
    let effect: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(effect["samples"], 1_000_000);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the server still listens"
    );
}
