//! The gateway's harness: the real `orgcerts serve` and `orgcerts gateway` on one fresh
//! database, a fake OpenAI-compatible upstream in this process, and clients that speak TLS to
//! the gateway with or without a client certificate.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use orgcerts_testkit::database::TestDatabase;
use orgcerts_testkit::{Running, TestServer, TlsServer};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::common;

pub const BIN: &str = env!("CARGO_BIN_EXE_orgcerts");
/// The key the gateway sends upstream unless a test says otherwise.
pub const UPSTREAM_KEY: &str = "sk-upstream-0123456789";
/// How many bytes `/v1/flood` streams.
pub const FLOOD_BYTES: u64 = 64 * 1024 * 1024;
const FLOOD_CHUNK: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// The fake upstream.

/// What the fake upstream saw and the knobs its streaming answers wait on.
#[derive(Default)]
pub struct UpstreamState {
    /// Every request it received, as it echoes them.
    pub seen: Mutex<Vec<Value>>,
    /// Lets the server-sent events after the first one go.
    pub release: Notify,
    /// Server-sent events written so far.
    pub events_sent: AtomicUsize,
    /// Bytes of `/v1/flood` handed to the connection so far.
    pub flood_sent: AtomicU64,
}

/// An OpenAI-compatible API in this process, on a free port of 127.0.0.1:
/// - `/v1/slow` answers after 5 s;
/// - `/v1/chat/completions` with `"stream": true` answers server-sent events: the first at once,
///   the rest once [`UpstreamState::release`] is notified, then `data: [DONE]`;
/// - `/v1/flood` streams [`FLOOD_BYTES`] bytes;
/// - `/v1/realtime` with `Upgrade: websocket` switches protocols and echoes the bytes it reads;
/// - anything else gets its request echoed as JSON: method, path, query, headers, body.
pub struct Upstream {
    pub addr: SocketAddr,
    pub state: Arc<UpstreamState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Upstream {
    pub async fn start() -> Self {
        let state = Arc::new(UpstreamState::default());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let router = axum::Router::new()
            .fallback(upstream)
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("the upstream");
        });
        Self { addr, state, task }
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The requests seen so far.
    pub fn seen(&self) -> Vec<Value> {
        self.state.seen.lock().unwrap().clone()
    }
}

fn echo_of(request: &Request, body: &[u8]) -> Value {
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in request.headers() {
        headers
            .entry(name.as_str().to_owned())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    json!({
        "method": request.method().as_str(),
        "path": request.uri().path(),
        "query": request.uri().query(),
        "headers": headers,
        "body": String::from_utf8_lossy(body),
    })
}

/// A body fed by a task through a channel of one chunk: the task waits while the chunk is not
/// taken.
fn channel_body() -> (tokio::sync::mpsc::Sender<Bytes>, Body) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    (tx, Body::from_stream(stream))
}

