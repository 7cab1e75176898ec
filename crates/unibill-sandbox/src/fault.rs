//! Fault injection, request matching and rate limits.

use std::time::{Duration, SystemTime};

/// Selects requests by HTTP method and path prefix.
///
/// The prefix is compared with the request's path *including* its query
/// string (`/v1/customers?query=...`), so a prefix can also select on the
/// query. The method is compared case-insensitively; an empty method or
/// `"*"` matches every method.
///
/// ```
/// use unibill_sandbox::RequestMatcher;
/// let puts = RequestMatcher::new("PUT", "/v1/customers");
/// let anything = RequestMatcher::any();
/// # let _ = (puts, anything);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMatcher {
    method: Option<String>,
    path_prefix: String,
}

impl RequestMatcher {
    /// Matches every request.
    pub fn any() -> RequestMatcher {
        RequestMatcher::default()
    }

    /// Matches requests with this method (case-insensitive; `""` or `"*"`
    /// for any) whose path (with query) starts with `path_prefix`.
    pub fn new(method: &str, path_prefix: &str) -> RequestMatcher {
        let method = match method.trim() {
            "" | "*" => None,
            m => Some(m.to_ascii_uppercase()),
        };
        RequestMatcher {
            method,
            path_prefix: path_prefix.to_string(),
        }
    }

    /// Whether a request with this method and path (with query) matches.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        if let Some(m) = &self.method {
            if !m.eq_ignore_ascii_case(method) {
                return false;
            }
        }
        path.starts_with(&self.path_prefix)
    }
}

/// When a client may retry, as sent in a `Retry-After` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryAfter {
    Seconds(u64),
    Date(SystemTime),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FaultKind {
    Status(u16),
    Delay(Duration),
    DropConnection,
    DropAfterHandling,
    GarbageBody,
}

/// A fault to inject into the next matching request(s) of one vendor.
///
/// Faults are queued per vendor with [`VendorHandle::inject`] and consumed
/// in FIFO order: each request takes the oldest queued fault whose matcher
/// it satisfies, and a fault is removed once it has been used
/// [`times`](Fault::times) times (once by default).
///
/// * [`Fault::status`]: the request is **not** handled (nothing is
///   applied); the vendor answers that status with its own error shape
///   (ChartMogul answers 5xx with a plain-text HTML page, as its real
///   load balancers do). Add a `Retry-After` header with
///   [`retry_after_secs`](Fault::retry_after_secs) or
///   [`retry_after_date`](Fault::retry_after_date).
/// * [`Fault::delay`]: waits before handling, then handles the request
///   normally (it is applied).
/// * [`Fault::drop_connection`]: the request is **not** handled; the TCP
///   connection is closed without any response.
/// * [`Fault::drop_after_handling`]: the request **is** handled and
///   applied, then the connection is closed without any response: the
///   client cannot tell whether its write took effect.
/// * [`Fault::garbage_body`]: the request **is** handled and applied, then
///   the response body is replaced by non-JSON garbage (status and headers
///   kept).
///
/// ```
/// use std::time::Duration;
/// use unibill_sandbox::Fault;
/// let _ = Fault::status(429).retry_after_secs(1).times(2);
/// let _ = Fault::status(503).matching("PUT", "/v1/customers");
/// let _ = Fault::delay(Duration::from_millis(200));
/// let _ = Fault::drop_connection();
/// let _ = Fault::drop_after_handling();
/// let _ = Fault::garbage_body();
/// ```
///
/// [`VendorHandle::inject`]: crate::VendorHandle::inject
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub(crate) kind: FaultKind,
    pub(crate) retry_after: Option<RetryAfter>,
    pub(crate) times: usize,
    pub(crate) matcher: RequestMatcher,
}

