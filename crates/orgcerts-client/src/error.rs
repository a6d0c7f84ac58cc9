use std::fmt;

use reqwest::StatusCode;

/// What can go wrong with a call. The three failure sources are kept apart: the API said no
/// ([`Error::Api`]), the API could not be reached ([`Error::Transport`]), or it answered
/// something this client cannot read ([`Error::Decode`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API answered with an error status. (Boxed: it is the largest variant.)
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The request never got an answer: connection refused, DNS, TLS, timeout, reset.
    #[error("could not reach the API: {0}")]
    Transport(#[source] reqwest::Error),
    /// The API answered with a success status, but the body is not the expected JSON.
    #[error(
        "unexpected response from the API: HTTP {} with a body that is not the expected JSON{}: {source}",
        .status.as_u16(),
        RequestIdSuffix(.request_id.as_deref())
    )]
    Decode {
        /// The response status.
        status: StatusCode,
        /// The response's `x-request-id`, when present.
        request_id: Option<String>,
        /// Where in the body decoding failed and why.
        #[source]
        source: serde_path_to_error::Error<serde_json::Error>,
    },
    /// Refused before sending: no admin key, a base URL that is not a URL, an empty id, ...
    #[error("{0}")]
    InvalidInput(String),
}

impl From<ApiError> for Error {
    fn from(error: ApiError) -> Self {
        Self::Api(Box::new(error))
    }
}

impl Error {
    /// The HTTP status of the answer, for API and decode errors.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(error) => Some(error.status),
            Self::Decode { status, .. } => Some(*status),
            Self::Transport(error) => error.status(),
            Self::InvalidInput(_) => None,
        }
    }

    /// The `x-request-id` of the answer, when there was one: quote it to support.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api(error) => error.request_id.as_deref(),
            Self::Decode { request_id, .. } => request_id.as_deref(),
            Self::Transport(_) | Self::InvalidInput(_) => None,
        }
    }

    /// The API error, when the API answered with one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(error) => Some(error.as_ref()),
            _ => None,
        }
    }
}

/// An error answered by the API: its status, the OpenAI error envelope
/// (`{"error":{"message","type","param","code"}}`) and the request id.
///
/// When the body is not an OpenAI envelope (a proxy's HTML page, say), `kind`, `param` and
/// `code` are `None` and `message` holds the start of the body, or the status' reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The response status.
    pub status: StatusCode,
    /// The human-readable message.
    pub message: String,
    /// The OpenAI error `type`, e.g. `invalid_request_error`.
    pub kind: Option<String>,
    /// The request parameter at fault, e.g. `certificate_id`.
    pub param: Option<String>,
    /// The OpenAI error `code`, e.g. `certificate_in_use`.
    pub code: Option<String>,
    /// The response's `x-request-id`.
    pub request_id: Option<String>,
}

/// How much of a non-envelope error body is kept as the message.
const MAX_RAW_MESSAGE: usize = 200;

impl ApiError {
    /// Reads an error answer. `body` is whatever the server sent.
    pub(crate) fn from_body(status: StatusCode, request_id: Option<String>, body: &[u8]) -> Self {
        if let Ok(envelope) = serde_json::from_slice::<orgcerts_api::ErrorResponse>(body) {
            let orgcerts_api::Error {
                message,
                kind,
                param,
                code,
            } = envelope.error;
            return Self {
                status,
                message,
                kind: Some(kind),
                param,
                code,
                request_id,
            };
        }
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        let message = if text.is_empty() {
            status.canonical_reason().unwrap_or("no message").to_owned()
        } else {
            text.chars().take(MAX_RAW_MESSAGE).collect()
        };
        Self {
            status,
            message,
            kind: None,
            param: None,
            code: None,
            request_id,
        }
    }
}

impl fmt::Display for ApiError {
    /// One line: `HTTP 404 (invalid_request_error, param certificate_id): No such certificate (request id req_…)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status.as_u16())?;
        let details: Vec<String> = [
            self.kind.clone(),
            self.code.as_ref().map(|code| format!("code {code}")),
            self.param.as_ref().map(|param| format!("param {param}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !details.is_empty() {
            write!(f, " ({})", details.join(", "))?;
        }
        // Messages may span lines in a proxy's body; keep the error to one line.
        let message = self
            .message
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        write!(
            f,
            ": {message}{}",
            RequestIdSuffix(self.request_id.as_deref())
        )
    }
}

impl std::error::Error for ApiError {}

/// Formats ` (request id req_…)`, or nothing.
struct RequestIdSuffix<'a>(Option<&'a str>);

impl fmt::Display for RequestIdSuffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, " (request id {id})"),
            None => Ok(()),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_is_read_field_by_field() {
        let body = br#"{"error":{"message":"No certificate cert_x.","type":"invalid_request_error","param":"certificate_id","code":null}}"#;
        let error = ApiError::from_body(StatusCode::NOT_FOUND, Some("req_1".into()), body);
        assert_eq!(error.message, "No certificate cert_x.");
        assert_eq!(error.kind.as_deref(), Some("invalid_request_error"));
        assert_eq!(error.param.as_deref(), Some("certificate_id"));
        assert_eq!(error.code, None);
        assert_eq!(
            error.to_string(),
            "HTTP 404 (invalid_request_error, param certificate_id): No certificate cert_x. (request id req_1)"
        );
    }

    #[test]
    fn a_body_that_is_no_envelope_becomes_the_message_on_one_line() {
        let error = ApiError::from_body(
            StatusCode::BAD_GATEWAY,
            None,
            b"<html>\n bad gateway\n</html>",
        );
        assert_eq!(error.kind, None);
        assert_eq!(error.to_string(), "HTTP 502: <html> bad gateway </html>");
        let empty = ApiError::from_body(StatusCode::SERVICE_UNAVAILABLE, None, b"");
        assert_eq!(empty.message, "Service Unavailable");
    }
}
