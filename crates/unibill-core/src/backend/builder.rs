//! [`BackendBuilder`]: the one trait every backend's builder implements.
//!
//! It carries the settings every backend shares (base URL, timeouts,
//! retry policy, rate limit and limiter, write locking, HTTP client) as
//! provided setters over the builder's [`ClientOptions`], and the two
//! checks every builder repeats ([`required_secret`], and the
//! [`ConflictCheck`] refusal of backends that do not read before they
//! write). Code generic over `B: BackendBuilder` (the `unibill` facade's
//! configuration, a caller's own wiring) tunes any backend the same way.
//!
//! ```
//! use std::time::Duration;
//! use unibill_core::transport::{ClientOptions, RateLimit};
//! use unibill_core::{BackendBuilder, BackendKind, Result};
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
//!     .timeouts(Duration::from_secs(2), Duration::from_secs(9))
//!     .rate_limit(Some(RateLimit::per_second(5)))
//!     .build()
//!     .unwrap();
//! assert_eq!(options.base_url.as_deref(), Some("https://x.example"));
//! assert_eq!(options.config.request_timeout, Duration::from_secs(9));
//! ```

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::kind::BackendKind;
use crate::lock::WriteLocking;
use crate::transport::{ClientOptions, RateLimit, RateLimiting, RetryConfig, TransportConfig};
use crate::updater::ConflictCheck;

/// A backend's builder: the shared connection settings as provided
/// setters, then [`build`](BackendBuilder::build).
///
/// A backend implements [`options_mut`](BackendBuilder::options_mut) and
/// [`build`](BackendBuilder::build) (and
/// [`set_conflict_check`](BackendBuilder::set_conflict_check) when its
/// updates read before they write); every other setter comes with the
/// trait, so all backends take the same settings with the same names and
/// defaults rules. Each backend's builder also has the same setters as
/// inherent methods ([`shared_setters!`](crate::shared_setters)), so callers
/// need not import the trait; generic code uses the trait.
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

    /// Sets how an update that reads the customer before writing guards
    /// against edits made outside unibill in between. The default refuses
    /// it (the backend's updates do not read then write), naming the
    /// `conflict_check` setting: nothing is ignored silently.
    fn set_conflict_check(&mut self, check: ConflictCheck) -> Result<()> {
        let _ = check;
        Err(Error::config(
            "conflict_check",
            format!(
                "backend `{}` does not read a customer before writing it, so there is no conflict check to set",
                Self::KIND
            ),
        ))
    }

    /// The API's base URL (`https`; plain `http` only for loopback hosts
    /// such as the sandbox).
    fn base_url(mut self, url: impl Into<String>) -> Self {
        self.options_mut().set_base_url(url.into());
        self
    }

    /// Replaces every transport setting at once (timeouts, retry, rate
    /// limit, response cap, user agent). The backend's reading of its
    /// rate-limit headers still applies when the config has no
    /// `retry_hint`.
    fn transport_config(mut self, config: TransportConfig) -> Self {
        self.options_mut().set_config(config);
        self
    }

    /// The retry policy.
    fn retry(mut self, retry: RetryConfig) -> Self {
        self.options_mut().set_retry(retry);
        self
    }

    /// The client-side rate limit (`None` sends without pacing).
    fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.options_mut().set_rate_limit(limit);
        self
    }

    /// Which limiter applies the rate limit: the in-process sliding
    /// window by default, or a limiter shared by several processes
    /// (e.g. `unibill::redis`), which may fail a request with a retryable
    /// `Error::Limiter` rather than send it unlimited.
    fn rate_limiting(mut self, limiting: RateLimiting) -> Self {
        self.options_mut().set_rate_limiting(limiting);
        self
    }

    /// Connect and per-attempt request timeouts.
    fn timeouts(mut self, connect: Duration, request: Duration) -> Self {
        self.options_mut().set_timeouts(connect, request);
        self
    }

    /// Which lock keeps concurrent updates of one customer apart
    /// (default: the process-wide in-memory lock; see [`crate::lock`]).
    fn write_locking(mut self, locking: WriteLocking) -> Self {
        self.options_mut().set_write_locking(locking);
        self
    }

    /// How long an update waits while other updates of the same customer
    /// hold its write lock (default 120 s), before failing with a
    /// retryable `Error::Lock`.
    fn lock_wait(mut self, wait: Duration) -> Self {
        self.options_mut().set_lock_wait(wait);
        self
    }

    /// The overall time one lookup by email or external reference may
    /// take, every page and retry included (default 5 × the retry
    /// deadline, 300 s), before failing with a retryable
    /// `Error::LookupTimeout` naming the pages read.
    fn lookup_deadline(mut self, deadline: Duration) -> Self {
        self.options_mut().set_lookup_deadline(deadline);
        self
    }

    /// Names the account this client writes to, so that every client of
    /// the backend given the same name shares its customers' write locks
    /// (and a shared rate budget), whatever its base URL or key: for two
    /// keys of one account during a key rotation, or one account reached
    /// through a proxy. Without it the backend's rule applies (see
    /// [`AccountScope`](crate::lock::AccountScope)). A blank name is
    /// refused by `build` with `Error::Config` naming `account`.
    fn account(mut self, name: impl Into<String>) -> Self {
        self.options_mut().set_account(name.into());
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
        self.options_mut().set_http_client(configure);
        self
    }
}

