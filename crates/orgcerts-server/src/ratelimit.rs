//! Per-admin-key rate limiting: a token bucket per key (GCRA, via `governor`), with OpenAI's
//! `x-ratelimit-*` headers on every authenticated response and `Retry-After` on a 429.
//!
//! Each server instance keeps its own buckets: behind a load balancer over N instances, a key
//! can reach up to N times the configured rate.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::ApiError;

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The limiter shared by all requests of one server.
pub struct AdminKeyLimiter {
    limiter: KeyedLimiter,
    limit: u32,
}

/// What a response tells the client about its bucket.
#[derive(Debug, Clone)]
pub struct RateLimitHeaders {
    limit: u32,
    remaining: u32,
    reset: Duration,
}

impl AdminKeyLimiter {
    /// `per_minute` requests per minute per key, bursts of up to `burst`. `None` when
    /// `per_minute` is 0 (limiting off).
    pub fn new(per_minute: u32, burst: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_minute)?;
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(rate).allow_burst(burst);
        Some(Self {
            limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            limit: burst.get(),
        })
    }

    /// Takes one request from `key_id`'s bucket.
    pub fn check(&self, key_id: &str) -> Result<RateLimitHeaders, ApiError> {
        match self.limiter.check_key(&key_id.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let used = self.limit.saturating_sub(remaining);
                let reset = snapshot.quota().replenish_interval() * used;
                Ok(RateLimitHeaders {
                    limit: self.limit,
                    remaining,
                    reset,
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(ApiError::RateLimited {
                    retry_after: wait,
                    headers: RateLimitHeaders {
                        limit: self.limit,
                        remaining: 0,
                        reset: wait,
                    },
                })
            }
        }
    }

    /// Forgets buckets that have refilled, so memory follows the keys in recent use.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
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

impl RateLimitHeaders {
    /// Adds `x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests` and
    /// `x-ratelimit-reset-requests`.
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit-requests", HeaderValue::from(self.limit));
        headers.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from(self.remaining),
        );
        if let Ok(value) = HeaderValue::from_str(&openai_duration(self.reset)) {
            headers.insert("x-ratelimit-reset-requests", value);
        }
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

    #[test]
    fn a_bucket_empties_then_refuses_with_a_wait() {
        let limiter = AdminKeyLimiter::new(60, 3).unwrap();
        for expected in [2, 1, 0] {
            assert_eq!(limiter.check("key_a").unwrap().remaining, expected);
        }
        match limiter.check("key_a") {
            Err(ApiError::RateLimited { retry_after, .. }) => {
                assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1));
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
        // Buckets are per key.
        assert!(limiter.check("key_b").is_ok());
        assert!(AdminKeyLimiter::new(0, 10).is_none());
    }
}
