//! The client-side rate limiter: an exact sliding window in the process by
//! default, or any [`RateLimiter`] (e.g. one keeping the budget on Redis
//! for several processes) through
//! [`TransportConfig::rate_limiter`](super::TransportConfig::rate_limiter).

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::error::Result;
use crate::kind::BackendKind;
use crate::lock::AccountId;

/// A client-side request budget: at most `requests` requests in any window
/// of length `per`.
///
/// The window is exact, not a token bucket: the limiter remembers the
/// instants of the last `requests` grants (one `Instant` each), and a new
/// request waits until the oldest of them is `per` old. Every attempt,
/// retries included, takes a grant, and waiting requests are served in
/// arrival order.
///
/// Vendors' own limits (ChartMogul 40/s, Fusebill 1,000/min live and
/// 50/min sandbox) answer 429 beyond; pacing requests here avoids wasting
/// attempts on refusals.
///
/// ```
/// use std::time::Duration;
/// use unibill_core::transport::RateLimit;
///
/// assert_eq!(
///     RateLimit::per_minute(50),
///     RateLimit { requests: 50, per: Duration::from_secs(60) }
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// How many requests the window admits; must be at least 1.
    pub requests: u32,
    /// The window length; must be longer than zero.
    pub per: Duration,
}

impl RateLimit {
    /// `n` requests per second.
    pub const fn per_second(n: u32) -> Self {
        Self {
            requests: n,
            per: Duration::from_secs(1),
        }
    }

    /// `n` requests per minute.
    pub const fn per_minute(n: u32) -> Self {
        Self {
            requests: n,
            per: Duration::from_secs(60),
        }
    }
}

/// The budget one request draws from: one vendor account's limit.
///
/// A shared limiter keys its state on [`Self::backend`] and
/// [`Self::account`] (a hash of the base URL and the credentials, never the
/// credentials), so every client of that account, in any process, draws
/// from the same budget, and applies [`Self::limit`] (the vendor's
/// documented limit unless the client was configured otherwise).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// The vendor.
    pub backend: BackendKind,
    /// The account at the vendor.
    pub account: AccountId,
    /// The limit of that account.
    pub limit: RateLimit,
}

impl Budget {
    /// The key of this budget: `{backend}:{account}`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.backend, self.account)
    }
}

/// A rate limiter: grants one permit per request attempt, at most
/// [`Budget::limit`] per window for each budget.
///
/// The transport asks for a permit before every attempt, retries included,
/// and sends nothing when [`Self::acquire`] fails: a limiter that cannot
/// keep its budget (its store is unreachable, say) must fail, typically
/// with [`crate::Error::Limiter`], rather than let requests through
/// unlimited.
#[async_trait]
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Waits until a request may be sent within `budget`.
    async fn acquire(&self, budget: &Budget) -> Result<()>;
}

/// How far off a grant is put when its window cannot be added to an
/// instant: about 30 years, as good as never.
const NEVER: Duration = Duration::from_secs(86_400 * 365 * 30);

/// The in-process limiter: an exact sliding window over the instants of
/// the last `requests` grants that are less than `per` old, oldest first.
/// Grants are handed out in non-decreasing order, and each new grant is at
/// least `per` after the grant `requests` places before it, so no window
/// of length `per` ever holds more than `requests` grants.
///
/// As a [`RateLimiter`] it applies its own limit and ignores the budget's
/// (it is one budget).
#[derive(Debug)]
pub struct SlidingWindow {
    limit: RateLimit,
    grants: Mutex<VecDeque<Instant>>,
}

impl SlidingWindow {
    /// A window admitting `limit` (zero requests are treated as one).
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            grants: Mutex::new(VecDeque::new()),
        }
    }

    /// Reserves the next grant for a caller arriving at `now` and returns
    /// when it may proceed.
    pub(crate) fn reserve(&self, now: Instant) -> Instant {
        let capacity = self.limit.requests.max(1) as usize;
        let mut grants = self
            .grants
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A grant `per` old or older cannot hold back this one or any
        // later: forget it, so that the memory held is that of the grants
        // of the last window only, however large `requests` is.
        while grants
            .front()
            .is_some_and(|g| g.checked_add(self.limit.per).is_some_and(|end| end <= now))
        {
            grants.pop_front();
        }
        let at = if grants.len() < capacity {
            // Fewer than `capacity` grants ever: only order matters.
            grants.back().map_or(now, |last| now.max(*last))
        } else {
            let oldest = grants.pop_front().unwrap_or(now);
            // A window too long to add to an instant never lets the oldest
            // grant go: wait "forever" rather than not at all.
            let free = oldest
                .checked_add(self.limit.per)
                .unwrap_or_else(|| now.checked_add(NEVER).unwrap_or(now));
            now.max(free)
        };
        grants.push_back(at);
        at
    }
}

