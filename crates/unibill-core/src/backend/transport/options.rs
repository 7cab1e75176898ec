//! [`ClientOptions`]: the connection settings every backend builder shares.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::{Auth, RateLimit, RateLimiter, RetryAdvice, RetryHint, Transport, TransportConfig};
use crate::builder::Settings;
use crate::error::{Error, Result};
use crate::kind::BackendKind;
use crate::lock::{AccountScope, WriteLocking};

/// The connection settings every backend builder shares: the base URL, the
/// [`Settings`], the runtime objects (rate limiter, write locking, an
/// adjustment of the `reqwest` client) and the backend's defaults;
/// [`ClientOptions::transport`] turns them into the [`TransportConfig`]
/// of the backend's [`Transport`].
///
/// A backend builder holds one and implements
/// [`BackendBuilder`](crate::BackendBuilder) over it, so every backend is
/// configured with the same methods and the same defaults rules.
///
/// ```
/// use unibill_core::transport::{Auth, ClientOptions};
/// use unibill_core::{BackendKind, SecretString};
///
/// let options = ClientOptions {
///     base_url: Some("https://api.example.com".into()),
///     ..ClientOptions::default()
/// };
/// let transport = options
///     .transport(BackendKind::new("demo"), Auth::KeyAsUser(SecretString::from("key".to_string())))
///     .unwrap();
/// assert_eq!(transport.base_url(), "https://api.example.com");
/// ```
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// The API's base URL; `None` when the backend has no default host and
    /// none was given.
    pub base_url: Option<String>,
    /// Timeouts, retries, rate limit, lock wait, lookup deadline,
    /// account, response cap, user agent.
    pub settings: Settings,
    /// The limiter that applies the rate limit (see
    /// [`TransportConfig::rate_limiter`]); `None`: in-process.
    pub rate_limiter: Option<Arc<dyn RateLimiter>>,
    /// Which lock keeps concurrent updates of one customer apart.
    pub write_locking: WriteLocking,
    /// The caller's adjustment of the `reqwest` client builder (a proxy,
    /// root certificates, ...), if any: given the builder [`Transport`]
    /// starts from (rustls, the connect timeout, the user agent), it
    /// returns the builder to use. Redirects are turned off after it,
    /// whatever it sets.
    pub client: Option<Arc<dyn Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync>>,
    /// The backend's own rate limit (its vendor's documented one), used
    /// unless [`Settings::rate_limit`] names one (or `Some(None)`, none).
    pub default_rate_limit: Option<RateLimit>,
    /// The backend's reading of its rate-limit headers on a 429 without
    /// `Retry-After` ([`TransportConfig::retry_hint`]).
    pub default_retry_hint: Option<RetryHint>,
    /// The backend's reading of its vendor's retry-advice header
    /// ([`TransportConfig::retry_advice`]).
    pub default_retry_advice: Option<RetryAdvice>,
    /// The backend's rule for what identifies an account at its vendor
    /// ([`TransportConfig::account_scope`]).
    pub default_account_scope: AccountScope,
}

impl ClientOptions {
    /// Builds the transport: the one place the [`Settings`] and the
    /// backend's defaults become its [`TransportConfig`].
    /// [`Error::Config`] naming `base_url` when there is none, or whatever
    /// [`Transport::new`] refuses.
    pub fn transport(self, backend: BackendKind, auth: Auth) -> Result<Transport> {
        let base_url = self.base_url.ok_or_else(|| {
            Error::config(
                "base_url",
                format!("{backend} has no default host: give the base URL"),
            )
        })?;
        let Settings {
            timeout,
            connect_timeout,
            retry,
            rate_limit,
            lock_wait,
            // Read by the backends that re-read before a write, from
            // `ClientOptions::settings` before this call.
            max_read_age: _,
            lookup_deadline,
            account,
            max_response_bytes,
            user_agent,
            // Applied by the `unibill` facade, through `rate_limiter` and
            // `write_locking`.
            redis: _,
        } = self.settings;
        let config = TransportConfig {
            connect_timeout,
            request_timeout: timeout,
            retry,
            rate_limit: rate_limit.unwrap_or(self.default_rate_limit),
            rate_limiter: self.rate_limiter,
            max_response_bytes,
            user_agent,
            retry_hint: self.default_retry_hint,
            retry_advice: self.default_retry_advice,
            write_locking: self.write_locking,
            lock_wait,
            lookup_deadline,
            account_scope: Some(self.default_account_scope),
            account,
        };
        let client = self.client.map(|f| f(Transport::client_builder(&config)));
        Transport::new(backend, &base_url, auth, config, client)
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("base_url", &self.base_url.as_deref().map(redacted_url))
            .field("settings", &self.settings)
            .field("rate_limiter", &self.rate_limiter)
            .field("write_locking", &self.write_locking)
            .field("http_client", &self.client.as_ref().map(|_| "custom"))
            .field("default_rate_limit", &self.default_rate_limit)
            .finish()
    }
}

