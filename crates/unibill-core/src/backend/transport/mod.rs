//! The HTTP transport shared by all backends.
//!
//! A [`Transport`] sends [`Request`]s to one vendor's base URL with the
//! vendor's credentials, and takes care of what every backend needs:
//! timeouts, retries that never double-apply an update, an optional
//! client-side rate limit, a cap on response size, percent-encoded ids in
//! paths and keeping API keys out of every `Debug`, error and log line.
//! It answers with the raw [`Response`] for any HTTP status: mapping a
//! vendor's error body to [`Error`] is the backend's job.

mod auth;
mod options;
mod rate_limit;
mod retry;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use tokio::time::Instant;
use tracing::Instrument;

use crate::error::Error;
use crate::kind::BackendKind;
use crate::lock::{AccountId, AccountScope, CustomerLocks, WriteLocking, DEFAULT_LOCK_WAIT};

pub use auth::Auth;
pub use options::{redacted_url, ClientOptions};
pub use rate_limit::{Budget, RateLimit, RateLimiter, SlidingWindow};
pub use reqwest::Method;
pub use retry::RetryConfig;

use retry::Reason;

/// A backend-supplied reading of a 429 answer without `Retry-After`: how
/// long to wait, from the vendor's own headers (e.g. Fusebill's
/// `X-Rate-Limit-Reset-Minute`).
pub type RetryHint = fn(&HeaderMap) -> Option<Duration>;

/// A vendor's reading of a header by which it says whether an error answer
/// may be retried (Stripe's `Stripe-Should-Retry: true|false`): `Some(true)`
/// retries it whatever its status and the request's [`Idempotency`] (the
/// vendor has said repeating it is safe), `Some(false)` returns it at once,
/// `None` leaves the status rules to decide. See
/// [`TransportConfig::retry_advice`].
pub type RetryAdvice = fn(&HeaderMap) -> Option<bool>;

/// Settings of a [`Transport`]: what [`Transport::new`] takes.
///
/// A backend's users never need it: they set the same values through
/// [`Settings`](crate::Settings), given to the builder with
/// [`BackendBuilder::settings`](crate::BackendBuilder::settings), and
/// [`ClientOptions::transport`] turns those (with the backend's defaults
/// and runtime objects) into this config. It is the backend kit's type,
/// for a backend author or a test building a [`Transport`] directly.
///
/// ```
/// use std::time::Duration;
/// use unibill_core::transport::{RateLimit, TransportConfig};
///
/// let config = TransportConfig {
///     rate_limit: Some(RateLimit::per_minute(50)),
///     retry_hint: Some(|headers| {
///         let secs = headers.get("x-rate-limit-reset-minute")?.to_str().ok()?.trim().parse().ok()?;
///         Some(Duration::from_secs(secs))
///     }),
///     ..TransportConfig::default()
/// };
/// assert_eq!(config.request_timeout, Duration::from_secs(30));
/// ```
#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// Time allowed to open a connection (TCP and TLS). Default 10 s.
    /// Set on the client builder before a caller's
    /// [`ClientOptions::client`] adjustment, which may change it.
    pub connect_timeout: Duration,
    /// Time allowed for one attempt, from sending the request to the end
    /// of the response body. Default 30 s.
    pub request_timeout: Duration,
    /// Retry policy; see [`Transport`].
    pub retry: RetryConfig,
    /// Client-side rate limit shared by all clones of the transport;
    /// `None` (the default) sends without pacing.
    pub rate_limit: Option<RateLimit>,
    /// Which limiter applies [`Self::rate_limit`]: `None` (the default)
    /// for an in-process [`SlidingWindow`] shared by the transport's
    /// clones, or a [`RateLimiter`] shared by several processes (e.g. one
    /// keeping the budget on Redis). Without a `rate_limit` no limiter is
    /// asked.
    pub rate_limiter: Option<Arc<dyn RateLimiter>>,
    /// Largest response body accepted, in bytes; a bigger one fails with
    /// [`Error::ResponseTooLarge`] without being read into memory.
    /// Default 4 MiB.
    pub max_response_bytes: usize,
    /// `User-Agent` of every request. Default `unibill/<version>`.
    /// Set on the client builder before a caller's
    /// [`ClientOptions::client`] adjustment, which may change it.
    pub user_agent: String,
    /// How long to wait on a 429 that has no `Retry-After`; `None` (the
    /// default) or a `None` answer falls back to exponential backoff. A
    /// hint above [`RetryConfig::max_retry_after`] returns the 429 at once.
    pub retry_hint: Option<RetryHint>,
    /// The vendor's own word on retrying an error answer (4xx or 5xx),
    /// read from its headers; it overrides the status rules. `None` (the
    /// default): the status rules alone.
    pub retry_advice: Option<RetryAdvice>,
    /// Which lock serialises the updates of one customer (see
    /// [`crate::lock`]): the process-wide in-memory lock by default.
    pub write_locking: WriteLocking,
    /// How long an update waits for the lock while other updates of the
    /// same customer run; then [`Error::Lock`]. Default
    /// [`DEFAULT_LOCK_WAIT`] (120 s).
    pub lock_wait: Duration,
    /// The overall time one lookup by email or external reference may
    /// take, every page and retry included (see
    /// [`crate::lookup::LookupPages`]); then
    /// [`Error::LookupTimeout`]. `None` (the default): five times
    /// [`RetryConfig::deadline`] (300 s with the default retry policy).
    pub lookup_deadline: Option<Duration>,
    /// What identifies the account this client writes to (see
    /// [`AccountScope`]); `None` (the default) takes the backend's rule
    /// ([`ClientOptions::default_account_scope`]), or
    /// [`AccountScope::BaseUrlAndCredentials`] for a bare [`Transport`].
    pub account_scope: Option<AccountScope>,
    /// The account's name, when the caller names it: every client of the
    /// backend with the same name shares its write locks and rate budget,
    /// whatever its base URL or credentials ([`AccountId::named`]). For
    /// two keys of one account during a key rotation, or one account
    /// reached through a proxy. `None` (the default): the account is
    /// identified by [`Self::account_scope`].
    pub account: Option<String>,
}

