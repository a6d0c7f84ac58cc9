//! The load: HTTP/1.1 requests over TLS 1.3, with a client certificate when one is given.
//!
//! - keep-alive mode: each of N tasks opens one connection and sends requests on it back to
//!   back (a new connection only when the server closed it or it failed);
//! - handshake mode: each of N tasks makes every request on a new TCP + TLS connection, with
//!   session resumption off, so each request costs a full (m)TLS handshake; the latency runs
//!   from `connect` to the end of the response body.
//!
//! One `ClientConfig` is shared by every connection, the request's parts are built once and
//! cloned per request, and each task keeps its own counters and histogram (merged at the end),
//! so nothing is shared on the hot path.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HOST, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use rustls::client::Resumption;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::histogram::Histogram;

/// A request (or, in handshake mode, a connection and its request) that takes longer is an
/// error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Distinct error reasons kept as examples.
const EXAMPLES: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Keepalive,
    Handshake,
}

pub struct Options {
    pub url: String,
    pub method: String,
    pub headers: Vec<String>,
    pub body: Option<String>,
    pub ca: std::path::PathBuf,
    pub cert: Option<std::path::PathBuf>,
    pub key: Option<std::path::PathBuf>,
    pub connections: usize,
    pub duration: f64,
    pub warmup: f64,
    pub mode: Mode,
    pub expect_status: u16,
}

/// What every task reads: the connector, the address and the request's parts.
struct Target {
    connector: TlsConnector,
    addr: String,
    server_name: ServerName<'static>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    expect: StatusCode,
    measure_from: Instant,
    end: Instant,
    examples: Mutex<Vec<String>>,
}

impl Target {
    fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }

    fn example(&self, reason: String) {
        let mut examples = self
            .examples
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if examples.len() < EXAMPLES && !examples.contains(&reason) {
            examples.push(reason);
        }
    }
}

struct Tally {
    requests: u64,
    errors: u64,
    reconnects: u64,
    latencies: Histogram,
}

fn client_config(options: &Options) -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&options.ca)
        .with_context(|| format!("cannot read {}", options.ca.display()))?
    {
        roots.add(cert?)?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])?
    .with_root_certificates(roots);
    let mut config = match (&options.cert, &options.key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .with_context(|| format!("cannot read {}", cert.display()))?
                .collect::<Result<Vec<_>, _>>()?;
            let key = PrivateKeyDer::from_pem_file(key)
                .with_context(|| format!("cannot read {}", key.display()))?;
            builder.with_client_auth_cert(chain, key)?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => anyhow::bail!("--cert and --key go together"),
    };
    // Every new connection is a full handshake.
    config.resumption = Resumption::disabled();
    Ok(config)
}

fn target(options: &Options) -> anyhow::Result<Target> {
    let uri: Uri = options.url.parse().context("--url")?;
    anyhow::ensure!(
        uri.scheme_str() == Some("https"),
        "--url must be an https:// URL"
    );
    let authority = uri.authority().context("--url has no host")?.clone();
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let server_name = ServerName::try_from(host.to_owned()).context("--url host")?;
    let addr = format!(
        "{}:{}",
        authority.host(),
        authority.port_u16().unwrap_or(443)
    );
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = HeaderMap::new();
    headers.insert(HOST, HeaderValue::from_str(authority.as_str())?);
    for header in &options.headers {
        let (name, value) = header
            .split_once(':')
            .with_context(|| format!("--header {header:?} is not NAME: VALUE"))?;
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes())?,
            HeaderValue::from_str(value.trim())?,
        );
    }
    let now = Instant::now();
    let measure_from = now + Duration::from_secs_f64(options.warmup);
    Ok(Target {
        connector: TlsConnector::from(Arc::new(client_config(options)?)),
        addr,
        server_name,
        method: options.method.parse().context("--method")?,
        uri: path.parse()?,
        headers,
        body: Bytes::from(options.body.clone().unwrap_or_default()),
        expect: StatusCode::from_u16(options.expect_status)?,
        measure_from,
        end: measure_from + Duration::from_secs_f64(options.duration),
        examples: Mutex::new(Vec::new()),
    })
}

type Driver = tokio::task::JoinHandle<()>;

async fn connect(target: &Target) -> anyhow::Result<(SendRequest<Full<Bytes>>, Driver)> {
    let tcp = TcpStream::connect(&target.addr).await.context("connect")?;
    tcp.set_nodelay(true)?;
    let tls = target
        .connector
        .connect(target.server_name.clone(), tcp)
        .await
        .context("TLS handshake")?;
    let (sender, connection) = http1::handshake(TokioIo::new(tls)).await?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((sender, driver))
}

/// One request on `sender`, its body read to the end: the status.
async fn exchange(
    target: &Target,
    sender: &mut SendRequest<Full<Bytes>>,
) -> anyhow::Result<StatusCode> {
    let response = sender.send_request(target.request()).await?;
    let status = response.status();
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        frame?;
    }
    Ok(status)
}

impl Tally {
    fn new() -> Self {
        Self {
            requests: 0,
            errors: 0,
            reconnects: 0,
            latencies: Histogram::new(),
        }
    }

