//! [`Config`]: which backend, with which settings, in one serde-friendly
//! value that builds an `Arc<dyn CustomerUpdater>` ([`Config::build`]) or
//! a typed [`Client`] ([`Config::build_client`]).
//!
//! The facade knows each backend in one place, one row of the registry
//! table below (`registry!`): its name and cargo feature, its crate, its
//! section type and its required values. From the rows come [`BACKENDS`],
//! the [`Config`] and [`Client`] variants and their per-backend methods,
//! the crate re-exports (`unibill::fusebill`) and the registry entries
//! that read a section from the environment (the variable names belong to
//! the backend crate, e.g. `unibill_fusebill::builder::env`) and make the
//! backend's builder from it. The shared [`Settings`] reach every builder through one generic
//! function over [`BackendBuilder`], and are validated once, by the
//! builder and its transport.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use unibill_core::builder::{lookup_required, lookup_set, parse_conflict_check};
use unibill_core::transport::redacted_url;
use unibill_core::{
    BackendBuilder, BackendKind, ConflictCheck, CustomerUpdater, Error, ExposeSecret, RateLimit,
    Result, RetryConfig, SecretString, TransportConfig,
};

/// The environment variables [`Config::from_env`] reads.
///
/// A backend's own variables are defined by its crate (e.g.
/// `unibill_chartmogul::builder::env`); they are restated here so they can
/// be named without the backend's cargo feature.
pub mod vars {
    /// `chartmogul`, `fusebill` or `everlytic`.
    pub const BACKEND: &str = "UNIBILL_BACKEND";
    /// ChartMogul API key.
    pub const CHARTMOGUL_API_KEY: &str = "CHARTMOGUL_API_KEY";
    /// ChartMogul base URL override (default `https://api.chartmogul.com`).
    pub const CHARTMOGUL_BASE_URL: &str = "CHARTMOGUL_BASE_URL";
    /// Fusebill API key, exactly as issued.
    pub const FUSEBILL_API_KEY: &str = "FUSEBILL_API_KEY";
    /// Fusebill base URL override (default `https://secure.fusebill.com`).
    pub const FUSEBILL_BASE_URL: &str = "FUSEBILL_BASE_URL";
    /// The Everlytic install's URL (required: there is no default host).
    pub const EVERLYTIC_URL: &str = "EVERLYTIC_URL";
    /// Everlytic user name.
    pub const EVERLYTIC_USERNAME: &str = "EVERLYTIC_USERNAME";
    /// Everlytic API key.
    pub const EVERLYTIC_API_KEY: &str = "EVERLYTIC_API_KEY";
    /// Per-attempt request timeout in seconds (optional).
    pub const TIMEOUT_SECS: &str = "UNIBILL_TIMEOUT_SECS";
    /// Total attempts per request, first included (optional).
    pub const MAX_ATTEMPTS: &str = "UNIBILL_MAX_ATTEMPTS";
    /// First retry backoff in milliseconds (optional; default 100).
    pub const INITIAL_BACKOFF_MS: &str = "UNIBILL_INITIAL_BACKOFF_MS";
    /// Longest backoff between two attempts in milliseconds (optional).
    pub const MAX_BACKOFF_MS: &str = "UNIBILL_MAX_BACKOFF_MS";
    /// Time budget of one request, retries included, in seconds
    /// (optional).
    pub const RETRY_DEADLINE_SECS: &str = "UNIBILL_RETRY_DEADLINE_SECS";
    /// Longest `Retry-After` honoured, in seconds (optional).
    pub const MAX_RETRY_AFTER_SECS: &str = "UNIBILL_MAX_RETRY_AFTER_SECS";
    /// Client-side rate limit: `40/s`, `1000/min` or `off` (optional;
    /// default: the vendor's documented limit).
    pub const RATE_LIMIT: &str = "UNIBILL_RATE_LIMIT";
    /// Longest wait, in seconds, for a customer's write lock while other
    /// updates of that customer run (optional; default 120).
    pub const LOCK_WAIT_SECS: &str = "UNIBILL_LOCK_WAIT_SECS";
    /// Longest time, in seconds, one lookup by email or external reference
    /// may take, every page and retry included (optional; default 5 × the
    /// retry deadline, 300 s).
    pub const LOOKUP_DEADLINE_SECS: &str = "UNIBILL_LOOKUP_DEADLINE_SECS";
    /// The account's name (optional): every client of the backend given
    /// the same name shares its customers' write locks and its rate budget,
    /// whatever its base URL or key (for a key rotation, or an account
    /// reached through a proxy). Unset: the backend's rule (the API key for
    /// ChartMogul and Fusebill, the install's URL for Everlytic; see
    /// `docs/consistency.md`).
    pub const ACCOUNT: &str = "UNIBILL_ACCOUNT";
    /// How a read-modify-write update (Fusebill, Everlytic) guards against
    /// edits made outside unibill: `reread` (default, 3 rounds),
    /// `reread:N` or `off`. Refused for backends that do not read before
    /// they write (ChartMogul).
    pub const CONFLICT_CHECK: &str = "UNIBILL_CONFLICT_CHECK";
    /// Redis shared by every process of the deployment, for one rate-limit
    /// budget per vendor account and per-customer write locks across
    /// processes: `redis://[:password@]host[:port][/db]` or `rediss://`
    /// (TLS). Needs the `redis` cargo feature; set without it,
    /// [`Config::from_env`](super::Config::from_env) fails rather than run
    /// each process on its own budget.
    pub const REDIS_URL: &str = "UNIBILL_REDIS_URL";
    /// Prefix of every Redis key (default `unibill:`).
    pub const REDIS_PREFIX: &str = "UNIBILL_REDIS_PREFIX";
    /// Opt-in local fallback when Redis is unreachable: the share of each
    /// limit one process may use alone, in `(0, 1]`. Unset: fail closed.
    pub const REDIS_FALLBACK_SHARE: &str = "UNIBILL_REDIS_FALLBACK_SHARE";
}

/// Settings shared by every backend; each is optional and defaults to the
/// backend's own default. Build one with [`Settings::builder`], or read it
/// from a config file's `settings` object.
///
/// ```
/// use std::time::Duration;
/// use unibill::{RetryConfig, Settings};
///
/// let s = Settings::builder()
///     .timeout(Duration::from_secs(10))
///     .retry(RetryConfig { max_attempts: 2, ..RetryConfig::default() })
///     .no_rate_limit()
///     .build();
/// assert_eq!(s.max_attempts, Some(2));
/// assert_eq!(s.rate_limit().unwrap(), Some(None)); // the vendor's default limit is off
/// ```
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Settings {
    /// Per-attempt request timeout, seconds.
    #[serde(default, deserialize_with = "number")]
    pub timeout_secs: Option<f64>,
    /// Connect timeout, seconds.
    #[serde(default, deserialize_with = "number")]
    pub connect_timeout_secs: Option<f64>,
    /// Total attempts per request (1 = no retries).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// First retry backoff, milliseconds.
    #[serde(default)]
    pub initial_backoff_ms: Option<u64>,
    /// Longest backoff between two attempts, milliseconds.
    #[serde(default)]
    pub max_backoff_ms: Option<u64>,
    /// Time budget of one request, retries included, seconds.
    #[serde(default, deserialize_with = "number")]
    pub retry_deadline_secs: Option<f64>,
    /// Longest `Retry-After` the client honours, seconds.
    #[serde(default, deserialize_with = "number")]
    pub max_retry_after_secs: Option<f64>,
    /// Client-side rate limit; `Some(None)` (JSON `null` / `"off"`) turns
    /// the vendor's default limit off. Written as an object
    /// (`{"requests": 40, "per_secs": 1}`) or as text in the forms
    /// [`vars::RATE_LIMIT`] takes (`"40/s"`, `"1000/min"`, `"5000/day"`,
    /// `"off"`), for formats without `null` such as TOML. In code, set it
    /// with [`SettingsBuilder::rate_limit`] or
    /// [`SettingsBuilder::no_rate_limit`].
    #[serde(default, deserialize_with = "rate_limit_setting")]
    pub rate_limit: Option<Option<RateLimitSetting>>,
    /// Longest wait for a customer's write lock, seconds (default 120).
    #[serde(default, deserialize_with = "number")]
    pub lock_wait_secs: Option<f64>,
    /// Longest time one lookup by email or external reference may take,
    /// seconds (default 5 × the retry deadline).
    #[serde(default, deserialize_with = "number")]
    pub lookup_deadline_secs: Option<f64>,
    /// How a read-modify-write update guards against edits made outside
    /// unibill (Fusebill, Everlytic): `"reread"`, `"reread:N"` or `"off"`
    /// (see [`vars::CONFLICT_CHECK`]). A backend that does not read before
    /// it writes refuses it.
    #[serde(default, deserialize_with = "conflict_check_setting")]
    pub conflict_check: Option<ConflictCheck>,
    /// The account's name (see [`vars::ACCOUNT`]): clients given the same
    /// name share their customers' write locks and rate budget.
    #[serde(default)]
    pub account: Option<String>,
    /// A rate-limit budget and per-customer write locks shared with the
    /// deployment's other processes through Redis (feature `redis`; see
    /// `docs/scaling.md`). Unset: this process limits and locks alone.
    #[cfg(feature = "redis")]
    #[serde(default)]
    pub redis: Option<RedisSetting>,
}

