//! How a backend is configured and built.
//!
//! - [`BackendBuilder`]: the one trait every backend's builder implements.
//!   Its provided setters carry what every backend shares over the
//!   builder's [`ClientOptions`]: the base URL, the [`Settings`] (whole,
//!   through [`BackendBuilder::settings`]), and the runtime objects (a
//!   shared rate limiter, the write locking, an adjustment of the HTTP
//!   client).
//! - [`Settings`]: the shared connection settings (timeouts, retry
//!   policy, rate limit, lock wait, freshness bound, lookup deadline, account, response
//!   cap, user agent), the one way to set them, in code (a plain struct
//!   with public fields and `Default`) as in a config file or the
//!   environment (serde: typed [`Duration`]s and a [`RetryConfig`],
//!   durations written as seconds or as `"2.5s"`, `"500ms"`), validated
//!   as they are read.
//! - [`BackendConfig`]: what each backend crate's serde config (its
//!   credentials, base URL and own options, plus the [`Settings`])
//!   implements, so that it reads itself from a file or from its own
//!   environment variables ([`BackendConfig::from_map`], a serde
//!   deserializer over the key-value pairs, as Apache OpenDAL's
//!   `Configurator::from_iter`) and builds its client. The `unibill`
//!   facade registers each backend with one line over this trait.
//!
//! Code generic over `B: BackendBuilder` (a caller's own wiring) tunes any
//! backend the same way.
//!
//! ```
//! use std::time::Duration;
//! use unibill_core::transport::{ClientOptions, RateLimit};
//! use unibill_core::{BackendBuilder, BackendKind, Result, Settings};
//!
//! #[derive(Default)]
//! struct DemoBuilder {
//!     options: ClientOptions,
//! }
//!
//! impl BackendBuilder for DemoBuilder {
//!     type Client = ClientOptions;
//!     const KIND: BackendKind = BackendKind::new("demo");
//!     fn options_mut(&mut self) -> &mut ClientOptions {
//!         &mut self.options
//!     }
//!     fn build(self) -> Result<ClientOptions> {
//!         Ok(self.options)
//!     }
//! }
//!
//! let options = DemoBuilder::default()
//!     .base_url("https://x.example")
//!     .settings(Settings {
//!         connect_timeout: Duration::from_secs(2),
//!         timeout: Duration::from_secs(9),
//!         rate_limit: Some(Some(RateLimit::per_second(5))),
//!         ..Settings::default()
//!     })
//!     .build()
//!     .unwrap();
//! assert_eq!(options.base_url.as_deref(), Some("https://x.example"));
//! assert_eq!(options.settings.timeout, Duration::from_secs(9));
//! ```

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::kind::BackendKind;
use crate::lock::WriteLocking;
use crate::transport::{
    redacted_url, ClientOptions, RateLimit, RateLimiter, RetryConfig, TransportConfig,
};

/// A backend's builder: the shared connection settings as provided
/// setters, then [`build`](BackendBuilder::build).
///
/// A backend implements [`options_mut`](BackendBuilder::options_mut) and
/// [`build`](BackendBuilder::build); every other setter comes with the
/// trait, so all backends take the same settings with the same names and
/// defaults rules (each backend crate re-exports the trait:
/// `use unibill_fusebill::BackendBuilder`). Plain values (timeouts, retry
/// policy, rate limit, ...) are set through one [`Settings`], whole, with
/// [`settings`](BackendBuilder::settings), in code as from a config file
/// or the environment; the other setters take the base URL and runtime
/// objects.
pub trait BackendBuilder: Sized {
    /// What [`build`](BackendBuilder::build) returns.
    type Client;

    /// The backend's name.
    const KIND: BackendKind;

    /// The shared connection settings this builder holds.
    fn options_mut(&mut self) -> &mut ClientOptions;

    /// Builds the client: [`Error::Config`] naming the setting that is
    /// missing or unusable. Makes no network call.
    fn build(self) -> Result<Self::Client>;

    /// The API's base URL (`https`; plain `http` only for loopback hosts
    /// such as the sandbox).
    fn base_url(mut self, url: impl Into<String>) -> Self {
        self.options_mut().base_url = Some(url.into());
        self
    }

    /// The shared connection settings, whole: timeouts, retry policy,
    /// rate limit, lock wait, lookup deadline, account, response cap and
    /// user agent (see [`Settings`]; what is left at its default keeps the
    /// default, and a [`Settings::rate_limit`] of `None` keeps the
    /// backend's own limit). The same value a config file or the
    /// environment gives; a second call replaces the first.
    fn settings(mut self, settings: Settings) -> Self {
        self.options_mut().settings = settings;
        self
    }

    /// Which limiter applies the rate limit: the in-process sliding
    /// window by default, or a limiter shared by several processes
    /// (e.g. `unibill::redis`), which may fail a request with a retryable
    /// `Error::Limiter` rather than send it unlimited.
    fn rate_limiter(mut self, limiter: std::sync::Arc<dyn RateLimiter>) -> Self {
        self.options_mut().rate_limiter = Some(limiter);
        self
    }

    /// Which lock keeps concurrent updates of one customer apart
    /// (default: the process-wide in-memory lock; see [`crate::lock`]).
    fn write_locking(mut self, locking: WriteLocking) -> Self {
        self.options_mut().write_locking = locking;
        self
    }

    /// Adjusts the `reqwest` client the backend builds (a proxy, root
    /// certificates, pool settings, ...): `configure` gets the builder
    /// unibill starts from (rustls, the connect timeout, the user agent)
    /// and returns the one to use. Redirects are turned off after it,
    /// whatever it sets, so no request body is ever sent again to where a
    /// redirect points; the per-attempt timeout is set per request.
    ///
    /// ```
    /// use unibill_core::transport::ClientOptions;
    /// use unibill_core::{BackendBuilder, BackendKind, Result};
    /// # #[derive(Default)] struct Demo { options: ClientOptions }
    /// # impl BackendBuilder for Demo {
    /// #     type Client = ClientOptions;
    /// #     const KIND: BackendKind = BackendKind::new("demo");
    /// #     fn options_mut(&mut self) -> &mut ClientOptions { &mut self.options }
    /// #     fn build(self) -> Result<ClientOptions> { Ok(self.options) }
    /// # }
    /// let options = Demo::default()
    ///     .http_client(|b| b.pool_max_idle_per_host(4).tcp_nodelay(true))
    ///     .build()
    ///     .unwrap();
    /// assert!(options.client.is_some());
    /// ```
    fn http_client(
        mut self,
        configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.options_mut().client = Some(std::sync::Arc::new(configure));
        self
    }
}