async fn upstream(State(state): State<Arc<UpstreamState>>, mut request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let upgrade = request
        .headers()
        .get("upgrade")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if upgrade {
        state.seen.lock().unwrap().push(echo_of(&request, b""));
        let on_upgrade = hyper::upgrade::on(&mut request);
        tokio::spawn(async move {
            let Ok(upgraded) = on_upgrade.await else {
                return;
            };
            let mut io = hyper_util::rt::TokioIo::new(upgraded);
            let mut buf = vec![0; 4096];
            loop {
                match io.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if io.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
        return Response::builder()
            .status(101)
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .body(Body::empty())
            .unwrap();
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let request = Request::from_parts(parts, Body::empty());
    let echo = echo_of(&request, &body);
    state.seen.lock().unwrap().push(echo.clone());
    match path.as_str() {
        "/v1/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            json_response(&echo)
        }
        "/v1/flood" => {
            let (tx, body) = channel_body();
            tokio::spawn(async move {
                let chunk = Bytes::from(vec![b'x'; FLOOD_CHUNK]);
                while state.flood_sent.load(Ordering::SeqCst) < FLOOD_BYTES {
                    if tx.send(chunk.clone()).await.is_err() {
                        return;
                    }
                    state
                        .flood_sent
                        .fetch_add(FLOOD_CHUNK as u64, Ordering::SeqCst);
                }
            });
            Response::builder()
                .header("content-type", "application/octet-stream")
                .body(body)
                .unwrap()
        }
        "/v1/chat/completions"
            if serde_json::from_slice::<Value>(&body).is_ok_and(|b| b["stream"] == true) =>
        {
            let (tx, body) = channel_body();
            tokio::spawn(async move {
                let event = |n: usize| {
                    Bytes::from(format!(
                        "data: {}\n\n",
                        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk",
                               "choices": [{"index": 0, "delta": {"content": format!("part {n}")}}]})
                    ))
                };
                if tx.send(event(1)).await.is_err() {
                    return;
                }
                state.events_sent.store(1, Ordering::SeqCst);
                state.release.notified().await;
                for n in 2..=3 {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    if tx.send(event(n)).await.is_err() {
                        return;
                    }
                    state.events_sent.store(n, Ordering::SeqCst);
                }
                let _ = tx.send(Bytes::from_static(b"data: [DONE]\n\n")).await;
            });
            Response::builder()
                .header("content-type", "text/event-stream")
                .header("cache-control", "no-cache")
                .body(body)
                .unwrap()
        }
        _ => json_response(&echo),
    }
}

fn json_response(value: &Value) -> Response {
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(value.to_string()))
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The processes.

/// Kills a child process however the test ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How a gateway is started.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// `--upstream`; the harness's fake upstream when `None`.
    pub upstream: Option<String>,
    pub upstream_api_key: Option<String>,
    pub forward_client_cert: bool,
    pub upstream_timeout_secs: u64,
    pub header_read_timeout_secs: u64,
    pub max_header_bytes: Option<usize>,
    pub trust_poll_ms: u64,
    pub key_use_flush_secs: u64,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        Self {
            upstream: None,
            upstream_api_key: Some(UPSTREAM_KEY.to_owned()),
            forward_client_cert: false,
            upstream_timeout_secs: 30,
            header_read_timeout_secs: 10,
            max_header_bytes: None,
            trust_poll_ms: 50,
            key_use_flush_secs: 10,
        }
    }
}

/// A running `orgcerts gateway`.
pub struct Gateway {
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    _child: Killed,
}

impl Gateway {
    /// `https://127.0.0.1:PORT/v1{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}/v1{path}", self.addr)
    }

    /// The text of `/metrics` on the metrics listener.
    pub async fn metrics(&self) -> String {
        let reply = reqwest::get(format!("http://{}/metrics", self.metrics_addr))
            .await
            .expect("GET /metrics");
        assert_eq!(reply.status(), 200);
        reply.text().await.unwrap()
    }

    /// The sum of a metric's samples whose line starts with `prefix`.
    pub async fn sum(&self, prefix: &str) -> u64 {
        sum_of(&self.metrics().await, prefix)
    }

    /// TLS handshakes the gateway completed or refused, of every result.
    pub async fn handshakes(&self) -> u64 {
        self.sum("orgcerts_gateway_tls_handshakes_total{").await
    }
}

/// The sum of the samples of `metrics` whose line starts with `prefix`.
pub fn sum_of(metrics: &str, prefix: &str) -> u64 {
    metrics
        .lines()
        .filter(|line| line.starts_with(prefix))
        .map(|line| {
            let value = line.rsplit(' ').next().unwrap();
            value
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("not a whole sample: {line}"))
        })
        .sum()
}

/// The gateway's own TLS identity, in files it can read.
pub struct GatewayTls {
    pub server: TlsServer,
    pub cert: PathBuf,
    pub key: PathBuf,
    _dir: tempfile::TempDir,
}

impl GatewayTls {
    pub fn mint() -> Self {
        let server = orgcerts_testkit::tls_server(&["127.0.0.1"]);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let cert = dir.path().join("gateway.crt");
        let key = dir.path().join("gateway.key");
        std::fs::write(&cert, &server.cert_pem).unwrap();
        std::fs::write(&key, &server.key_pem).unwrap();
        Self {
            server,
            cert,
            key,
            _dir: dir,
        }
    }
}