/// Builds [`Settings`] from typed values (see [`Settings::builder`]);
/// what it does not set keeps the backend's default.
#[derive(Clone, Debug, Default)]
pub struct SettingsBuilder {
    settings: Settings,
}

fn secs_f64(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl SettingsBuilder {
    /// The per-attempt request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout_secs = Some(secs_f64(timeout));
        self
    }

    /// The connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout_secs = Some(secs_f64(timeout));
        self
    }

    /// The whole retry policy (attempts, backoffs, deadline, longest
    /// `Retry-After`).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        let s = &mut self.settings;
        s.max_attempts = Some(retry.max_attempts);
        s.initial_backoff_ms = Some(millis(retry.initial_backoff));
        s.max_backoff_ms = Some(millis(retry.max_backoff));
        s.retry_deadline_secs = Some(secs_f64(retry.deadline));
        s.max_retry_after_secs = Some(secs_f64(retry.max_retry_after));
        self
    }

    /// Total attempts per request (1 = no retries); the rest of the retry
    /// policy keeps its defaults.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.settings.max_attempts = Some(attempts);
        self
    }

    /// A client-side rate limit in place of the vendor's default.
    pub fn rate_limit(mut self, limit: impl Into<RateLimitSetting>) -> Self {
        self.settings.rate_limit = Some(Some(limit.into()));
        self
    }

    /// No client-side rate limit, not even the vendor's default.
    pub fn no_rate_limit(mut self) -> Self {
        self.settings.rate_limit = Some(None);
        self
    }

    /// The longest wait for a customer's write lock.
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.settings.lock_wait_secs = Some(secs_f64(wait));
        self
    }

    /// The longest time one lookup by email or external reference may
    /// take, every page and retry included.
    pub fn lookup_deadline(mut self, deadline: Duration) -> Self {
        self.settings.lookup_deadline_secs = Some(secs_f64(deadline));
        self
    }

    /// How a read-modify-write update guards against edits made outside
    /// unibill (refused by backends that do not read before they write).
    pub fn conflict_check(mut self, check: ConflictCheck) -> Self {
        self.settings.conflict_check = Some(check);
        self
    }

    /// Names the account (see [`vars::ACCOUNT`]).
    pub fn account(mut self, name: impl Into<String>) -> Self {
        self.settings.account = Some(name.into());
        self
    }

    /// A rate-limit budget and write locks shared through Redis.
    #[cfg(feature = "redis")]
    pub fn redis(mut self, redis: RedisSetting) -> Self {
        self.settings.redis = Some(redis);
        self
    }

    /// The settings.
    pub fn build(self) -> Settings {
        self.settings
    }
}

/// Redis in a config file (feature `redis`): e.g.
/// `{"url": "rediss://:password@cache:6380", "prefix": "billing:"}`.
#[cfg(feature = "redis")]
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RedisSetting {
    /// `redis://` or `rediss://` (TLS); its password is never shown.
    pub url: String,
    /// Key prefix (default `unibill:`).
    #[serde(default)]
    pub prefix: Option<String>,
    /// Opt-in local fallback when Redis is unreachable: this process's
    /// share of each limit, in `(0, 1]`. Unset: fail closed.
    #[serde(default, deserialize_with = "number")]
    pub fallback_share: Option<f64>,
    /// Lease of a customer lock, seconds (default 10): how long a dead
    /// holder blocks the customer.
    #[serde(default, deserialize_with = "number")]
    pub lease_secs: Option<f64>,
}

#[cfg(feature = "redis")]
impl fmt::Debug for RedisSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSetting")
            .field("url", &redacted_url(&self.url))
            .field("prefix", &self.prefix)
            .field("fallback_share", &self.fallback_share)
            .field("lease_secs", &self.lease_secs)
            .finish()
    }
}

#[cfg(feature = "redis")]
impl RedisSetting {
    /// Redis at this URL, with the default prefix, lease and fail-closed
    /// behaviour.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: None,
            fallback_share: None,
            lease_secs: None,
        }
    }

    /// The coordinator these settings describe (no connection is made
    /// yet). Errors name the field: `redis.url`, `redis.fallback_share`,
    /// `redis.lease_secs`.
    pub fn coordinator(&self) -> Result<unibill_redis::RedisCoordinator> {
        let mut s = unibill_redis::RedisSettings::new(self.url.clone())?;
        if let Some(prefix) = &self.prefix {
            s.prefix = prefix.clone();
        }
        if let Some(share) = self.fallback_share {
            s.unreachable = unibill_redis::Unreachable::LocalFallback { share };
        }
        if let Some(lease) = self.lease_secs {
            s.lease = secs("redis.lease_secs", lease)?;
        }
        unibill_redis::RedisCoordinator::new(s)
    }
}

/// A client-side rate limit in a config file: `requests` per `per_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSetting {
    /// Requests allowed per window.
    pub requests: u32,
    /// Window length in seconds.
    #[serde(deserialize_with = "number_required")]
    pub per_secs: f64,
}

impl From<RateLimit> for RateLimitSetting {
    fn from(limit: RateLimit) -> Self {
        Self {
            requests: limit.requests,
            per_secs: limit.per.as_secs_f64(),
        }
    }
}

fn rate_limit_setting<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<RateLimitSetting>>, D::Error> {
    Ok(Some(d.deserialize_option(RateLimitVisitor)?))
}

/// A number of a config file as `f64`, however the format hands it over.
///
/// `serde_json` (with the `arbitrary_precision` feature unibill-core needs
/// to send vendors' numbers back exactly as received) hands a number that
/// is not a whole one over as a map holding its text whenever it passes
/// through a buffer, as every field of the internally tagged [`Config`]
/// does. `serde_json::Number` reads both that form and a plain number
/// (TOML's, or JSON's in a `Value`), so every format parses the same.
fn number<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<f64>, D::Error> {
    Option::<serde_json::Number>::deserialize(d)?
        .map(|n| number_value(&n))
        .transpose()
}

/// [`number`] for a field that must be present.
fn number_required<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    number_value(&serde_json::Number::deserialize(d)?)
}

fn number_value<E: serde::de::Error>(n: &serde_json::Number) -> std::result::Result<f64, E> {
    n.as_f64()
        .filter(|v| v.is_finite())
        .ok_or_else(|| E::custom(format!("{} is not a number unibill can use", n)))
}

fn conflict_check_setting<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<ConflictCheck>, D::Error> {
    let text = String::deserialize(d)?;
    parse_conflict_check(&text)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(conflict_check_error(&text)))
}

fn conflict_check_error(v: &str) -> String {
    format!("`{v}` is not `reread`, `reread:N` (N at least 1) or `off`")
}

/// `null`, an object, or one of the text forms of [`vars::RATE_LIMIT`].
struct RateLimitVisitor;

impl<'de> serde::de::Visitor<'de> for RateLimitVisitor {
    type Value = Option<RateLimitSetting>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "null, `{\"requests\": .., \"per_secs\": ..}` or text like `40/s`, `1000/min`, `5000/day` or `off`",
        )
    }

    fn visit_none<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
        rate_limit_text(v).ok_or_else(|| E::custom(rate_limit_text_error(v)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        RateLimitSetting::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
    }
}

/// Seconds as a [`Duration`]: refused (naming `field`) only when no
/// duration can hold them (negative, not a number, too large). Whether a
/// duration is usable (zero is not) is the builder's and the transport's
/// to judge, once.
fn duration(field: &str, v: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(v)
        .map_err(|_| Error::config(field, format!("{v} is not a number of seconds")))
}

/// A positive number of seconds (environment variables, Redis lease: read
/// where no transport judges them).
fn secs(field: &str, v: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(v)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| Error::config(field, format!("{v} is not a positive number of seconds")))
}

/// A variable holding a positive number of seconds, when set.
fn env_secs(get: &impl Fn(&str) -> Option<String>, var: &str) -> Result<Option<f64>> {
    let Some(v) = get(var) else {
        return Ok(None);
    };
    let n: f64 = v
        .trim()
        .parse()
        .map_err(|_| Error::config(var, format!("`{v}` is not a number of seconds")))?;
    secs(var, n)?;
    Ok(Some(n))
}

/// A variable holding a whole number, when set.
fn env_number<N: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &str,
    what: &str,
) -> Result<Option<N>> {
    get(var)
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| Error::config(var, format!("`{v}` is not {what}")))
        })
        .transpose()
}

impl Settings {
    /// Settings built from typed values.
    pub fn builder() -> SettingsBuilder {
        SettingsBuilder::default()
    }

    /// Connect and per-attempt timeouts, when either is set (the other
    /// keeps its default).
    pub fn timeouts(&self) -> Result<Option<(Duration, Duration)>> {
        if self.timeout_secs.is_none() && self.connect_timeout_secs.is_none() {
            return Ok(None);
        }
        let d = TransportConfig::default();
        let connect = match self.connect_timeout_secs {
            Some(v) => duration("connect_timeout_secs", v)?,
            None => d.connect_timeout,
        };
        let request = match self.timeout_secs {
            Some(v) => duration("timeout_secs", v)?,
            None => d.request_timeout,
        };
        Ok(Some((connect, request)))
    }