/// The one check of a required secret (an API key): present and not
/// blank, else [`Error::Config`] naming `field` and saying which backend
/// needs it.
///
/// ```
/// use unibill_core::builder::required_secret;
/// use unibill_core::{BackendKind, Error, SecretString};
///
/// let kind = BackendKind::new("demo");
/// assert!(required_secret(kind, "api_key", Some(SecretString::from("k".to_string()))).is_ok());
/// for missing in [None, Some(SecretString::from("  ".to_string()))] {
///     match required_secret(kind, "api_key", missing) {
///         Err(Error::Config { field, reason }) => {
///             assert_eq!(field, "api_key");
///             assert!(reason.contains("demo"), "{reason}");
///         }
///         other => panic!("{other:?}"),
///     }
/// }
/// ```
pub fn required_secret(
    backend: BackendKind,
    field: &str,
    secret: Option<SecretString>,
) -> Result<SecretString> {
    match secret {
        Some(s) if !s.expose_secret().trim().is_empty() => Ok(s),
        Some(_) => Err(Error::config(
            field,
            format!("the {backend} {} is empty", field.replace('_', " ")),
        )),
        None => Err(Error::config(
            field,
            format!("required: the {backend} {}", field.replace('_', " ")),
        )),
    }
}

/// The connection settings every backend shares: the one way to set
/// them, in code (public fields and `Default`, given whole to
/// [`BackendBuilder::settings`]) as in a config file or the environment
/// (`settings` in a backend's config, `UNIBILL_*` variables); what is not
/// given keeps the default.
///
/// Durations are a number of seconds (`2.5`) or text `humantime` reads
/// (`"2.5s"`, `"500ms"`, `"2m"`); zero and negative durations, zero
/// attempts and malformed rate limits are refused as the value is read,
/// naming the key. Keys: `timeout`, `connect_timeout`, the fields of
/// [`RetryConfig`] (`max_attempts`, `initial_backoff`, `max_backoff`,
/// `deadline` or `retry_deadline`, `max_retry_after`), `rate_limit`, `lock_wait`,
/// `max_read_age` (zero allowed), `lookup_deadline`, `account`, `max_response_bytes`, `user_agent` and
/// `redis`; the `_secs` names of earlier versions (`timeout_secs`,
/// `retry_deadline_secs`, ...) are read too. A zero `max_response_bytes`
/// and a `user_agent` with control characters are refused naming the key.
///
/// ```
/// use std::time::Duration;
/// use unibill_core::builder::Settings;
///
/// let s: Settings = serde_json::from_str(
///     r#"{"timeout": "2.5s", "max_attempts": 2, "rate_limit": "1000/min", "lock_wait_secs": 30}"#,
/// ).unwrap();
/// assert_eq!(s.timeout, Duration::from_millis(2500));
/// assert_eq!(s.retry.max_attempts, 2);
/// assert_eq!(s.rate_limit, Some(Some(unibill_core::RateLimit::per_minute(1000))));
/// assert_eq!(s.lock_wait, Duration::from_secs(30));
/// assert!(serde_json::from_str::<Settings>(r#"{"timeout": 0}"#).is_err());
///
/// // In code: the same struct, given whole to a builder.
/// let fast = Settings {
///     timeout: Duration::from_secs(5),
///     rate_limit: Some(None),
///     ..Settings::default()
/// };
/// assert_eq!(fast.retry, Settings::default().retry);
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Per-attempt request timeout (default 30 s).
    #[serde(alias = "timeout_secs", deserialize_with = "de::duration")]
    pub timeout: Duration,
    /// Connect timeout (default 10 s).
    #[serde(alias = "connect_timeout_secs", deserialize_with = "de::duration")]
    pub connect_timeout: Duration,
    /// The retry policy (its fields are keys of the settings themselves).
    #[serde(flatten)]
    pub retry: RetryConfig,
    /// Client-side rate limit: `None` (not given) keeps the vendor's
    /// documented limit, `Some(None)` (`null`, `"off"`) sends without
    /// pacing. Written as text (`"40/s"`, `"1000/min"`, `"5000/day"`) or
    /// as an object (`{"requests": 40, "per": "1s"}`; `per_secs` is read
    /// too).
    #[serde(deserialize_with = "de::rate_limit")]
    pub rate_limit: Option<Option<RateLimit>>,
    /// Longest wait for a customer's write lock (default 120 s).
    #[serde(alias = "lock_wait_secs", deserialize_with = "de::duration")]
    pub lock_wait: Duration,
    /// The freshness bound of a read-modify-write (Fusebill, Everlytic;
    /// default 1 s): just before a write is sent (after its rate-limit
    /// wait), when the read it was worked out from was answered longer
    /// ago than this, the customer is read again and the write worked out
    /// anew if it changed; otherwise the write goes without a second read.
    /// Zero re-reads before every write. Applies under
    /// [`ConflictCheck::Reread`]; [`ConflictCheck::Off`] never re-reads.
    /// See `docs/consistency.md`.
    #[serde(alias = "max_read_age_secs", deserialize_with = "de::read_age")]
    pub max_read_age: Duration,
    /// Longest time one lookup by email or external reference may take,
    /// every page and retry included (default 5 × the retry deadline).
    #[serde(alias = "lookup_deadline_secs", deserialize_with = "de::some_duration")]
    pub lookup_deadline: Option<Duration>,
    /// The account's name: clients of a backend given the same name share
    /// their customers' write locks and rate budget, whatever their base
    /// URL or key. For two keys of one account during a key rotation, or
    /// one account reached through a proxy. `None`: the backend's rule
    /// applies (see [`AccountScope`](crate::lock::AccountScope)). A blank
    /// name is refused by `build` with `Error::Config` naming `account`.
    pub account: Option<String>,
    /// Largest response body accepted, in bytes (default 4 MiB); a bigger
    /// one fails with `Error::ResponseTooLarge` without being read into
    /// memory. At least 1.
    #[serde(deserialize_with = "de::byte_cap")]
    pub max_response_bytes: usize,
    /// `User-Agent` of every request (default `unibill/<version>`); text
    /// without control characters.
    #[serde(deserialize_with = "de::user_agent")]
    pub user_agent: String,
    /// A rate budget and write locks shared with the deployment's other
    /// processes through Redis (the `unibill` facade's `redis` feature;
    /// see `docs/scaling.md`). Unset: this process limits and locks alone.
    /// Connected by the facade's `Config::build`: a builder given these
    /// settings in code leaves it alone (give it the coordinator's
    /// `rate_limiter` and `write_locking` instead).
    pub redis: Option<RedisSetting>,
}

