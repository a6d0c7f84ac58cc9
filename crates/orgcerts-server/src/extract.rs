//! Extractors whose rejections come out as OpenAI error envelopes.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use orgcerts_core::model::Principal;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;
use crate::ratelimit::Decision;
use crate::request;

/// A JSON body. An empty body reads as `{}` (the Node SDK sends `Content-Type: application/json`
/// with no body on some calls); the `Content-Type` itself is not required, as with OpenAI.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let deadline = state.settings.body_read_timeout;
        let bytes = tokio::time::timeout(deadline, Bytes::from_request(req, state))
            .await
            .map_err(|_| ApiError::RequestTimeout { after: deadline })?
            .map_err(|rejection| body_rejection(&rejection, state))?;
        read_json(&bytes).map(JsonBody)
    }
}

/// A request body's bytes read as [`JsonBody`] reads them.
pub fn read_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    // The whole body must read as JSON text: serde_json checks neither the UTF-8 (RFC 8259)
    // nor the escapes (a lone surrogate) of the fields a type skips, so without this a body of
    // unknown fields with broken text would read as `{}`.
    if serde_json::from_slice::<serde_json::Value>(bytes).is_err() {
        return Err(unparseable_json());
    }
    // serde also reads a struct from a JSON array, by field order; the API takes objects.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::InvalidBody {
            message: "Invalid request body: the body must be a JSON object, not an array."
                .to_owned(),
            param: None,
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| json_error(&err))?;
    de.end().map_err(|_| unparseable_json())?;
    Ok(value)
}

fn body_rejection(rejection: &BytesRejection, state: &AppState) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge {
            limit: state.settings.max_body_bytes,
        }
    } else {
        ApiError::InvalidBody {
            message: "The request body could not be read.".to_owned(),
            param: None,
        }
    }
}

fn unparseable_json() -> ApiError {
    ApiError::InvalidBody {
        message: "We could not parse the JSON body of your request. The API expects a JSON object (see https://platform.openai.com/docs/api-reference/certificates).".to_owned(),
        param: None,
    }
}

/// Maps a body that failed to deserialize to the field it failed at, when there is one.
fn json_error(err: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = err.inner();
    if !inner.is_data() {
        return unparseable_json();
    }
    // serde reports missing and duplicated fields at the enclosing object, naming the field
    // only in its message: "missing field `certificate`".
    let text = inner.to_string();
    let named = |prefix: &str| {
        text.strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let path = err.path().to_string();
    let top_field = path
        .split(['.', '['])
        .next()
        .filter(|f| !f.is_empty())
        .map(str::to_owned);
    if let Some(field) = named("missing field `") {
        return ApiError::InvalidBody {
            message: format!("Missing required parameter: '{field}'."),
            param: Some(field),
        };
    }
    if let Some(field) = named("duplicate field `") {
        let alias = if field == "certificate" {
            " ('content' is the legacy name of 'certificate'; send only one of them)"
        } else {
            ""
        };
        return ApiError::InvalidBody {
            message: format!("The parameter '{field}' was given more than once{alias}."),
            param: Some(field),
        };
    }
    let detail = text.split(" at line ").next().unwrap_or(&text);
    match top_field {
        Some(field) => ApiError::InvalidBody {
            message: format!("Invalid value for '{path}': {detail}."),
            param: Some(field),
        },
        None => ApiError::InvalidBody {
            message: format!("Invalid request body: {detail}. The body must be a JSON object."),
            param: None,
        },
    }
}

/// The query string, parsed once. Brackets may come raw (`include[]=content`) or
/// percent-encoded; unknown parameters are ignored.
pub struct QueryParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Self::parse(parts.uri.query().unwrap_or("").as_bytes()))
    }
}