/// The default [`TransportConfig::lookup_deadline`], in
/// [`RetryConfig::deadline`]s: a lookup may take as long as five requests
/// that each use their whole retry budget.
const LOOKUP_DEADLINE_FACTOR: u32 = 5;

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryConfig::default(),
            rate_limit: None,
            rate_limiter: None,
            max_response_bytes: 4 * 1024 * 1024,
            user_agent: concat!("unibill/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry_hint: None,
            retry_advice: None,
            write_locking: WriteLocking::default(),
            lock_wait: DEFAULT_LOCK_WAIT,
            lookup_deadline: None,
            account_scope: None,
            account: None,
        }
    }
}

/// Whether a request may be sent again after a failure that leaves its
/// effect unknown (a 5xx, a timeout, a connection lost mid-way).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Idempotency {
    /// Repeating the request has the same effect as sending it once (GET,
    /// HEAD, PUT, PATCH and DELETE by default).
    Idempotent,
    /// Repeating could apply it twice (POST by default): only retried when
    /// the server certainly did not process it (429, 503, connect failure).
    NonIdempotent,
    /// A POST the backend vouches cannot double-apply (e.g. adding a tag
    /// that is a set member); retried like [`Idempotency::Idempotent`].
    RetrySafe,
}

/// One request to the vendor: method, path below the base URL, optional
/// body (JSON, or form-encoded for vendors that take forms) and extra
/// non-secret headers.
///
/// ```
/// use unibill_core::transport::{Idempotency, Method, Request};
///
/// let req = Request::new(Method::POST, "/v1/customers/cus_1/attributes/tags")
///     .json(&serde_json::json!({ "tags": ["vip"] }))
///     .idempotency(Idempotency::RetrySafe);
/// assert!(format!("{req:?}").contains("RetrySafe"));
/// ```
#[derive(Clone)]
pub struct Request {
    method: Method,
    path: String,
    /// The body as sent, and its `Content-Type`.
    body: Option<(Bytes, &'static str)>,
    idempotency: Idempotency,
    headers: Vec<(&'static str, String)>,
}

impl fmt::Debug for Request {
    /// Shows the method, path, idempotency and header names; the body only
    /// by size (it holds customer data).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| *n).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("idempotency", &self.idempotency)
            .field("headers", &names)
            .field("body_bytes", &self.body.as_ref().map(|(b, _)| b.len()))
            .finish()
    }
}

impl Request {
    /// A request with no body. Idempotency follows the method: GET, HEAD,
    /// PUT, PATCH, DELETE, OPTIONS and TRACE are idempotent, anything else
    /// (POST) is not.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        // `Method::is_idempotent` (RFC 9110) leaves PATCH out; every
        // vendor's PATCH sets fields, so sending it twice changes nothing.
        let idempotency = if method.is_idempotent() || method == Method::PATCH {
            Idempotency::Idempotent
        } else {
            Idempotency::NonIdempotent
        };
        Self {
            method,
            path: path.into(),
            body: None,
            idempotency,
            headers: Vec::new(),
        }
    }