/// The default [`Settings::max_read_age`]: 1 s.
pub const DEFAULT_MAX_READ_AGE: Duration = Duration::from_secs(1);

impl Default for Settings {
    fn default() -> Self {
        let t = TransportConfig::default();
        Self {
            timeout: t.request_timeout,
            connect_timeout: t.connect_timeout,
            retry: t.retry,
            rate_limit: None,
            lock_wait: t.lock_wait,
            max_read_age: DEFAULT_MAX_READ_AGE,
            lookup_deadline: None,
            account: None,
            max_response_bytes: t.max_response_bytes,
            user_agent: t.user_agent,
            redis: None,
        }
    }
}

impl Settings {
    /// The prefix of the environment variables of the settings.
    const ENV_PREFIX: &'static str = "UNIBILL_";

    /// Every environment variable the settings are read from (the key,
    /// upper-cased, after `UNIBILL_`; `redis_*` fill the `redis` object).
    pub const ENV: &'static [&'static str] = &[
        "UNIBILL_TIMEOUT",
        "UNIBILL_TIMEOUT_SECS",
        "UNIBILL_CONNECT_TIMEOUT",
        "UNIBILL_CONNECT_TIMEOUT_SECS",
        "UNIBILL_MAX_ATTEMPTS",
        "UNIBILL_INITIAL_BACKOFF",
        "UNIBILL_MAX_BACKOFF",
        "UNIBILL_RETRY_DEADLINE",
        "UNIBILL_RETRY_DEADLINE_SECS",
        "UNIBILL_DEADLINE",
        "UNIBILL_MAX_RETRY_AFTER",
        "UNIBILL_MAX_RETRY_AFTER_SECS",
        "UNIBILL_RATE_LIMIT",
        "UNIBILL_LOCK_WAIT",
        "UNIBILL_LOCK_WAIT_SECS",
        "UNIBILL_MAX_READ_AGE",
        "UNIBILL_MAX_READ_AGE_SECS",
        "UNIBILL_LOOKUP_DEADLINE",
        "UNIBILL_LOOKUP_DEADLINE_SECS",
        "UNIBILL_ACCOUNT",
        "UNIBILL_MAX_RESPONSE_BYTES",
        "UNIBILL_USER_AGENT",
        "UNIBILL_REDIS_URL",
        "UNIBILL_REDIS_PREFIX",
        "UNIBILL_REDIS_FALLBACK_SHARE",
        "UNIBILL_REDIS_LEASE",
        "UNIBILL_REDIS_TIMEOUT",
        "UNIBILL_REDIS_FALLBACK_PROBE",
    ];

    /// The settings from name-value pairs (the environment's), reading
    /// the variables of [`Settings::ENV`] and ignoring every other one.
    /// [`Error::Config`] names the variable and says why.
    fn from_map(vars: &[(String, String)]) -> Result<Self> {
        from_map("the settings", Self::ENV_PREFIX, Self::ENV, vars, |map| {
            let redis: serde_json::Map<_, _> = map
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("redis_")?.to_owned(), v.clone())))
                .collect();
            map.retain(|k, _| !k.starts_with("redis_"));
            if !redis.is_empty() {
                map.insert("redis".into(), redis.into());
            }
        })
    }
}

/// Where and how to reach Redis, in the settings (`{"url":
/// "rediss://:password@cache:6380", "prefix": "billing:"}`) as in code:
/// the one description of Redis that the `unibill-redis` crate's
/// `RedisCoordinator::new` takes, and that the `unibill` facade's `redis`
/// feature connects. What is `None` keeps the default named on its field.
/// `RedisCoordinator::new` checks the values and refuses a bad one with
/// `Error::Config` naming the key (`redis.url`, `redis.lease`, ...).
///
/// ```
/// use std::time::Duration;
/// use unibill_core::builder::RedisSetting;
///
/// let mut redis = RedisSetting::new("redis://:s3cret@127.0.0.1:6379/0");
/// redis.prefix = Some("billing:".into());
/// redis.fallback_share = Some(0.25);
/// assert!(!format!("{redis:?}").contains("s3cret"));
/// let read: RedisSetting = serde_json::from_str(
///     r#"{"url": "redis://127.0.0.1", "lease": "30s", "timeout": 1}"#,
/// )
/// .unwrap();
/// assert_eq!(read.lease, Some(Duration::from_secs(30)));
/// ```
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RedisSetting {
    /// `redis://` or `rediss://` (TLS); its password is never shown.
    pub url: String,
    /// Prefix of every key unibill writes (default `unibill:`), so that
    /// several deployments can share one Redis.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Opt-in local fallback when Redis is unreachable: this process's
    /// share of each limit, in `(0, 1]` (e.g. `0.25` for four processes),
    /// with the in-process lock. Unset: fail closed (a retryable error;
    /// nothing is sent unlimited or written unlocked).
    #[serde(default, deserialize_with = "de::some_number")]
    pub fallback_share: Option<f64>,
    /// Lease of a customer lock (default 10 s, at least 100 ms): how long
    /// a dead holder blocks the customer.
    #[serde(default, alias = "lease_secs", deserialize_with = "de::some_duration")]
    pub lease: Option<Duration>,
    /// Time allowed to connect, and for each command's answer (default
    /// 2 s); beyond it Redis counts as unreachable.
    #[serde(default, deserialize_with = "de::some_duration")]
    pub timeout: Option<Duration>,
    /// With [`fallback_share`](Self::fallback_share) only: once Redis
    /// failed to answer, operations go straight to the fallback for this
    /// long instead of each trying Redis first (up to the timeout); then
    /// one operation asks Redis again (default 1 s; zero, set in code,
    /// asks Redis every time).
    #[serde(default, deserialize_with = "de::some_duration")]
    pub fallback_probe: Option<Duration>,
}

