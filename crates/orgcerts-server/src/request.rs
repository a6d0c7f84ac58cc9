//! The request being served: its id, and what authentication leaves for its response (the
//! admin key's rate-limit headers), held in a task-local for the task that serves it.
//!
//! A leaf: it depends on nothing else in the crate, so the error surface, the rate limiter and
//! the middleware can all use it without depending on each other.

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// A request's id: `req_` and 32 random lowercase hex digits, as OpenAI's look. Held by value
/// (no allocation), for the `x-request-id` header, the log lines and [`CurrentRequestId`].
#[derive(Clone, Copy)]
pub struct RequestId([u8; 36]);

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestId {
    /// A fresh random id.
    pub fn new() -> Self {
        let mut id = *b"req_00000000000000000000000000000000";
        // 16 bytes make the 32 digits exactly: the one error, lengths that disagree, cannot be.
        let _ = hex::encode_to_slice(rand::random::<[u8; 16]>(), &mut id[4..]);
        Self(id)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // ASCII by construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The id as the value of an `x-request-id` header.
    pub fn header_value(&self) -> Option<HeaderValue> {
        HeaderValue::from_bytes(&self.0).ok()
    }
}

/// What the task serving a request knows about it: its id, and the rate-limit headers that
/// authentication leaves for the response ([`note_rate_limit`]).
struct RequestContext {
    id: RequestId,
    rate_limit: Cell<Option<RateLimitHeaders>>,
}

tokio::task_local! {
    /// The request the task is serving. (A task-local rather than a tracing span or a request
    /// extension: a span per request cost more than the line, and an extension an allocation.)
    static REQUEST: RequestContext;
}

/// Runs `serve` as the request `id`; returns its output and the rate-limit headers noted
/// while it ran.
pub async fn scope<F: Future>(id: RequestId, serve: F) -> (F::Output, Option<RateLimitHeaders>) {
    let context = RequestContext {
        id,
        rate_limit: Cell::new(None),
    };
    REQUEST
        .scope(context, async move {
            let output = serve.await;
            (output, REQUEST.with(|context| context.rate_limit.take()))
        })
        .await
}

/// Leaves the admin key's rate-limit headers for the response of the request being served.
pub fn note_rate_limit(headers: RateLimitHeaders) {
    let _ = REQUEST.try_with(|context| context.rate_limit.set(Some(headers)));
}

/// Shows the id of the request being served (nothing outside a request): every line logged
/// while serving one carries it as `request_id = %CurrentRequestId`, like the request's own
/// line.
pub struct CurrentRequestId;

impl std::fmt::Display for CurrentRequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        REQUEST
            .try_with(|context| f.write_str(context.id.as_str()))
            .unwrap_or(Ok(()))
    }
}

/// What a response tells the client about its admin key's bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// The bucket's size.
    pub limit: u32,
    /// Requests left in it.
    pub remaining: u32,
    /// Time until it is full again.
    pub reset: Duration,
}

const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit-requests");
const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining-requests");
const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset-requests");

impl RateLimitHeaders {
    /// Adds `x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests` and
    /// `x-ratelimit-reset-requests`.
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(LIMIT, HeaderValue::from(self.limit));
        headers.insert(REMAINING, HeaderValue::from(self.remaining));
        if let Ok(value) = HeaderValue::from_str(&openai_duration(self.reset)) {
            headers.insert(RESET, value);
        }
    }
}

/// OpenAI's duration format for reset headers: `1s`, `6m0s`, `250ms`.
fn openai_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    if secs < 60 {
        format!("{secs}s")
    } else {
        format!("{}m{}s", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_openais() {
        assert_eq!(openai_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(openai_duration(Duration::from_millis(1500)), "2s");
        assert_eq!(openai_duration(Duration::from_mins(6)), "6m0s");
    }

    #[tokio::test]
    async fn a_scope_shows_its_id_and_returns_the_noted_headers() {
        let id = RequestId::new();
        let headers = RateLimitHeaders {
            limit: 5,
            remaining: 4,
            reset: Duration::from_secs(1),
        };
        let (shown, noted) = scope(id, async move {
            note_rate_limit(headers);
            CurrentRequestId.to_string()
        })
        .await;
        assert_eq!(shown, id.as_str());
        assert_eq!(noted, Some(headers));
        // Outside a request there is no id, and nothing to note into.
        assert_eq!(CurrentRequestId.to_string(), "");
        note_rate_limit(headers);
    }
}