    /// The retry policy, when a retry setting is given (the rest keeps the
    /// defaults).
    pub fn retry(&self) -> Result<Option<RetryConfig>> {
        if self.max_attempts.is_none()
            && self.initial_backoff_ms.is_none()
            && self.max_backoff_ms.is_none()
            && self.retry_deadline_secs.is_none()
            && self.max_retry_after_secs.is_none()
        {
            return Ok(None);
        }
        let mut r = RetryConfig::default();
        if let Some(n) = self.max_attempts {
            if n == 0 {
                return Err(Error::config("max_attempts", "must be at least 1"));
            }
            r.max_attempts = n;
        }
        if let Some(ms) = self.max_backoff_ms {
            r.max_backoff = Duration::from_millis(ms);
        }
        if let Some(ms) = self.initial_backoff_ms {
            r.initial_backoff = Duration::from_millis(ms);
            if self.max_backoff_ms.is_none() {
                // The default cap must not cut the first backoff asked for.
                r.max_backoff = r.max_backoff.max(r.initial_backoff);
            }
        }
        if let Some(v) = self.retry_deadline_secs {
            r.deadline = duration("retry_deadline_secs", v)?;
        }
        if let Some(v) = self.max_retry_after_secs {
            r.max_retry_after = duration("max_retry_after_secs", v)?;
        }
        Ok(Some(r))
    }

    /// The longest wait for a customer's write lock, when set.
    pub fn lock_wait(&self) -> Result<Option<Duration>> {
        self.lock_wait_secs
            .map(|v| duration("lock_wait_secs", v))
            .transpose()
    }

    /// The longest time one lookup may take, when set.
    pub fn lookup_deadline(&self) -> Result<Option<Duration>> {
        self.lookup_deadline_secs
            .map(|v| duration("lookup_deadline_secs", v))
            .transpose()
    }

    /// The rate limit, when set: `Some(None)` turns the vendor's default
    /// limit off. Only the conversion to a window can fail here; the
    /// transport refuses a limit of zero requests.
    pub fn rate_limit(&self) -> Result<Option<Option<RateLimit>>> {
        self.rate_limit
            .map(|rl| {
                rl.map(|r| {
                    Ok(RateLimit {
                        requests: r.requests,
                        per: duration("rate_limit.per_secs", r.per_secs)?,
                    })
                })
                .transpose()
            })
            .transpose()
    }

    /// Applies these settings to any backend's builder through the shared
    /// setters of [`BackendBuilder`], so the backend's defaults (its rate
    /// limit, its retry hints) stay in force for everything the settings
    /// do not name. The builder and its transport judge the values.
    pub fn apply<B: BackendBuilder>(&self, mut b: B) -> Result<B> {
        if let Some((connect, request)) = self.timeouts()? {
            b = b.timeouts(connect, request);
        }
        if let Some(retry) = self.retry()? {
            b = b.retry(retry);
        }
        if let Some(limit) = self.rate_limit()? {
            b = b.rate_limit(limit);
        }
        if let Some(wait) = self.lock_wait()? {
            b = b.lock_wait(wait);
        }
        if let Some(deadline) = self.lookup_deadline()? {
            b = b.lookup_deadline(deadline);
        }
        if let Some(check) = self.conflict_check {
            b.set_conflict_check(check)?;
        }
        if let Some(name) = &self.account {
            b = b.account(name.clone());
        }
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            let c = redis.coordinator()?;
            b = b
                .rate_limiting(c.rate_limiting())
                .write_locking(c.write_locking());
        }
        Ok(b)
    }

    /// Reads the shared variables of [`vars`] into these settings.
    fn read_env(&mut self, get: &impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(n) = env_secs(get, vars::TIMEOUT_SECS)? {
            self.timeout_secs = Some(n);
        }
        if let Some(v) = get(vars::MAX_ATTEMPTS) {
            let n: u32 = v.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                Error::config(
                    vars::MAX_ATTEMPTS,
                    format!("`{v}` is not a positive whole number"),
                )
            })?;
            self.max_attempts = Some(n);
        }
        let ms = "a whole number of milliseconds";
        if let Some(n) = env_number(get, vars::INITIAL_BACKOFF_MS, ms)? {
            self.initial_backoff_ms = Some(n);
        }
        if let Some(n) = env_number(get, vars::MAX_BACKOFF_MS, ms)? {
            self.max_backoff_ms = Some(n);
        }
        if let Some(n) = env_secs(get, vars::RETRY_DEADLINE_SECS)? {
            self.retry_deadline_secs = Some(n);
        }
        if let Some(n) = env_secs(get, vars::MAX_RETRY_AFTER_SECS)? {
            self.max_retry_after_secs = Some(n);
        }
        if let Some(v) = get(vars::RATE_LIMIT) {
            self.rate_limit = Some(parse_rate_limit(&v)?);
        }
        if let Some(n) = env_secs(get, vars::LOCK_WAIT_SECS)? {
            self.lock_wait_secs = Some(n);
        }
        if let Some(n) = env_secs(get, vars::LOOKUP_DEADLINE_SECS)? {
            self.lookup_deadline_secs = Some(n);
        }
        if let Some(name) = get(vars::ACCOUNT) {
            self.account = Some(name.trim().to_owned());
        }
        if let Some(v) = get(vars::CONFLICT_CHECK) {
            self.conflict_check =
                Some(parse_conflict_check(&v).ok_or_else(|| {
                    Error::config(vars::CONFLICT_CHECK, conflict_check_error(&v))
                })?);
        }
        if let Some(url) = get(vars::REDIS_URL) {
            #[cfg(feature = "redis")]
            {
                let fallback_share = match get(vars::REDIS_FALLBACK_SHARE) {
                    Some(v) => Some(v.trim().parse::<f64>().map_err(|_| {
                        Error::config(vars::REDIS_FALLBACK_SHARE, "must be a number in (0, 1]")
                    })?),
                    None => None,
                };
                let redis = RedisSetting {
                    url,
                    prefix: get(vars::REDIS_PREFIX),
                    fallback_share,
                    lease_secs: None,
                };
                // Refuse a bad URL or share now, naming the variable.
                redis.coordinator().map_err(|e| match e {
                    Error::Config { field, reason } => Error::config(
                        match field.as_str() {
                            "redis.url" => vars::REDIS_URL,
                            "redis.fallback_share" => vars::REDIS_FALLBACK_SHARE,
                            _ => vars::REDIS_URL,
                        },
                        reason,
                    ),
                    other => other,
                })?;
                self.redis = Some(redis);
            }
            #[cfg(not(feature = "redis"))]
            {
                let _ = url;
                return Err(Error::config(
                    vars::REDIS_URL,
                    "is set, but unibill was built without its `redis` cargo feature: \
                     enable it, or unset the variable to limit and lock per process",
                ));
            }
        }
        Ok(())
    }
}

// The registry: one row per backend, the only place the facade names a
// backend. Adding one is a row here, its crate and its cargo feature.
//
// A row reads
// `name(required, ..) => Variant(Section) in crate_name, feature = "name", as_name;`
// - `name`: the constructor `Config::name(required, ..)` and the re-export
//   `unibill::name` of the backend's crate;
// - `required`: the constructor's arguments, in order; each is also a field
//   of the section and the builder setter it is given to;
// - `Variant`: the `Config` and `Client` variant, and the crate's client
//   type `crate_name::Variant`, built from `crate_name::Variant::builder()`;
// - `Section`: the section type (`KeyConfig`, `EverlyticConfig`, ...; see
//   `Section`), read from the crate's `builder::env::ALL` variables;
// - `feature = "name"`: the backend's name in configs (`backend`,
//   `UNIBILL_BACKEND`, the crate's `KIND`) and the cargo feature that
//   compiles it in: the same word;
// - `as_name`: the `Client` accessor.
//
// `registry!(then)` hands the rows to the macro `then`: `config_items`
// below, and the crate re-exports in lib.rs.
macro_rules! registry {
    ($then:ident) => {
        $then! {
            chartmogul(api_key) => ChartMogul(KeyConfig)
                in unibill_chartmogul, feature = "chartmogul", as_chartmogul;
            fusebill(api_key) => Fusebill(KeyConfig)
                in unibill_fusebill, feature = "fusebill", as_fusebill;
            everlytic(base_url, username, api_key) => Everlytic(EverlyticConfig)
                in unibill_everlytic, feature = "everlytic", as_everlytic;
        }
    };
}
pub(crate) use registry;