    /// Counts a completed request: in the figures when it began and ended in the measured
    /// window, an error (at any time) when its status is not the expected one.
    fn completed(&mut self, target: &Target, began: Instant, status: StatusCode) {
        if status != target.expect {
            self.errors += 1;
            target.example(format!("status {}", status.as_u16()));
            return;
        }
        let now = Instant::now();
        if began >= target.measure_from && now <= target.end {
            self.requests += 1;
            self.latencies
                .record(u64::try_from((now - began).as_nanos()).unwrap_or(u64::MAX));
        }
    }

    fn failed(&mut self, target: &Target, error: &anyhow::Error) {
        self.errors += 1;
        target.example(format!("{error:#}"));
    }
}

async fn keepalive(target: Arc<Target>) -> Tally {
    let mut tally = Tally::new();
    let mut connection: Option<SendRequest<Full<Bytes>>> = None;
    while Instant::now() < target.end {
        // A connection the server closed after its last answer is replaced, not an error.
        if connection.as_ref().is_some_and(SendRequest::is_closed) {
            connection = None;
            tally.reconnects += 1;
        }
        let sender = match &mut connection {
            Some(sender) => sender,
            None => match tokio::time::timeout(REQUEST_TIMEOUT, connect(&target)).await {
                Ok(Ok((sender, _driver))) => connection.insert(sender),
                Ok(Err(error)) => {
                    tally.failed(&target, &error);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                Err(_) => {
                    tally.failed(&target, &anyhow::anyhow!("connect: timed out"));
                    continue;
                }
            },
        };
        if sender.ready().await.is_err() {
            connection = None;
            tally.reconnects += 1;
            continue;
        }
        let began = Instant::now();
        match tokio::time::timeout(REQUEST_TIMEOUT, exchange(&target, sender)).await {
            Ok(Ok(status)) => tally.completed(&target, began, status),
            Ok(Err(error)) => {
                tally.failed(&target, &error);
                connection = None;
            }
            Err(_) => {
                tally.failed(&target, &anyhow::anyhow!("request timed out"));
                connection = None;
            }
        }
    }
    tally
}

async fn handshakes(target: Arc<Target>) -> Tally {
    let mut tally = Tally::new();
    while Instant::now() < target.end {
        let began = Instant::now();
        let attempt = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let (mut sender, driver) = connect(&target).await?;
            let status = exchange(&target, &mut sender).await?;
            Ok::<_, anyhow::Error>((status, sender, driver))
        })
        .await;
        match attempt {
            Ok(Ok((status, sender, driver))) => {
                tally.completed(&target, began, status);
                // The client closes: close_notify, then the TCP shutdown.
                drop(sender);
                let _ = tokio::time::timeout(REQUEST_TIMEOUT, driver).await;
            }
            Ok(Err(error)) => tally.failed(&target, &error),
            Err(_) => tally.failed(
                &target,
                &anyhow::anyhow!("connection and request timed out"),
            ),
        }
    }
    tally
}

/// This process's CPU time (every thread), in seconds.
fn process_cpu_seconds() -> f64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    #[allow(clippy::cast_precision_loss)]
    let seconds = now.tv_sec as f64 + now.tv_nsec as f64 / 1e9;
    seconds
}

/// Says `measuring` on stderr when the measured window opens and `measured` when it closes,
/// so that a harness can read the server's CPU time at those moments; returns the CPU time
/// this process spent in between.
async fn measured_window(target: Arc<Target>) -> f64 {
    tokio::time::sleep_until(target.measure_from.into()).await;
    let before = process_cpu_seconds();
    eprintln!("measuring");
    tokio::time::sleep_until(target.end.into()).await;
    let spent = process_cpu_seconds() - before;
    eprintln!("measured");
    spent
}

pub fn run(options: &Options) -> anyhow::Result<serde_json::Value> {
    anyhow::ensure!(options.connections > 0, "--connections must be at least 1");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let target = Arc::new(target(options)?);
        let window = tokio::spawn(measured_window(Arc::clone(&target)));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..options.connections {
            let target = Arc::clone(&target);
            match options.mode {
                Mode::Keepalive => tasks.spawn(keepalive(target)),
                Mode::Handshake => tasks.spawn(handshakes(target)),
            };
        }
        let mut total = Tally::new();
        while let Some(tally) = tasks.join_next().await {
            let tally = tally.context("a load task panicked")?;
            total.requests += tally.requests;
            total.errors += tally.errors;
            total.reconnects += tally.reconnects;
            total.latencies.merge(&tally.latencies);
        }
        let cpu_seconds = window.await.context("the window task panicked")?;
        let examples = target
            .examples
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        #[allow(clippy::cast_precision_loss)]
        let millis = |nanos: u64| nanos as f64 / 1e6;
        #[allow(clippy::cast_precision_loss)]
        let req_per_s = total.requests as f64 / options.duration;
        Ok(serde_json::json!({
            "mode": match options.mode { Mode::Keepalive => "keepalive", Mode::Handshake => "handshake" },
            "connections": options.connections,
            "requests": total.requests,
            "errors": total.errors,
            "error_examples": examples,
            "reconnects": total.reconnects,
            "req_per_s": req_per_s,
            "p50_ms": millis(total.latencies.quantile(0.5)),
            "p99_ms": millis(total.latencies.quantile(0.99)),
            "duration": options.duration,
            "cpu_s": cpu_seconds,
        }))
    })
}