    /// Sets a JSON body and `Content-Type: application/json`.
    pub fn json(mut self, body: &serde_json::Value) -> Self {
        // The same compact text as `Value`'s `Display`, without the
        // formatter in between; serializing a `Value` cannot fail.
        let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
        self.body = Some((bytes, "application/json"));
        self
    }

    /// Sets a form body, already encoded (`a=1&address%5Bcity%5D=Paris`,
    /// say, from `serde_urlencoded` or `form_urlencoded`), and
    /// `Content-Type: application/x-www-form-urlencoded`: for vendors
    /// whose writes take forms (Stripe).
    ///
    /// ```
    /// use unibill_core::transport::{Method, Request};
    /// let req = Request::new(Method::POST, "/v1/customers/cus_1").form("name=Ada");
    /// assert!(format!("{req:?}").contains("body_bytes: Some(8)"));
    /// ```
    pub fn form(mut self, encoded: impl Into<String>) -> Self {
        let bytes = Bytes::from(encoded.into());
        self.body = Some((bytes, "application/x-www-form-urlencoded"));
        self
    }

    /// Overrides the idempotency derived from the method.
    pub fn idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = idempotency;
        self
    }

    /// Adds a non-secret header. An invalid name or value makes
    /// [`Transport::send`] fail with [`Error::Transport`] before sending.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// The vendor's answer, whatever its status, with the body read in full
/// (up to [`TransportConfig::max_response_bytes`]).
#[derive(Clone)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The response body.
    pub body: Bytes,
    /// How many attempts it took (1 = no retry).
    pub attempts: u32,
}

impl fmt::Debug for Response {
    /// Shows the status, attempts, header names and body size: bodies and
    /// header values may hold customer data or tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.keys().map(|n| n.as_str()).collect();
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("headers", &names)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The `Retry-After` header as a duration from now: delta-seconds or
    /// an HTTP-date (a past date gives zero). `None` when absent or
    /// unreadable.
    pub fn retry_after(&self) -> Option<Duration> {
        let value = self.headers.get(RETRY_AFTER)?.to_str().ok()?;
        retry::parse_retry_after(value, SystemTime::now())
    }

    /// The wait the vendor asks for: its `Retry-After`, or for a 429
    /// without one, what `hint` reads from its headers.
    pub(crate) fn asked_wait(&self, hint: Option<RetryHint>) -> Option<Duration> {
        self.retry_after().or_else(|| {
            let hint = hint.filter(|_| self.status == 429)?;
            hint(&self.headers)
        })
    }
}

