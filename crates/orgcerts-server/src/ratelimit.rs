//! Per-admin-key rate limiting: a token bucket per key (GCRA, via `governor`), with OpenAI's
//! `x-ratelimit-*` headers on every authenticated response and `Retry-After` on a 429.
//!
//! Each server instance keeps its own buckets: behind a load balancer over N instances, a key
//! can reach up to N times the configured rate.
//!
//! The limiter only decides ([`Decision`]); the extractor that authenticates a request turns a
//! refusal into the API's error.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::request::RateLimitHeaders;

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The limiter shared by all requests of one server.
pub struct AdminKeyLimiter {
    limiter: KeyedLimiter,
    limit: u32,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The request may go on; its response carries `headers`.
    Allowed(RateLimitHeaders),
    /// The bucket is empty: the client may retry after `retry_after`.
    Limited {
        retry_after: Duration,
        headers: RateLimitHeaders,
    },
}

impl Decision {
    /// The headers the response carries, either way.
    pub fn headers(&self) -> RateLimitHeaders {
        match self {
            Self::Allowed(headers) | Self::Limited { headers, .. } => *headers,
        }
    }
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
    pub fn check(&self, key_id: &str) -> Decision {
        match self.limiter.check_key(&key_id.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let used = self.limit.saturating_sub(remaining);
                let reset = snapshot.quota().replenish_interval() * used;
                Decision::Allowed(RateLimitHeaders {
                    limit: self.limit,
                    remaining,
                    reset,
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Decision::Limited {
                    retry_after: wait,
                    headers: RateLimitHeaders {
                        limit: self.limit,
                        remaining: 0,
                        reset: wait,
                    },
                }
            }
        }
    }

    /// Forgets buckets that have refilled, so memory follows the keys in recent use.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_then_refuses_with_a_wait() {
        let limiter = AdminKeyLimiter::new(60, 3).unwrap();
        for expected in [2, 1, 0] {
            match limiter.check("key_a") {
                Decision::Allowed(headers) => assert_eq!(headers.remaining, expected),
                other @ Decision::Limited { .. } => panic!("expected Allowed, got {other:?}"),
            }
        }
        match limiter.check("key_a") {
            Decision::Limited {
                retry_after,
                headers,
            } => {
                assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1));
                assert_eq!((headers.remaining, headers.reset), (0, retry_after));
            }
            other @ Decision::Allowed(_) => panic!("expected Limited, got {other:?}"),
        }
        // Buckets are per key.
        assert!(matches!(limiter.check("key_b"), Decision::Allowed(_)));
        assert!(AdminKeyLimiter::new(0, 10).is_none());
    }
}
