//! Prometheus metrics for operators: requests by route and status, latency, database pool use,
//! and certificates by time left to expiry.

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use axum::extract::MatchedPath;
use axum::http::Method;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: Route,
    method: MethodLabel,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: Route,
    method: MethodLabel,
}

/// The route template a request matched (never the raw path, so ids do not explode the label
/// space), or `unmatched`. Held as axum's [`MatchedPath`], which shares its text: labels are
/// made for every request without copying it.
#[derive(Clone, Debug)]
pub struct Route(Option<MatchedPath>);

impl Route {
    pub fn new(matched: Option<MatchedPath>) -> Self {
        Self(matched)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref().map_or("unmatched", MatchedPath::as_str)
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl Hash for Route {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> std::fmt::Result {
        encoder.write_str(self.as_str())
    }
}

/// A request's method as a label: one of RFC 9110's methods (and PATCH), or `other`. A client
/// may send any token as a method; passed through, each new one would add series without bound.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct MethodLabel(&'static str);

impl MethodLabel {
    fn new(method: &Method) -> Self {
        const KNOWN: [Method; 9] = [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::HEAD,
            Method::OPTIONS,
            Method::CONNECT,
            Method::TRACE,
        ];
        Self(
            KNOWN
                .iter()
                .find(|known| *known == method)
                .map_or("other", Method::as_str),
        )
    }
}

impl EncodeLabelValue for MethodLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> std::fmt::Result {
        encoder.write_str(self.0)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExpiryLabels {
    window: &'static str,
}

/// The metrics of one server.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pool: Family<PoolLabels, Gauge>,
    expiry: Family<ExpiryLabels, Gauge>,
}

fn latency_histogram() -> Histogram {
    // 100 µs to about 1.6 s.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.000_1, 2.0, 15,
    ))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("orgcerts");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method",
            latency.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database connections of this instance's pool, by state (in_use, idle)",
            pool.clone(),
        );
        let expiry = Family::<ExpiryLabels, Gauge>::default();
        registry.register(
            "certificates_by_expiry",
            "Live certificates of all organizations by time left before notAfter",
            expiry.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            pool,
            expiry,
        }
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn observe_request(&self, route: &Route, method: &Method, status: u16, elapsed: Duration) {
        let (route, method) = (route.clone(), MethodLabel::new(method));
        self.latency
            .get_or_create(&RouteLabels {
                route: route.clone(),
                method,
            })
            .observe(elapsed.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
    }

    /// Sets the pool gauges.
    pub fn set_pool(&self, in_use: u32, idle: u32) {
        self.pool
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(i64::from(in_use));
        self.pool
            .get_or_create(&PoolLabels { state: "idle" })
            .set(i64::from(idle));
    }

    /// Sets the expiry gauges.
    pub fn set_expiry(&self, counts: &orgcerts_core::model::ExpiryCounts) {
        for (window, count) in counts.windows() {
            self.expiry
                .get_or_create(&ExpiryLabels { window })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            let _ = writeln!(out, "# encoding failed");
        }
        out
    }
}