/// Characters left as they are in a path segment: RFC 3986 unreserved.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one query-string value: everything but RFC 3986
/// unreserved characters (`A-Z a-z 0-9 - . _ ~`), so `+`, `&`, `=`, `;`,
/// `:` and spaces reach the vendor as data.
///
/// ```
/// use unibill_core::transport::query_value;
/// assert_eq!(query_value("a+b@c.example&x=1"), "a%2Bb%40c.example%26x%3D1");
/// ```
pub fn query_value(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// The HTTP client of one backend: base URL, credentials, retries, rate
/// limit and response cap.
///
/// Cloning is cheap; clones share the connection pool, the rate limiter
/// and the retry counter.
///
/// # Retry policy
///
/// | outcome of an attempt | `Idempotent` / `RetrySafe` | `NonIdempotent` (POST) |
/// |---|---|---|
/// | 2xx, 4xx except 429 | returned | returned |
/// | 3xx, or an answer from another origin | [`Error::Vendor`] saying "redirect" | [`Error::Vendor`] saying "redirect" |
/// | 429 Too Many Requests, 503 Service Unavailable | retried | retried |
/// | 500, 502, 504 and other 5xx (not 501, 505) | retried | returned |
/// | connect failure (DNS, refused, TLS handshake): nothing was sent | retried | retried |
/// | timeout, connection lost, body error: the request may have been processed | retried | [`Error::Transport`] |
/// | body above the cap | [`Error::ResponseTooLarge`] | [`Error::ResponseTooLarge`] |
///
/// - At most [`RetryConfig::max_attempts`] attempts, all within
///   [`RetryConfig::deadline`]: a retry whose wait would end past the
///   deadline is not made and the last outcome is returned.
/// - The wait before a retry is, in order of preference: the server's
///   `Retry-After` (delta-seconds or HTTP-date) exactly, without jitter;
///   for a 429 without it, [`TransportConfig::retry_hint`]; otherwise a
///   "full jitter" backoff, uniformly random in
///   `[0, min(max_backoff, initial_backoff * 2^n)]` for retry `n` (from 0).
///   A `Retry-After` or hint above [`RetryConfig::max_retry_after`]
///   returns the answer at once.
/// - A vendor that says whether to retry an error answer (a header read by
///   [`TransportConfig::retry_advice`]) is followed over the rules above.
/// - When retries are exhausted the last answer is returned as it is
///   (e.g. the final 429, for the backend to map to
///   [`Error::RateLimited`]), or the last error.
/// - Every attempt, retries included, takes a rate-limiter permit.
/// - Redirects are not followed: a 3xx answer is [`Error::Vendor`] with
///   its status and a message saying "redirect" and where to (the
///   target's origin and path, never its query). This holds for a
///   caller's own client settings too: [`Transport::new`] takes a
///   `reqwest::ClientBuilder`, not a built client, and sets
///   `redirect::Policy::none()` on it last, so no request (and no body)
///   is ever sent to where a redirect points. An answer whose final URL
///   has another origin (scheme, host or port) than the request's is
///   refused all the same, with [`Error::Vendor`] naming both origins.
///
/// # Example
///
/// ```no_run
/// use unibill_core::backend::decode;
/// use unibill_core::transport::{Auth, Method, Request, Transport, TransportConfig};
/// use unibill_core::BackendKind;
///
/// # async fn run() -> Result<(), unibill_core::Error> {
/// const KIND: BackendKind = BackendKind::new("chartmogul");
/// let transport = Transport::new(
///     KIND,
///     "https://api.chartmogul.com",
///     Auth::KeyAsUser("my-api-key".into()),
///     TransportConfig::default(),
///     None,
/// )?;
/// let path = transport.path(&["v1", "customers", "cus_00000000-0000-0000-0000-000000000000"])?;
/// let response = transport.send(Request::new(Method::GET, path)).await?;
/// if response.is_success() {
///     let customer: serde_json::Value =
///         decode(KIND, &response, "customer response").await?;
///     println!("{}", customer["name"]);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    backend: BackendKind,
    /// The base URL: every request goes below it, so its origin is the one
    /// every answer must come from.
    base: Url,
    auth: Auth,
    auth_header: Option<HeaderValue>,
    config: TransportConfig,
    client: reqwest::Client,
    limiter: Option<(Arc<dyn RateLimiter>, Budget)>,
    retries: AtomicU64,
    locks: CustomerLocks,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Transport")
            .field("backend", &inner.backend)
            .field("base_url", &self.base_url())
            .field("auth", &inner.auth)
            .field("config", &inner.config)
            .field("retries", &inner.retries.load(Ordering::Relaxed))
            .finish()
    }
}

/// The rate limiter's permit for one request, taken ahead with
/// [`Transport::permit`] and spent by [`Transport::send_permitted`].
/// Dropping it unspent forfeits the slot (the limiter errs on the slow
/// side).
#[derive(Debug)]
#[must_use = "a permit is spent by `Transport::send_permitted`"]
pub struct Permit {
    _taken: (),
}

/// What one attempt produced.
type Attempt = Result<Response, Error>;