impl RedisSetting {
    /// Redis at this URL, with every default: prefix `unibill:`, fail
    /// closed, 10 s lease, 2 s timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: None,
            fallback_share: None,
            lease: None,
            timeout: None,
            fallback_probe: None,
        }
    }
}

impl fmt::Debug for RedisSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSetting")
            .field("url", &redacted_url(&self.url))
            .field("prefix", &self.prefix)
            .field("fallback_share", &self.fallback_share)
            .field("lease", &self.lease)
            .field("timeout", &self.timeout)
            .field("fallback_probe", &self.fallback_probe)
            .finish()
    }
}

/// What every backend's config holds beside its own values: the base URL
/// and the shared [`Settings`]. A backend's config takes it in with
/// `#[serde(flatten)]`, so that its keys (`base_url`, also read as `url`,
/// and `settings`) sit beside the backend's own, and returns it from
/// [`BackendConfig::common`].
///
/// ```
/// use unibill_core::builder::CommonConfig;
///
/// #[derive(serde::Deserialize)]
/// struct DemoConfig {
///     api_key: String,
///     #[serde(flatten)]
///     common: CommonConfig,
/// }
/// let c: DemoConfig = serde_json::from_str(
///     r#"{"api_key": "k", "base_url": "https://u:pw@x.example", "settings": {"timeout": "2s"}}"#,
/// )
/// .unwrap();
/// assert_eq!(c.common.settings.timeout, std::time::Duration::from_secs(2));
/// assert!(!format!("{:?}", c.common).contains("pw"), "the URL's password is hidden");
/// ```
#[derive(Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CommonConfig {
    /// The API's base URL (for a backend with no default host, such as
    /// Everlytic, the install's address); `None` keeps the backend's
    /// default host.
    #[serde(default, alias = "url")]
    pub base_url: Option<String>,
    /// The shared connection settings.
    #[serde(default)]
    pub settings: Settings,
}

impl fmt::Debug for CommonConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommonConfig")
            .field("base_url", &self.base_url.as_deref().map(redacted_url))
            .field("settings", &self.settings)
            .finish()
    }
}

/// What a backend crate's serde config implements: its own values
/// (credentials, options such as a conflict check, and a flattened
/// [`CommonConfig`]), its environment variables, and its builder from
/// them. With it, the config reads itself from the environment
/// ([`BackendConfig::from_map`]) and builds its client with its base URL
/// and the shared [`Settings`] ([`BackendConfig::build`]).
pub trait BackendConfig: DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static {
    /// The backend's builder.
    type Builder: BackendBuilder;

    /// The prefix of the backend's own variables (`FUSEBILL_`).
    const ENV_PREFIX: &'static str;

    /// Every variable of the backend's own (the key, upper-cased, after
    /// [`BackendConfig::ENV_PREFIX`]; a field's serde alias may be used).
    const ENV: &'static [&'static str];

    /// A config with placeholder credentials (for capability tables; no
    /// network call is made with it).
    fn placeholder() -> Self;

    /// The base URL and the shared settings.
    fn common(&self) -> &CommonConfig;

    /// The base URL and the shared settings, to change.
    fn common_mut(&mut self) -> &mut CommonConfig;

    /// The builder given the config's own values (not yet the base URL and
    /// the settings of [`BackendConfig::common`]).
    fn builder(&self) -> Self::Builder;

    /// The config from name-value pairs (the environment's): the
    /// backend's variables of [`BackendConfig::ENV`] and the shared ones
    /// of [`Settings::ENV`]; blank values count as unset, other variables
    /// are ignored. [`Error::Config`] names the variable and says why,
    /// including a missing base URL for a backend with no default host.
    fn from_map(vars: &[(String, String)]) -> Result<Self> {
        let owner = format!("backend `{}`", <Self::Builder as BackendBuilder>::KIND);
        let mut config: Self = from_map(&owner, Self::ENV_PREFIX, Self::ENV, vars, |_| {})?;
        config.common_mut().settings = Settings::from_map(vars)?;
        if config.common().base_url.is_none() && config.builder().options_mut().base_url.is_none() {
            let var = variable(Self::ENV_PREFIX, Self::ENV, "base_url");
            return Err(Error::config(
                var,
                format!("is not set (required by {owner})"),
            ));
        }
        Ok(config)
    }

    /// [`BackendConfig::from_map`] over the process environment.
    fn from_env() -> Result<Self> {
        Self::from_map(&std::env::vars().collect::<Vec<_>>())
    }

    /// The builder with the config's own values, its base URL and its
    /// [`Settings`] ([`BackendBuilder::settings`]). The backend's own
    /// default rate limit stays unless [`Settings::rate_limit`] names one.
    /// (`redis` is the facade's to apply: core knows no Redis.)
    fn configured(&self) -> Self::Builder {
        let CommonConfig { base_url, settings } = self.common();
        let b = self.builder().settings(settings.clone());
        match base_url {
            Some(url) => b.base_url(url.clone()),
            None => b,
        }
    }

    /// Builds the client (no network call).
    fn build(&self) -> Result<<Self::Builder as BackendBuilder>::Client> {
        self.configured().build()
    }
}