/// Everything of this module made from the registry's rows: [`BACKENDS`],
/// the [`Config`] and [`Client`] enums, their per-backend methods and
/// `REGISTRY`.
macro_rules! config_items {
    ($(
        $name:ident($($arg:ident),*) => $variant:ident($section:ident)
            in $krate:ident, feature = $feature:literal, $as_x:ident;
    )*) => {
        /// The backend names a [`Config`] may name (compiled in or not).
        pub const BACKENDS: [&str; [$($feature),*].len()] = [$($feature),*];

        /// Which backend to use and how to reach it.
        ///
        /// Deserializes from a tagged object, e.g. (JSON)
        /// `{"backend": "fusebill", "api_key": "..."}`; switching vendor is
        /// changing this one value. [`Config::build`] fails with
        /// [`Error::Config`] when the named backend's cargo feature is off.
        ///
        /// ```
        /// let config: unibill::Config = serde_json::from_str(
        ///     r#"{"backend": "chartmogul", "api_key": "secret-key"}"#,
        /// ).unwrap();
        /// assert_eq!(config.backend(), "chartmogul");
        /// assert!(!format!("{config:?}").contains("secret-key"));
        /// ```
        #[derive(Clone, Debug, Deserialize)]
        #[serde(tag = "backend")]
        #[non_exhaustive]
        pub enum Config {
            $(
                #[doc = concat!(stringify!($variant), " (`\"backend\": \"", $feature, "\"`).")]
                #[serde(rename = $feature)]
                $variant($section),
            )*
        }

        impl Config {
            $(
                #[doc = concat!(
                    "A config for ", stringify!($variant), " with default settings (`",
                    stringify!($($arg),*), "`)."
                )]
                pub fn $name($($arg: impl Into<String>),*) -> Self {
                    Config::$variant($section::new($($arg.into()),*))
                }
            )*

            /// The backend's name.
            pub fn backend(&self) -> &'static str {
                match self {
                    $(Config::$variant(_) => $feature,)*
                }
            }

            fn section(&self) -> &dyn Section {
                match self {
                    $(Config::$variant(c) => c,)*
                }
            }

            fn section_mut(&mut self) -> &mut dyn Section {
                match self {
                    $(Config::$variant(c) => c,)*
                }
            }
        }

        /// A client built from a [`Config`], with its type: the vendor-only calls
        /// (ChartMogul's tags and custom attributes by email, Fusebill's
        /// `find_by_reference`, raw reads, ...) stay reachable, where
        /// [`Config::build`]'s `Arc<dyn CustomerUpdater>` has only the neutral
        /// ones.
        ///
        /// ```
        /// use unibill::{Client, Config};
        ///
        /// let client = Config::fusebill("key").build_client().unwrap();
        /// let fusebill = client.as_fusebill().expect("a Fusebill client");
        /// assert_eq!(fusebill.transport().base_url(), "https://secure.fusebill.com");
        /// assert!(client.as_chartmogul().is_none());
        /// let updater = client.into_updater(); // the neutral API, as `Config::build` gives it
        /// assert_eq!(updater.kind(), unibill::fusebill::KIND);
        /// ```
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        pub enum Client {
            $(
                #[doc = concat!(stringify!($variant), " (feature `", $feature, "`).")]
                #[cfg(feature = $feature)]
                $variant($krate::$variant),
            )*
        }

        impl Client {
            /// The neutral API of this client.
            pub fn updater(&self) -> &dyn CustomerUpdater {
                match *self {
                    $(
                        #[cfg(feature = $feature)]
                        Client::$variant(ref c) => c,
                    )*
                }
            }

            /// The client behind the neutral API only (what [`Config::build`]
            /// returns).
            pub fn into_updater(self) -> Arc<dyn CustomerUpdater> {
                match self {
                    $(
                        #[cfg(feature = $feature)]
                        Client::$variant(c) => Arc::new(c),
                    )*
                }
            }

            $(
                #[doc = concat!("The ", stringify!($variant), " client, if this is one.")]
                #[cfg(feature = $feature)]
                pub fn $as_x(&self) -> Option<&$krate::$variant> {
                    match self {
                        Client::$variant(c) => Some(c),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            )*
        }

        /// The registry: one entry per compiled-in backend.
        const REGISTRY: &[Registered] = &[
            $(
                #[cfg(feature = $feature)]
                Registered {
                    kind: $krate::KIND,
                    from_lookup: |get| {
                        $section::from_lookup($krate::KIND, get, $krate::builder::env::ALL)
                            .map(Config::$variant)
                    },
                    placeholder: || Config::$variant($section::placeholder()),
                    build: |c| match c {
                        Config::$variant(c) => {
                            let b = $krate::$variant::builder()$(.$arg(c.$arg.given()))*;
                            Ok(Client::$variant(c.apply(b)?.build()?))
                        }
                        other => Err(mismatch(other)),
                    },
                },
            )*
        ];
    };
}

registry!(config_items);

/// What the facade needs of a backend's section in a [`Config`], whatever
/// its shape: its shared settings and its base URL.
trait Section {
    fn settings(&self) -> &Settings;
    fn settings_mut(&mut self) -> &mut Settings;
    fn set_base_url(&mut self, url: String);
}

/// What the registry needs of a section type to read and build it.
/// (With no backend compiled in, nothing uses it.)
#[allow(dead_code)]
trait SectionBuild: Section + Sized {
    /// The backend's own variables (its crate's `builder::env::ALL`).
    type Vars;
    /// The section from the backend's own variables.
    fn from_lookup(kind: BackendKind, get: &Lookup<'_>, vars: Self::Vars) -> Result<Self>;
    /// A section with placeholder values (no credentials that work).
    fn placeholder() -> Self;
    /// `builder`, given the section's required values already (the
    /// registry row's arguments), with what else the section holds: its
    /// optional values, then [`Settings::apply`].
    fn apply<B: BackendBuilder>(&self, builder: B) -> Result<B>;
}

/// A section's required value, as its builder setter takes it.
#[allow(dead_code)]
trait Given {
    fn given(&self) -> &str;
}

impl Given for String {
    fn given(&self) -> &str {
        self
    }
}

impl Given for SecretString {
    fn given(&self) -> &str {
        self.expose_secret()
    }
}

/// Settings of a backend reached with one API key at a fixed host
/// (ChartMogul, Fusebill).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct KeyConfig {
    /// API key. ChartMogul: sent as the Basic user name. Fusebill: exactly
    /// as issued (already base64 text), sent verbatim.
    pub api_key: SecretString,
    /// Base URL; default the vendor's API host.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Transport settings.
    #[serde(default)]
    pub settings: Settings,
}

impl KeyConfig {
    fn new(api_key: String) -> Self {
        Self {
            api_key: api_key.into(),
            base_url: None,
            settings: Settings::default(),
        }
    }
}

impl Section for KeyConfig {
    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    fn set_base_url(&mut self, url: String) {
        self.base_url = Some(url);
    }
}

impl SectionBuild for KeyConfig {
    /// The API key (required) and the base URL.
    type Vars = [&'static str; 2];

    fn from_lookup(
        kind: BackendKind,
        get: &Lookup<'_>,
        [api_key, base_url]: Self::Vars,
    ) -> Result<Self> {
        Ok(Self {
            base_url: lookup_set(get, base_url),
            ..Self::new(lookup_required(kind, get, api_key)?)
        })
    }

    fn placeholder() -> Self {
        Self::new("placeholder".into())
    }

    fn apply<B: BackendBuilder>(&self, mut b: B) -> Result<B> {
        if let Some(u) = &self.base_url {
            b = b.base_url(u.clone());
        }
        self.settings.apply(b)
    }
}

/// Everlytic settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EverlyticConfig {
    /// The install's URL (required).
    pub base_url: String,
    /// User name.
    pub username: String,
    /// API key.
    pub api_key: SecretString,
    /// Transport settings.
    #[serde(default)]
    pub settings: Settings,
}

impl EverlyticConfig {
    fn new(base_url: String, username: String, api_key: String) -> Self {
        Self {
            base_url,
            username,
            api_key: SecretString::from(api_key),
            settings: Settings::default(),
        }
    }
}

impl Section for EverlyticConfig {
    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    fn set_base_url(&mut self, url: String) {
        self.base_url = url;
    }
}

impl SectionBuild for EverlyticConfig {
    /// The install's URL, the user name and the API key, all required.
    type Vars = [&'static str; 3];

    fn from_lookup(
        kind: BackendKind,
        get: &Lookup<'_>,
        [base_url, username, api_key]: Self::Vars,
    ) -> Result<Self> {
        let need = |name| lookup_required(kind, get, name);
        Ok(Self::new(need(base_url)?, need(username)?, need(api_key)?))
    }

    fn placeholder() -> Self {
        Self::new(
            "https://install.example.com".into(),
            "placeholder".into(),
            "placeholder".into(),
        )
    }

    fn apply<B: BackendBuilder>(&self, b: B) -> Result<B> {
        self.settings.apply(b)
    }
}

// `Debug` never shows the key, nor what may be a secret in a base URL.
impl fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyConfig")
            .field("api_key", &"***")
            .field("base_url", &self.base_url.as_deref().map(redacted_url))
            .field("settings", &self.settings)
            .finish()
    }
}

impl fmt::Debug for EverlyticConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EverlyticConfig")
            .field("api_key", &"***")
            .field("base_url", &redacted_url(&self.base_url))
            .field("username", &self.username)
            .field("settings", &self.settings)
            .finish()
    }
}

/// A name -> value lookup of variables (blank values already unset).
type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// One compiled-in backend, made from its registry row.
struct Registered {
    /// The backend (its name is what `backend` / `UNIBILL_BACKEND` say).
    kind: BackendKind,
    /// Its section, read from its own variables (names owned by its
    /// crate); the shared settings are read after.
    from_lookup: fn(&Lookup<'_>) -> Result<Config>,
    /// A placeholder config (for [`crate::capability_table`]).
    placeholder: fn() -> Config,
    /// Its client from its section: the backend's builder, the section's
    /// own values, then [`Settings::apply`].
    build: fn(&Config) -> Result<Client>,
}

/// A registry entry handed another backend's config (a bug here, not a
/// caller's mistake, but still an error rather than a panic).
#[allow(dead_code)] // with no backend compiled in
fn mismatch(other: &Config) -> Error {
    Error::config(
        "backend",
        format!("internal: no builder registered for `{}`", other.backend()),
    )
}

/// The registry entry of a backend name, or [`Error::Config`] naming
/// `field`: not a backend at all, or one whose cargo feature is off.
fn registered(name: &str, field: &str) -> Result<&'static Registered> {
    if let Some(r) = REGISTRY.iter().find(|r| r.kind.as_str() == name) {
        return Ok(r);
    }
    Err(if BACKENDS.contains(&name) {
        Error::config(
            field,
            format!(
                "backend `{name}` is not compiled in: enable the `{name}` cargo feature of unibill"
            ),
        )
    } else {
        Error::config(
            field,
            format!("`{name}` is not one of {}", BACKENDS.join(", ")),
        )
    })
}