/// Inherent copies of [`BackendBuilder`]'s shared setters, for a backend's
/// builder: callers tune a client (`Fusebill::builder().base_url(..)`)
/// without importing the trait, while generic code (the facade's registry)
/// goes through the trait. Each setter only forwards to the trait's; use it
/// inside the builder's `impl` block.
#[macro_export]
macro_rules! shared_setters {
    () => {
        /// The API's base URL (`https`; plain `http` only for loopback
        /// hosts such as the sandbox). See
        /// [`BackendBuilder::base_url`](unibill_core::BackendBuilder::base_url).
        pub fn base_url(self, url: impl Into<String>) -> Self {
            <Self as $crate::BackendBuilder>::base_url(self, url)
        }

        /// Replaces every transport setting at once. See
        /// [`BackendBuilder::transport_config`](unibill_core::BackendBuilder::transport_config).
        pub fn transport_config(self, config: $crate::transport::TransportConfig) -> Self {
            <Self as $crate::BackendBuilder>::transport_config(self, config)
        }

        /// The retry policy. See
        /// [`BackendBuilder::retry`](unibill_core::BackendBuilder::retry).
        pub fn retry(self, retry: $crate::transport::RetryConfig) -> Self {
            <Self as $crate::BackendBuilder>::retry(self, retry)
        }

        /// The client-side rate limit (`None` sends without pacing). See
        /// [`BackendBuilder::rate_limit`](unibill_core::BackendBuilder::rate_limit).
        pub fn rate_limit(self, limit: Option<$crate::transport::RateLimit>) -> Self {
            <Self as $crate::BackendBuilder>::rate_limit(self, limit)
        }

        /// Which limiter applies the rate limit. See
        /// [`BackendBuilder::rate_limiting`](unibill_core::BackendBuilder::rate_limiting).
        pub fn rate_limiting(self, limiting: $crate::transport::RateLimiting) -> Self {
            <Self as $crate::BackendBuilder>::rate_limiting(self, limiting)
        }

        /// Connect and per-attempt request timeouts. See
        /// [`BackendBuilder::timeouts`](unibill_core::BackendBuilder::timeouts).
        pub fn timeouts(
            self,
            connect: ::std::time::Duration,
            request: ::std::time::Duration,
        ) -> Self {
            <Self as $crate::BackendBuilder>::timeouts(self, connect, request)
        }

        /// Which lock keeps concurrent updates of one customer apart. See
        /// [`BackendBuilder::write_locking`](unibill_core::BackendBuilder::write_locking).
        pub fn write_locking(self, locking: $crate::lock::WriteLocking) -> Self {
            <Self as $crate::BackendBuilder>::write_locking(self, locking)
        }

        /// How long an update waits for the customer's write lock. See
        /// [`BackendBuilder::lock_wait`](unibill_core::BackendBuilder::lock_wait).
        pub fn lock_wait(self, wait: ::std::time::Duration) -> Self {
            <Self as $crate::BackendBuilder>::lock_wait(self, wait)
        }

        /// The overall time one lookup may take. See
        /// [`BackendBuilder::lookup_deadline`](unibill_core::BackendBuilder::lookup_deadline).
        pub fn lookup_deadline(self, deadline: ::std::time::Duration) -> Self {
            <Self as $crate::BackendBuilder>::lookup_deadline(self, deadline)
        }

        /// Names the account this client writes to. See
        /// [`BackendBuilder::account`](unibill_core::BackendBuilder::account).
        pub fn account(self, name: impl Into<String>) -> Self {
            <Self as $crate::BackendBuilder>::account(self, name)
        }

        /// Adjusts the `reqwest` client builder (redirects stay off). See
        /// [`BackendBuilder::http_client`](unibill_core::BackendBuilder::http_client).
        pub fn http_client(
            self,
            configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder
                + Send
                + Sync
                + 'static,
        ) -> Self {
            <Self as $crate::BackendBuilder>::http_client(self, configure)
        }
    };
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

/// Parses a [`ConflictCheck`] as configuration files and environment
/// variables write it: `off`, `reread` (3 rounds) or `reread:N`
/// (`N` ≥ 1 rounds). `None` when malformed.
///
/// ```
/// use unibill_core::builder::parse_conflict_check;
/// use unibill_core::ConflictCheck;
/// assert_eq!(parse_conflict_check("off"), Some(ConflictCheck::Off));
/// assert_eq!(parse_conflict_check("reread"), Some(ConflictCheck::default()));
/// assert_eq!(parse_conflict_check(" reread:5 "), Some(ConflictCheck::Reread { max_rounds: 5 }));
/// assert_eq!(parse_conflict_check("reread:0"), None);
/// assert_eq!(parse_conflict_check("sometimes"), None);
/// ```
pub fn parse_conflict_check(text: &str) -> Option<ConflictCheck> {
    let t = text.trim().to_ascii_lowercase();
    match t.as_str() {
        "off" | "none" => Some(ConflictCheck::Off),
        "reread" => Some(ConflictCheck::default()),
        _ => {
            let rounds: u32 = t.strip_prefix("reread:")?.trim().parse().ok()?;
            (rounds > 0).then_some(ConflictCheck::Reread { max_rounds: rounds })
        }
    }
}

/// The optional variables of a backend's own section, read through a
/// name -> value lookup that treats blank values as unset (as
/// `unibill::Config::from_lookup` does).
pub fn lookup_set(lookup: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name).filter(|v| !v.trim().is_empty())
}

