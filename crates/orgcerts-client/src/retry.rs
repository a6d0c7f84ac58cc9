//! When to retry and how long to wait, following the official OpenAI SDKs
//! (openai-python `_should_retry` / `_calculate_retry_timeout`).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// The longest `Retry-After` honoured; a longer one falls back to the backoff schedule, as in
/// the official SDKs (a server asking for minutes is better answered by giving up soon).
const MAX_RETRY_AFTER: Duration = Duration::from_mins(1);

/// How long retries wait when the server does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// The wait before the first retry; it doubles for each retry after.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    /// The official SDKs' 0.5 s doubling up to 8 s.
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(8),
        }
    }
}

/// Whether an error answer is worth another attempt.
///
/// `x-should-retry` decides when present. Otherwise 408, 429 and 5xx are retried. The official
/// SDKs also retry 409 (lock timeouts); here a 409 means the certificate already exists or is in
/// use, which no retry can change, so it is not.
pub(crate) fn should_retry(status: StatusCode, headers: &HeaderMap) -> bool {
    match headers
        .get("x-should-retry")
        .map(reqwest::header::HeaderValue::as_bytes)
    {
        Some(b"true") => return true,
        Some(b"false") => return false,
        _ => {}
    }
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// Whether a request that got no answer is worth another attempt: failures to connect or to
/// hear back in time, not a request this client could not build.
pub(crate) fn should_retry_transport(error: &reqwest::Error) -> bool {
    error.is_connect() || error.is_timeout() || error.is_request()
}

/// The wait the server asked for with `retry-after-ms` or `retry-after` (seconds), when it is
/// positive and at most [`MAX_RETRY_AFTER`]. (HTTP-date values are not read: OpenAI and
/// orgcerts send seconds.)
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| -> Option<f64> {
        headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok()
    };
    let wait = header("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| header("retry-after"))?;
    if !wait.is_finite() || wait <= 0.0 {
        return None;
    }
    let wait = Duration::from_secs_f64(wait);
    (wait <= MAX_RETRY_AFTER).then_some(wait)
}

impl Backoff {
    /// The wait before retry number `retries_done + 1`: the server's `Retry-After` when it gave
    /// a usable one, else `initial * 2^retries_done` capped at `max`, minus up to 25 % jitter
    /// so that many clients do not come back in lockstep.
    pub(crate) fn delay(self, retries_done: u32, headers: Option<&HeaderMap>) -> Duration {
        if let Some(wait) = headers.and_then(retry_after) {
            return wait;
        }
        let exponential = self
            .initial
            .saturating_mul(2u32.saturating_pow(retries_done))
            .min(self.max);
        let jitter = 1.0 - 0.25 * rand::random::<f64>();
        exponential.mul_f64(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn statuses_retried_without_a_header() {
        let none = HeaderMap::new();
        for status in [408, 429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(should_retry(status, &none), "{status}");
        }
        for status in [400, 401, 404, 409, 413] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(!should_retry(status, &none), "{status}");
        }
    }

    #[test]
    fn x_should_retry_overrides_the_status() {
        assert!(!should_retry(
            StatusCode::INTERNAL_SERVER_ERROR,
            &headers(&[("x-should-retry", "false")])
        ));
        assert!(should_retry(
            StatusCode::CONFLICT,
            &headers(&[("x-should-retry", "true")])
        ));
    }

    #[test]
    fn retry_after_in_seconds_or_milliseconds_within_a_minute() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "250"), ("retry-after", "9")])),
            Some(Duration::from_millis(250))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "0")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "3600")])), None);
        assert_eq!(
            retry_after(&headers(&[(
                "retry-after",
                "Wed, 21 Oct 2015 07:28:00 GMT"
            )])),
            None
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_at_most_a_quarter_of_jitter() {
        let backoff = Backoff::default();
        for (retries_done, full) in [
            (0, 500),
            (1, 1000),
            (2, 2000),
            (3, 4000),
            (4, 8000),
            (9, 8000),
        ] {
            let full = Duration::from_millis(full);
            let delay = backoff.delay(retries_done, None);
            assert!(
                delay <= full && delay >= full.mul_f64(0.75),
                "{retries_done}: {delay:?}"
            );
        }
        let asked = headers(&[("retry-after", "3")]);
        assert_eq!(backoff.delay(0, Some(&asked)), Duration::from_secs(3));
    }
}