/// The placeholder config of every compiled-in backend (no credentials
/// that work), in registry order.
pub(crate) fn placeholders() -> Vec<Config> {
    REGISTRY.iter().map(|r| (r.placeholder)()).collect()
}

impl Config {
    /// The same config with another base URL (for ChartMogul and Fusebill;
    /// for Everlytic it replaces the install URL).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.section_mut().set_base_url(url.into());
        self
    }

    /// The same config with other settings.
    pub fn with_settings(mut self, settings: Settings) -> Self {
        *self.section_mut().settings_mut() = settings;
        self
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        self.section().settings()
    }

    /// Reads the config from the environment (see [`vars`]).
    ///
    /// A set `UNIBILL_*` variable that is none of [`vars`] (a misspelt
    /// `UNIBILL_RATE_LIMT`, say) is not an error, since other tools may
    /// share the prefix, but it is not silently ignored either: each one is
    /// reported with a `tracing` warning naming it and the closest
    /// variable unibill reads.
    pub fn from_env() -> Result<Self> {
        warn_unknown_vars(std::env::vars_os().filter_map(|(name, _)| name.into_string().ok()));
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the config from any name -> value lookup, with the same
    /// variables as [`Config::from_env`] (handy in tests: no process-wide
    /// environment to race on).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let backend = get(vars::BACKEND)
            .ok_or_else(|| {
                Error::config(
                    vars::BACKEND,
                    format!("is not set: name one of {}", BACKENDS.join(", ")),
                )
            })?
            .trim()
            .to_ascii_lowercase();
        let mut config = (registered(&backend, vars::BACKEND)?.from_lookup)(&get)?;
        config.section_mut().settings_mut().read_env(&get)?;
        Ok(config)
    }

    /// Builds the updater. Fails with [`Error::Config`] when the backend's
    /// cargo feature is not enabled or a setting is malformed. Makes no
    /// network call.
    ///
    /// Every backend compiled in is registered as a known extension key
    /// (see [`unibill_core::patch::register_extension_key`]), so another
    /// backend's extension in a patch is refused as unsupported, not as
    /// unknown.
    pub fn build(&self) -> Result<Arc<dyn CustomerUpdater>> {
        self.build_client().map(Client::into_updater)
    }

    /// Builds the client with its type (see [`Client`]), for the
    /// vendor-only calls; otherwise as [`Config::build`].
    pub fn build_client(&self) -> Result<Client> {
        for r in REGISTRY {
            unibill_core::patch::register_extension_key(r.kind);
        }
        (registered(self.backend(), "backend")?.build)(self)
    }
}

/// Every `UNIBILL_*` variable [`Config::from_env`] reads.
const KNOWN_VARS: &[&str] = &[
    vars::BACKEND,
    vars::TIMEOUT_SECS,
    vars::MAX_ATTEMPTS,
    vars::INITIAL_BACKOFF_MS,
    vars::MAX_BACKOFF_MS,
    vars::RETRY_DEADLINE_SECS,
    vars::MAX_RETRY_AFTER_SECS,
    vars::RATE_LIMIT,
    vars::LOCK_WAIT_SECS,
    vars::LOOKUP_DEADLINE_SECS,
    vars::ACCOUNT,
    vars::CONFLICT_CHECK,
    vars::REDIS_URL,
    vars::REDIS_PREFIX,
    vars::REDIS_FALLBACK_SHARE,
];

/// Warns (through `tracing`) of each name with the `UNIBILL_` prefix that
/// is not a variable unibill reads, naming the closest one that is.
fn warn_unknown_vars(names: impl IntoIterator<Item = String>) {
    for name in names {
        if !name.starts_with("UNIBILL_") || KNOWN_VARS.contains(&name.as_str()) {
            continue;
        }
        let closest = KNOWN_VARS
            .iter()
            .min_by_key(|known| edit_distance(&name, known))
            .copied()
            .unwrap_or(vars::BACKEND);
        tracing::warn!(
            variable = %name,
            closest,
            "{name} is set but is not a variable unibill reads (ignored); the closest one is {closest}"
        );
    }
}

/// The Levenshtein distance between two ASCII-ish names, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Parses `40/s`, `1000/min`, `5000/day`... or `off`.
fn parse_rate_limit(v: &str) -> Result<Option<RateLimitSetting>> {
    rate_limit_text(v).ok_or_else(|| Error::config(vars::RATE_LIMIT, rate_limit_text_error(v)))
}

fn rate_limit_text_error(v: &str) -> String {
    format!("`{v}` is not like `40/s`, `1000/min`, `5000/day` or `off`")
}

