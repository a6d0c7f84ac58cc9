//! The mTLS gateway: `orgcerts gateway`.
//!
//! It terminates TLS in front of an OpenAI-compatible upstream, asking each client for a
//! certificate without requiring one ([`tls`]). Every request, never once per connection, is
//! judged in the contract's order: its service account key ([`trust::TrustFeed::grant`]), the
//! `OpenAI-Organization` and `OpenAI-Project` headers, then the client certificate against the
//! anchors active for the key's project and organization ([`orgcerts_gateway::Verifier`]).
//! A request that passes goes upstream with its body streamed both ways ([`proxy`]); a refused
//! one gets the contract's error envelope ([`errors`]).
//!
//! Trust and keys come from the database `orgcerts serve` writes, kept current by polling its
//! trust version ([`trust`]), so any number of gateways and API servers may share it.

mod errors;
mod metrics;
mod proxy;
mod tls;
mod trust;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONNECTION, CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode, Uri};
use orgcerts_core::{Service, Settings, Store};
use orgcerts_gateway::Decision;
use orgcerts_server::listener::{Connection, ConnectionLimits, ConnectionServices, serve_with};
use orgcerts_server::request::RequestId;
use orgcerts_server::serve::{
    Stop, bind, ops_limits, spawn_key_use_flusher, within_open_file_limit,
};
use rustls::pki_types::CertificateDer;

pub use errors::GatewayError;
pub use proxy::UpstreamSettings;

use metrics::Metrics;
use proxy::Upstream;
use trust::{Grant, TrustFeed};

/// The body of every answer: the upstream's, streamed, or one of the gateway's own.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// Everything `orgcerts gateway` needs, already parsed (the command line lives in the binary).
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Address of the TLS listener (port 0 picks a free port; the chosen address is logged).
    pub listen: SocketAddr,
    /// PEM certificate chain of the gateway.
    pub tls_cert: PathBuf,
    /// PEM private key of the gateway.
    pub tls_key: PathBuf,
    /// Where passed requests go.
    pub upstream: UpstreamSettings,
    /// Address of the plain-HTTP listener serving `/metrics`, `/healthz` and `/readyz`.
    pub metrics_listen: Option<SocketAddr>,
    /// Connection-level limits of the TLS listener (the header timeout bounds handshakes too).
    pub limits: ConnectionLimits,
    /// How often the database's trust version is read.
    pub trust_poll: Duration,
    /// How old the last confirmed trust may be before requests are answered 503.
    pub trust_max_age: Duration,
    /// Certificate decisions kept in memory.
    pub decision_cache_entries: usize,
    /// How long the attribute filters of one request may evaluate before it gets a 503.
    pub attribute_filter_deadline: Duration,
    /// Key lookups kept in memory.
    pub key_cache_entries: usize,
    /// Time between the batched writes of the service account keys' `last_used_at`.
    pub key_use_flush: Duration,
}

/// A gateway's shared state.
struct Gateway {
    feed: Arc<TrustFeed>,
    upstream: Upstream,
    metrics: Metrics,
}

/// The certificates a connection's client presented in its handshake, leaf first.
type ClientChain = Arc<[CertificateDer<'static>]>;

/// What the request log line and the metrics learn of a judged request.
#[derive(Default)]
struct Judgement {
    grant: Option<Arc<Grant>>,
    certificate_id: Option<orgcerts_core::ids::CertificateId>,
    upstream_status: Option<u16>,
    upstream_time: Option<Duration>,
}

/// The request's bearer key: `Err` for a missing or repeated `Authorization` header; a header
/// that is not a bearer key gives a key no lookup matches.
fn bearer(headers: &HeaderMap) -> Result<&str, GatewayError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(GatewayError::MissingApiKey);
    };
    if values.next().is_some() {
        return Err(GatewayError::DuplicateApiKey);
    }
    let value = value.to_str().map_err(|_| GatewayError::InvalidApiKey)?;
    match value.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => Ok(key.trim()),
        _ => Err(GatewayError::InvalidApiKey),
    }
}

/// Whether any of the client's headers called `name` names something else than `expected`
/// (absent: no). Every value counts, not only the first: the upstream may read another.
fn names_other(headers: &HeaderMap, name: &str, expected: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .any(|value| value.as_bytes() != expected.as_bytes())
}

