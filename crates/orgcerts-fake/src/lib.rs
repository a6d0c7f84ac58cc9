//! An in-memory stand-in for the Certificates and Projects Admin API, for the client's and the
//! command line's tests: it keeps certificates and projects, paginates like the contract says
//! (`docs/contract.md`), answers errors in the OpenAI envelope, and fails on purpose when told.
//!
//! It is deliberately small: it checks what the tests rely on (PEM parses as a CA that does not
//! expire within a day, no private key, duplicates, limits, ids), not every rule of the real
//! server. The real server's own tests are the authority on those.

// Handlers return `Result<_, Response>` so that an early error is the answer itself; boxing
// every response to please this lint would only add noise to test support code.
#![allow(clippy::result_large_err)]

mod certificates;
mod list;
mod projects;
mod state;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

pub use state::{CertificateRecord, ProjectRecord};

/// The admin key the fake accepts unless told otherwise.
pub const ADMIN_KEY: &str = "sk-admin-fakefakefakefakefakefakefakefakefakefakefake";

/// A failure to answer one request with, instead of handling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// An error envelope with this status and these extra headers.
    Status {
        status: u16,
        headers: Vec<(String, String)>,
    },
    /// `200 OK` with a body that is not JSON.
    Garbage,
    /// Wait this long, then handle the request normally.
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
}

/// A request as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string, undecoded.
    pub query: Option<String>,
}

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) data: Mutex<state::Data>,
    faults: Mutex<VecDeque<Fault>>,
    recorded: Mutex<Vec<Recorded>>,
    next_request_id: AtomicU64,
}

pub(crate) type AppState = Arc<Shared>;

/// Locks a mutex; a test that panicked while holding it has failed already.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a behavioural test may know of the server it talks to: where it is and the admin key.
///
/// Tests written against this trait, rather than [`FakeServer`], run unchanged against any
/// server that implements it, such as a harness around the real `orgcerts serve`.
pub trait TestServer {
    /// `http://HOST:PORT/v1`.
    fn base_url(&self) -> String;
    /// An admin key of the server's organization.
    fn admin_key(&self) -> &str;
}

impl TestServer for FakeServer {
    fn base_url(&self) -> String {
        Self::base_url(self)
    }

    fn admin_key(&self) -> &str {
        Self::admin_key(self)
    }
}

/// A running fake on `127.0.0.1`, stopped when dropped.
pub struct FakeServer {
    addr: SocketAddr,
    shared: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeServer {
    /// Starts a fake on a free port, on a thread of its own, so that both async and blocking
    /// tests can use it.
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let shared = AppState::default();
        let app = router(shared.clone());
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("fake server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("fake server");
            });
        });
        Self {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The admin key the fake accepts.
    pub fn admin_key(&self) -> &'static str {
        ADMIN_KEY
    }

    /// Answers the next requests with these faults, one each, before handling requests again.
    pub fn fail_next(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.shared.faults).extend(faults);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.recorded).clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.shared.recorded).clear();
    }

    /// Sets how many certificates the organization may hold (50 by default).
    pub fn set_certificate_limit(&self, limit: usize) {
        lock(&self.shared.data).certificate_limit = limit;
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn router(shared: AppState) -> Router {
    use certificates as c;
    use projects as p;
    Router::new()
        .route(
            "/v1/organization/certificates",
            get(c::list).post(c::upload),
        )
        .route("/v1/organization/certificates/activate", post(c::activate))
        .route(
            "/v1/organization/certificates/deactivate",
            post(c::deactivate),
        )
        .route(
            "/v1/organization/certificates/{certificate_id}",
            get(c::retrieve).post(c::modify).delete(c::delete),
        )
        .route("/v1/organization/projects", get(p::list).post(p::create))
        .route(
            "/v1/organization/projects/{project_id}",
            get(p::retrieve).post(p::modify),
        )
        .route(
            "/v1/organization/projects/{project_id}/archive",
            post(p::archive),
        )
        .route(
            "/v1/organization/projects/{project_id}/certificates",
            get(c::list_project),
        )
        .route(
            "/v1/organization/projects/{project_id}/certificates/activate",
            post(c::activate_project),
        )
        .route(
            "/v1/organization/projects/{project_id}/certificates/deactivate",
            post(c::deactivate_project),
        )
        .fallback(|request: Request| async move {
            let message = format!(
                "Invalid URL ({} {})",
                request.method(),
                request.uri().path()
            );
            error(StatusCode::NOT_FOUND, &message, None, None)
        })
        .layer(middleware::from_fn_with_state(shared.clone(), front))
        .with_state(shared)
}

/// Records the request, applies a queued fault, checks the key, and stamps `x-request-id`.
async fn front(State(shared): State<AppState>, request: Request, next: Next) -> Response {
    lock(&shared.recorded).push(Recorded {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().map(str::to_owned),
    });
    let id = shared.next_request_id.fetch_add(1, Ordering::Relaxed) + 1;
    let fault = lock(&shared.faults).pop_front();
    let mut response = match fault {
        Some(Fault::Status { status, headers }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = error(status, "The fake failed on purpose.", None, None);
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) =
                    (HeaderName::try_from(name), HeaderValue::try_from(value))
                {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
        Some(Fault::Garbage) => (
            [(header::CONTENT_TYPE, "application/json")],
            "<html>not json</html>",
        )
            .into_response(),
        Some(Fault::Delay(wait)) => {
            tokio::time::sleep(wait).await;
            authorized_or(request, next).await
        }
        None => authorized_or(request, next).await,
    };
    if let Ok(value) = HeaderValue::try_from(format!("req_{id:032x}")) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

async fn authorized_or(request: Request, next: Next) -> Response {
    let auth = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    match auth.and_then(|value| value.strip_prefix("Bearer ")) {
        None => error(
            StatusCode::UNAUTHORIZED,
            "You didn't provide an API key.",
            None,
            None,
        ),
        Some(key) if key != ADMIN_KEY => error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided.",
            None,
            Some("invalid_api_key"),
        ),
        Some(_) => next.run(request).await,
    }
}

/// An error in the OpenAI envelope, with `x-should-retry: false` on every 4xx but 408 and 429
/// (contract.md).
pub(crate) fn error(
    status: StatusCode,
    message: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    let kind = match status.as_u16() {
        429 => "requests",
        500..=599 => "server_error",
        _ => "invalid_request_error",
    };
    let body = orgcerts_api::ErrorResponse {
        error: orgcerts_api::Error {
            message: message.to_owned(),
            kind: kind.to_owned(),
            param: param.map(str::to_owned),
            code: code.map(str::to_owned),
        },
    };
    let mut response = (status, Json(body)).into_response();
    if status.is_client_error() && !matches!(status.as_u16(), 408 | 429) {
        response
            .headers_mut()
            .insert("x-should-retry", HeaderValue::from_static("false"));
    }
    response
}

/// A 400 naming the parameter at fault.
pub(crate) fn bad_request(message: &str, param: Option<&str>, code: Option<&str>) -> Response {
    error(StatusCode::BAD_REQUEST, message, param, code)
}

/// A 404 naming the path parameter at fault.
pub(crate) fn not_found(what: &str, id: &str, param: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &format!("No {what} found with id '{id}'."),
        Some(param),
        None,
    )
}

/// A JSON body decoded as `T`, or a 400 envelope saying why not.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body)
        .map_err(|error| bad_request(&format!("Invalid request body: {error}."), None, None))
}
