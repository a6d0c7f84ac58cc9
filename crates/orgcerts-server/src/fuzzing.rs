//! What the fuzz targets (`fuzz/` at the top of the repository) drive: the server's own request
//! readers, so that they fuzz the code that serves requests rather than copies of it. Not part
//! of the server's API.

use axum::response::IntoResponse;

pub use crate::extract::{QueryParams, read_json};
pub use crate::handlers::page_request;

use crate::ApiError;

/// The HTTP status `err` is answered with.
pub fn status_of(err: ApiError) -> u16 {
    err.into_response().status().as_u16()
}
