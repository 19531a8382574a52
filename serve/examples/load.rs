//! A load test of the server on loopback: for `/v1/effect` (10,000
//! samples per arm) and a single-row `/v1/counterfactual`, at 1, 8 and 64
//! concurrent clients (each a thread with a keep-alive connection, one
//! request after another), the throughput and the p50/p99 latency.
//! Bounded: each run stops after its request count or its time budget,
//! whichever comes first.
//!
//! ```sh
//! causalgrad fit --data data/scm5/train_10k.csv --graph data/scm5/graph.dot --out model.cg
//! cargo build -p causalgrad-serve --examples
//! ./target/debug/examples/load model.cg [seconds per run, default 10]
//! ```
//!
//! The server runs in this process (its own runtime, two query threads
//! unless `THREADS` says otherwise), so clients and server share the
//! machine's cores, as on a single host.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use causalgrad_serve::{Limits, Served, Server};

/// One endpoint under load.
struct Case {
    name: &'static str,
    path: &'static str,
    body: &'static str,
    /// The most requests one run sends.
    requests: usize,
}

const CASES: [Case; 2] = [
    Case {
        name: "effect, 10k samples",
        path: "/v1/effect",
        body: r#"{"treatment": "x2", "outcome": "x5", "a": -1, "b": 1, "samples": 10000, "seed": 0}"#,
        requests: 2_000,
    },
    Case {
        name: "counterfactual, 1 row",
        path: "/v1/counterfactual",
        body: r#"{"rows": [{"x1": 0.1, "x2": 0.3, "x3": -0.2, "x4": 0.5, "x5": 0.2}], "do": {"x2": 1.0}}"#,
        requests: 200_000,
    },
];

const CLIENTS: [usize; 3] = [1, 8, 64];

/// What one run measured.
struct Run {
    requests: usize,
    failed: usize,
    seconds: f64,
    /// Sorted latencies, in seconds.
    latencies: Vec<f64>,
}

impl Run {
    fn quantile(&self, q: f64) -> f64 {
        let index = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies[index]
    }
}

/// `clients` threads sending `case` until `case.requests` are sent in all
/// or `budget` has passed.
fn run(addr: std::net::SocketAddr, case: &Case, clients: usize, budget: Duration) -> Run {
    let url = format!("http://{addr}{}", case.path);
    let sent = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (url, sent, body, most) = (url.clone(), sent.clone(), case.body, case.requests);
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let (mut latencies, mut failed) = (Vec::new(), 0);
                while start.elapsed() < budget && sent.fetch_add(1, Ordering::Relaxed) < most {
                    let began = Instant::now();
                    let ok = agent
                        .post(&url)
                        .send(body)
                        .ok()
                        .and_then(|mut r| {
                            let status = r.status();
                            r.body_mut().read_to_string().ok().map(|_| status == 200)
                        })
                        .unwrap_or(false);
                    latencies.push(began.elapsed().as_secs_f64());
                    failed += usize::from(!ok);
                }
                (latencies, failed)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failed = 0;
    for thread in threads {
        let (l, f) = thread.join().expect("a client thread");
        latencies.extend(l);
        failed += f;
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Run {
        requests: latencies.len(),
        failed,
        seconds,
        latencies,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let model = args
        .next()
        .ok_or("usage: load MODEL.cg [seconds per run]")?;
    let seconds: f64 = args.next().map_or(Ok(10.0), |s| s.parse())?;
    let threads: usize = std::env::var("THREADS").map_or(Ok(2), |t| t.parse())?;
    let served = Served::load(&model, Limits::default())?;
    let server = Server::start(served, "127.0.0.1:0".parse()?, threads)?;
    let budget = Duration::from_secs_f64(seconds);
    println!("| endpoint | clients | requests | failed | requests/s | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for case in &CASES {
        // One warm-up request, not counted.
        run(
            server.addr(),
            &Case {
                requests: 1,
                ..*case
            },
            1,
            budget,
        );
        for clients in CLIENTS {
            let r = run(server.addr(), case, clients, budget);
            println!(
                "| {} | {clients} | {} | {} | {:.0} | {:.2} ms | {:.2} ms |",
                case.name,
                r.requests,
                r.failed,
                r.requests as f64 / r.seconds,
                1e3 * r.quantile(0.5),
                1e3 * r.quantile(0.99),
            );
        }
    }
    server.shutdown()?;
    Ok(())
}