impl QueryParams {
    /// A raw query string (without the `?`), as the extractor reads it.
    pub fn parse(raw: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A parameter that may appear at most once.
    pub fn single(&self, name: &'static str) -> Result<Option<&str>, ApiError> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::InvalidQuery {
                param: name,
                message: format!("The query parameter '{name}' was given more than once."),
            });
        }
        first.map(|value| plain_text(name, value)).transpose()
    }

    /// Every value of an array parameter, given as `name[]=…` or `name=…`.
    pub fn array(&self, name: &'static str) -> Result<Vec<&str>, ApiError> {
        let bracketed = format!("{name}[]");
        self.0
            .iter()
            .filter(|(k, _)| *k == name || *k == bracketed)
            .map(|(_, v)| plain_text(name, v))
            .collect()
    }

    /// A boolean parameter: `true` or `false`.
    pub fn boolean(&self, name: &'static str) -> Result<Option<bool>, ApiError> {
        match self.single(name)? {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::InvalidQuery {
                param: name,
                message: format!(
                    "Invalid value '{}' for {name}: expected 'true' or 'false'.",
                    orgcerts_core::echo(other)
                ),
            }),
        }
    }
}

/// A query value as it may reach a statement: no control characters (PostgreSQL refuses a NUL
/// in text outright, and no id, cursor or filter of the API holds one), else a 400 naming it.
fn plain_text<'a>(name: &'static str, value: &'a str) -> Result<&'a str, ApiError> {
    if value.chars().any(char::is_control) {
        return Err(ApiError::InvalidQuery {
            param: name,
            message: format!("Invalid value for '{name}': it must not contain control characters."),
        });
    }
    Ok(value)
}

/// The principal of an authenticated request.
pub struct Authenticated(pub Principal);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = match authenticate(parts, state).await {
            Ok(principal) => principal,
            Err(
                err @ (ApiError::MissingCredentials
                | ApiError::DuplicateCredentials
                | ApiError::Domain(orgcerts_core::Error::InvalidApiKey)),
            ) => return Err(charge_failure(parts, state, err)),
            Err(err) => return Err(err),
        };
        if let Some(limiter) = &state.limiter {
            admit(limiter.check(principal.key_id.as_str()))?;
        }
        if let Some(org) = parts.headers.get("openai-organization")
            && org.as_bytes() != principal.organization_id.as_str().as_bytes()
        {
            return Err(ApiError::MismatchedOrganization);
        }
        Ok(Self(principal))
    }
}

/// The principal of the request's one `Authorization: Bearer` header.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let mut headers = parts.headers.get_all(AUTHORIZATION).iter();
    let header = headers.next().ok_or(ApiError::MissingCredentials)?;
    if headers.next().is_some() {
        return Err(ApiError::DuplicateCredentials);
    }
    // The scheme is case-insensitive (RFC 9110); the key itself is taken verbatim, so a
    // key with stray whitespace is a wrong key, not a missing one.
    let value = header
        .to_str()
        .map_err(|_| orgcerts_core::Error::InvalidApiKey)?;
    let (scheme, key) = value.split_once(' ').ok_or(ApiError::MissingCredentials)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::MissingCredentials);
    }
    Ok(state.service.authenticate(key).await?)
}

/// Charges a failed authentication to the client's address: `err` while the address has
/// budget left, a 429 once it has not.
fn charge_failure(parts: &Parts, state: &AppState, err: ApiError) -> ApiError {
    let (Some(limiter), Some(crate::ClientAddr(addr))) = (
        &state.failed_auth,
        parts.extensions.get::<crate::ClientAddr>(),
    ) else {
        return err;
    };
    match limiter.charge(*addr) {
        Ok(()) => err,
        Err(retry_after) => ApiError::TooManyFailedAuthentications { retry_after },
    }
}

/// Applies the rate limiter's decision: its headers go on the response either way, and a
/// refusal is the 429 (the one place a [`Decision`] becomes an [`ApiError`]).
fn admit(decision: Decision) -> Result<(), ApiError> {
    request::note_rate_limit(decision.headers());
    match decision {
        Decision::Allowed(_) => Ok(()),
        Decision::Limited {
            retry_after,
            headers,
        } => Err(ApiError::RateLimited {
            retry_after,
            headers,
        }),
    }
}

/// The one path parameter of a route (a certificate or project id). A segment that cannot be
/// decoded names nothing, so it is the same 404 as an unknown route.
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(id)| Self(id))
            .map_err(|_| ApiError::UnknownRoute {
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
            })
    }
}