impl Transport {
    /// A transport for `backend` at `base_url`.
    ///
    /// `base_url` must be `https`, or `http` only when the host is loopback
    /// (`localhost`, `127.0.0.0/8`, `[::1]`), without credentials, query or
    /// fragment; a path prefix (`https://host/prefix`) is kept and every
    /// request path goes below it. Otherwise [`Error::Config`] with field
    /// `base_url`; a key unusable in a header gives [`Error::Config`] with
    /// field `auth` (never showing the key), a rate limit of zero
    /// requests or a zero window [`Error::Config`] with field `rate_limit`,
    /// a zero timeout [`Error::Config`] naming `connect_timeout` or
    /// `request_timeout`, a zero response cap one naming
    /// `max_response_bytes`, and a user agent unusable in a header one
    /// naming `user_agent`.
    ///
    /// The `reqwest` client is built from `client`, a builder the caller
    /// prepared (proxy, root certificates, ...), or without one from
    /// unibill's own (rustls,
    /// [`TransportConfig::connect_timeout`], [`TransportConfig::user_agent`]).
    /// Either way the transport sets `redirect::Policy::none()` on it last,
    /// whatever the builder said: a redirect is never followed, so a body
    /// is never sent again elsewhere (see the
    /// [policy](Transport#retry-policy)). [`TransportConfig::request_timeout`]
    /// is set per request.
    pub fn new(
        backend: BackendKind,
        base_url: &str,
        auth: Auth,
        config: TransportConfig,
        client: Option<reqwest::ClientBuilder>,
    ) -> Result<Self, Error> {
        let base = validate_base_url(base_url)?;
        let base_url = base.as_str().trim_end_matches('/');
        let auth_header = auth.header_value()?;
        let timeout = "must be longer than zero: every request would time out";
        let refusals = [
            (
                "rate_limit",
                config.rate_limit.is_some_and(|l| l.requests == 0),
                "must allow at least one request per window",
            ),
            (
                "rate_limit",
                config.rate_limit.is_some_and(|l| l.per.is_zero()),
                "the window must be longer than zero (use no rate limit to turn pacing off)",
            ),
            ("connect_timeout", config.connect_timeout.is_zero(), timeout),
            ("request_timeout", config.request_timeout.is_zero(), timeout),
            (
                "lookup_deadline",
                config.lookup_deadline.is_some_and(|d| d.is_zero()),
                "must be longer than zero: every lookup by email or reference would fail at once",
            ),
            (
                "lock_wait",
                config.lock_wait.is_zero(),
                "must be longer than zero: an update of a customer another update is writing would fail at once",
            ),
            (
                "max_response_bytes",
                config.max_response_bytes == 0,
                "must be at least 1: every response would be refused as too large",
            ),
            (
                "user_agent",
                HeaderValue::from_bytes(config.user_agent.as_bytes()).is_err(),
                "is not a valid header value (control characters are not allowed)",
            ),
        ];
        if let Some((field, _, reason)) = refusals.into_iter().find(|(_, refused, _)| *refused) {
            return Err(Error::config(field, reason));
        }
        let client = client
            .unwrap_or_else(|| Self::client_builder(&config))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| Error::Transport {
                backend,
                timeout: None,
                source,
            })?;
        let account = account_id(&config, base_url, auth_header.as_ref())?;
        let limiter = config.rate_limit.map(|limit| {
            let limiter: Arc<dyn RateLimiter> = match &config.rate_limiter {
                None => Arc::new(SlidingWindow::new(limit)),
                Some(shared) => Arc::clone(shared),
            };
            let budget = Budget {
                backend,
                account: account.clone(),
                limit,
            };
            (limiter, budget)
        });
        let locks = CustomerLocks::new(backend, account, &config.write_locking, config.lock_wait);
        Ok(Self {
            inner: Arc::new(Inner {
                backend,
                base,
                auth,
                auth_header,
                config,
                client,
                limiter,
                retries: AtomicU64::new(0),
                locks,
            }),
        })
    }

    /// The `reqwest` client builder a transport starts from: rustls,
    /// [`TransportConfig::connect_timeout`] and
    /// [`TransportConfig::user_agent`]. A caller adjusts it through
    /// [`ClientOptions::client`]; [`Self::new`] then turns
    /// redirects off.
    pub(crate) fn client_builder(config: &TransportConfig) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
    }

    /// The backend this transport talks to.
    pub(crate) fn backend(&self) -> BackendKind {
        self.inner.backend
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str().trim_end_matches('/')
    }

    /// The settings in use.
    pub fn config(&self) -> &TransportConfig {
        &self.inner.config
    }

    /// Builds a path from segments, each percent-encoded so that no id can
    /// change the path it is placed in: everything but `A-Z a-z 0-9 - . _ ~`
    /// is encoded (`/`, `?`, `#`, `%` included).
    ///
    /// ```
    /// # use unibill_core::transport::{Auth, Transport, TransportConfig};
    /// # use unibill_core::BackendKind;
    /// # let t = Transport::new(BackendKind::new("x"), "https://example.com", Auth::None, TransportConfig::default(), None).unwrap();
    /// assert_eq!(t.path(&["v1", "customers", "a/../b"]).unwrap(), "/v1/customers/a%2F..%2Fb");
    /// assert!(t.path(&["v1", "customers", ".."]).is_err());
    /// ```
    ///
    /// A segment that is empty, `.` or `..`, or percent-decodes to one of
    /// them, is refused with [`Error::Validation`] on field `id`.
    pub fn path(&self, segments: &[&str]) -> Result<String, Error> {
        encode_path(segments)
    }

    /// The full URL of `path`: the base URL followed by `path` (a missing
    /// leading `/` is added). Used for dry-run listings.
    pub fn url(&self, path: &str) -> String {
        let path = path.strip_prefix('/').unwrap_or(path);
        format!("{}/{path}", self.base_url())
    }

    /// The per-customer write locks of this client: scoped to the backend
    /// and the account (what identifies it at the vendor, hashed: see
    /// [`AccountScope`] and [`TransportConfig::account`]), and shared with
    /// every other client of the same account in this process unless the
    /// config says otherwise ([`TransportConfig::write_locking`]).
    pub fn locks(&self) -> &CustomerLocks {
        &self.inner.locks
    }

    /// The overall time one lookup may take:
    /// [`TransportConfig::lookup_deadline`], or by default five times
    /// [`RetryConfig::deadline`].
    pub fn lookup_deadline(&self) -> Duration {
        let config = &self.inner.config;
        config
            .lookup_deadline
            .unwrap_or_else(|| config.retry.deadline.saturating_mul(LOOKUP_DEADLINE_FACTOR))
    }

    /// Total retries made by this transport and its clones.
    pub fn retries(&self) -> u64 {
        self.inner.retries.load(Ordering::Relaxed)
    }

    /// Sends `req`, retrying per the [policy](Transport#retry-policy).
    ///
    /// Answers `Ok` with the final [`Response`] for any HTTP status (the
    /// backend maps error statuses and bodies) but a redirect; `Err` for
    /// [`Error::Transport`] (connection, timeout, an invalid extra header),
    /// [`Error::ResponseTooLarge`], and [`Error::Vendor`] for a redirect
    /// (see the [policy](Transport#retry-policy)).
    pub async fn send(&self, req: Request) -> Result<Response, Error> {
        self.send_permitted(req, None).await
    }

    /// Waits for the rate limiter's permit for one request (at once
    /// without a rate limit), to be spent by [`Transport::send_permitted`].
    /// For a check that must run after the limiter's wait and just before
    /// the request goes out: a read-modify-write takes the permit of its
    /// write, then checks that the record it read is still fresh enough
    /// (see [`Settings::max_read_age`](crate::Settings::max_read_age)).
    /// A permit held long before it is spent delays that request past its
    /// slot, never ahead of it. Fails as the limiter fails (e.g.
    /// [`Error::Limiter`]).
    pub async fn permit(&self) -> Result<Permit, Error> {
        if let Some((limiter, budget)) = &self.inner.limiter {
            limiter.acquire(budget).await?;
        }
        Ok(Permit { _taken: () })
    }

    /// [`Transport::send`] on a permit already taken with
    /// [`Transport::permit`]: the first attempt goes out without waiting
    /// for the limiter again (retries take permits as usual). `None`
    /// takes one first, as [`Transport::send`] does.
    pub async fn send_permitted(
        &self,
        req: Request,
        permit: Option<Permit>,
    ) -> Result<Response, Error> {
        let span = tracing::debug_span!(
            "unibill.request",
            backend = %self.inner.backend,
            method = %req.method,
            path = %req.path,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        self.send_inner(req, span.clone(), permit)
            .instrument(span)
            .await
    }

    async fn send_inner(
        &self,
        req: Request,
        span: tracing::Span,
        permit: Option<Permit>,
    ) -> Result<Response, Error> {
        let inner = &*self.inner;
        let retry = &inner.config.retry;
        let max_attempts = retry.max_attempts.max(1);
        let url = self.url(&req.path);

        if permit.is_none() {
            if let Some((limiter, budget)) = &inner.limiter {
                limiter.acquire(budget).await?;
            }
        }
        let started = Instant::now();
        let deadline = started.checked_add(retry.deadline);
        let mut attempt: u32 = 1;
        loop {
            span.record("attempt", attempt);
            let timeout = if attempt == 1 {
                inner.config.request_timeout
            } else {
                let left = deadline.map_or(Duration::MAX, |d| {
                    d.saturating_duration_since(Instant::now())
                });
                inner.config.request_timeout.min(left)
            };
            let outcome = self.attempt(&req, &url, timeout, attempt).await;
            span.record("elapsed_ms", millis(started.elapsed()));
            if let Ok(response) = &outcome {
                span.record("status", response.status);
            }

            let reason = match &outcome {
                Ok(response) => match inner.config.retry_advice {
                    Some(advice) if response.status >= 400 => match advice(&response.headers) {
                        Some(true) => Some(retry::Reason::Advised(response.status)),
                        Some(false) => None,
                        None => retry::classify_status(response.status, req.idempotency),
                    },
                    _ => retry::classify_status(response.status, req.idempotency),
                },
                Err(Error::Transport { source, .. }) => {
                    retry::classify_error(source, req.idempotency)
                }
                Err(_) => None,
            };
            let Some(reason) = reason else { return outcome };
            if attempt >= max_attempts {
                return outcome;
            }

            let wait = match self.wait_before_retry(&outcome, reason, attempt - 1) {
                Some(wait) => wait,
                None => return outcome, // the server asked for longer than we wait
            };
            if let Some(deadline) = deadline {
                let resume = Instant::now().checked_add(wait);
                if resume.is_none_or(|r| r >= deadline) {
                    tracing::debug!(reason = ?reason, wait_ms = millis(wait), "not retrying: deadline");
                    return outcome;
                }
            }
            tracing::debug!(reason = ?reason, wait_ms = millis(wait), attempt, "retrying");
            tokio::time::sleep(wait).await;
            if let Some((limiter, budget)) = &inner.limiter {
                // No permit, no attempt: the limiter's error is returned
                // rather than a request sent unlimited.
                limiter.acquire(budget).await?;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                tracing::debug!(reason = ?reason, "not retrying: deadline passed while rate limited");
                return outcome;
            }
            inner.retries.fetch_add(1, Ordering::Relaxed);
            attempt += 1;
        }
    }

    /// How long to wait before retry number `retry` (from 0); `None` when
    /// the server asked for more than [`RetryConfig::max_retry_after`].
    fn wait_before_retry(&self, outcome: &Attempt, reason: Reason, retry: u32) -> Option<Duration> {
        let config = &self.inner.config;
        let asked = outcome
            .as_ref()
            .ok()
            .and_then(|response| response.asked_wait(config.retry_hint));
        match asked {
            Some(d) if d > config.retry.max_retry_after => {
                tracing::debug!(reason = ?reason, wait_ms = millis(d), "not retrying: server asks to wait too long");
                None
            }
            Some(d) => Some(d),
            None => Some(config.retry.backoff(retry)),
        }
    }

    /// One attempt: build, send, read the body under the cap.
    async fn attempt(&self, req: &Request, url: &str, timeout: Duration, attempt: u32) -> Attempt {
        let inner = &*self.inner;
        let backend = inner.backend;
        let transport = |source: reqwest::Error| Error::Transport {
            backend,
            timeout: source.is_timeout().then_some(timeout),
            source,
        };

        let mut builder = inner
            .client
            .request(req.method.clone(), url)
            .timeout(timeout)
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(auth) = &inner.auth_header {
            builder = builder.header(AUTHORIZATION, auth.clone());
        }
        for (name, value) in &req.headers {
            builder = builder.header(*name, value.as_str());
        }
        if let Some((bytes, content_type)) = &req.body {
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static(content_type))
                .body(bytes.clone());
        }

        let mut response = builder.send().await.map_err(transport)?;
        if let Some(refusal) = redirect_refusal(backend, &inner.base, &response) {
            return Err(refusal);
        }
        let limit = inner.config.max_response_bytes;
        let too_large = || Error::ResponseTooLarge { backend, limit };
        let declared = response.content_length();
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let status: StatusCode = response.status();
        let headers = std::mem::take(response.headers_mut());
        // The declared length is the vendor's word, not bytes received:
        // reserve at most `PREALLOCATE_MAX` up front and grow as data comes.
        let capacity = declared
            .map_or(0, |n| usize::try_from(n).unwrap_or(limit))
            .min(limit)
            .min(PREALLOCATE_MAX);
        let mut body = BytesMut::with_capacity(capacity);
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len().saturating_add(chunk.len()) > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status: status.as_u16(),
            headers,
            body: body.freeze(),
            attempts: attempt,
        })
    }
}

