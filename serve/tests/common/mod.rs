//! What the server's tests share: a small fitted model with a categorical
//! variable and ensemble members, saved to a file, and a client.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use causalgrad::fit::{FitConfig, MemberConfig};
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Scm, VariableKind};
use causalgrad_serve::{Limits, Served, Server};
use serde_json::Value;

pub const REGIONS: [&str; 3] = ["north", "south", "west"];

fn graph() -> CausalGraph {
    CausalGraph::new(
        ["region", "z", "t", "y"],
        [("z", "t"), ("z", "y"), ("t", "y"), ("region", "y")],
    )
    .unwrap()
}

fn builder() -> Scm {
    Scm::builder(graph())
        .kind("region", VariableKind::categorical(REGIONS))
        .build()
        .unwrap()
}

/// The truth: t = 0.8 z + e, y linear in z, t and the region + e.
fn truth() -> Scm {
    let mut scm = builder();
    scm.set_params("t", &[0.0, 0.8]).unwrap();
    let slopes = [0.5f32, -1.0, 2.0, 1.0, -0.5];
    let count = scm.params("y").unwrap().len();
    scm.set_params("y", &slopes[..count]).unwrap();
    scm
}

/// A model of the truth fitted to 500 rows, with 3 ensemble members.
fn fitted() -> Scm {
    let data = truth().sample(500, 1).unwrap();
    let mut model = builder();
    let config = FitConfig::adam(0.05).with_steps(150);
    model.fit(&data, &config).unwrap();
    model
        .fit_members(&data, &config, &MemberConfig::new(3))
        .unwrap();
    model
}

/// The fitted model's file (fitted once per test binary); each call gets
/// its own copy in `dir`, so a test may replace it.
pub fn model_file(dir: &Path) -> PathBuf {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, original) = MODEL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.cg");
        fitted().save(&path).unwrap();
        (dir, path)
    });
    let copy = dir.join("model.cg");
    std::fs::copy(original, &copy).unwrap();
    copy
}

/// A server on a free loopback port over a copy of the model.
pub struct Running {
    pub server: Server,
    pub model: PathBuf,
    /// Holds the model's copy.
    pub _dir: tempfile::TempDir,
}

pub fn start(limits: Limits) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let model = model_file(dir.path());
    let served = Served::load(&model, limits).unwrap();
    let server = Server::start(served, "127.0.0.1:0".parse().unwrap(), 2).unwrap();
    Running {
        server,
        model,
        _dir: dir,
    }
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr())
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    /// `GET path`: the status and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut response = Self::agent().get(self.url(path)).call().unwrap();
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().unwrap())
    }

    /// `POST path` with `body`: the status and the body.
    pub fn post(&self, path: &str, body: &str) -> (u16, String) {
        let mut response = Self::agent()
            .post(self.url(path))
            .header("content-type", "application/json")
            .send(body)
            .unwrap();
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().unwrap())
    }

    /// `POST path` with `body`, expecting `status`: the body as JSON.
    pub fn post_json(&self, path: &str, body: &str, status: u16) -> Value {
        let (got, text) = self.post(path, body);
        assert_eq!(got, status, "POST {path} {body}: {text}");
        serde_json::from_str(&text).unwrap()
    }
}
