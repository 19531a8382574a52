//! `causalgrad serve`: a fitted model behind an HTTP API.

use std::net::SocketAddr;
use std::path::PathBuf;

use causalgrad_serve::{Limits, Served, Server};
use clap::Args;
use serde_json::json;

use crate::error::CliError;
use crate::output::Output;

/// Serve a fitted model over HTTP, JSON in and out: GET /healthz and
/// /v1/model; POST /v1/effect (the object `effect --json` prints),
/// /v1/sample, /v1/counterfactual and /v1/reload. SIGHUP reloads the model
/// file too; SIGTERM or Ctrl-C stop the server once the requests in flight
/// have finished.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  causalgrad serve --model model.cg
  causalgrad serve --model contexts.cg --addr 0.0.0.0:8080 --threads 4 --max-samples 100000
  curl -s localhost:8080/v1/effect -d '{\"treatment\": \"x2\", \"outcome\": \"x5\", \"a\": -1, \"b\": 1, \"samples\": 10000}'

A model fitted with `fit --contexts` answers in any of its contexts: put
\"context\": \"NAME\" in the request. One log line per request (method, path,
status, latency) goes to stderr at info level; RUST_LOG=warn silences
them. The endpoints, errors and limits are in docs/serve.md.")]
pub struct ServeArgs {
    /// A model written by `causalgrad fit` (with or without --contexts).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// The address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Threads that run the queries (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// The largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// The most Monte-Carlo samples (effect) or rows (sample) one request
    /// may ask.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_samples)]
    pub max_samples: usize,
    /// The most rows one counterfactual request may send.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_rows)]
    pub max_rows: usize,
    /// The most queries running at once; more are answered 503 at once.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_concurrent)]
    pub max_concurrent: usize,
}

/// Runs `serve` until SIGTERM or Ctrl-C.
pub fn run(args: ServeArgs) -> Result<Output, CliError> {
    if args.threads == Some(0) || args.max_concurrent == 0 {
        return Err(CliError::Usage(
            "--threads and --max-concurrent must be at least 1".into(),
        ));
    }
    let limits = Limits {
        max_body_bytes: args.max_body_bytes,
        max_samples: args.max_samples,
        max_rows: args.max_rows,
        max_concurrent: args.max_concurrent,
    };
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let served =
        Served::load(&args.model, limits).map_err(|source| CliError::ModelFile { source })?;
    let server = Server::start(served, args.addr, threads).map_err(|source| CliError::Listen {
        addr: args.addr,
        source,
    })?;
    let addr = server.addr();
    // Logging starts once: a second `serve` in the same process keeps it.
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .try_init();
    eprintln!(
        "serving {} on http://{addr} ({threads} query threads)",
        args.model.display()
    );
    server.wait().map_err(|source| CliError::Listen {
        addr: args.addr,
        source,
    })?;
    Ok(Output {
        text: format!(
            "stopped serving {} on http://{addr}\n",
            args.model.display()
        ),
        json: json!({"model": args.model, "addr": addr.to_string(), "stopped": true}),
    })
}