/// Scheme, host and port of a URL: what a redirect must not change.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The error for an answer that is a redirect (a 3xx, which unibill never
/// follows) or that came from another origin than the request was sent to
/// (`requested`: the base URL, below which every request goes; a
/// caller-supplied client followed a redirect); `None` for any other
/// answer.
fn redirect_refusal(
    backend: BackendKind,
    requested: &Url,
    response: &reqwest::Response,
) -> Option<Error> {
    let status = response.status();
    let answered = response.url();
    if answered.origin() != requested.origin() {
        return Some(Error::vendor(
            backend,
            status.as_u16(),
            vec![format!(
                "refused an answer from {} after a redirect away from {}: unibill never accepts a redirect to another origin",
                origin(answered),
                origin(requested)
            )],
        ));
    }
    if !status.is_redirection() {
        return None;
    }
    let target = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| answered.join(l).ok())
        .map(|to| {
            let place = if origin(&to) == origin(answered) {
                to.path().to_owned()
            } else {
                format!("{}{}", origin(&to), to.path())
            };
            format!(" to {place}")
        })
        .unwrap_or_default();
    Some(Error::vendor(
        backend,
        status.as_u16(),
        vec![format!(
            "redirect (HTTP {status}){target} not followed: unibill never follows redirects; check the base URL"
        )],
    ))
}