/// `T` from the variables of `known` among `vars`, each named by its key
/// lower-cased after `prefix` (blank values unset), through serde; `shape`
/// may rearrange the keys before. An error names the variable.
fn from_map<T: DeserializeOwned>(
    owner: &str,
    prefix: &str,
    known: &[&str],
    vars: &[(String, String)],
    shape: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> Result<T> {
    let mut map: serde_json::Map<_, _> = vars
        .iter()
        .filter(|(k, v)| known.contains(&k.as_str()) && !v.trim().is_empty())
        .map(|(k, v)| (k[prefix.len()..].to_ascii_lowercase(), v.trim().into()))
        .collect();
    shape(&mut map);
    serde_path_to_error::deserialize(serde_json::Value::Object(map.clone())).map_err(|e| {
        let mut path = e.path().to_string();
        let reason = e.into_inner().to_string();
        if matches!(path.as_str(), "." | "" | "?") && !reason.starts_with("missing field") {
            // A flattened field loses its path: find the key that fails
            // alone.
            let fails = |k: &String, v: &serde_json::Value| {
                let one = serde_json::Map::from_iter([(k.clone(), v.clone())]);
                serde_json::from_value::<T>(one.into())
                    .is_err_and(|e| !e.to_string().starts_with("missing field"))
            };
            path = map
                .iter()
                .find(|(k, v)| fails(k, v))
                .map_or(path, |(k, _)| k.clone());
        }
        let key = match reason.strip_prefix("missing field `") {
            Some(rest) if path == "." || path.is_empty() => {
                variable(prefix, known, rest.trim_end_matches('`'))
            }
            _ => format!("{prefix}{}", path.replace('.', "_").to_ascii_uppercase()),
        };
        let reason = match reason.find(" at line ") {
            _ if reason.starts_with("missing field") => format!("is not set (required by {owner})"),
            Some(i) => reason[..i].to_owned(),
            None => reason,
        };
        Error::config(key, reason)
    })
}

/// The variable of `field` among `known`, or of its alias (`URL` for
/// `base_url`).
fn variable(prefix: &str, known: &[&str], field: &str) -> String {
    let exact = format!("{prefix}{}", field.to_ascii_uppercase());
    known
        .iter()
        .find(|v| **v == exact)
        .or_else(|| {
            known
                .iter()
                .find(|v| field.ends_with(&v[prefix.len()..].to_ascii_lowercase()))
        })
        .map_or(exact, |v| (*v).to_owned())
}

/// Serde helpers for values a config file or an environment variable
/// writes as a number or as text.
pub(crate) mod de {
    use std::time::Duration;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    use crate::transport::RateLimit;
    // Each helper reads the value as a `Value`, however the format hands
    // it over (a number of `serde_json` with `arbitrary_precision` passing
    // through a buffer, a TOML number, text from the environment).

    fn text_or_number(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn parse_duration(v: &Value) -> Result<Duration, String> {
        let (text, d) = read_duration(v)?;
        d.filter(|d| !d.is_zero()).ok_or_else(|| {
            format!("`{text}` is not a positive duration (seconds, or text like `2.5s`, `500ms`)")
        })
    }

    /// The text of `v` and the duration it reads as, if any (zero
    /// included).
    fn read_duration(v: &Value) -> Result<(String, Option<Duration>), String> {
        let text = text_or_number(v)
            .ok_or_else(|| format!("{v} is not a duration (seconds, or text like `2.5s`)"))?;
        let d = match text.parse::<f64>() {
            Ok(secs) => Duration::try_from_secs_f64(secs).ok(),
            Err(_) => humantime::parse_duration(&text).ok(),
        };
        Ok((text, d))
    }

    /// The freshness bound ([`super::Settings::max_read_age`]): a duration,
    /// zero allowed; the error names the key (`max_read_age`).
    pub(crate) fn read_age<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = Value::deserialize(d)?;
        let shown = text_or_number(&v).unwrap_or_else(|| v.to_string());
        match read_duration(&v) {
            Ok((_, Some(d))) => Ok(d),
            _ => Err(D::Error::custom(format!(
                "`max_read_age` must be a duration of zero or more (seconds, or text like `1s`, `500ms`), not `{shown}`"
            ))),
        }
    }

    /// A positive duration: a number of seconds or text like `"2.5s"`.
    pub(crate) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        parse_duration(&Value::deserialize(d)?).map_err(D::Error::custom)
    }

    /// [`duration`], for an optional field.
    pub(crate) fn some_duration<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        duration(d).map(Some)
    }

    /// A finite number, given as a number or as text.
    pub(crate) fn some_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        let v = Value::deserialize(d)?;
        text_or_number(&v)
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("{v} is not a number")))
    }

    /// A whole number, at least 1, given as a number or as text.
    fn count<T: std::str::FromStr + PartialOrd + Default>(v: &Value) -> Option<T> {
        text_or_number(v)
            .and_then(|t| t.parse::<T>().ok())
            .filter(|n| *n > T::default())
    }

    /// A response cap in bytes: a whole number, at least 1; the error
    /// names the key (`max_response_bytes`).
    pub(crate) fn byte_cap<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
        let v = Value::deserialize(d)?;
        count(&v).ok_or_else(|| {
            D::Error::custom(format!(
                "`max_response_bytes` must be a whole number of bytes of at least 1, not {v}"
            ))
        })
    }

    /// A `User-Agent`: text usable as a header value; the error names
    /// the key (`user_agent`).
    pub(crate) fn user_agent<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let text = String::deserialize(d)?;
        match reqwest::header::HeaderValue::from_bytes(text.as_bytes()) {
            Ok(_) => Ok(text),
            Err(_) => Err(D::Error::custom(
                "`user_agent` is not a valid header value (control characters are not allowed)",
            )),
        }
    }

    /// Attempts per request: a whole number, at least 1.
    pub(crate) fn attempts<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let v = Value::deserialize(d)?;
        count(&v)
            .ok_or_else(|| D::Error::custom(format!("{v} is not a whole number of at least 1")))
    }

    /// A rate limit given: `null`/`"off"` turn it off (`Some(None)`),
    /// text like `"40/s"`, `"1000/min"`, `"5000/day"`, or
    /// `{"requests": 40, "per": "1s"}`.
    pub(crate) fn rate_limit<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<RateLimit>>, D::Error> {
        let v = Value::deserialize(d)?;
        let shown = match &v {
            Value::String(t) => format!("`{t}`"),
            other => other.to_string(),
        };
        let malformed = || {
            D::Error::custom(format!(
                "{shown} is not like `40/s`, `1000/min`, `5000/day`, `off` or {{\"requests\": 40, \"per\": \"1s\"}}"
            ))
        };
        let (requests, per) = match &v {
            Value::Null => return Ok(Some(None)),
            Value::String(t)
                if ["off", "none"].contains(&t.trim().to_ascii_lowercase().as_str()) =>
            {
                return Ok(Some(None))
            }
            Value::String(t) => {
                let (n, unit) = t.split_once('/').ok_or_else(malformed)?;
                // One unit of time as `humantime` names it (`s`, `sec`,
                // `m`, `min`, `minute`, `h`, `hour`, `d`, `day`, ...).
                let per = Some(unit.trim())
                    .filter(|u| u.chars().all(|c| c.is_ascii_alphabetic()))
                    .and_then(|u| humantime::parse_duration(&format!("1{u}")).ok())
                    .ok_or_else(malformed)?;
                (Value::String(n.trim().into()), per)
            }
            Value::Object(m) if m.len() == 2 => {
                let per = m
                    .get("per")
                    .or_else(|| m.get("per_secs"))
                    .ok_or_else(malformed)?;
                let requests = m.get("requests").ok_or_else(malformed)?;
                (
                    requests.clone(),
                    parse_duration(per).map_err(D::Error::custom)?,
                )
            }
            _ => return Err(malformed()),
        };
        let requests = count(&requests).ok_or_else(malformed)?;
        Ok(Some(Some(RateLimit { requests, per })))
    }
}

