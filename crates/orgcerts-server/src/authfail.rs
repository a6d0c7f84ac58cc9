//! Failed authentications per client address: a token bucket per IP address (GCRA, via
//! `governor`) that only failures draw from. Once an address has spent its budget, its
//! requests that fail authentication get a 429 with `Retry-After` instead of a 401, so a
//! key-guessing or log-flooding client is told to slow down; a request with a valid key is
//! never charged and never refused by this limiter, whatever its address has done.
//!
//! The address is the TCP peer's: behind a reverse proxy every client shares the proxy's.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// The address a request came from, set on every request by the accept loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

type KeyedLimiter = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>;

/// The failed-authentication budgets of all client addresses of one server.
pub struct FailedAuthLimiter {
    limiter: KeyedLimiter,
}

impl FailedAuthLimiter {
    /// `per_minute` failed authentications per minute per address, all of which may come at
    /// once. `None` when `per_minute` is 0 (no limit).
    pub fn new(per_minute: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_minute)?;
        Some(Self {
            limiter: RateLimiter::keyed(Quota::per_minute(rate)),
        })
    }

    /// Charges one failed authentication to `addr`. `Err` holds how long the address must
    /// wait when its budget is spent.
    pub fn charge(&self, addr: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&addr)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets addresses whose budget has refilled, so memory follows recent failures.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_is_per_address_and_refuses_with_a_wait() {
        let limiter = FailedAuthLimiter::new(2).unwrap();
        let (a, b) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        assert!(limiter.charge(a).is_ok());
        assert!(limiter.charge(a).is_ok());
        let wait = limiter.charge(a).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(30));
        assert!(limiter.charge(b).is_ok());
        assert!(FailedAuthLimiter::new(0).is_none());
    }
}
