//! Operator endpoints outside `/v1`, without authentication: liveness, readiness, metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;

/// `/healthz`, `/readyz` and, when `with_metrics`, `/metrics`.
pub fn routes(with_metrics: bool) -> Router<AppState> {
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    if with_metrics {
        router.route("/metrics", get(metrics))
    } else {
        router
    }
}

/// The process is alive and serving.
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// The database is reachable and its schema current: this instance can take traffic.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.service.store().health().await {
        Ok(()) => Json(json!({"status": "ready"})).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "not ready");
            let mut response = ApiError::from(orgcerts_core::Error::StorageUnavailable(
                orgcerts_core::StorageError::new("the database is not reachable"),
            ))
            .into_response();
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response
        }
    }
}

/// Prometheus text exposition.
async fn metrics(State(state): State<AppState>) -> Response {
    let store = state.service.store();
    if let Some(pool) = store.pool_status() {
        state.metrics.set_pool(pool.in_use, pool.idle);
    }
    match store
        .certificate_expiry_counts(orgcerts_core::unix_now())
        .await
    {
        Ok(counts) => state.metrics.set_expiry(&counts),
        Err(err) => tracing::warn!(error = %err, "expiry counts unavailable for /metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