/// A required variable of a backend's own section: [`Error::Config`]
/// naming the variable when it is unset or blank.
pub fn lookup_required(
    backend: BackendKind,
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Result<String> {
    lookup_set(lookup, name).ok_or_else(|| {
        Error::config(
            name,
            format!("is not set (required by backend `{backend}`)"),
        )
    })
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
        let o = Demo::default()
            .base_url("https://x.example")
            .retry(retry.clone())
            .rate_limit(None)
            .write_locking(WriteLocking::Off)
            .lock_wait(Duration::from_secs(3))
            .lookup_deadline(Duration::from_secs(4))
            .timeouts(Duration::from_secs(1), Duration::from_secs(2))
            .build()
            .unwrap();
        assert_eq!(o.base_url.as_deref(), Some("https://x.example"));
        assert_eq!(o.config.retry, retry);
        assert_eq!(o.config.rate_limit, None);
        assert_eq!(o.config.lock_wait, Duration::from_secs(3));
        assert_eq!(o.config.lookup_deadline, Some(Duration::from_secs(4)));
        assert_eq!(o.config.connect_timeout, Duration::from_secs(1));
        assert_eq!(o.config.request_timeout, Duration::from_secs(2));
    }

    #[test]
    fn conflict_check_is_refused_by_default_naming_the_setting() {
        let mut d = Demo::default();
        match d.set_conflict_check(ConflictCheck::Off) {
            Err(Error::Config { field, reason }) => {
                assert_eq!(field, "conflict_check");
                assert!(reason.contains("`demo`"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn required_lookups_name_the_variable() {
        let get = |name: &str| (name == "SET").then(|| "v".to_string());
        let blank = |_: &str| Some("  ".to_string());
        assert_eq!(lookup_set(&get, "SET").as_deref(), Some("v"));
        assert_eq!(lookup_set(&blank, "SET"), None);
        match lookup_required(BackendKind::new("demo"), &get, "MISSING") {
            Err(Error::Config { field, reason }) => {
                assert_eq!(field, "MISSING");
                assert!(reason.contains("`demo`"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
