//! JSON response bodies.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;
use crate::middleware::CurrentRequestId;

/// The room a response body is encoded into at first: a 20-item certificate page (about
/// 4.3 KB) fits, so the common list is encoded without the buffer growing and being copied
/// (`axum::Json` starts at 128 bytes and doubles six times for it).
const INITIAL_CAPACITY: usize = 8 * 1024;

/// A `200 OK` with `T` as its JSON body.
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(INITIAL_CAPACITY);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(err) => {
                tracing::error!(
                    request_id = %CurrentRequestId,
                    error = %err,
                    "cannot encode the response body"
                );
                ApiError::Unencodable.into_response()
            }
        }
    }
}
