//! `GET /metrics`: request counts and latency histograms per endpoint,
//! in the Prometheus exposition format (OpenMetrics text, which
//! Prometheus scrapes as it is).
//!
//! The endpoint label is the route (`/v1/effect`), never the raw path, so
//! requests for unknown paths share one label (`unmatched`) and the
//! number of series stays bounded.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A request's labels: its endpoint, method and status code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: String,
    method: String,
    status: u16,
}

/// A latency's label: the endpoint.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: String,
}

/// The server's metrics since it started.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<EndpointLabels, Histogram>,
}

/// Latency buckets in seconds: 0.1 ms to about 15 s, each 2.5 times the
/// last.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(1e-4, 2.5, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<EndpointLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let mut registry = Registry::with_prefix("causalgrad");
        registry.register(
            "http_requests",
            "HTTP requests answered, by endpoint, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer, by endpoint",
            latency.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
        }
    }
}

impl Metrics {
    /// Counts one answered request to `endpoint` (a route, or
    /// `unmatched`) that took `seconds`.
    pub fn record(&self, endpoint: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                endpoint: endpoint.to_string(),
                method: method.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&EndpointLabels {
                endpoint: endpoint.to_string(),
            })
            .observe(seconds);
    }

    /// The metrics as exposition text ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String does not fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_and_timed_per_endpoint() {
        let metrics = Metrics::default();
        metrics.record("/v1/effect", "POST", 200, 0.012);
        metrics.record("/v1/effect", "POST", 200, 0.030);
        metrics.record("/v1/effect", "POST", 400, 0.0002);
        metrics.record("unmatched", "GET", 404, 0.0001);
        let text = metrics.render();
        let line = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no line {prefix} in\n{text}"))
                .to_string()
        };
        assert!(line(
            r#"causalgrad_http_requests_total{endpoint="/v1/effect",method="POST",status="200"}"#
        )
        .ends_with(" 2"));
        assert!(line(
            r#"causalgrad_http_requests_total{endpoint="/v1/effect",method="POST",status="400"}"#
        )
        .ends_with(" 1"));
        assert!(
            line(r#"causalgrad_http_request_duration_seconds_count{endpoint="/v1/effect"}"#)
                .ends_with(" 3")
        );
        // Buckets are cumulative: 0.0002 s and 0.012 s are under 0.0244 s;
        // 0.030 s is under the next bound, 0.061 s.
        assert!(line(
            r#"causalgrad_http_request_duration_seconds_bucket{le="0.0244140625",endpoint="/v1/effect"}"#
        )
        .ends_with(" 2"));
        assert!(line(
            r#"causalgrad_http_request_duration_seconds_bucket{le="0.06103515625",endpoint="/v1/effect"}"#
        )
        .ends_with(" 3"));
        assert!(line(
            r#"causalgrad_http_request_duration_seconds_bucket{le="0.00025",endpoint="/v1/effect"}"#
        )
        .ends_with(" 1"));
        assert!(text.contains(r#"endpoint="unmatched",method="GET",status="404""#));
        assert!(text.trim_end().ends_with("# EOF"));
    }
}
