//! What wraps every request: request ids, timing headers, retry hints, the log line, path
//! normalization, and the JSON answers for unknown routes, wrong methods and panics.

use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use tower::util::MapRequest;
use tower::{Layer, Service};

use crate::error::ApiError;
use crate::metrics::{Metrics, Route};
use crate::request::{self, CurrentRequestId, RateLimitHeaders, RequestId};

/// The layer that turns a handler's panic into the generic 500; stamps every response with
/// `x-request-id`, `openai-processing-ms`, the admin key's `x-ratelimit-*` headers and, on 4xx
/// other than 408 and 429, `x-should-retry: false` (the official SDKs otherwise retry a 409);
/// counts it in the metrics; and logs one line per request, with its request id, which lines
/// logged while serving it also carry ([`CurrentRequestId`], [`crate::request`]).
///
/// A hand-written layer rather than `axum::middleware::from_fn`, which boxes the inner service
/// and clones the state for every request.
#[derive(Clone)]
pub struct ObserveLayer {
    metrics: Arc<Metrics>,
}

impl ObserveLayer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service of [`ObserveLayer`].
#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let request = RequestFacts {
            started: Instant::now(),
            method: req.method().clone(),
            uri: req.uri().clone(),
            route: Route::new(req.extensions().get::<MatchedPath>().cloned()),
        };
        // `inner` was made ready by `poll_ready`, and is called right here, so it needs no
        // clone; the handler itself runs when the future is polled, inside the scope.
        let response = panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(req)));
        let metrics = self.metrics.clone();
        let id = RequestId::new();
        Box::pin(async move {
            let (mut response, rate_limit) = request::scope(id, async move {
                // A panic, in `call` or in the handler, is the generic 500.
                match response {
                    Ok(future) => match AssertUnwindSafe(future).catch_unwind().await {
                        Ok(Ok(response)) => response,
                        Err(panic) => panic_response(&*panic),
                    },
                    Err(panic) => panic_response(&*panic),
                }
            })
            .await;
            finish(&mut response, &request, id, rate_limit, &metrics);
            Ok(response)
        })
    }
}

// Header names as constants: made once, at compile time, rather than parsed per response.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const OPENAI_PROCESSING_MS: HeaderName = HeaderName::from_static("openai-processing-ms");
const X_SHOULD_RETRY: HeaderName = HeaderName::from_static("x-should-retry");

/// What [`Observe`] notes of a request before handing it on.
struct RequestFacts {
    started: Instant,
    method: Method,
    uri: Uri,
    route: Route,
}

/// Everything [`ObserveLayer`] does once the response is there.
fn finish(
    response: &mut Response,
    request: &RequestFacts,
    id: RequestId,
    rate_limit: Option<RateLimitHeaders>,
    metrics: &Metrics,
) {
    let status = response.status();
    let elapsed = request.started.elapsed();
    let headers = response.headers_mut();
    if let Some(value) = id.header_value() {
        headers.insert(X_REQUEST_ID, value);
    }
    let millis = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    headers.insert(OPENAI_PROCESSING_MS, HeaderValue::from(millis));
    if status.is_client_error()
        && status != StatusCode::REQUEST_TIMEOUT
        && status != StatusCode::TOO_MANY_REQUESTS
    {
        headers.insert(X_SHOULD_RETRY, HeaderValue::from_static("false"));
    }
    if let Some(limits) = rate_limit {
        limits.apply(headers);
    }
    metrics.observe_request(&request.route, &request.method, status.as_u16(), elapsed);
    let latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    // Strings as `&str`, not `%Display`: the same line, without the formatting machinery.
    let (request_id, method, path) = (id.as_str(), request.method.as_str(), request.uri.path());
    macro_rules! log_request {
        ($level:ident) => {
            tracing::$level!(
                request_id,
                method,
                path,
                status = status.as_u16(),
                latency_us,
                "request"
            )
        };
    }
    if status.is_server_error() {
        log_request!(error);
    } else {
        log_request!(info);
    }
}

/// The 404 for a path no route has.
pub async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError::UnknownRoute {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// The 405 for a known path with a method it does not have.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// A handler panic becomes the generic 500; the panic message goes to the log only.
fn panic_response(panic: &(dyn Any + Send)) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(request_id = %CurrentRequestId, panic = detail, "request handler panicked");
    ApiError::Panic.into_response()
}

/// A request as hyper hands it over.
type Incoming = axum::http::Request<hyper::body::Incoming>;

/// The router wrapped in path normalization.
pub type NormalizePath<S> = MapRequest<S, fn(Incoming) -> Request>;

/// Wraps `service` so that repeated slashes collapse before routing (async-openai with a
/// trailing-slash base URL sends `/v1//organization/...`). A trailing slash is kept:
/// `/v1/organization/certificates/` is an empty id, not the list.
pub fn normalize_path<S>(service: S) -> NormalizePath<S> {
    MapRequest::new(service, normalize as fn(Incoming) -> Request)
}

fn normalize(req: Incoming) -> Request {
    collapse_slashes(req.map(Body::new))
}

fn collapse_slashes(mut req: Request) -> Request {
    let uri = req.uri();
    if !uri.path().contains("//") {
        return req;
    }
    let mut path = String::with_capacity(uri.path().len());
    for c in uri.path().chars() {
        if !(c == '/' && path.ends_with('/')) {
            path.push(c);
        }
    }
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(new_uri) = Uri::from_parts(parts) {
            *req.uri_mut() = new_uri;
        }
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        panic!("secret detail")
    }

    async fn send(path: &str) -> (Response, serde_json::Value) {
        let app = Router::new()
            .route("/ok", get(|| async { "fine" }))
            .route("/boom", get(boom))
            .layer(ObserveLayer::new(Arc::new(Metrics::default())));
        let request = Request::builder().uri(path).body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 16).await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (Response::from_parts(parts, Body::empty()), json)
    }

    #[tokio::test]
    async fn a_panicking_handler_is_the_generic_500_with_a_request_id() {
        let (response, body) = send("/boom").await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["type"], "server_error");
        assert!(!body.to_string().contains("secret detail"), "{body}");
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert!(id.starts_with("req_") && id.len() == 36, "{id}");
        assert!(response.headers().get("x-should-retry").is_none());

        let (response, _) = send("/ok").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().contains_key("openai-processing-ms"));
    }

    #[test]
    fn collapses_repeated_slashes_and_keeps_the_query() {
        let req = Request::builder()
            .uri("/v1//organization///certificates?limit=2&include[]=content")
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            collapse_slashes(req).uri().to_string(),
            "/v1/organization/certificates?limit=2&include[]=content"
        );
        let req = Request::builder()
            .uri("/v1/organization/certificates/")
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            collapse_slashes(req).uri().path(),
            "/v1/organization/certificates/"
        );
    }
}
