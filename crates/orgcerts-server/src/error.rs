//! The HTTP error surface: every refusal becomes OpenAI's error envelope with the status, `type`,
//! `param` and `code` that docs/contract.md assigns to it.
//!
//! It depends only on the domain, the wire types and the request context ([`crate::request`]).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use orgcerts_api::{Error as WireError, ErrorResponse};
use orgcerts_core::Error as Domain;

use crate::request::{CurrentRequestId, RateLimitHeaders};

const INVALID_REQUEST: &str = "invalid_request_error";

/// Everything a request can be refused or fail with.
#[derive(Debug)]
pub enum ApiError {
    /// No `Authorization` header, or not a Bearer credential.
    MissingCredentials,
    /// More than one `Authorization` header: which one is meant cannot be told.
    DuplicateCredentials,
    /// The client's address has failed authentication too often lately.
    TooManyFailedAuthentications { retry_after: std::time::Duration },
    /// `OpenAI-Organization` names another organization than the key's.
    MismatchedOrganization,
    /// The body is not JSON, or a field has the wrong type or is missing.
    InvalidBody {
        message: String,
        param: Option<String>,
    },
    /// A query parameter is malformed.
    InvalidQuery {
        param: &'static str,
        message: String,
    },
    /// The body is larger than the configured limit.
    PayloadTooLarge { limit: usize },
    /// No route has this path.
    UnknownRoute { method: String, path: String },
    /// The path exists, the method does not.
    MethodNotAllowed { method: String, path: String },
    /// The client sent its body too slowly.
    RequestTimeout { after: std::time::Duration },
    /// The admin key's token bucket is empty.
    RateLimited {
        retry_after: std::time::Duration,
        headers: RateLimitHeaders,
    },
    /// A request handler panicked; the details are already in the log.
    Panic,
    /// A response body could not be encoded as JSON; the details are already in the log.
    Unencodable,
    /// A rule of the domain refused the request, or storage failed.
    Domain(Domain),
}

impl From<Domain> for ApiError {
    fn from(err: Domain) -> Self {
        Self::Domain(err)
    }
}

/// What one error looks like on the wire.
struct Parts {
    status: StatusCode,
    kind: &'static str,
    param: Option<String>,
    code: Option<&'static str>,
}

impl Parts {
    fn invalid(status: StatusCode, param: Option<&str>, code: Option<&'static str>) -> Self {
        Self {
            status,
            kind: INVALID_REQUEST,
            param: param.map(str::to_owned),
            code,
        }
    }
}

fn domain_parts(err: &Domain) -> Parts {
    use StatusCode as S;
    // Exhaustive on purpose: a new domain condition must get a decision about its wire form.
    match err {
        Domain::InvalidApiKey => Parts::invalid(S::UNAUTHORIZED, None, Some("invalid_api_key")),
        Domain::InvalidCertificate(_) => Parts::invalid(
            S::BAD_REQUEST,
            Some("certificate"),
            Some("mtls_certificate_invalid"),
        ),
        Domain::ExpiredCertificate { .. } => Parts::invalid(
            S::BAD_REQUEST,
            Some("certificate"),
            Some("expired_certificate"),
        ),
        Domain::CertificateLimitExceeded { .. } => {
            Parts::invalid(S::BAD_REQUEST, None, Some("certificate_limit_exceeded"))
        }
        Domain::CertificateAlreadyExists { .. } => Parts::invalid(
            S::CONFLICT,
            Some("certificate"),
            Some("certificate_already_exists"),
        ),
        Domain::CertificateNotFound { .. } => {
            Parts::invalid(S::NOT_FOUND, Some("certificate_id"), None)
        }
        Domain::CertificateInUse { .. } => Parts::invalid(
            S::CONFLICT,
            Some("certificate_id"),
            Some("certificate_in_use"),
        ),
        Domain::InvalidAttributeFilter { .. } => Parts::invalid(
            S::BAD_REQUEST,
            Some("attribute_filter"),
            Some("mtls_cel_policy_invalid"),
        ),
        Domain::ProjectNotFound { .. } => Parts::invalid(S::NOT_FOUND, Some("project_id"), None),
        Domain::ProjectArchived { .. } => Parts::invalid(S::BAD_REQUEST, Some("project_id"), None),
        // Unknown, deleted, malformed, or of another project or organization alike.
        Domain::ServiceAccountNotFound { .. } => {
            Parts::invalid(S::NOT_FOUND, Some("service_account_id"), None)
        }
        Domain::ProjectApiKeyNotFound { .. } => {
            Parts::invalid(S::NOT_FOUND, Some("api_key_id"), None)
        }
        Domain::NameTooLong { field, .. } | Domain::InvalidName { field, .. } => {
            Parts::invalid(S::BAD_REQUEST, Some(field), None)
        }
        Domain::NoCertificateIds | Domain::TooManyCertificateIds { .. } => {
            Parts::invalid(S::BAD_REQUEST, Some("certificate_ids"), None)
        }
        Domain::UnknownCertificateInSet { .. } => {
            Parts::invalid(S::NOT_FOUND, Some("certificate_ids"), None)
        }
        Domain::InvalidLimit { .. } => Parts::invalid(S::BAD_REQUEST, Some("limit"), None),
        Domain::InvalidOrder { .. } => Parts::invalid(S::BAD_REQUEST, Some("order"), None),
        Domain::UnknownCursor { .. } => Parts::invalid(S::BAD_REQUEST, Some("after"), None),
        Domain::InvalidParameter { param, .. } => Parts::invalid(S::BAD_REQUEST, Some(param), None),
        // Organizations are managed by the operator's command line; over HTTP the key's own
        // organization always exists, so this can only mean a record vanished.
        Domain::OrganizationNotFound { .. } => Parts::invalid(S::NOT_FOUND, None, None),
        // Unknown, deleted, malformed or another organization's key id alike.
        Domain::AdminKeyNotFound { .. } => Parts::invalid(S::NOT_FOUND, Some("key_id"), None),
        Domain::StorageUnavailable(_) => Parts {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "server_error",
            param: None,
            code: None,
        },
        Domain::Storage(_) => server_error(),
    }
}