/// The most buffer reserved from a response's `Content-Length` before any
/// of its body has arrived.
const PREALLOCATE_MAX: usize = 256 * 1024;

/// The account of a transport: the caller's name for it, else what its
/// [`AccountScope`] says identifies it. `base_url` is already normalised
/// ([`validate_base_url`]).
fn account_id(
    config: &TransportConfig,
    base_url: &str,
    auth_header: Option<&HeaderValue>,
) -> Result<AccountId, Error> {
    if let Some(name) = &config.account {
        if name.trim().is_empty() {
            return Err(Error::config(
                "account",
                "must not be blank: name the account, or leave the setting out",
            ));
        }
        return Ok(AccountId::named(name));
    }
    let credentials = auth_header.map_or(&[][..], |h| h.as_bytes());
    Ok(match config.account_scope.unwrap_or_default() {
        AccountScope::BaseUrlAndCredentials => AccountId::of(base_url, credentials),
        AccountScope::Credentials => AccountId::of("", credentials),
        AccountScope::BaseUrl => AccountId::of(base_url, b""),
    })
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn validate_base_url(raw: &str) -> Result<Url, Error> {
    let bad = |reason: &str| Error::config("base_url", reason);
    let url = Url::parse(raw.trim()).map_err(|e| bad(&format!("not a valid URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain credentials; pass them as `Auth`"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("has no host"))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let ip = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || ip
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                return Err(bad(
                    "must use https (plain http is allowed for loopback hosts only)",
                ));
            }
        }
        other => return Err(bad(&format!("unsupported scheme `{other}`: use https"))),
    }
    Ok(url)
}