/// Starts a gateway on `database_url` and waits for its `listening` line.
pub fn start_gateway(
    database_url: &str,
    (cert, key): (&Path, &Path),
    upstream: &str,
    options: &GatewayOptions,
) -> Gateway {
    let mut command = Command::new(BIN);
    command
        .args(["gateway", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(["--metrics-listen", "127.0.0.1:0"])
        .arg("--tls-cert")
        .arg(cert)
        .arg("--tls-key")
        .arg(key)
        .args([
            "--upstream",
            options.upstream.as_deref().unwrap_or(upstream),
        ])
        .args([
            "--upstream-timeout-secs",
            &options.upstream_timeout_secs.to_string(),
        ])
        .args([
            "--header-read-timeout-secs",
            &options.header_read_timeout_secs.to_string(),
        ])
        .args(["--trust-poll-ms", &options.trust_poll_ms.to_string()])
        .args([
            "--key-use-flush-secs",
            &options.key_use_flush_secs.to_string(),
        ]);
    if let Some(key) = &options.upstream_api_key {
        command.args(["--upstream-api-key", key]);
    }
    if options.forward_client_cert {
        command.arg("--forward-client-cert");
    }
    if let Some(bytes) = options.max_header_bytes {
        command.args(["--max-header-bytes", &bytes.to_string()]);
    }
    let mut child = command
        .env("DATABASE_URL", database_url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn orgcerts gateway");
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut metrics_addr = None;
    let addr = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            let status = child.wait();
            panic!("the gateway ended before listening: {status:?}");
        };
        let Ok(value) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let address = || {
            value["fields"]["addr"]
                .as_str()
                .and_then(|a| a.parse::<SocketAddr>().ok())
        };
        match value["fields"]["message"].as_str() {
            Some("metrics listening") => metrics_addr = address(),
            Some("listening") => break address().expect("an address"),
            _ => {}
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Gateway {
        addr,
        metrics_addr: metrics_addr.expect("a metrics listening line"),
        _child: Killed(child),
    }
}

/// `orgcerts serve` and `orgcerts gateway` on one database, the fake upstream, and the
/// gateway's TLS identity. Dropped in field order: the processes before their database.
pub struct Stack {
    pub gateway: Gateway,
    pub api: Api,
    pub upstream: Upstream,
    pub tls: GatewayTls,
    _server: Running,
    pub database: TestDatabase,
}

impl Stack {
    /// Everything with the default options, on the engine `ORGCERTS_TEST_ENGINE` names.
    pub async fn start() -> Self {
        Self::with(GatewayOptions::default()).await
    }

    pub async fn with(options: GatewayOptions) -> Self {
        Self::on(TestDatabase::fresh(), options).await
    }

    pub async fn on(database: TestDatabase, options: GatewayOptions) -> Self {
        let upstream = Upstream::start().await;
        let tls = GatewayTls::mint();
        let url = database.url();
        let upstream_url = upstream.url();
        let (server, gateway, tls, database) = tokio::task::spawn_blocking(move || {
            // The API server first: it migrates the fresh database and creates the organization.
            let server = common::start_server_on(&database);
            let gateway = start_gateway(&url, (&tls.cert, &tls.key), &upstream_url, &options);
            (server, gateway, tls, database)
        })
        .await
        .unwrap();
        let api = Api::new(&server);
        Self {
            gateway,
            api,
            upstream,
            tls,
            _server: server,
            database,
        }
    }

    /// Another gateway on the same database and upstream.
    pub async fn another_gateway(&self, options: GatewayOptions) -> Gateway {
        let url = self.database.url();
        let upstream = self.upstream.url();
        let (cert, key) = (self.tls.cert.clone(), self.tls.key.clone());
        tokio::task::spawn_blocking(move || start_gateway(&url, (&cert, &key), &upstream, &options))
            .await
            .unwrap()
    }

    /// A client of the gateway without a client certificate.
    pub fn client(&self) -> reqwest::Client {
        client(&self.tls.server, None)
    }

    /// A client of the gateway without a client certificate that speaks HTTP/1.1 only (ALPN
    /// `http/1.1`), keeping its connection alive between requests.
    pub fn http1_client(&self) -> reqwest::Client {
        base_client(&self.tls.server)
            .http1_only()
            .build()
            .expect("a client")
    }

    /// A client of the gateway presenting `identity_pem` (key and chain).
    pub fn client_with(&self, identity_pem: &str) -> reqwest::Client {
        client(&self.tls.server, Some(identity_pem))
    }

    /// A project with a service account: its ids and key.
    pub async fn tenant(&self, name: &str) -> Tenant {
        self.api.tenant(name).await
    }

    /// Uploads `pem` and activates it for `project` (the organization when `None`), then waits
    /// until the gateway asks `key`'s requests for a certificate; the certificate's id.
    pub async fn enforce(&self, pem: &str, project: Option<&str>, key: &str) -> String {
        let id = self.api.anchor(pem, project).await;
        self.until_enforced(key).await;
        id
    }

    /// Waits until the gateway asks `key`'s requests for a certificate, then clears the
    /// upstream's record of what it saw (the requests that passed before).
    pub async fn until_enforced(&self, key: &str) {
        let client = self.client();
        until(
            Duration::from_secs(1),
            "the activation reaches the gateway",
            async || call(&client, &self.gateway, "/models", Some(key), &[]).await,
            refused_with("certificate_required"),
        )
        .await;
        self.upstream.state.seen.lock().unwrap().clear();
    }
}

// ---------------------------------------------------------------------------------------------
// The Admin API, through `orgcerts serve`.

/// An answer: status, headers, and the body as JSON (a JSON string when it is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub version: reqwest::Version,
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Self {
        let version = response.version();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Self {
            version,
            status,
            headers,
            body,
        }
    }

    /// The error envelope's `code`, after checking it is a 401 `invalid_request_error`
    /// envelope with the 4xx headers.
    #[track_caller]
    pub fn refused(&self) -> Value {
        assert_eq!(self.status, 401, "{:?}", self.body);
        assert_envelope(self, "invalid_request_error");
        self.body["error"]["code"].clone()
    }
}

/// Asserts the OpenAI error envelope: exactly four keys, this type, a message; `x-request-id`;
/// `x-should-retry: false` on a 4xx.
#[track_caller]
pub fn assert_envelope(reply: &Reply, error_type: &str) {
    let error = reply.body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("an error envelope: {:?}", reply.body));
    assert_eq!(error.len(), 4, "{error:?}");
    assert_eq!(error["type"], error_type, "{error:?}");
    assert_eq!(error["param"], Value::Null, "{error:?}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        reply
            .headers
            .get("x-request-id")
            .is_some_and(|v| !v.is_empty())
    );
    if (400..500).contains(&reply.status) {
        assert_eq!(
            reply
                .headers
                .get("x-should-retry")
                .map(|v| v.to_str().unwrap()),
            Some("false")
        );
    }
}

/// A project and one of its service accounts.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub project: String,
    pub key: String,
    pub key_id: String,
}

