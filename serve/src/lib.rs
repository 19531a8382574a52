//! An HTTP server for a fitted causalgrad model file, JSON in and out:
//! `GET /healthz`, `GET /v1/model`, `POST /v1/effect` (the object
//! `causalgrad effect --json` prints, from the same code), `/v1/sample`,
//! `/v1/counterfactual`, `/v1/reload` (also on SIGHUP) and `GET /metrics`
//! (Prometheus). The endpoints, errors and limits are in `docs/serve.md`.
//!
//! Queries run on tokio's blocking pool, never on the async workers; the
//! model is shared read-only between them and swapped atomically on
//! reload, so requests in flight finish on the model they started with,
//! and a file that fails to load leaves the old model serving.
//!
//! ```no_run
//! use causalgrad_serve::{Limits, Served, Server};
//!
//! let served = Served::load("model.cg", Limits::default())?;
//! let server = Server::start(served, "127.0.0.1:8080".parse()?, 2)?;
//! println!("listening on {}", server.addr());
//! server.wait()?; // until SIGTERM or Ctrl-C, reloading on SIGHUP
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod metrics;
mod model;
mod request;
mod routes;
mod server;

pub use error::ApiError;
pub use metrics::Metrics;
pub use model::{LoadedModel, Served};
pub use routes::router;
pub use server::Server;

/// Limits on what one request may ask, and on how many run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body, in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// The most Monte-Carlo samples (`/v1/effect`) or rows (`/v1/sample`)
    /// one request may ask (more: 413).
    pub max_samples: usize,
    /// The most rows one counterfactual request may send (more: 413).
    pub max_rows: usize,
    /// The most queries that run at once (more: 503 at once, never a
    /// queue that grows without bound).
    pub max_concurrent: usize,
}

impl Default for Limits {
    /// 1 MiB bodies, a million samples, 10,000 counterfactual rows and
    /// 256 concurrent queries.
    fn default() -> Self {
        Limits {
            max_body_bytes: 1 << 20,
            max_samples: 1_000_000,
            max_rows: 10_000,
            max_concurrent: 256,
        }
    }
}