fn server_error() -> Parts {
    Parts {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        kind: "server_error",
        param: None,
        code: None,
    }
}

const SERVER_ERROR_MESSAGE: &str = "The server had an error while processing your request. Retry the request, or contact the operator with the request id if the error persists.";

impl ApiError {
    fn parts(&self) -> Parts {
        use StatusCode as S;
        match self {
            Self::MissingCredentials => Parts::invalid(S::UNAUTHORIZED, None, None),
            Self::DuplicateCredentials => Parts::invalid(S::BAD_REQUEST, None, None),
            Self::MismatchedOrganization => {
                Parts::invalid(S::UNAUTHORIZED, None, Some("mismatched_organization"))
            }
            Self::InvalidBody { param, .. } => {
                Parts::invalid(S::BAD_REQUEST, param.as_deref(), None)
            }
            Self::InvalidQuery { param, .. } => Parts::invalid(S::BAD_REQUEST, Some(param), None),
            Self::PayloadTooLarge { .. } => Parts::invalid(S::PAYLOAD_TOO_LARGE, None, None),
            Self::UnknownRoute { .. } => Parts::invalid(S::NOT_FOUND, None, None),
            Self::MethodNotAllowed { .. } => Parts::invalid(S::METHOD_NOT_ALLOWED, None, None),
            Self::RequestTimeout { .. } => Parts::invalid(S::REQUEST_TIMEOUT, None, None),
            Self::RateLimited { .. } | Self::TooManyFailedAuthentications { .. } => Parts {
                status: S::TOO_MANY_REQUESTS,
                kind: "requests",
                param: None,
                code: Some("rate_limit_exceeded"),
            },
            Self::Panic | Self::Unencodable => server_error(),
            Self::Domain(err) => domain_parts(err),
        }
    }

    fn message(&self) -> String {
        match self {
            Self::MissingCredentials => "You didn't provide an API key. You need to provide your admin API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).".to_owned(),
            Self::DuplicateCredentials => "The request has more than one Authorization header; send exactly one.".to_owned(),
            Self::TooManyFailedAuthentications { retry_after } => format!("Too many requests from this address failed authentication. Please try again in {}.", retry_after_text(*retry_after)),
            Self::MismatchedOrganization => "The OpenAI-Organization header names an organization this API key does not belong to.".to_owned(),
            Self::InvalidBody { message, .. } | Self::InvalidQuery { message, .. } => message.clone(),
            Self::PayloadTooLarge { limit } => format!("The request body is larger than the limit of {limit} bytes."),
            Self::UnknownRoute { method, path } => format!("Invalid URL ({method} {path})"),
            Self::MethodNotAllowed { method, path } => format!("Method {method} is not allowed for {path}."),
            Self::RequestTimeout { after } => format!("The request body was not received within {} seconds.", after.as_secs()),
            Self::RateLimited { retry_after, .. } => format!("Rate limit reached for requests with this admin key. Please try again in {}.", retry_after_text(*retry_after)),
            Self::Panic | Self::Unencodable | Self::Domain(Domain::Storage(_)) => {
                SERVER_ERROR_MESSAGE.to_owned()
            }
            Self::Domain(Domain::StorageUnavailable(_)) => "The service is temporarily unable to reach its database. Retry the request shortly.".to_owned(),
            Self::Domain(err) => err.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let parts = self.parts();
        match &self {
            // Logged with the request's id; the client sees none of this.
            Self::Domain(Domain::Storage(source)) => {
                tracing::error!(request_id = %CurrentRequestId, error = %source, "storage failure");
            }
            Self::Domain(Domain::StorageUnavailable(source)) => {
                tracing::warn!(request_id = %CurrentRequestId, error = %source, "storage unavailable");
            }
            _ => {}
        }
        let body = ErrorResponse {
            error: WireError {
                message: self.message(),
                kind: parts.kind.to_owned(),
                param: parts.param,
                code: parts.code.map(str::to_owned),
            },
        };
        let mut response = (parts.status, axum::Json(body)).into_response();
        if parts.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        let (retry_after, bucket) = match &self {
            Self::RateLimited {
                retry_after,
                headers,
            } => (Some(retry_after), Some(headers)),
            Self::TooManyFailedAuthentications { retry_after } => (Some(retry_after), None),
            _ => (None, None),
        };
        if let Some(retry_after) = retry_after {
            // Whole seconds, rounded up and at least 1, as the spec's TooManyRequests says.
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            let response_headers = response.headers_mut();
            response_headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
            if let Some(headers) = bucket {
                headers.apply(response_headers);
            }
        }
        response
    }
}

fn retry_after_text(wait: std::time::Duration) -> String {
    if wait.as_secs() == 0 {
        format!("{}ms", wait.as_millis().max(1))
    } else {
        format!("{}s", wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    }
}