/// The text forms of a rate limit: `Some(None)` for `off`, `None` when
/// malformed.
fn rate_limit_text(v: &str) -> Option<Option<RateLimitSetting>> {
    let t = v.trim();
    if t.eq_ignore_ascii_case("off") || t.eq_ignore_ascii_case("none") {
        return Some(None);
    }
    let (n, unit) = t.split_once('/')?;
    let requests: u32 = n.trim().parse().ok().filter(|n| *n > 0)?;
    let per_secs = match unit.trim() {
        "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        "d" | "day" => 86400.0,
        _ => return None,
    };
    Some(Some(RateLimitSetting { requests, per_secs }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use unibill_core::ExposeSecret;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[cfg(all(feature = "fusebill", feature = "redis"))]
    #[test]
    fn redis_url_reaches_the_client_and_its_password_is_never_shown() {
        let c = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("UNIBILL_REDIS_URL", "redis://:hunter2-pw@127.0.0.1:6379/0"),
            ("UNIBILL_REDIS_PREFIX", "billing:"),
        ]))
        .unwrap();
        let redis = c.settings().redis.clone().unwrap();
        assert_eq!(redis.prefix.as_deref(), Some("billing:"));
        assert_eq!(redis.fallback_share, None, "fail closed unless asked");
        let updater = c.build().unwrap();
        let locks = format!("{:?}", updater.locks());
        assert!(locks.contains("RedisLock"), "{locks}");
        for text in [locks, format!("{c:?}")] {
            assert!(!text.contains("hunter2"), "{text}");
        }
        for (var, value) in [
            ("UNIBILL_REDIS_URL", "http://127.0.0.1:6379"),
            ("UNIBILL_REDIS_FALLBACK_SHARE", "2"),
            ("UNIBILL_REDIS_FALLBACK_SHARE", "half"),
        ] {
            let mut pairs = vec![
                ("UNIBILL_BACKEND", "fusebill"),
                ("FUSEBILL_API_KEY", "k"),
                ("UNIBILL_REDIS_URL", "redis://127.0.0.1:6379"),
            ];
            pairs.retain(|(k, _)| *k != var);
            pairs.push((var, value));
            let e = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert!(format!("{e}").contains(var), "{var}={value}: {e}");
        }
        let file: Config = serde_json::from_value(serde_json::json!({
            "backend": "fusebill", "api_key": "k",
            "settings": {"redis": {"url": "rediss://:pw@cache.example:6380", "fallback_share": 0.25}}
        }))
        .unwrap();
        assert!(file.build().is_ok());
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("UNIBILL_RATE_LIMT", vars::RATE_LIMIT), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    /// A misspelt `UNIBILL_` variable is reported with a warning naming it
    /// and the variable meant; known variables and other prefixes are not.
    #[test]
    fn unknown_unibill_variables_are_warned_of_with_the_closest_known_one() {
        #[derive(Clone, Default)]
        struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Captured {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            // Through the environment: a name no other test sets.
            std::env::set_var("UNIBILL_MAX_ATEMPTS", "3");
            let _ = Config::from_env();
            std::env::remove_var("UNIBILL_MAX_ATEMPTS");
            warn_unknown_vars(
                [
                    "UNIBILL_RATE_LIMT",
                    "UNIBILL_LOCK_WAIT",
                    "UNIBILL_RATE_LIMIT",
                    "UNIBILL_BACKEND",
                    "FUSEBILL_API_KEY",
                    "PATH",
                ]
                .map(String::from),
            )
        });
        let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let (from_env, lines): (Vec<&str>, Vec<&str>) = out
            .lines()
            .filter(|l| {
                l.contains("UNIBILL_MAX_ATEMPTS")
                    || l.contains("UNIBILL_LOCK_WAIT")
                    || l.contains("UNIBILL_RATE_LIMIT")
            })
            .partition(|l| l.contains("UNIBILL_MAX_ATEMPTS"));
        assert_eq!(from_env.len(), 1, "{out}");
        assert!(
            from_env[0].contains("the closest one is UNIBILL_MAX_ATTEMPTS"),
            "{out}"
        );
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].contains("WARN"), "{out}");
        assert!(
            lines[0].contains("UNIBILL_RATE_LIMT is set but is not a variable unibill reads")
                && lines[0].contains("the closest one is UNIBILL_RATE_LIMIT"),
            "{out}"
        );
        assert!(
            lines[1].contains("UNIBILL_LOCK_WAIT ") && lines[1].contains("UNIBILL_LOCK_WAIT_SECS"),
            "{out}"
        );
    }

    /// A config with a fractional number in every number setting, as
    /// JSON text, JSON bytes, a JSON file, a JSON value and TOML: all five
    /// parse to the same settings.
    #[cfg(feature = "fusebill")]
    #[test]
    fn fractional_numbers_parse_the_same_in_every_format() {
        let json = serde_json::json!({
            "backend": "fusebill",
            "api_key": "k",
            "settings": {
                "timeout_secs": 2.5,
                "connect_timeout_secs": 1.25,
                "retry_deadline_secs": 7.5,
                "max_retry_after_secs": 3.5,
                "lock_wait_secs": 0.5,
                "lookup_deadline_secs": 12.5,
                "max_attempts": 3,
                "initial_backoff_ms": 20,
                "rate_limit": {"requests": 3, "per_secs": 1.5}
            }
        });
        #[cfg(feature = "redis")]
        let json = {
            let mut json = json;
            json["settings"]["redis"] = serde_json::json!(
                {"url": "redis://127.0.0.1:6379", "fallback_share": 0.25, "lease_secs": 2.5}
            );
            json
        };
        #[cfg(not(feature = "redis"))]
        let redis_toml = "";
        #[cfg(feature = "redis")]
        let redis_toml = "[settings.redis]\nurl = \"redis://127.0.0.1:6379\"\nfallback_share = 0.25\nlease_secs = 2.5\n";
        let toml_text = format!(
            "backend = \"fusebill\"\napi_key = \"k\"\n[settings]\ntimeout_secs = 2.5\n\
             connect_timeout_secs = 1.25\nretry_deadline_secs = 7.5\nmax_retry_after_secs = 3.5\n\
             lock_wait_secs = 0.5\nlookup_deadline_secs = 12.5\nmax_attempts = 3\ninitial_backoff_ms = 20\n\
             rate_limit = {{ requests = 3, per_secs = 1.5 }}\n{redis_toml}"
        );
        let text = json.to_string();
        let path = std::env::temp_dir().join(format!("unibill-config-{}.json", std::process::id()));
        std::fs::write(&path, &text).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let parsed: Vec<(&str, std::result::Result<Config, String>)> = vec![
            (
                "JSON text",
                serde_json::from_str::<Config>(&text).map_err(|e| e.to_string()),
            ),
            (
                "JSON bytes",
                serde_json::from_slice::<Config>(text.as_bytes()).map_err(|e| e.to_string()),
            ),
            (
                "JSON file",
                serde_json::from_reader::<_, Config>(std::io::BufReader::new(file))
                    .map_err(|e| e.to_string()),
            ),
            (
                "JSON value",
                serde_json::from_value::<Config>(json.clone()).map_err(|e| e.to_string()),
            ),
            (
                "TOML",
                toml::from_str::<Config>(&toml_text).map_err(|e| e.to_string()),
            ),
        ];
        let _ = std::fs::remove_file(&path);
        let mut expected = Settings::builder()
            .timeout(Duration::from_secs_f64(2.5))
            .connect_timeout(Duration::from_secs_f64(1.25))
            .lock_wait(Duration::from_millis(500))
            .rate_limit(RateLimitSetting {
                requests: 3,
                per_secs: 1.5,
            })
            .build();
        expected.retry_deadline_secs = Some(7.5);
        expected.max_retry_after_secs = Some(3.5);
        expected.lookup_deadline_secs = Some(12.5);
        expected.max_attempts = Some(3);
        expected.initial_backoff_ms = Some(20);
        #[cfg(feature = "redis")]
        {
            let mut redis = RedisSetting::new("redis://127.0.0.1:6379");
            redis.fallback_share = Some(0.25);
            redis.lease_secs = Some(2.5);
            expected.redis = Some(redis);
        }
        for (format, config) in parsed {
            let config = config.unwrap_or_else(|e| panic!("{format}: {e}"));
            assert_eq!(config.settings(), &expected, "{format}");
            let client = config
                .build_client()
                .unwrap_or_else(|e| panic!("{format}: {e}"));
            let t = client.as_fusebill().unwrap().transport().config().clone();
            assert_eq!(t.request_timeout, Duration::from_millis(2500), "{format}");
            assert_eq!(t.lock_wait, Duration::from_millis(500), "{format}");
            assert_eq!(
                t.rate_limit,
                Some(RateLimit {
                    requests: 3,
                    per: Duration::from_millis(1500)
                }),
                "{format}"
            );
        }
    }

    #[cfg(all(feature = "fusebill", not(feature = "redis")))]
    #[test]
    fn a_redis_url_without_the_feature_is_refused_not_ignored() {
        let e = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("UNIBILL_REDIS_URL", "redis://127.0.0.1:6379"),
        ]))
        .unwrap_err();
        assert!(format!("{e}").contains("UNIBILL_REDIS_URL"), "{e}");
    }

    #[cfg(feature = "fusebill")]
    #[test]
    fn lock_wait_reaches_the_client() {
        let c = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("UNIBILL_LOCK_WAIT_SECS", "2.5"),
        ]))
        .unwrap();
        assert_eq!(c.settings().lock_wait_secs, Some(2.5));
        let updater = c.build().unwrap();
        assert_eq!(updater.locks().wait(), Duration::from_millis(2500));
        let default = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
        ]))
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(default.locks().wait(), crate::lock::DEFAULT_LOCK_WAIT);
    }

    #[cfg(feature = "fusebill")]
    #[test]
    fn lookup_deadline_reaches_the_client() {
        let deadline = |pairs: &[(&str, &str)]| {
            let mut all = vec![("UNIBILL_BACKEND", "fusebill"), ("FUSEBILL_API_KEY", "k")];
            all.extend_from_slice(pairs);
            let client = Config::from_lookup(lookup(&all))
                .unwrap()
                .build_client()
                .unwrap();
            client.as_fusebill().unwrap().transport().lookup_deadline()
        };
        assert_eq!(
            deadline(&[("UNIBILL_LOOKUP_DEADLINE_SECS", "2.5")]),
            Duration::from_millis(2500)
        );
        // Default: five retry deadlines.
        assert_eq!(deadline(&[]), Duration::from_secs(300));
        assert_eq!(
            deadline(&[("UNIBILL_RETRY_DEADLINE_SECS", "10")]),
            Duration::from_secs(50)
        );
        let e = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("UNIBILL_LOOKUP_DEADLINE_SECS", "0"),
        ]))
        .unwrap_err();
        assert!(
            format!("{e}").contains("UNIBILL_LOOKUP_DEADLINE_SECS"),
            "{e}"
        );
        let file: Config = serde_json::from_value(serde_json::json!({
            "backend": "fusebill", "api_key": "k",
            "settings": {"lookup_deadline_secs": 7}
        }))
        .unwrap();
        let client = file.build_client().unwrap();
        assert_eq!(
            client.as_fusebill().unwrap().transport().lookup_deadline(),
            Duration::from_secs(7)
        );
        let built = Settings::builder()
            .lookup_deadline(Duration::from_secs(9))
            .build();
        assert_eq!(built.lookup_deadline_secs, Some(9.0));
    }

    #[test]
    fn env_names_backend_and_keys() {
        let c = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k=="),
        ]))
        .unwrap();
        match &c {
            Config::Fusebill(f) => {
                assert_eq!(f.api_key.expose_secret(), "k==");
                assert_eq!(f.base_url, None);
            }
            other => panic!("{other:?}"),
        }
        let c = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "Everlytic"),
            ("EVERLYTIC_URL", "https://mail.example.com"),
            ("EVERLYTIC_USERNAME", "u"),
            ("EVERLYTIC_API_KEY", "k"),
            ("UNIBILL_RATE_LIMIT", "10/s"),
            ("UNIBILL_MAX_ATTEMPTS", "2"),
        ]))
        .unwrap();
        assert_eq!(c.backend(), "everlytic");
        assert_eq!(
            c.settings().rate_limit,
            Some(Some(RateLimitSetting {
                requests: 10,
                per_secs: 1.0
            }))
        );
        assert_eq!(c.settings().max_attempts, Some(2));
    }

    #[test]
    fn env_errors_name_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "UNIBILL_BACKEND"),
            (&[("UNIBILL_BACKEND", "stripe")], "UNIBILL_BACKEND"),
            (&[("UNIBILL_BACKEND", "chartmogul")], "CHARTMOGUL_API_KEY"),
            (
                &[
                    ("UNIBILL_BACKEND", "chartmogul"),
                    ("CHARTMOGUL_API_KEY", " "),
                ],
                "CHARTMOGUL_API_KEY",
            ),
            (
                &[
                    ("UNIBILL_BACKEND", "everlytic"),
                    ("EVERLYTIC_USERNAME", "u"),
                    ("EVERLYTIC_API_KEY", "k"),
                ],
                "EVERLYTIC_URL",
            ),
            (
                &[
                    ("UNIBILL_BACKEND", "fusebill"),
                    ("FUSEBILL_API_KEY", "k"),
                    ("UNIBILL_RATE_LIMIT", "fast"),
                ],
                "UNIBILL_RATE_LIMIT",
            ),
            (
                &[
                    ("UNIBILL_BACKEND", "fusebill"),
                    ("FUSEBILL_API_KEY", "k"),
                    ("UNIBILL_TIMEOUT_SECS", "-1"),
                ],
                "UNIBILL_TIMEOUT_SECS",
            ),
            (
                &[
                    ("UNIBILL_BACKEND", "fusebill"),
                    ("FUSEBILL_API_KEY", "k"),
                    ("UNIBILL_MAX_ATTEMPTS", "0"),
                ],
                "UNIBILL_MAX_ATTEMPTS",
            ),
            (
                &[
                    ("UNIBILL_BACKEND", "fusebill"),
                    ("FUSEBILL_API_KEY", "k"),
                    ("UNIBILL_LOCK_WAIT_SECS", "0"),
                ],
                "UNIBILL_LOCK_WAIT_SECS",
            ),
        ];
        for (pairs, var) in cases {
            match Config::from_lookup(lookup(pairs)) {
                Err(Error::Config { field, .. }) => assert_eq!(field, *var, "{pairs:?}"),
                other => panic!("{pairs:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn env_errors_say_what_is_missing() {
        let reason = |pairs: &[(&str, &str)]| match Config::from_lookup(lookup(pairs)) {
            Err(Error::Config { reason, .. }) => reason,
            other => panic!("{pairs:?}: {other:?}"),
        };
        let r = reason(&[]);
        assert!(r.contains("chartmogul, fusebill, everlytic"), "{r}");
        let r = reason(&[("UNIBILL_BACKEND", " Fusebill ")]);
        assert!(r.contains("`fusebill`"), "{r}");
    }

    #[test]
    fn debug_never_shows_keys() {
        for c in [
            Config::chartmogul("cm-secret-1"),
            Config::fusebill("fb-secret-2"),
            Config::everlytic("https://x.example", "user", "ev-secret-3"),
        ] {
            let d = format!("{c:?} {c:#?}");
            assert!(!d.contains("secret"), "{d}");
            assert!(d.contains("***"));
        }
        // Nor a key put in a base URL by mistake.
        for c in [
            Config::chartmogul("k").with_base_url("https://cm-secret:@api.example.com"),
            Config::fusebill("k").with_base_url("https://api.example.com/?key=fb-secret"),
            Config::everlytic("https://u:ev-secret@x.example", "user", "k"),
        ] {
            let d = format!("{c:?}");
            assert!(!d.contains("secret"), "{d}");
        }
    }

    #[test]
    fn serde_config_with_settings() {
        let c: Config = serde_json::from_str(
            r#"{"backend":"fusebill","api_key":"k","settings":{"timeout_secs":5,"rate_limit":null}}"#,
        )
        .unwrap();
        assert_eq!(c.settings().rate_limit, Some(None));
        assert_eq!(c.settings().rate_limit().unwrap(), Some(None));
        let (connect, request) = c.settings().timeouts().unwrap().unwrap();
        assert_eq!(request, Duration::from_secs(5));
        assert_eq!(connect, TransportConfig::default().connect_timeout);
        assert_eq!(c.settings().retry().unwrap(), None);
        assert!(serde_json::from_str::<Config>(
            r#"{"backend":"fusebill","api_key":"k","apikey":"x"}"#
        )
        .is_err());
        assert!(serde_json::from_str::<Config>(r#"{"backend":"paypal","api_key":"k"}"#).is_err());
    }

    #[test]
    fn rate_limit_forms() {
        assert_eq!(
            parse_rate_limit("40/s").unwrap(),
            Some(RateLimitSetting {
                requests: 40,
                per_secs: 1.0
            })
        );
        assert_eq!(
            parse_rate_limit("1000/min").unwrap(),
            Some(RateLimitSetting {
                requests: 1000,
                per_secs: 60.0
            })
        );
        assert_eq!(
            parse_rate_limit("5000/day").unwrap(),
            Some(RateLimitSetting {
                requests: 5000,
                per_secs: 86400.0
            })
        );
        assert_eq!(parse_rate_limit("off").unwrap(), None);
        for bad in ["0/s", "40", "40/fortnight", "x/s", "-1/s", "/s", "40/"] {
            match parse_rate_limit(bad) {
                Err(Error::Config { field, reason }) => {
                    assert_eq!(field, vars::RATE_LIMIT);
                    assert!(reason.contains(&format!("`{bad}`")), "{reason}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn readme_config_file_example_parses() {
        let readme = include_str!("../README.md");
        let start = readme
            .find("`{\"backend\": \"chartmogul\"")
            .expect("example in README")
            + 1;
        let end = start + readme[start..].find('`').expect("closing backtick");
        let c: Config = serde_json::from_str(&readme[start..end]).unwrap();
        let s = c.settings();
        assert_eq!(s.max_attempts, Some(3));
        assert_eq!(
            s.rate_limit,
            Some(Some(RateLimitSetting {
                requests: 40,
                per_secs: 1.0
            }))
        );
    }

    fn settings(json: &str) -> std::result::Result<Settings, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn serde_rate_limit_takes_the_text_forms_too() {
        let limit = |json: &str| settings(json).unwrap().rate_limit;
        assert_eq!(limit(r#"{}"#), None);
        assert_eq!(limit(r#"{"rate_limit":null}"#), Some(None));
        assert_eq!(limit(r#"{"rate_limit":"off"}"#), Some(None));
        assert_eq!(
            limit(r#"{"rate_limit":"40/s"}"#),
            Some(Some(RateLimitSetting {
                requests: 40,
                per_secs: 1.0
            }))
        );
        assert_eq!(
            limit(r#"{"rate_limit":"5000/day"}"#),
            Some(Some(RateLimitSetting {
                requests: 5000,
                per_secs: 86400.0
            }))
        );
        assert_eq!(
            limit(r#"{"rate_limit":{"requests":1000,"per_secs":60}}"#),
            Some(Some(RateLimitSetting {
                requests: 1000,
                per_secs: 60.0
            }))
        );
        // Inside a tagged config too (buffered before it is read).
        let c: Config = serde_json::from_str(
            r#"{"backend":"chartmogul","api_key":"k","settings":{"rate_limit":"1000/min"}}"#,
        )
        .unwrap();
        assert_eq!(
            c.settings().rate_limit().unwrap(),
            Some(Some(RateLimit::per_minute(1000)))
        );
        // Malformed text or objects are refused, saying what is wrong.
        let e = settings(r#"{"rate_limit":"fast"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`fast`") && e.contains("40/s"), "{e}");
        let e = settings(r#"{"rate_limit":{"requests":5,"per":1}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`per`"), "{e}");
        assert!(settings(r#"{"rate_limit":5}"#).is_err());
        assert!(settings(r#"{"rate_limit":"0/s"}"#).is_err());
    }

    #[test]
    fn initial_backoff_is_not_cut_by_the_default_cap() {
        let s = settings(r#"{"initial_backoff_ms":10000}"#).unwrap();
        let r = s.retry().unwrap().expect("a retry setting");
        assert_eq!(r.initial_backoff, Duration::from_secs(10));
        assert_eq!(r.backoff_ceiling(0), Duration::from_secs(10));
        // A small one leaves the default cap alone.
        let s = settings(r#"{"initial_backoff_ms":10}"#).unwrap();
        let r = s.retry().unwrap().expect("a retry setting");
        assert_eq!(r.max_backoff, RetryConfig::default().max_backoff);
    }

    #[test]
    fn unknown_fields_are_named() {
        let e =
            serde_json::from_str::<Config>(r#"{"backend":"fusebill","api_key":"k","apikey":"x"}"#)
                .unwrap_err()
                .to_string();
        assert!(e.contains("`apikey`"), "{e}");
        let e = serde_json::from_str::<Config>(
            r#"{"backend":"fusebill","api_key":"k","settings":{"timeout":5}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`timeout`"), "{e}");
    }

    #[test]
    fn a_backend_not_compiled_in_is_a_config_error_naming_its_feature() {
        let configs = [
            (cfg!(feature = "chartmogul"), Config::chartmogul("k")),
            (cfg!(feature = "fusebill"), Config::fusebill("k")),
            (
                cfg!(feature = "everlytic"),
                Config::everlytic("https://x.example", "u", "k"),
            ),
        ];
        for (compiled, config) in configs {
            let name = config.backend();
            match config.build() {
                Ok(u) => assert!(compiled, "{name} built without its feature: {u:?}"),
                Err(Error::Config { field, reason }) if !compiled => {
                    assert_eq!(field, "backend");
                    assert!(
                        reason.contains(&format!("`{name}` cargo feature")),
                        "{reason}"
                    );
                }
                Err(e) => panic!("{name}: {e:?}"),
            }
        }
    }

    /// Settings reach the client; what they do not name keeps the
    /// backend's default (ChartMogul: its 40 per 1.02 s limit).
    #[cfg(feature = "chartmogul")]
    #[test]
    fn settings_reach_the_client_and_keep_backend_defaults() {
        let build = |json: &str| {
            let c = Config::chartmogul("k").with_settings(settings(json).unwrap());
            format!("{:?}", c.build().unwrap())
        };
        let default_limit = format!("{:?}", Some(unibill_chartmogul::DEFAULT_RATE_LIMIT));
        let d = build(r#"{"timeout_secs":7,"max_attempts":2}"#);
        assert!(d.contains("request_timeout: 7s"), "{d}");
        assert!(d.contains("max_attempts: 2"), "{d}");
        assert!(d.contains(&format!("rate_limit: {default_limit}")), "{d}");
        let d = build(r#"{"rate_limit":"off"}"#);
        assert!(d.contains("rate_limit: None"), "{d}");
        assert!(d.contains("max_attempts: 4"), "{d}");
        let d = build(r#"{"rate_limit":"10/s"}"#);
        assert!(
            d.contains(&format!(
                "rate_limit: {:?}",
                Some(RateLimit::per_second(10))
            )),
            "{d}"
        );
    }

    #[cfg(feature = "fusebill")]
    #[test]
    fn retry_settings_reach_the_client_from_env_and_file() {
        let from_env = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("UNIBILL_MAX_ATTEMPTS", "6"),
            ("UNIBILL_INITIAL_BACKOFF_MS", "50"),
            ("UNIBILL_MAX_BACKOFF_MS", "900"),
            ("UNIBILL_RETRY_DEADLINE_SECS", "42"),
            ("UNIBILL_MAX_RETRY_AFTER_SECS", "7.5"),
        ]))
        .unwrap();
        let from_file: Config = serde_json::from_value(serde_json::json!({
            "backend": "fusebill", "api_key": "k",
            "settings": {
                "max_attempts": 6, "initial_backoff_ms": 50, "max_backoff_ms": 900,
                "retry_deadline_secs": 42, "max_retry_after_secs": 7.5
            }
        }))
        .unwrap();
        let expected = RetryConfig {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(900),
            deadline: Duration::from_secs(42),
            max_retry_after: Duration::from_millis(7500),
        };
        for c in [from_env, from_file] {
            let client = c.build_client().unwrap();
            let fusebill = client.as_fusebill().expect("a Fusebill client");
            assert_eq!(fusebill.transport().config().retry, expected, "{c:?}");
        }
        // The same policy, given as a value to the settings builder.
        let built = Config::fusebill("k")
            .with_settings(Settings::builder().retry(expected.clone()).build())
            .build_client()
            .unwrap();
        assert_eq!(
            built.as_fusebill().unwrap().transport().config().retry,
            expected
        );
        for (var, value) in [
            ("UNIBILL_INITIAL_BACKOFF_MS", "soon"),
            ("UNIBILL_MAX_BACKOFF_MS", "-5"),
            ("UNIBILL_RETRY_DEADLINE_SECS", "0"),
            ("UNIBILL_MAX_RETRY_AFTER_SECS", "x"),
        ] {
            match Config::from_lookup(lookup(&[
                ("UNIBILL_BACKEND", "fusebill"),
                ("FUSEBILL_API_KEY", "k"),
                (var, value),
            ])) {
                Err(Error::Config { field, .. }) => assert_eq!(field, var, "{value}"),
                other => panic!("{var}={value}: {other:?}"),
            }
        }
    }

    #[cfg(all(feature = "fusebill", feature = "everlytic", feature = "chartmogul"))]
    #[test]
    fn conflict_check_is_set_through_config_and_refused_where_it_means_nothing() {
        let shown = |c: &Config| format!("{:?}", c.build_client().unwrap());
        let env = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("UNIBILL_CONFLICT_CHECK", "off"),
        ]))
        .unwrap();
        assert_eq!(env.settings().conflict_check, Some(ConflictCheck::Off));
        assert!(shown(&env).contains("conflict: Off"), "{}", shown(&env));
        let default = shown(&Config::fusebill("k"));
        assert!(
            default.contains("conflict: Reread { max_rounds: 3 }"),
            "{default}"
        );
        let file: Config = serde_json::from_value(serde_json::json!({
            "backend": "everlytic", "base_url": "https://mail.example.com",
            "username": "u", "api_key": "k",
            "settings": {"conflict_check": "reread:5"}
        }))
        .unwrap();
        assert_eq!(
            file.settings().conflict_check,
            Some(ConflictCheck::Reread { max_rounds: 5 })
        );
        assert!(file.build().is_ok());
        // ChartMogul writes with PATCH and reads nothing first: refused,
        // naming the setting, rather than ignored.
        let cm = Config::chartmogul("k").with_settings(
            Settings::builder()
                .conflict_check(ConflictCheck::Off)
                .build(),
        );
        match cm.build() {
            Err(Error::Config { field, reason }) => {
                assert_eq!(field, "conflict_check");
                assert!(reason.contains("`chartmogul`"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // Malformed values name the variable or the key.
        match Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("UNIBILL_CONFLICT_CHECK", "sometimes"),
        ])) {
            Err(Error::Config { field, reason }) => {
                assert_eq!(field, "UNIBILL_CONFLICT_CHECK");
                assert!(reason.contains("`sometimes`"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let e = settings(r#"{"conflict_check":"reread:0"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`reread:0`"), "{e}");
    }

    #[test]
    fn settings_builder_matches_the_file_form() {
        let built = Settings::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_millis(1500))
            .max_attempts(2)
            .rate_limit(RateLimit::per_minute(1000))
            .lock_wait(Duration::from_secs(30))
            .conflict_check(ConflictCheck::Off)
            .build();
        let file = settings(
            r#"{"timeout_secs":5,"connect_timeout_secs":1.5,"max_attempts":2,
                "rate_limit":"1000/min","lock_wait_secs":30,"conflict_check":"off"}"#,
        )
        .unwrap();
        assert_eq!(built, file);
        assert_eq!(
            Settings::builder().no_rate_limit().build(),
            settings(r#"{"rate_limit":null}"#).unwrap()
        );
        assert_eq!(Settings::builder().build(), Settings::default());
    }

    /// Zero durations are judged once, by the transport, which names its
    /// setting.
    #[cfg(feature = "chartmogul")]
    #[test]
    fn zero_durations_are_refused_by_the_transport() {
        for (json, field) in [
            (r#"{"timeout_secs":0}"#, "request_timeout"),
            (r#"{"connect_timeout_secs":0}"#, "connect_timeout"),
            (r#"{"lock_wait_secs":0}"#, "lock_wait"),
            (
                r#"{"rate_limit":{"requests":0,"per_secs":1}}"#,
                "rate_limit",
            ),
            (
                r#"{"rate_limit":{"requests":5,"per_secs":0}}"#,
                "rate_limit",
            ),
        ] {
            let c = Config::chartmogul("k").with_settings(settings(json).unwrap());
            match c.build() {
                Err(Error::Config { field: f, .. }) => assert_eq!(f, field, "{json}"),
                other => panic!("{json}: {other:?}"),
            }
        }
        // What no duration can hold is refused here, naming the key.
        let c = Config::chartmogul("k").with_settings(settings(r#"{"timeout_secs":-1}"#).unwrap());
        match c.build() {
            Err(Error::Config { field, .. }) => assert_eq!(field, "timeout_secs"),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic"))]
    #[test]
    fn build_client_gives_typed_access_and_the_same_updater() {
        let cm = Config::chartmogul("k").build_client().unwrap();
        assert!(cm.as_chartmogul().is_some());
        assert!(cm.as_fusebill().is_none() && cm.as_everlytic().is_none());
        assert_eq!(cm.updater().kind(), unibill_chartmogul::KIND);
        let ev = Config::everlytic("https://mail.example.com", "u", "k")
            .build_client()
            .unwrap();
        assert_eq!(
            ev.as_everlytic().unwrap().base_url(),
            "https://mail.example.com"
        );
        assert!(ev.as_chartmogul().is_none());
        let updater = ev.into_updater();
        assert_eq!(updater.kind(), unibill_everlytic::KIND);
        let fb = Config::fusebill("k").build_client().unwrap();
        assert!(matches!(fb, Client::Fusebill(_)));
        assert_eq!(
            format!("{:?}", fb.updater().capabilities()),
            format!(
                "{:?}",
                Config::fusebill("k").build().unwrap().capabilities()
            )
        );
    }

    /// The facade's variable names are the backend crates' own.
    #[cfg(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic"))]
    #[test]
    fn registry_covers_every_backend_with_the_crates_own_variables() {
        let names: Vec<&str> = REGISTRY.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(names, BACKENDS);
        assert_eq!(
            unibill_chartmogul::builder::env::ALL,
            [vars::CHARTMOGUL_API_KEY, vars::CHARTMOGUL_BASE_URL]
        );
        assert_eq!(
            unibill_fusebill::builder::env::ALL,
            [vars::FUSEBILL_API_KEY, vars::FUSEBILL_BASE_URL]
        );
        assert_eq!(
            unibill_everlytic::builder::env::ALL,
            [
                vars::EVERLYTIC_URL,
                vars::EVERLYTIC_USERNAME,
                vars::EVERLYTIC_API_KEY
            ]
        );
        for r in REGISTRY {
            let c = (r.placeholder)();
            assert_eq!(c.backend(), r.kind.as_str());
            assert_eq!(c.build().unwrap().kind(), r.kind);
        }
        let c = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "chartmogul"),
            ("CHARTMOGUL_API_KEY", "k"),
            ("CHARTMOGUL_BASE_URL", "http://127.0.0.1:9"),
        ]))
        .unwrap();
        let client = c.build_client().unwrap();
        let shown = format!("{:?}", client.as_chartmogul().unwrap());
        assert!(shown.contains("http://127.0.0.1:9"), "{shown}");
    }
}
