//! A fault-injecting HTTP proxy in front of the real server, for the client's and the command
//! line's tests.
//!
//! Every request is forwarded to the server unchanged (method, path, query, headers, body) and
//! the server's answer comes back unchanged (status, headers, body), except that the faults
//! queued with [`Proxy::fail_next`] answer the next requests, one each, in the server's stead.
//! Every request received is recorded, so that tests can count the client's attempts.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use orgcerts_testkit::TestServer;

/// An answer the proxy gives to one request instead of the server's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// An OpenAI error envelope with this status and these extra headers.
    Status {
        status: u16,
        headers: Vec<(String, String)>,
    },
    /// This status and this body, sent as `application/json` whatever it holds.
    Body { status: u16, body: String },
    /// Wait this long, then forward the request.
    Delay(Duration),
}

impl Fault {
    /// An error envelope with this status.
    pub fn status(status: u16) -> Self {
        Self::Status {
            status,
            headers: Vec::new(),
        }
    }

    /// An error envelope with this status and one extra header.
    pub fn status_with(status: u16, name: &str, value: &str) -> Self {
        Self::Status {
            status,
            headers: vec![(name.to_owned(), value.to_owned())],
        }
    }

    /// `200 OK` with a body that is not JSON.
    pub fn garbage() -> Self {
        Self::Body {
            status: 200,
            body: "<html>not json</html>".to_owned(),
        }
    }
}

/// A request as the proxy received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string, undecoded.
    pub query: Option<String>,
}

struct Shared {
    /// The server's `scheme://host:port`.
    origin: String,
    http: reqwest::Client,
    faults: Mutex<VecDeque<Fault>>,
    recorded: Mutex<Vec<Recorded>>,
}

/// Numbers the request ids of the faults' answers.
static FAULTS_ANSWERED: AtomicU64 = AtomicU64::new(0);

/// Locks a mutex; a test that panicked while holding it has failed already.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A proxy on `127.0.0.1` in front of `upstream`, on a thread of its own so that both async and
/// blocking tests can use it. Dropping it stops the proxy, then the server.
pub struct Proxy<S> {
    base_url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    upstream: S,
}

/// Starts a proxy on a free port in front of `upstream`.
pub fn proxy<S: TestServer>(upstream: S) -> Proxy<S> {
    let target = reqwest::Url::parse(&upstream.base_url()).expect("the server's base URL");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("local address");
    let shared = Arc::new(Shared {
        origin: target.origin().ascii_serialization(),
        http: reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("proxy's HTTP client"),
        faults: Mutex::default(),
        recorded: Mutex::default(),
    });
    let app = handle.with_state(shared.clone()).into_make_service();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("proxy runtime");
        // Dropping the runtime when told to stop ends the server and every connection,
        // including a request still waiting out a `Fault::Delay`.
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            tokio::spawn(async move { axum::serve(listener, app).await });
            let _ = stopped.await;
        });
    });
    Proxy {
        base_url: format!("http://{addr}{}", target.path()),
        shared,
        stop: Some(stop),
        thread: Some(thread),
        upstream,
    }
}

impl<S> Proxy<S> {
    /// Answers the next requests with these faults, one each, then forwards requests again.
    pub fn fail_next(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.shared.faults).extend(faults);
    }

    /// Every request received so far, in order, whether forwarded or answered with a fault.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.recorded).clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.shared.recorded).clear();
    }
}

impl<S: TestServer> TestServer for Proxy<S> {
    fn base_url(&self) -> String {
        self.base_url.clone()
    }

    fn admin_key(&self) -> &str {
        self.upstream.admin_key()
    }
}

impl<S> Drop for Proxy<S> {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    lock(&shared.recorded).push(Recorded {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().map(str::to_owned),
    });
    let fault = lock(&shared.faults).pop_front();
    let mut response = match fault {
        None => return forward(&shared, request).await,
        Some(Fault::Delay(wait)) => {
            tokio::time::sleep(wait).await;
            return forward(&shared, request).await;
        }
        Some(Fault::Status { status, headers }) => error(status, &headers),
        Some(Fault::Body { status, body }) => (
            StatusCode::from_u16(status).expect("a valid HTTP status"),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
    };
    // A request id like the server's, so that tests can check the client reports it.
    let id = FAULTS_ANSWERED.fetch_add(1, Ordering::Relaxed) + 1;
    let id = HeaderValue::try_from(format!("req_{id:032x}")).expect("an ASCII header value");
    response.headers_mut().insert("x-request-id", id);
    response
}

/// `headers` less those of one connection, which are not the request's or the answer's.
fn end_to_end(mut headers: HeaderMap) -> HeaderMap {
    use header::{CONNECTION, HOST, TE, TRAILER, TRANSFER_ENCODING, UPGRADE};
    for name in [CONNECTION, HOST, TE, TRAILER, TRANSFER_ENCODING, UPGRADE] {
        headers.remove(name);
    }
    headers
}

async fn forward(shared: &Shared, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |path| path.as_str());
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("the request body");
    let mut outgoing = shared
        .http
        .request(parts.method, format!("{}{path}", shared.origin))
        .headers(end_to_end(parts.headers));
    if !body.is_empty() {
        outgoing = outgoing.body(body);
    }
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        Err(error) => {
            let message = format!("orgcerts-testproxy: the server did not answer: {error}");
            return (StatusCode::BAD_GATEWAY, message).into_response();
        }
    };
    let status = answer.status();
    let headers = end_to_end(answer.headers().clone());
    let body = answer.bytes().await.expect("the server's body");
    let mut response = (status, body).into_response();
    *response.headers_mut() = headers;
    response
}

/// An OpenAI error envelope, marked `x-should-retry: false` on every 4xx but 408 and 429 as the
/// server marks its own, then with `extra` headers set over that.
fn error(status: u16, extra: &[(String, String)]) -> Response {
    let status = StatusCode::from_u16(status).expect("a valid HTTP status");
    let kind = match status.as_u16() {
        429 => "requests",
        500..=599 => "server_error",
        _ => "invalid_request_error",
    };
    let envelope = serde_json::json!({ "error": {
        "message": "The proxy failed on purpose.", "type": kind, "param": null, "code": null,
    }});
    let mut response = (status, axum::Json(envelope)).into_response();
    let headers = response.headers_mut();
    if status.is_client_error() && !matches!(status.as_u16(), 408 | 429) {
        headers.insert("x-should-retry", HeaderValue::from_static("false"));
    }
    for (name, value) in extra {
        let name = HeaderName::try_from(name.as_str()).expect("a header name");
        headers.insert(
            name,
            HeaderValue::try_from(value.as_str()).expect("a header value"),
        );
    }
    response
}
