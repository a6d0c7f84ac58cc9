//! The gateway's metrics, served on its metrics listener.

use std::fmt::Write as _;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandshakeLabels {
    result: &'static str,
}

/// The metrics of one gateway.
pub struct Metrics {
    registry: Registry,
    requests: Family<OutcomeLabels, Counter>,
    handshakes: Family<HandshakeLabels, Counter>,
    verification: Histogram,
    upstream: Histogram,
    generation: Gauge,
    anchors: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("orgcerts_gateway");
        let requests = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests judged, by outcome: passed (no anchor applies), verified, or the code of the refusal or error",
            requests.clone(),
        );
        let handshakes = Family::<HandshakeLabels, Counter>::default();
        registry.register(
            "tls_handshakes",
            "TLS handshakes, by result (with_certificate, without_certificate, failed, timed_out)",
            handshakes.clone(),
        );
        // 1 µs to about 16 ms.
        let verification = Histogram::new(exponential_buckets(0.000_001, 2.0, 15));
        registry.register(
            "verification_duration_seconds",
            "Time to judge a request's client certificate (decision cache included)",
            verification.clone(),
        );
        // 100 µs to about 100 s.
        let upstream = Histogram::new(exponential_buckets(0.000_1, 2.0, 21));
        registry.register(
            "upstream_duration_seconds",
            "Time from passing a request upstream to the head of the upstream's answer",
            upstream.clone(),
        );
        let generation = Gauge::default();
        registry.register(
            "trust_generation",
            "Generation of the trust snapshot in use",
            generation.clone(),
        );
        let anchors = Gauge::default();
        registry.register(
            "trust_anchors",
            "Active certificates (activations) in the trust snapshot in use",
            anchors.clone(),
        );
        Self {
            registry,
            requests,
            handshakes,
            verification,
            upstream,
            generation,
            anchors,
        }
    }
}

impl Metrics {
    /// Counts a judged request.
    pub fn request(&self, outcome: &'static str) {
        self.requests
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Counts a handshake.
    pub fn handshake(&self, result: &'static str) {
        self.handshakes
            .get_or_create(&HandshakeLabels { result })
            .inc();
    }

    /// Records the time a certificate check took.
    pub fn verification(&self, elapsed: Duration) {
        self.verification.observe(elapsed.as_secs_f64());
    }

    /// Records the time the upstream took to start answering.
    pub fn upstream(&self, elapsed: Duration) {
        self.upstream.observe(elapsed.as_secs_f64());
    }

    /// Sets the trust gauges.
    pub fn trust(&self, generation: u64, anchors: u64) {
        self.generation
            .set(i64::try_from(generation).unwrap_or(i64::MAX));
        self.anchors.set(i64::try_from(anchors).unwrap_or(i64::MAX));
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