fn encode_path(segments: &[&str]) -> Result<String, Error> {
    let mut out = String::new();
    for segment in segments {
        let decoded = percent_decode_str(segment).decode_utf8_lossy();
        if segment.is_empty() || matches!(&*decoded, "" | "." | "..") {
            return Err(Error::validation(
                "id",
                "must not be empty, `.` or `..` (a path segment cannot be blank or move up)",
            ));
        }
        out.push('/');
        out.extend(utf8_percent_encode(segment, SEGMENT));
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: BackendKind = BackendKind::new("test");

    #[test]
    fn encodes_segments() {
        assert_eq!(
            encode_path(&["v1", "customers", "a/../b"]).unwrap(),
            "/v1/customers/a%2F..%2Fb"
        );
        assert_eq!(
            encode_path(&["x y", "?#%", "jöhn"]).unwrap(),
            "/x%20y/%3F%23%25/j%C3%B6hn"
        );
        assert_eq!(encode_path(&["A-z0_9.~"]).unwrap(), "/A-z0_9.~");
        assert_eq!(encode_path(&[]).unwrap(), "/");
        for bad in ["", ".", "..", "%2e%2e", "%2E", "%2e."] {
            let err = encode_path(&["v1", bad]).unwrap_err();
            assert!(
                matches!(&err, Error::Validation { field, .. } if field == "id"),
                "{bad:?}"
            );
        }
        assert_eq!(encode_path(&["..."]).unwrap(), "/...");
    }

    #[test]
    fn base_url_rules() {
        let base_url = |raw: &str| {
            let t = Transport::new(KIND, raw, Auth::None, TransportConfig::default(), None);
            t.unwrap().base_url().to_owned()
        };
        assert_eq!(base_url("https://h.example/p/"), "https://h.example/p");
        let t = Transport::new(
            KIND,
            "https://h.example/p/",
            Auth::None,
            TransportConfig::default(),
            None,
        )
        .unwrap();
        for path in ["/v1/x", "v1/x"] {
            assert_eq!(t.url(path), "https://h.example/p/v1/x", "{path}");
        }
        assert_eq!(base_url("https://h.example"), "https://h.example");
        assert!(validate_base_url("http://h.example").is_err());
        assert!(validate_base_url("http://localhost.h.example").is_err());
        assert!(validate_base_url("http://127.0.0.1.nip.io").is_err());
        assert!(validate_base_url("http://LOCALHOST:1").is_ok());
        assert!(validate_base_url("http://127.9.9.9").is_ok());
        assert!(validate_base_url("http://[::1]:8080/x").is_ok());
        assert!(validate_base_url("http://[::2]").is_err());
        assert!(validate_base_url("http://10.0.0.1").is_err());
        assert!(validate_base_url("ftp://h.example").is_err());
        assert!(validate_base_url("https://h.example/?").is_err());
        assert!(validate_base_url("https://h.example/#x").is_err());
        assert!(validate_base_url("https://u:p@h.example").is_err());
        assert!(validate_base_url("not a url").is_err());
    }
}