impl Gateway {
    /// Judges a `/v1` request: the key, the headers naming an organization or project, then the
    /// client certificate.
    async fn admit(
        &self,
        headers: &HeaderMap,
        chain: &ClientChain,
        judgement: &mut Judgement,
    ) -> Result<(), GatewayError> {
        let key = bearer(headers)?;
        if !self.feed.is_fresh() {
            return Err(GatewayError::TemporarilyUnavailable);
        }
        let grant = self
            .feed
            .grant(key)
            .await
            .map_err(|_| GatewayError::TemporarilyUnavailable)?
            .ok_or(GatewayError::InvalidApiKey)?;
        judgement.grant = Some(Arc::clone(&grant));
        let now = orgcerts_core::unix_now();
        // The key authenticated: its `last_used_at`, written in batches by `run`'s flusher.
        self.feed
            .service()
            .note_service_account_key_use(&grant.key_id, now);
        if names_other(
            headers,
            "openai-organization",
            grant.organization_id.as_str(),
        ) {
            return Err(GatewayError::MismatchedOrganization);
        }
        if names_other(headers, "openai-project", grant.project_id.as_str()) {
            return Err(GatewayError::MismatchedProject);
        }
        let started = Instant::now();
        let decision =
            self.feed
                .verifier()
                .verify(&grant.organization_id, &grant.project_id, chain, now);
        self.metrics.verification(started.elapsed());
        match decision {
            Decision::Pass => Ok(()),
            Decision::Verified { certificate_id } => {
                judgement.certificate_id = Some(certificate_id);
                Ok(())
            }
            Decision::Refused(refusal) => Err(GatewayError::Refused(refusal)),
            Decision::Undecided => Err(GatewayError::TemporarilyUnavailable),
        }
    }