impl Fault {
    fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            retry_after: None,
            times: 1,
            matcher: RequestMatcher::any(),
        }
    }

    /// Answer this HTTP status without handling the request.
    pub fn status(code: u16) -> Fault {
        Fault::new(FaultKind::Status(code))
    }

    /// Wait this long, then handle the request normally.
    pub fn delay(d: Duration) -> Fault {
        Fault::new(FaultKind::Delay(d))
    }

    /// Close the TCP connection without answering (the request is not
    /// handled).
    pub fn drop_connection() -> Fault {
        Fault::new(FaultKind::DropConnection)
    }

    /// Handle (and apply) the request, then close the connection without
    /// answering.
    pub fn drop_after_handling() -> Fault {
        Fault::new(FaultKind::DropAfterHandling)
    }

    /// Handle the request, then replace the response body with garbage that
    /// is not JSON.
    pub fn garbage_body() -> Fault {
        Fault::new(FaultKind::GarbageBody)
    }

    /// Add `Retry-After: <secs>` to a status fault's response.
    pub fn retry_after_secs(mut self, secs: u64) -> Fault {
        self.retry_after = Some(RetryAfter::Seconds(secs));
        self
    }

    /// Add `Retry-After: <HTTP-date>` to a status fault's response.
    pub fn retry_after_date(mut self, at: SystemTime) -> Fault {
        self.retry_after = Some(RetryAfter::Date(at));
        self
    }

    /// Apply this fault to the next `n` matching requests (default 1; 0 is
    /// treated as 1).
    pub fn times(mut self, n: usize) -> Fault {
        self.times = n.max(1);
        self
    }

    /// Only apply to requests with this method (`""`/`"*"` for any) whose
    /// path starts with `path_prefix`. See [`RequestMatcher::new`].
    pub fn matching(mut self, method: &str, path_prefix: &str) -> Fault {
        self.matcher = RequestMatcher::new(method, path_prefix);
        self
    }

    /// How this fault is written in [`JournalEntry::fault`]:
    /// `"status 503"`, `"status 429 retry-after 1"`, `"status 429
    /// retry-after date"`, `"delay 200ms"`, `"drop_connection"` or
    /// `"garbage_body"`.
    ///
    /// [`JournalEntry::fault`]: crate::JournalEntry::fault
    pub fn describe(&self) -> String {
        match &self.kind {
            FaultKind::Status(code) => match self.retry_after {
                None => format!("status {code}"),
                Some(RetryAfter::Seconds(s)) => format!("status {code} retry-after {s}"),
                Some(RetryAfter::Date(_)) => format!("status {code} retry-after date"),
            },
            FaultKind::Delay(d) => format!("delay {}ms", d.as_millis()),
            FaultKind::DropConnection => "drop_connection".to_string(),
            FaultKind::DropAfterHandling => "drop_after_handling".to_string(),
            FaultKind::GarbageBody => "garbage_body".to_string(),
        }
    }
}

/// A server-side rate limit: at most `requests` accepted requests in any
/// sliding window of length `per`; beyond that the vendor answers 429.
///
/// Requests refused with 429 do not count towards the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub requests: u32,
    /// Length of the sliding window.
    pub per: Duration,
}

impl RateLimit {
    /// ChartMogul's documented limit: 40 requests per second.
    pub const CHARTMOGUL: RateLimit = RateLimit {
        requests: 40,
        per: Duration::from_secs(1),
    };
    /// Fusebill's limit on live accounts: 1,000 requests per minute.
    pub const FUSEBILL: RateLimit = RateLimit {
        requests: 1000,
        per: Duration::from_secs(60),
    };
    /// Fusebill's limit on sandbox accounts: 50 requests per minute.
    pub const FUSEBILL_SANDBOX: RateLimit = RateLimit {
        requests: 50,
        per: Duration::from_secs(60),
    };

    /// Stripe's limit in test mode (a sandbox account): 25 requests per
    /// second (<https://docs.stripe.com/rate-limits>).
    pub const STRIPE_TEST: RateLimit = RateLimit {
        requests: 25,
        per: Duration::from_secs(1),
    };
    /// Stripe's limit in live mode: 100 requests per second.
    pub const STRIPE_LIVE: RateLimit = RateLimit {
        requests: 100,
        per: Duration::from_secs(1),
    };

    /// A limit of `requests` per `per`.
    pub const fn new(requests: u32, per: Duration) -> RateLimit {
        RateLimit { requests, per }
    }
}
