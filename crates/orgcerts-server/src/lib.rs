//! The orgcerts HTTP server: OpenAI's Certificates and Projects Admin API under `/v1`.
//!
//! [`app`] builds the whole service (routes, error envelopes, request ids, logging, path
//! normalization); [`run`] serves it on a listener until a shutdown signal.

mod convert;
mod error;
mod extract;
pub mod handlers;
mod middleware;
pub mod serve;

use std::future::Future;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Router, ServiceExt};
use orgcerts_core::Service;
use tokio::net::TcpListener;

pub use error::ApiError;

use handlers::{certificates as certs, projects};

/// The default limit on request bodies: room for a 16 KiB certificate with JSON escaping, so
/// that an oversized certificate gets its precise 400, while far larger bodies are refused early.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub max_body_bytes: usize,
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
}

/// The complete HTTP service.
pub type App = middleware::NormalizePath<Router>;

/// Builds the complete HTTP service over `state`.
pub fn app(state: AppState) -> App {
    let router = routes()
        .fallback(middleware::unknown_route)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            middleware::panic_response,
        ))
        .layer(axum::middleware::from_fn(middleware::observe))
        .with_state(state);
    // Path normalization must happen before routing, so it wraps the router from outside.
    middleware::normalize_path(router)
}

/// Serves `app` on `listener` until `shutdown` resolves; in-flight requests then finish.
pub async fn run(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(shutdown)
        .await
}
