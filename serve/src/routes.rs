//! The endpoints: each reads its request, runs its query on the blocking
//! pool with the model now serving, and answers JSON.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use causalgrad::answer::{self, EffectQuery, DEFAULT_EFFECT_SAMPLES};
use causalgrad::uncertainty::DEFAULT_LEVEL;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;

use crate::metrics::{self, Metrics};
use crate::model::LoadedModel;
use crate::request::{self, check_variable};
use crate::{ApiError, Served};

type Answer = Result<Json<Value>, ApiError>;

/// What the handlers share: the model, the permits of concurrent
/// queries and the metrics.
struct App {
    served: Arc<Served>,
    permits: Semaphore,
    metrics: Metrics,
}

type Shared = State<Arc<App>>;

/// The router over `served`, with a log line and metrics per request.
pub fn router(served: Arc<Served>) -> Router {
    let limits = *served.limits();
    let app = Arc::new(App {
        served,
        permits: Semaphore::new(limits.max_concurrent),
        metrics: Metrics::default(),
    });
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/v1/model", get(model))
        .route("/v1/effect", post(effect))
        .route("/v1/sample", post(sample))
        .route("/v1/counterfactual", post(counterfactual))
        .route("/v1/reload", post(reload))
        .route("/metrics", get(render_metrics))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(app.clone(), observe_request))
        .with_state(app)
}

/// Logs `METHOD PATH STATUS LATENCY` at info level once the answer is
/// ready, and counts the request in the metrics under its route.
async fn observe_request(State(app): Shared, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let response = next.run(request).await;
    let (status, seconds) = (response.status().as_u16(), start.elapsed().as_secs_f64());
    log::info!("{method} {path} {status} {:.3}ms", seconds * 1e3);
    app.metrics
        .record(&endpoint, method.as_str(), status, seconds);
    response
}

/// `GET /metrics`: the request counts and latencies.
async fn render_metrics(State(app): Shared) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        app.metrics.render(),
    )
}

/// Runs `query` on the blocking pool with the model now serving (a reload
/// meanwhile does not change it); at the concurrency limit the request is
/// turned away with 503.
async fn blocking<T: Send + 'static>(
    app: &App,
    query: impl FnOnce(&LoadedModel) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let _permit = app.permits.try_acquire().map_err(|_| ApiError::Busy {
        limit: app.served.limits().max_concurrent,
    })?;
    let model = app.served.model();
    tokio::task::spawn_blocking(move || query(&model))
        .await
        .map_err(|e| ApiError::Query(format!("the query stopped: {e}")))?
}

/// Checks a count asked in `field` against `least` and the limit `most`.
fn check_count(field: &str, n: usize, least: usize, most: usize) -> Result<(), ApiError> {
    if n > most {
        return Err(ApiError::TooLarge {
            message: format!("`{field}` = {n} is over the server's limit of {most}"),
            field: field.to_string(),
        });
    }
    if n < least {
        return Err(ApiError::field(
            field,
            format!("`{field}` = {n} is below {least}"),
        ));
    }
    Ok(())
}

async fn model(State(app): Shared) -> Json<Value> {
    Json(app.served.model().description().clone())
}

/// `POST /v1/effect`: the fields of `causalgrad effect`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EffectRequest {
    treatment: String,
    outcome: String,
    a: Value,
    b: Value,
    #[serde(default = "default_samples")]
    samples: usize,
    #[serde(default)]
    seed: u64,
    #[serde(default = "default_level")]
    level: f64,
    #[serde(default)]
    context: Option<String>,
}

fn default_samples() -> usize {
    DEFAULT_EFFECT_SAMPLES
}

fn default_level() -> f64 {
    DEFAULT_LEVEL
}

async fn effect(State(app): Shared, body: Result<Bytes, BytesRejection>) -> Answer {
    let r: EffectRequest = request::parse(body)?;
    check_count("samples", r.samples, 2, app.served.limits().max_samples)?;
    if !(r.level > 0.0 && r.level < 1.0) {
        return Err(ApiError::field(
            "level",
            format!(
                "`level` = {} is not a fraction in (0, 1); use e.g. 0.95",
                r.level
            ),
        ));
    }
    blocking(&app, move |model| {
        let scm = model.in_context(r.context.as_deref())?;
        check_variable(scm, "treatment", &r.treatment)?;
        check_variable(scm, "outcome", &r.outcome)?;
        let query = EffectQuery {
            a: request::value_text("a", &r.a)?,
            b: request::value_text("b", &r.b)?,
            treatment: r.treatment,
            outcome: r.outcome,
            samples: r.samples,
            seed: r.seed,
            level: r.level,
            context: r.context,
        };
        for (field, value) in [("a", &r.a), ("b", &r.b)] {
            request::value_of(scm, field, &query.treatment, value)?;
        }
        let answer = answer::effect(scm, &query).map_err(|e| ApiError::Query(e.to_string()))?;
        Ok(Json(answer.json()))
    })
    .await
}

/// `POST /v1/sample`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleRequest {
    n: usize,
    #[serde(default, rename = "do")]
    interventions: BTreeMap<String, Value>,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    context: Option<String>,
}

async fn sample(State(app): Shared, body: Result<Bytes, BytesRejection>) -> Answer {
    let r: SampleRequest = request::parse(body)?;
    check_count("n", r.n, 1, app.served.limits().max_samples)?;
    blocking(&app, move |model| {
        let scm = model.in_context(r.context.as_deref())?;
        let owned = request::interventions(scm, &r.interventions)?;
        let assignments: Vec<(&str, f64)> = owned.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let data = scm
            .intervene(&assignments)
            .and_then(|m| m.sample(r.n, r.seed))
            .map_err(|e| ApiError::from_query("do", e))?;
        let mut columns = Map::new();
        for name in data.names() {
            columns.insert(name.clone(), request::column_json(&data, name)?.into());
        }
        Ok(Json(json!({"columns": columns})))
    })
    .await
}

/// `POST /v1/counterfactual`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CounterfactualRequest {
    rows: Vec<Map<String, Value>>,
    #[serde(rename = "do")]
    interventions: BTreeMap<String, Value>,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    context: Option<String>,
}

async fn counterfactual(State(app): Shared, body: Result<Bytes, BytesRejection>) -> Answer {
    let r: CounterfactualRequest = request::parse(body)?;
    check_count("rows", r.rows.len(), 1, app.served.limits().max_rows)?;
    blocking(&app, move |model| {
        let scm = model.in_context(r.context.as_deref())?;
        let owned = request::interventions(scm, &r.interventions)?;
        let assignments: Vec<(&str, f64)> = owned.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let observed = request::observed_rows(scm, &r.rows)?;
        let out = scm
            .counterfactual_draws(&observed, &assignments, 1, r.seed)
            .map_err(|e| ApiError::from_query("rows", e))?;
        let mut rows = vec![Map::new(); out.n_rows()];
        for name in out.names() {
            for (row, value) in rows.iter_mut().zip(request::column_json(&out, name)?) {
                row.insert(name.clone(), value);
            }
        }
        Ok(Json(json!({"rows": rows})))
    })
    .await
}

async fn reload(State(app): Shared) -> Answer {
    let served = app.served.clone();
    let generation = tokio::task::spawn_blocking(move || served.reload())
        .await
        .map_err(|e| ApiError::Query(format!("the reload stopped: {e}")))?
        .inspect_err(|error| log::warn!("{error}"))?;
    Ok(Json(json!({
        "status": "reloaded",
        "file": app.served.path(),
        "generation": generation,
    })))
}