    /// Answers one request on a connection whose client presented `chain`.
    async fn handle(&self, request: Request<Incoming>, chain: &ClientChain) -> Response<Body> {
        let started = Instant::now();
        let id = RequestId::new();
        let path = request.uri().path();
        if let Some(answer) = self.ops(path) {
            return answer;
        }
        let method = request.method().clone();
        let version = request.version();
        let mut judgement = Judgement::default();
        // Whether the connection can carry another request after this answer.
        let (result, reusable) = if path == "/v1" || path.starts_with("/v1/") {
            match self.admit(request.headers(), chain, &mut judgement).await {
                Ok(()) => {
                    let sent = Instant::now();
                    let verified_leaf = judgement.certificate_id.as_ref().and(chain.first());
                    let answer = self.upstream.forward(request, verified_leaf).await;
                    let elapsed = sent.elapsed();
                    judgement.upstream_time = Some(elapsed);
                    if let Ok(response) = &answer {
                        judgement.upstream_status = Some(response.status().as_u16());
                        self.metrics.upstream(elapsed);
                    }
                    // After a failed upstream call, the request body may be partly unread.
                    let reusable = answer.is_ok();
                    (answer, reusable)
                }
                Err(err) => (Err(err), drain(request.into_body()).await),
            }
        } else {
            (
                Err(GatewayError::UnknownRoute),
                drain(request.into_body()).await,
            )
        };
        let outcome = match &result {
            Ok(_) if judgement.certificate_id.is_some() => "verified",
            Ok(_) => "passed",
            Err(err) => err.outcome(),
        };
        self.metrics.request(outcome);
        let grant = judgement.grant.as_deref();
        tracing::info!(
            request_id = id.as_str(),
            method = method.as_str(),
            organization_id = grant.map(|g| g.organization_id.as_str()),
            project_id = grant.map(|g| g.project_id.as_str()),
            service_account_id = grant.map(|g| g.service_account_id.as_str()),
            key_id = grant.map(|g| g.key_id.as_str()),
            outcome,
            certificate_id = judgement
                .certificate_id
                .as_ref()
                .map(orgcerts_core::ids::CertificateId::as_str),
            upstream_status = judgement.upstream_status,
            upstream_us = judgement.upstream_time.map(micros),
            latency_us = micros(started.elapsed()),
            "request"
        );
        let mut response = result.unwrap_or_else(|err| err.response(&id));
        if !reusable && version <= hyper::Version::HTTP_11 {
            // The rest of the request cannot be told from the next one: say that the connection
            // ends here, rather than close it unannounced after the answer.
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }

    /// `/healthz`, `/readyz` and `/metrics`, on either listener (`/metrics` only on the metrics
    /// listener: see [`Gateway::ops_only`]).
    fn ops(&self, path: &str) -> Option<Response<Body>> {
        match path {
            "/healthz" => Some(json_answer(StatusCode::OK, r#"{"status":"ok"}"#)),
            "/readyz" if self.feed.is_fresh() => {
                Some(json_answer(StatusCode::OK, r#"{"status":"ready"}"#))
            }
            "/readyz" => Some(GatewayError::TemporarilyUnavailable.response(&RequestId::new())),
            _ => None,
        }
    }

    /// The metrics listener: the operator endpoints and nothing else.
    fn ops_only(&self, path: &str) -> Response<Body> {
        if path == "/metrics" {
            self.metrics
                .trust(self.feed.generation(), self.feed.anchor_count());
            let mut response = Response::new(errors::full(Bytes::from(self.metrics.render())));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            return response;
        }
        self.ops(path)
            .unwrap_or_else(|| GatewayError::UnknownRoute.response(&RequestId::new()))
    }
}

/// The most of a refused request's body read so that its connection can carry the next
/// request; a larger or slower body ends the connection after the answer instead.
const DRAIN_BYTES: usize = 64 * 1024;
/// How long a refused request's body is waited for.
const DRAIN_TIME: Duration = Duration::from_secs(1);

/// Reads and drops the body of a request answered without it: whether it ended within
/// [`DRAIN_BYTES`] and [`DRAIN_TIME`].
async fn drain(mut body: Incoming) -> bool {
    use http_body_util::BodyExt as _;
    use hyper::body::Body as _;
    if body.is_end_stream() {
        return true;
    }
    let read = async {
        let mut total = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            total += frame.data_ref().map_or(0, Bytes::len);
            if total > DRAIN_BYTES {
                return false;
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIME, read)
        .await
        .unwrap_or(false)
}

/// Microseconds, for the log line.
fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

fn json_answer(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(errors::full(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The service of one TLS connection: the gateway, and the chain the client presented.
#[derive(Clone)]
struct ConnectionService {
    gateway: Arc<Gateway>,
    chain: ClientChain,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.gateway.handle(request, &this.chain).await) })
    }
}

/// Makes each TLS connection's service, with the chain its client presented, and counts
/// handshakes.
struct TlsConnections(Arc<Gateway>);

impl ConnectionServices<ConnectionService> for TlsConnections {
    fn make(&self, conn: Connection<'_>) -> ConnectionService {
        let chain: ClientChain = conn
            .tls
            .and_then(|tls| tls.peer_certificates())
            .map_or_else(
                || Arc::from(Vec::new()),
                |certs| certs.iter().map(|cert| cert.clone().into_owned()).collect(),
            );
        self.0.metrics.handshake(if chain.is_empty() {
            "without_certificate"
        } else {
            "with_certificate"
        });
        ConnectionService {
            gateway: Arc::clone(&self.0),
            chain,
        }
    }

    fn handshake_failed(&self, _peer: SocketAddr, timed_out: bool) {
        self.0
            .metrics
            .handshake(if timed_out { "timed_out" } else { "failed" });
    }
}

/// The metrics listener's service.
#[derive(Clone)]
struct OpsService(Arc<Gateway>);

impl hyper::service::Service<Request<Incoming>> for OpsService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<Body>, Infallible>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        std::future::ready(Ok(self.0.ops_only(request.uri().path())))
    }
}

/// Parses an upstream URL, as `--upstream` takes it.
pub fn parse_upstream(text: &str) -> anyhow::Result<Uri> {
    text.parse::<Uri>()
        .with_context(|| format!("{text} is not a URL"))
}

/// Runs the gateway on `store` until SIGINT or SIGTERM.
pub async fn run(config: GatewayConfig, store: Arc<dyn Store>) -> anyhow::Result<()> {
    // The gateway reads keys and trust; the service's list cache is of no use to it.
    let service = Arc::new(Service::new(
        store,
        Settings {
            read_cache_items: 0,
            ..Settings::default()
        },
    ));
    let tls = tls::server_config(&config.tls_cert, &config.tls_key)?;
    let upstream = Upstream::new(config.upstream.clone())?;
    let feed = Arc::new(
        TrustFeed::load(
            service,
            config.trust_max_age,
            config.decision_cache_entries,
            config.attribute_filter_deadline,
            config.key_cache_entries,
        )
        .await
        .context("cannot read the active certificates")?,
    );
    let gateway = Arc::new(Gateway {
        feed: Arc::clone(&feed),
        upstream,
        metrics: Metrics::default(),
    });
    feed.report_uncompilable_filters();
    let poller = tokio::spawn(Arc::clone(&feed).poll(config.trust_poll));
    let flusher = {
        let feed = Arc::clone(&feed);
        spawn_key_use_flusher(config.key_use_flush, "service account", move || {
            let feed = Arc::clone(&feed);
            async move { feed.service().flush_service_account_key_use().await }
        })
    };

    let limits = within_open_file_limit(&config.limits);
    let stop = Stop::on_signal();
    let listener = bind(config.listen, "the gateway").await?;
    let addr = listener.local_addr()?;
    let ops_server = match config.metrics_listen {
        Some(ops_addr) => {
            let ops_listener = bind(ops_addr, "metrics").await?;
            tracing::info!(addr = %ops_listener.local_addr()?, "metrics listening");
            let ops = OpsService(Arc::clone(&gateway));
            Some(tokio::spawn(serve_with(
                ops_listener,
                None,
                ops_limits(&limits),
                stop.stopped(),
                move |_: Connection<'_>| ops.clone(),
            )))
        }
        None => None,
    };
    tracing::info!(
        %addr,
        generation = feed.generation(),
        anchors = feed.anchor_count(),
        max_connections = limits.max_connections,
        "listening"
    );
    serve_with(
        listener,
        Some(tls),
        limits,
        stop.stopped(),
        TlsConnections(gateway),
    )
    .await?;
    if let Some(ops) = ops_server {
        ops.await??;
    }
    poller.abort();
    flusher.abort();
    // The last authentications, so that `last_used_at` survives the restart.
    if let Err(err) = feed.service().flush_service_account_key_use().await {
        tracing::warn!(error = %err, "could not record the service account keys' last use");
    }
    tracing::info!("stopped");
    Ok(())
}
