//! The gateway's own answers, in OpenAI's error envelope.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use orgcerts_gateway::Refusal;
use orgcerts_server::request::RequestId;

use crate::Body;

/// Why the gateway answered a request itself rather than passing it upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayError {
    /// No `Authorization` header.
    MissingApiKey,
    /// More than one `Authorization` header.
    DuplicateApiKey,
    /// Not a live service account key of a live project.
    InvalidApiKey,
    /// `OpenAI-Organization` names another organization than the key's.
    MismatchedOrganization,
    /// `OpenAI-Project` names another project than the key's.
    MismatchedProject,
    /// The certificate check refused the request.
    Refused(Refusal),
    /// The gateway could not decide in time: the database is unreachable, or its trust is
    /// older than it may be.
    TemporarilyUnavailable,
    /// The upstream could not be reached, or broke off its answer before its head.
    UpstreamUnreachable,
    /// The upstream did not start answering within the request timeout.
    UpstreamTimeout,
    /// A path outside `/v1`.
    UnknownRoute,
}

impl GatewayError {
    /// The outcome as logged and counted: the envelope's code, or a name where it has none.
    pub fn outcome(self) -> &'static str {
        match self {
            Self::MissingApiKey => "missing_api_key",
            Self::DuplicateApiKey => "duplicate_api_key",
            Self::UpstreamUnreachable => "upstream_unreachable",
            Self::UpstreamTimeout => "upstream_timeout",
            Self::UnknownRoute => "unknown_route",
            other => other.parts().2.unwrap_or("error"),
        }
    }

    /// Status, `type`, `code` and `message`.
    fn parts(self) -> (StatusCode, &'static str, Option<&'static str>, &'static str) {
        const INVALID: &str = "invalid_request_error";
        match self {
            Self::MissingApiKey => (
                StatusCode::UNAUTHORIZED,
                INVALID,
                None,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            ),
            Self::DuplicateApiKey => (
                StatusCode::UNAUTHORIZED,
                INVALID,
                None,
                "The request has more than one Authorization header; send exactly one.",
            ),
            Self::InvalidApiKey => (
                StatusCode::UNAUTHORIZED,
                INVALID,
                Some("invalid_api_key"),
                "Incorrect API key provided.",
            ),
            Self::MismatchedOrganization => (
                StatusCode::UNAUTHORIZED,
                INVALID,
                Some("mismatched_organization"),
                "The OpenAI-Organization header names an organization this API key does not belong to.",
            ),
            Self::MismatchedProject => (
                StatusCode::UNAUTHORIZED,
                INVALID,
                Some("mismatched_project"),
                "The OpenAI-Project header names a project this API key does not belong to.",
            ),
            Self::Refused(refusal) => {
                let wire = refusal.wire();
                (
                    StatusCode::from_u16(wire.status).unwrap_or(StatusCode::UNAUTHORIZED),
                    wire.error_type,
                    Some(wire.code),
                    wire.message,
                )
            }
            Self::TemporarilyUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                Some("authentication_temporarily_unavailable"),
                "The gateway cannot verify requests right now. Please retry shortly.",
            ),
            Self::UpstreamUnreachable => (
                StatusCode::BAD_GATEWAY,
                "server_error",
                None,
                "The upstream API could not be reached.",
            ),
            Self::UpstreamTimeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "server_error",
                None,
                "The upstream API did not answer in time.",
            ),
            Self::UnknownRoute => (
                StatusCode::NOT_FOUND,
                INVALID,
                Some("unknown_url"),
                "Unknown request URL. The gateway serves the API under /v1.",
            ),
        }
    }

    /// The answer: the envelope as JSON, with `x-request-id`, and `x-should-retry: false` on a
    /// 4xx.
    pub fn response(self, id: &RequestId) -> Response<Body> {
        let (status, error_type, code, message) = self.parts();
        let body = serde_json::json!({
            "error": {"message": message, "type": error_type, "param": null, "code": code}
        });
        let mut response = Response::new(full(Bytes::from(body.to_string())));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(value) = id.header_value() {
            headers.insert("x-request-id", value);
        }
        if status.is_client_error() {
            headers.insert("x-should-retry", HeaderValue::from_static("false"));
        }
        response
    }
}

/// A whole body in one piece.
pub fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}
