//! The orgcerts HTTP server: OpenAI's Certificates and Projects Admin API under `/v1`.
//!
//! [`app`] builds the whole service (routes, error envelopes, request ids, logging, path
//! normalization); [`run`] serves it on a listener until a shutdown signal.

mod authfail;
mod convert;
mod error;
mod extract;
mod fdlimit;
#[doc(hidden)]
pub mod fuzzing;
pub mod handlers;
mod json;
pub mod listener;
pub mod logformat;
pub mod logwriter;
mod metrics;
mod middleware;
mod ops;
mod ratelimit;
pub mod request;
pub mod serve;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use orgcerts_core::Service;
use tokio::net::TcpListener;

pub use authfail::ClientAddr;
use authfail::FailedAuthLimiter;
pub use error::ApiError;
pub use listener::ConnectionLimits;
use metrics::Metrics;
use ratelimit::AdminKeyLimiter;

use handlers::{
    admin_api_keys as keys, audit_logs, certificates as certs, project_api_keys, projects,
    service_accounts,
};

/// The default limit on request bodies: room for a 16 KiB certificate with JSON escaping, so
/// that an oversized certificate gets its precise 400, while far larger bodies are refused early.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Request-level settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest request body, in bytes; larger bodies get a 413.
    pub max_body_bytes: usize,
    /// Time a client has to send a request's body once its headers are in; a slower client
    /// gets a 408 (headers themselves are bounded by [`ConnectionLimits`]).
    pub body_read_timeout: Duration,
    /// Requests per minute per admin key; 0 turns rate limiting off.
    pub rate_limit_per_minute: u32,
    /// Largest burst per admin key.
    pub rate_limit_burst: u32,
    /// Failed authentications per minute per client address before they are answered 429
    /// instead of 401; 0 turns the limit off.
    pub failed_auth_per_minute: u32,
    /// Whether `/metrics` is served on the API listener too. `orgcerts serve` leaves it off:
    /// metrics are for the operator's network only, on `--metrics-listen`.
    pub metrics_on_api_listener: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_read_timeout: Duration::from_secs(30),
            rate_limit_per_minute: 6000,
            rate_limit_burst: 1000,
            failed_auth_per_minute: 60,
            metrics_on_api_listener: false,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub settings: Arc<HttpSettings>,
    metrics: Arc<Metrics>,
    limiter: Option<Arc<AdminKeyLimiter>>,
    failed_auth: Option<Arc<FailedAuthLimiter>>,
}

impl AppState {
    pub fn new(service: Arc<Service>, settings: HttpSettings) -> Self {
        let limiter =
            AdminKeyLimiter::new(settings.rate_limit_per_minute, settings.rate_limit_burst)
                .map(Arc::new);
        let failed_auth = FailedAuthLimiter::new(settings.failed_auth_per_minute).map(Arc::new);
        Self {
            service,
            settings: Arc::new(settings),
            metrics: Arc::new(Metrics::default()),
            limiter,
            failed_auth,
        }
    }

    /// Drops rate-limit buckets of keys and addresses not seen lately; the server calls it
    /// periodically.
    pub fn forget_idle_rate_limits(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.forget_idle();
        }
        if let Some(failed_auth) = &self.failed_auth {
            failed_auth.forget_idle();
        }
    }
}

/// The routes of the API, named after the spec's operationIds.
fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/organization/certificates",
            get(certs::list_organization_certificates).post(certs::upload_certificate),
        )
        .route(
            "/v1/organization/certificates/activate",
            post(certs::activate_organization_certificates),
        )
        .route(
            "/v1/organization/certificates/deactivate",
            post(certs::deactivate_organization_certificates),
        )
        .route(
            "/v1/organization/certificates/{certificate_id}",
            get(certs::get_certificate)
                .post(certs::modify_certificate)
                .delete(certs::delete_certificate),
        )
        .route(
            "/v1/organization/projects",
            get(projects::list_projects).post(projects::create_project),
        )
        .route(
            "/v1/organization/projects/{project_id}",
            get(projects::retrieve_project).post(projects::modify_project),
        )
        .route(
            "/v1/organization/projects/{project_id}/archive",
            post(projects::archive_project),
        )
        .route(
            "/v1/organization/projects/{project_id}/certificates",
            get(certs::list_project_certificates),
        )
        .route(
            "/v1/organization/projects/{project_id}/certificates/activate",
            post(certs::activate_project_certificates),
        )
        .route(
            "/v1/organization/projects/{project_id}/certificates/deactivate",
            post(certs::deactivate_project_certificates),
        )
        .route(
            "/v1/organization/projects/{project_id}/service_accounts",
            get(service_accounts::list_project_service_accounts)
                .post(service_accounts::create_project_service_account),
        )
        .route(
            "/v1/organization/projects/{project_id}/service_accounts/{service_account_id}",
            get(service_accounts::retrieve_project_service_account)
                .post(service_accounts::update_project_service_account)
                .delete(service_accounts::delete_project_service_account),
        )
        .route(
            "/v1/organization/projects/{project_id}/service_accounts/{service_account_id}/api_keys",
            post(service_accounts::create_an_api_key_for_a_service_account),
        )
        .route(
            "/v1/organization/projects/{project_id}/api_keys",
            get(project_api_keys::list_project_api_keys),
        )
        .route(
            "/v1/organization/projects/{project_id}/api_keys/{api_key_id}",
            get(project_api_keys::retrieve_project_api_key)
                .delete(project_api_keys::delete_project_api_key),
        )
        .route(
            "/v1/organization/admin_api_keys",
            get(keys::admin_api_keys_list).post(keys::admin_api_keys_create),
        )
        .route(
            "/v1/organization/admin_api_keys/{key_id}",
            get(keys::admin_api_keys_get).delete(keys::admin_api_keys_delete),
        )
        .route(
            "/v1/organization/audit_logs",
            get(audit_logs::list_audit_logs),
        )
}

/// The complete HTTP service.
pub type App = middleware::NormalizePath<Router>;

/// Builds the complete HTTP service over `state`: the API under `/v1`, `/healthz`, `/readyz`,
/// the web console at `/` and, only when [`HttpSettings::metrics_on_api_listener`] says so,
/// `/metrics`.
pub fn app(state: AppState) -> App {
    let with_metrics = state.settings.metrics_on_api_listener;
    let console = orgcerts_console::router();
    finish(
        routes().merge(ops::routes(with_metrics)).merge(console),
        state,
    )
}

/// The operator endpoints alone, for `--metrics-listen`.
pub fn ops_app(state: AppState) -> App {
    finish(ops::routes(true), state)
}

fn finish(routes: Router<AppState>, state: AppState) -> App {
    // One stack in one `layer` call: each call wraps every route in another boxed service,
    // which each request then clones (axum's `Router::layer` documentation).
    let stack = tower::ServiceBuilder::new()
        .layer(middleware::ObserveLayer::new(state.metrics.clone()))
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes));
    let router = routes
        .fallback(middleware::unknown_route)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(stack)
        .with_state(state);
    // Path normalization must happen before routing, so it wraps the router from outside.
    middleware::normalize_path(router)
}

/// Serves `app` over plain HTTP on `listener` with the default connection limits until
/// `shutdown` resolves; in-flight requests then finish.
pub async fn run(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener::serve_connections(listener, app, None, ConnectionLimits::default(), shutdown).await
}