/// How a backend that reads a customer before writing it guards against an
/// edit made outside unibill (another program, the vendor's own UI)
/// between its read and its write, when the vendor offers no conditional
/// write (no ETag / If-Match). Updates made through unibill in this process
/// are already kept apart by the customer's write lock ([`crate::lock`]);
/// this check is for everyone else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictCheck {
    /// The freshness rule: once the write's rate-limit permit is taken,
    /// when the read the write was worked out from is older than
    /// [`Settings::max_read_age`] (default 1 s; zero: always), read the
    /// customer again and compare it, as a whole, with that record. When it
    /// changed, work the write out again from the fresh record (patches are
    /// declarative, so this is safe) and check again, for at most
    /// `max_rounds` rounds that see a change, then fail with
    /// [`Error::Conflict`] (unless the patch changes
    /// nothing on the last record read: then nothing is written and the
    /// update succeeds). Costs one more `GET` only for an update whose
    /// write was held back past the bound. The default, with 3 rounds.
    Reread {
        /// Rounds before giving up (at least 1).
        max_rounds: u32,
    },
    /// No re-read: read, then write. An edit made by someone else between
    /// the two is overwritten.
    Off,
}

impl Default for ConflictCheck {
    fn default() -> Self {
        ConflictCheck::Reread { max_rounds: 3 }
    }
}

impl ConflictCheck {
    /// The re-read rounds allowed (at least 1), or `None` for
    /// [`ConflictCheck::Off`].
    pub fn reread_rounds(&self) -> Option<u32> {
        match self {
            ConflictCheck::Reread { max_rounds } => Some((*max_rounds).max(1)),
            ConflictCheck::Off => None,
        }
    }
}