/// The Admin API of one organization.
#[derive(Clone)]
pub struct Api {
    base: String,
    admin_key: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(server: &impl TestServer) -> Self {
        Self::with_key(server, server.admin_key())
    }

    /// The same server with another organization's admin key.
    pub fn with_key(server: &impl TestServer, admin_key: &str) -> Self {
        Self {
            base: server.base_url(),
            admin_key: admin_key.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// Another organization's view of the same server.
    pub fn as_other(&self, admin_key: &str) -> Self {
        Self {
            admin_key: admin_key.to_owned(),
            ..self.clone()
        }
    }

    pub fn admin_key(&self) -> &str {
        &self.admin_key
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.admin_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::read(request.send().await.expect("the API server answers")).await
    }

    /// POSTs `body` and expects a 200.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let reply = self.send(reqwest::Method::POST, path, Some(body)).await;
        assert_eq!(reply.status, 200, "POST {path}: {:?}", reply.body);
        reply.body
    }

    pub async fn delete(&self, path: &str) -> Value {
        let reply = self.send(reqwest::Method::DELETE, path, None).await;
        assert_eq!(reply.status, 200, "DELETE {path}: {:?}", reply.body);
        reply.body
    }

    /// A project with a service account.
    pub async fn tenant(&self, name: &str) -> Tenant {
        let project = self
            .post("/organization/projects", json!({"name": name}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let account = self
            .post(
                &format!("/organization/projects/{project}/service_accounts"),
                json!({"name": format!("{name} service")}),
            )
            .await;
        Tenant {
            project,
            key: account["api_key"]["value"].as_str().unwrap().to_owned(),
            key_id: account["api_key"]["id"].as_str().unwrap().to_owned(),
        }
    }

    /// Uploads a certificate; its id.
    pub async fn upload(&self, pem: &str, name: &str) -> String {
        self.post(
            "/organization/certificates",
            json!({"certificate": pem, "name": name}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Activates certificates for the organization, or for `project`.
    pub async fn activate(&self, project: Option<&str>, ids: &[&str]) {
        self.post(
            &format!("{}/activate", certificates_path(project)),
            json!({"certificate_ids": ids}),
        )
        .await;
    }

    /// Deactivates certificates for the organization, or for `project`.
    pub async fn deactivate(&self, project: Option<&str>, ids: &[&str]) {
        self.post(
            &format!("{}/deactivate", certificates_path(project)),
            json!({"certificate_ids": ids}),
        )
        .await;
    }

    /// Uploads `pem` and activates it at once for the organization, or for `project`.
    pub async fn anchor(&self, pem: &str, project: Option<&str>) -> String {
        let id = self.upload(pem, "anchor").await;
        self.activate(project, &[&id]).await;
        id
    }
}

fn certificates_path(project: Option<&str>) -> String {
    match project {
        Some(project) => format!("/organization/projects/{project}/certificates"),
        None => "/organization/certificates".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Clients of the gateway.

/// A reqwest client that trusts the gateway's CA and presents `identity_pem`, if any.
pub fn client(tls: &TlsServer, identity_pem: Option<&str>) -> reqwest::Client {
    let mut builder = base_client(tls);
    if let Some(pem) = identity_pem {
        builder =
            builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("an identity"));
    }
    builder.build().expect("a client")
}

/// Trusts the gateway's CA and keeps at most one idle connection.
fn base_client(tls: &TlsServer) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(tls.ca_pem.as_bytes()).unwrap())
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(15))
}

/// A request through the gateway: `POST /v1{path}` with a small JSON body, `key` as the bearer
/// key, and `headers`.
pub async fn call(
    client: &reqwest::Client,
    gateway: &Gateway,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = client
        .post(gateway.url(path))
        .body(r#"{"model":"gpt-test","input":"hello"}"#)
        .header("content-type", "application/json");
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Reply::read(request.send().await.expect("the gateway answers")).await
}

/// Calls until `done` holds of the reply, for at most `deadline`; the time it took.
pub async fn until(
    deadline: Duration,
    what: &str,
    mut attempt: impl AsyncFnMut() -> Reply,
    done: impl Fn(&Reply) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let reply = attempt().await;
        if done(&reply) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < deadline,
            "{what}: not within {deadline:?}; last reply {} {:?}",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Whether `reply` passed the gateway (the upstream echoed it).
pub fn passed(reply: &Reply) -> bool {
    reply.status == 200 && reply.body["method"].is_string()
}

/// Whether `reply` is a 401 with `code`.
pub fn refused_with(code: &str) -> impl Fn(&Reply) -> bool + '_ {
    move |reply| reply.status == 401 && reply.body["error"]["code"] == code
}

// ---------------------------------------------------------------------------------------------
// Raw TLS, for what reqwest cannot send.

/// Presents a fixed certificate chain with a fixed key, whatever the server asks: rustls checks
/// neither against the other.
#[derive(Debug)]
struct Present(Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for Present {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// A TLS connector that trusts the gateway's CA, offers `alpn`, and presents `chain` with the
/// PKCS#8 key `key_der` when given.
pub fn connector(
    tls: &TlsServer,
    identity: Option<(Vec<CertificateDer<'static>>, &[u8])>,
    alpn: &[&[u8]],
) -> tokio_rustls::TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pem_certificates(&tls.ca_pem).remove(0)).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match identity {
        Some((chain, key_der)) => {
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.to_vec()));
            let signing = provider.key_provider.load_private_key(key).unwrap();
            let certified = rustls::sign::CertifiedKey::new(chain, signing);
            builder.with_client_cert_resolver(Arc::new(Present(Arc::new(certified))))
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// The certificates of a PEM text, in order.
pub fn pem_certificates(pem: &str) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A TLS connection to the gateway.
pub async fn connect(
    gateway: &Gateway,
    connector: &tokio_rustls::TlsConnector,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(gateway.addr).await?;
    let name = ServerName::IpAddress(gateway.addr.ip().into());
    tokio::time::timeout(Duration::from_secs(10), connector.connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::other("the handshake timed out"))?
}

/// Reads an HTTP/1.1 answer's head (through the blank line); what came after it stays in
/// `rest`.
pub async fn read_head(
    io: &mut (impl tokio::io::AsyncRead + Unpin),
    rest: &mut Vec<u8>,
) -> std::io::Result<String> {
    let mut buf = [0; 4096];
    loop {
        if let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&rest[..end]).into_owned();
            rest.drain(..end + 4);
            return Ok(head);
        }
        let n = tokio::time::timeout(Duration::from_secs(10), io.read(&mut buf))
            .await
            .map_err(|_| std::io::Error::other("no answer within 10 s"))??;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        rest.extend_from_slice(&buf[..n]);
    }
}

/// The status code of an HTTP/1.1 head.
pub fn status_of(head: &str) -> u16 {
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