#[async_trait]
impl RateLimiter for SlidingWindow {
    /// Waits for a permit; never fails. The slot is reserved under the
    /// lock and the wait happens outside it, so concurrent callers queue in
    /// arrival order. A caller dropped while waiting forfeits its slot (the
    /// limiter errs on the slow side).
    async fn acquire(&self, _budget: &Budget) -> Result<()> {
        let at = self.reserve(Instant::now());
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn sliding_window_never_exceeds_limit() {
        let limiter = SlidingWindow::new(RateLimit {
            requests: 3,
            per: ms(1000),
        });
        let t0 = Instant::now();
        // Three immediate grants, the fourth waits until the first is 1 s old.
        assert_eq!(limiter.reserve(t0), t0);
        assert_eq!(limiter.reserve(t0 + ms(100)), t0 + ms(100));
        assert_eq!(limiter.reserve(t0 + ms(200)), t0 + ms(200));
        assert_eq!(limiter.reserve(t0 + ms(300)), t0 + ms(1000));
        // Queued behind it: the next slots free up as the 2nd and 3rd age out.
        assert_eq!(limiter.reserve(t0 + ms(300)), t0 + ms(1100));
        assert_eq!(limiter.reserve(t0 + ms(300)), t0 + ms(1200));
        // Later arrivals after a quiet period go straight through.
        assert_eq!(limiter.reserve(t0 + ms(5000)), t0 + ms(5000));
    }

    #[test]
    fn every_window_holds_at_most_n_grants() {
        let per = ms(250);
        let limiter = SlidingWindow::new(RateLimit { requests: 4, per });
        let t0 = Instant::now();
        let mut grants = Vec::new();
        let mut now = t0;
        for i in 0..200u64 {
            now += ms(fastrand::u64(0..60) * (i % 3));
            grants.push(limiter.reserve(now));
        }
        for w in grants.windows(2) {
            assert!(w[0] <= w[1], "grants are handed out in order");
        }
        for w in grants.windows(5) {
            assert!(w[4] - w[0] >= per, "5 grants within one window");
        }
    }

    #[test]
    fn memory_holds_only_the_last_window() {
        // A huge budget never fills, so without forgetting old grants the
        // limiter would keep one instant per request ever made.
        let limiter = SlidingWindow::new(RateLimit {
            requests: u32::MAX,
            per: ms(1000),
        });
        let t0 = Instant::now();
        for i in 0..10_000u64 {
            let now = t0 + ms(i * 100);
            assert_eq!(limiter.reserve(now), now, "never held back");
        }
        let held = limiter.grants.lock().unwrap().len();
        assert!(held <= 10, "{held} grants held for a 1 s window at 10/s");
        // A small budget still counts what the window holds after pruning.
        let limiter = SlidingWindow::new(RateLimit {
            requests: 2,
            per: ms(1000),
        });
        assert_eq!(limiter.reserve(t0), t0);
        assert_eq!(limiter.reserve(t0 + ms(1500)), t0 + ms(1500));
        assert_eq!(limiter.reserve(t0 + ms(1600)), t0 + ms(1600));
        assert_eq!(limiter.reserve(t0 + ms(1700)), t0 + ms(2500));
    }

    #[test]
    fn a_window_too_long_to_add_still_holds_requests_back() {
        // `per` so long that `grant + per` overflows `Instant`: the first
        // grant never leaves the window, so the second must wait, not go
        // straight through.
        let limiter = SlidingWindow::new(RateLimit {
            requests: 1,
            per: Duration::MAX,
        });
        let t0 = Instant::now();
        assert_eq!(limiter.reserve(t0), t0);
        let second = limiter.reserve(t0 + ms(1));
        assert!(
            second > t0 + Duration::from_secs(86_400 * 365),
            "{:?}",
            second - t0
        );
        let third = limiter.reserve(t0 + ms(2));
        assert!(third >= second, "grants stay in order");
    }

    #[test]
    fn zero_requests_is_treated_as_one() {
        let limiter = SlidingWindow::new(RateLimit {
            requests: 0,
            per: ms(10),
        });
        let t0 = Instant::now();
        assert_eq!(limiter.reserve(t0), t0);
        assert_eq!(limiter.reserve(t0), t0 + ms(10));
    }
}