/// Reads a [`ConflictCheck`] as configuration files and environment
/// variables write it: `off`, `reread` (3 rounds) or `reread:N` (`N` ≥ 1
/// rounds).
///
/// ```
/// use unibill_core::ConflictCheck;
///
/// #[derive(serde::Deserialize)]
/// struct C {
///     check: ConflictCheck,
/// }
/// let read = |text: &str| {
///     serde_json::from_value::<C>(serde_json::json!({ "check": text })).map(|c| c.check)
/// };
/// assert_eq!(read("off").unwrap(), ConflictCheck::Off);
/// assert_eq!(read("reread").unwrap(), ConflictCheck::default());
/// assert_eq!(read(" reread:5 ").unwrap(), ConflictCheck::Reread { max_rounds: 5 });
/// for bad in ["reread:0", "sometimes"] {
///     let e = read(bad).unwrap_err().to_string();
///     assert!(e.contains(&format!("`{bad}`")), "{e}");
/// }
/// ```
impl<'de> Deserialize<'de> for ConflictCheck {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let t = text.trim().to_ascii_lowercase();
        let check = match t.as_str() {
            "off" | "none" => Some(ConflictCheck::Off),
            "reread" => Some(ConflictCheck::default()),
            _ => t
                .strip_prefix("reread:")
                .and_then(|n| n.trim().parse::<u32>().ok())
                .filter(|n| *n > 0)
                .map(|max_rounds| ConflictCheck::Reread { max_rounds }),
        };
        check.ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not `reread`, `reread:N` (N at least 1) or `off`"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Demo {
        options: ClientOptions,
    }

    impl BackendBuilder for Demo {
        type Client = ClientOptions;
        const KIND: BackendKind = BackendKind::new("demo");
        fn options_mut(&mut self) -> &mut ClientOptions {
            &mut self.options
        }
        fn build(self) -> Result<ClientOptions> {
            Ok(self.options)
        }
    }

    #[test]
    fn provided_setters_reach_the_options() {
        let retry = RetryConfig {
            max_attempts: 7,
            ..RetryConfig::default()
        };
        let settings = Settings {
            retry: retry.clone(),
            rate_limit: Some(None),
            lock_wait: Duration::from_secs(3),
            lookup_deadline: Some(Duration::from_secs(4)),
            connect_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
            ..Settings::default()
        };
        let o = Demo::default()
            .base_url("https://x.example")
            .settings(settings.clone())
            .write_locking(WriteLocking::Off)
            .build()
            .unwrap();
        assert_eq!(o.base_url.as_deref(), Some("https://x.example"));
        assert_eq!(o.settings, settings);
        assert!(matches!(o.write_locking, WriteLocking::Off));
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn settings_read_seconds_text_and_the_old_names() {
        let s: Settings = serde_json::from_str(
            r#"{"timeout_secs": 2.5, "connect_timeout": "500ms", "initial_backoff": "1ms",
                "retry_deadline_secs": 9, "max_retry_after": "2m", "lookup_deadline": "1s",
                "rate_limit": {"requests": 5, "per_secs": 2}, "account": "acme"}"#,
        )
        .unwrap();
        assert_eq!(s.timeout, Duration::from_millis(2500));
        assert_eq!(s.connect_timeout, Duration::from_millis(500));
        assert_eq!(s.retry.initial_backoff, Duration::from_millis(1));
        assert_eq!(s.retry.deadline, Duration::from_secs(9));
        assert_eq!(s.retry.max_retry_after, Duration::from_secs(120));
        assert_eq!(s.retry.max_attempts, RetryConfig::default().max_attempts);
        assert_eq!(s.lookup_deadline, Some(Duration::from_secs(1)));
        assert_eq!(
            s.rate_limit,
            Some(Some(RateLimit {
                requests: 5,
                per: Duration::from_secs(2)
            }))
        );
        assert_eq!(s.account.as_deref(), Some("acme"));
        assert_eq!(s.max_response_bytes, Settings::default().max_response_bytes);
        let capped: Settings =
            serde_json::from_str(r#"{"max_response_bytes": "1024", "user_agent": "billing/2"}"#)
                .unwrap();
        assert_eq!(capped.max_response_bytes, 1024);
        assert_eq!(capped.user_agent, "billing/2");
        for (units, secs) in [
            (["s", "sec", "second"], 1),
            (["m", "min", "minute"], 60),
            (["h", "hour", "hour"], 3600),
            (["d", "day", " day "], 86400),
        ] {
            for unit in units {
                let s: Settings = serde_json::from_value(
                    serde_json::json!({ "rate_limit": format!("40/{unit}") }),
                )
                .unwrap();
                let per = Duration::from_secs(secs);
                assert_eq!(s.rate_limit, Some(Some(RateLimit { requests: 40, per })));
            }
        }
        let off: Settings = serde_json::from_str(r#"{"rate_limit": null}"#).unwrap();
        assert_eq!(off.rate_limit, Some(None));
        assert_eq!(Settings::default().rate_limit, None);
    }

    #[test]
    fn settings_refuse_bad_values_and_unknown_keys_naming_them() {
        for (json, named) in [
            (r#"{"timeout": 0}"#, "`0`"),
            (r#"{"lock_wait": "-1s"}"#, "-1s"),
            (r#"{"max_attempts": 0}"#, "at least 1"),
            (r#"{"rate_limit": "fast"}"#, "40/s"),
            (r#"{"rate_limit": "0/s"}"#, "40/s"),
            (r#"{"rate_limit": "40/2s"}"#, "40/s"),
            (r#"{"rate_limit": "40/"}"#, "40/s"),
            (r#"{"rate_limit": "40/fortnight"}"#, "40/s"),
            (r#"{"timout": 3}"#, "timout"),
            (r#"{"max_response_bytes": 0}"#, "max_response_bytes"),
            (r#"{"max_response_bytes": "lots"}"#, "max_response_bytes"),
            (r#"{"user_agent": "a\r\nX-Injected: 1"}"#, "user_agent"),
        ] {
            let e = serde_json::from_str::<Settings>(json)
                .unwrap_err()
                .to_string();
            assert!(e.contains(named), "{json}: {e}");
        }
    }

    #[test]
    fn the_freshness_bound_is_read_from_a_file_and_the_environment() {
        assert_eq!(Settings::default().max_read_age, Duration::from_secs(1));
        for (json, expected) in [
            (r#"{"max_read_age": "250ms"}"#, Duration::from_millis(250)),
            (r#"{"max_read_age": 2}"#, Duration::from_secs(2)),
            (r#"{"max_read_age": 0}"#, Duration::ZERO),
            (
                r#"{"max_read_age_secs": "0.5"}"#,
                Duration::from_millis(500),
            ),
        ] {
            let s: Settings = serde_json::from_str(json).unwrap();
            assert_eq!(s.max_read_age, expected, "{json}");
        }
        for json in [
            r#"{"max_read_age": "-1s"}"#,
            r#"{"max_read_age": "soon"}"#,
            r#"{"max_read_age": true}"#,
        ] {
            let e = serde_json::from_str::<Settings>(json)
                .unwrap_err()
                .to_string();
            assert!(e.contains("max_read_age"), "{json}: {e}");
        }
        let s = Settings::from_map(&vars(&[("UNIBILL_MAX_READ_AGE", "3s")])).unwrap();
        assert_eq!(s.max_read_age, Duration::from_secs(3));
        let s = Settings::from_map(&vars(&[("UNIBILL_MAX_READ_AGE", "0")])).unwrap();
        assert_eq!(s.max_read_age, Duration::ZERO, "zero: always read again");
        for (var, value) in [
            ("UNIBILL_MAX_READ_AGE", "-2"),
            ("UNIBILL_MAX_READ_AGE_SECS", "a while"),
        ] {
            match Settings::from_map(&vars(&[(var, value)])) {
                Err(Error::Config { field, reason }) => {
                    assert_eq!(field, var);
                    assert!(reason.contains(value), "{reason}");
                }
                other => panic!("{var}: {other:?}"),
            }
        }
    }

    #[test]
    fn settings_from_the_environment_name_the_variable() {
        let s = Settings::from_map(&vars(&[
            ("UNIBILL_TIMEOUT_SECS", "5"),
            ("UNIBILL_MAX_ATTEMPTS", " 2 "),
            ("UNIBILL_RATE_LIMIT", "off"),
            ("UNIBILL_REDIS_URL", "redis://127.0.0.1"),
            ("UNIBILL_REDIS_FALLBACK_SHARE", "0.5"),
            ("UNIBILL_REDIS_TIMEOUT", "750ms"),
            ("UNIBILL_REDIS_FALLBACK_PROBE", "3"),
            ("UNIBILL_LOCK_WAIT", " "),
            ("UNIBILL_BACKEND", "anything: not a setting"),
        ]))
        .unwrap();
        assert_eq!(s.timeout, Duration::from_secs(5));
        assert_eq!(s.retry.max_attempts, 2);
        assert_eq!(s.rate_limit, Some(None));
        assert_eq!(s.lock_wait, Settings::default().lock_wait, "blank is unset");
        let redis = s.redis.unwrap();
        assert_eq!(redis.url, "redis://127.0.0.1");
        assert_eq!(redis.fallback_share, Some(0.5));
        assert_eq!(redis.timeout, Some(Duration::from_millis(750)));
        assert_eq!(redis.fallback_probe, Some(Duration::from_secs(3)));
        for (var, value) in [
            ("UNIBILL_TIMEOUT_SECS", "-1"),
            ("UNIBILL_MAX_ATTEMPTS", "0"),
            ("UNIBILL_LOCK_WAIT_SECS", "0"),
            ("UNIBILL_RATE_LIMIT", "fast"),
            ("UNIBILL_REDIS_FALLBACK_SHARE", "half"),
        ] {
            let mut v = vars(&[(var, value)]);
            if var.starts_with("UNIBILL_REDIS") {
                v.extend(vars(&[("UNIBILL_REDIS_URL", "redis://h")]));
            }
            match Settings::from_map(&v) {
                Err(Error::Config { field, reason }) => {
                    assert_eq!(field, var);
                    assert!(reason.contains(value), "{reason}");
                }
                other => panic!("{var}: {other:?}"),
            }
        }
    }

    /// A config of the test builder: its rate limit stands for a
    /// backend's own default.
    #[derive(Clone, Debug, Deserialize)]
    struct DemoConfig {
        #[serde(flatten)]
        common: CommonConfig,
    }

    impl BackendConfig for DemoConfig {
        type Builder = Demo;
        const ENV_PREFIX: &'static str = "DEMO_";
        const ENV: &'static [&'static str] = &["DEMO_URL"];
        fn placeholder() -> Self {
            DemoConfig {
                common: CommonConfig::default(),
            }
        }
        fn common(&self) -> &CommonConfig {
            &self.common
        }
        fn common_mut(&mut self) -> &mut CommonConfig {
            &mut self.common
        }
        fn builder(&self) -> Demo {
            let mut d = Demo::default();
            d.options.default_rate_limit = Some(RateLimit::per_second(7));
            d
        }
    }

    #[test]
    fn configured_keeps_the_backend_default_rate_limit() {
        // What the transport is given, once the settings meet the
        // backend's defaults.
        let transport_config = |mut o: ClientOptions| {
            o.base_url.get_or_insert_with(|| "https://x.example".into());
            let t = o.transport(Demo::KIND, crate::transport::Auth::None);
            t.unwrap().config().clone()
        };
        let kept = DemoConfig::placeholder().build().unwrap();
        assert_eq!(
            transport_config(kept).rate_limit,
            Some(RateLimit::per_second(7))
        );
        let c: DemoConfig = serde_json::from_str(
            r#"{"url": "https://x.example",
                "settings": {"rate_limit": "off", "max_attempts": 1, "timeout": 3}}"#,
        )
        .unwrap();
        let o = c.build().unwrap();
        assert_eq!(o.base_url.as_deref(), Some("https://x.example"));
        let config = transport_config(o);
        assert_eq!(config.rate_limit, None);
        assert_eq!(config.retry.max_attempts, 1);
        assert_eq!(config.request_timeout, Duration::from_secs(3));
    }

    #[test]
    fn settings_become_the_transport_config() {
        let settings = Settings {
            timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
            retry: RetryConfig {
                max_attempts: 7,
                ..RetryConfig::default()
            },
            rate_limit: Some(Some(RateLimit::per_minute(50))),
            lock_wait: Duration::from_secs(3),
            max_read_age: Duration::from_millis(200),
            lookup_deadline: Some(Duration::from_secs(4)),
            account: Some("acme".into()),
            max_response_bytes: 1024,
            user_agent: "billing/2".into(),
            redis: None,
        };
        let mut o = Demo::default()
            .base_url("https://x.example")
            .settings(settings.clone())
            .build()
            .unwrap();
        o.default_rate_limit = Some(RateLimit::per_second(7));
        let t = o
            .transport(Demo::KIND, crate::transport::Auth::None)
            .unwrap();
        let c = t.config();
        assert_eq!(c.request_timeout, settings.timeout);
        assert_eq!(c.connect_timeout, settings.connect_timeout);
        assert_eq!(c.retry, settings.retry);
        assert_eq!(c.rate_limit, Some(RateLimit::per_minute(50)));
        assert_eq!(c.lock_wait, settings.lock_wait);
        assert_eq!(t.lookup_deadline(), Duration::from_secs(4));
        assert_eq!(c.account.as_deref(), Some("acme"));
        assert_eq!(c.max_response_bytes, 1024);
        assert_eq!(c.user_agent, "billing/2");
        // A zero cap given in code is refused by the build, naming it.
        let zero = Demo::default()
            .base_url("https://x.example")
            .settings(Settings {
                max_response_bytes: 0,
                ..Settings::default()
            })
            .build()
            .unwrap()
            .transport(Demo::KIND, crate::transport::Auth::None);
        assert!(
            matches!(&zero, Err(Error::Config { field, .. }) if field == "max_response_bytes"),
            "{zero:?}"
        );
    }

    #[test]
    fn a_backend_without_a_default_host_needs_its_base_url() {
        match DemoConfig::from_map(&vars(&[("UNIBILL_TIMEOUT", "2")])) {
            Err(Error::Config { field, reason }) => {
                assert_eq!(field, "DEMO_URL");
                assert!(reason.contains("backend `demo`"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let c = DemoConfig::from_map(&vars(&[("DEMO_URL", "https://x.example")])).unwrap();
        assert_eq!(c.common.base_url.as_deref(), Some("https://x.example"));
    }
}