/// A base URL as it may be shown in `Debug` output or logs: as given,
/// unless it carries what may be a secret (user info, a query or a
/// fragment, which [`Transport::new`](super::Transport::new) refuses
/// anyway): those parts are shown as `***`.
///
/// ```
/// use unibill_core::transport::redacted_url;
/// assert_eq!(redacted_url("https://api.example.com/v1"), "https://api.example.com/v1");
/// assert_eq!(redacted_url("https://key:@api.example.com/"), "https://***@api.example.com/");
/// assert_eq!(redacted_url("https://api.example.com/?key=k"), "https://api.example.com/?***");
/// ```
pub fn redacted_url(raw: &str) -> Cow<'_, str> {
    match reqwest::Url::parse(raw.trim()) {
        Ok(mut url) => {
            let userinfo = !url.username().is_empty() || url.password().is_some();
            if !userinfo && url.query().is_none() && url.fragment().is_none() {
                return Cow::Borrowed(raw);
            }
            if userinfo {
                let _ = url.set_password(None);
                let _ = url.set_username("***");
            }
            if url.query().is_some() {
                url.set_query(Some("***"));
            }
            if url.fragment().is_some() {
                url.set_fragment(Some("***"));
            }
            Cow::Owned(url.into())
        }
        // Not a URL (so unusable anyway): hide it only if it may hold user
        // info, a query or a fragment.
        Err(_) if raw.contains(['@', '?', '#']) => Cow::Borrowed("*** (not a valid URL)"),
        Err(_) => Cow::Borrowed(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use std::time::Duration;

    fn options(base_url: &str) -> ClientOptions {
        ClientOptions {
            base_url: Some(base_url.to_owned()),
            ..ClientOptions::default()
        }
    }

    fn hint(_: &reqwest::header::HeaderMap) -> Option<Duration> {
        Some(Duration::from_secs(7))
    }

    #[test]
    fn missing_base_url_is_a_config_error() {
        let e = ClientOptions::default()
            .transport(BackendKind::new("demo"), Auth::None)
            .unwrap_err();
        assert!(
            matches!(&e, Error::Config { field, .. } if field == "base_url"),
            "{e}"
        );
    }

    #[test]
    fn backend_hint_survives_replaced_settings() {
        let mut o = options("https://x.example");
        o.default_retry_hint = Some(hint);
        o.settings = Settings::default();
        let t = o
            .transport(
                BackendKind::new("demo"),
                Auth::PreEncoded(SecretString::from("k".to_string())),
            )
            .unwrap();
        let f = t.config().retry_hint.expect("hint kept");
        assert_eq!(
            f(&reqwest::header::HeaderMap::new()),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn debug_hides_credentials_put_in_the_base_url() {
        for url in [
            "https://sk_live_SECRET:@api.example.com",
            "https://acme:SECRET@api.example.com/p",
            "https://api.example.com/p?api_key=SECRET",
            "https://api.example.com/p#SECRET",
            "sk_live_SECRET@api.example.com",
        ] {
            let d = format!("{:?}", options(url));
            assert!(!d.contains("SECRET"), "{d}");
        }
        for shown in ["https://x.example/api/", "x.example"] {
            let d = format!("{:?}", options(shown));
            assert!(d.contains(&format!("{shown:?}")), "{d}");
        }
    }

    #[test]
    fn debug_shows_no_client_internals() {
        let mut o = options("https://x.example");
        o.client = Some(Arc::new(|b: reqwest::ClientBuilder| {
            b.pool_max_idle_per_host(1)
        }));
        let d = format!("{o:?}");
        assert!(d.contains("custom") && d.contains("x.example"), "{d}");
    }
}
