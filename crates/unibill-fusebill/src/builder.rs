//! [`FusebillBuilder`]: the API key, the conflict check, the shared
//! connection settings of [`BackendBuilder`], and this backend's own
//! environment variables ([`env`](mod@env)).

use secrecy::SecretString;
use unibill_core::builder::{lookup_required, lookup_set, required_secret};
use unibill_core::lock::AccountScope;
use unibill_core::transport::{Auth, ClientOptions};
use unibill_core::{BackendBuilder, BackendKind, ConflictCheck, Result};

use crate::client::{Fusebill, DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT};
use crate::{error, KIND};

/// The environment variables [`FusebillBuilder::from_env`] reads (the
/// `unibill` facade reads the same ones when `UNIBILL_BACKEND=fusebill`).
pub mod env {
    /// The API key, exactly as issued (required).
    pub const API_KEY: &str = "FUSEBILL_API_KEY";
    /// Base URL override (default `https://secure.fusebill.com`).
    pub const BASE_URL: &str = "FUSEBILL_BASE_URL";
    /// Every variable of this backend's section.
    pub const ALL: [&str; 2] = [API_KEY, BASE_URL];
}

/// Builds a [`Fusebill`] client. Only the API key is required; the shared
/// settings (`base_url`, `timeouts`, `retry`, `rate_limit`, ...) come with
/// [`BackendBuilder`].
///
/// ```
/// use std::time::Duration;
/// use unibill_fusebill::{BackendBuilder, Fusebill};
/// let fusebill = Fusebill::builder()
///     .api_key("MDp1bmliaWxs...") // exactly as Fusebill issued it
///     .timeouts(Duration::from_secs(5), Duration::from_secs(20))
///     .build()
///     .unwrap();
/// assert!(!format!("{fusebill:?}").contains("MDp1bmliaWxs"));
/// ```
#[derive(Clone, Debug)]
pub struct FusebillBuilder {
    api_key: Option<SecretString>,
    options: ClientOptions,
    conflict: ConflictCheck,
}

impl Default for FusebillBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            options: ClientOptions::new(Some(DEFAULT_BASE_URL))
                .with_rate_limit(DEFAULT_RATE_LIMIT)
                .with_retry_hint(error::rate_limit_wait)
                // A Fusebill API key belongs to one account wherever it is
                // sent: the key identifies the account, not the host name.
                .with_account_scope(AccountScope::Credentials),
            conflict: ConflictCheck::default(),
        }
    }
}

impl FusebillBuilder {
    unibill_core::shared_setters!();

    /// The API key exactly as Fusebill issued it (it already is base64
    /// text): it is sent as `Authorization: Basic {key}` without being
    /// encoded again. Held as a secret: never printed.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// How updates guard against concurrent edits (default
    /// [`ConflictCheck::Reread`] with 3 rounds).
    pub fn conflict_check(mut self, check: ConflictCheck) -> Self {
        self.conflict = check;
        self
    }

    /// A builder from the process environment (see [`env`](mod@env)).
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// A builder from any name -> value lookup, with the variables of
    /// [`env`](mod@env) (blank values count as unset). [`unibill_core::Error::Config`]
    /// names [`env::API_KEY`] when it is missing.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let mut b = Self::default().api_key(lookup_required(KIND, lookup, env::API_KEY)?);
        if let Some(url) = lookup_set(lookup, env::BASE_URL) {
            b = b.base_url(url);
        }
        Ok(b)
    }

    /// Builds the client: [`unibill_core::Error::Config`] when the API key
    /// is missing or blank, or the base URL is not usable.
    pub fn build(self) -> Result<Fusebill> {
        let key = required_secret(KIND, "api_key", self.api_key)?;
        let transport = self.options.transport(KIND, Auth::PreEncoded(key))?;
        Ok(Fusebill::new(transport, self.conflict))
    }
}

impl BackendBuilder for FusebillBuilder {
    type Client = Fusebill;
    const KIND: BackendKind = KIND;

    fn options_mut(&mut self) -> &mut ClientOptions {
        &mut self.options
    }

    fn build(self) -> Result<Fusebill> {
        FusebillBuilder::build(self)
    }

    fn set_conflict_check(&mut self, check: ConflictCheck) -> Result<()> {
        self.conflict = check;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unibill_core::transport::RateLimit;
    use unibill_core::Error;

    #[test]
    fn missing_key_is_a_config_error() {
        for b in [Fusebill::builder(), Fusebill::builder().api_key("  ")] {
            match b.build().unwrap_err() {
                Error::Config { field, .. } => assert_eq!(field, "api_key"),
                other => panic!("{other:?}"),
            }
        }
        match Fusebill::builder()
            .api_key("k")
            .base_url("http://example.com")
            .build()
        {
            Err(Error::Config { field, .. }) => assert_eq!(field, "base_url"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = "c2VjcmV0LWZ1c2ViaWxsLWtleQ==";
        let b = Fusebill::builder().api_key(key);
        assert!(!format!("{b:?}").contains(key));
        assert!(format!("{b:?}").contains("REDACTED"));
        let f = b.build().unwrap();
        let shown = format!("{f:?} {f:#?}");
        assert!(!shown.contains(key), "{shown}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
    }

    #[test]
    fn defaults() {
        let f = Fusebill::builder().api_key("k").build().unwrap();
        assert_eq!(f.transport().base_url(), DEFAULT_BASE_URL);
        assert_eq!(
            f.transport().config().rate_limit,
            Some(RateLimit::per_minute(1000))
        );
        assert!(f.transport().config().retry_hint.is_some());
        let custom = Fusebill::builder()
            .api_key("k")
            .transport_config(unibill_core::TransportConfig::default())
            .rate_limit(None)
            .build()
            .unwrap();
        assert!(custom.transport().config().retry_hint.is_some());
        assert_eq!(custom.transport().config().rate_limit, None);
    }

    #[test]
    fn env_section_and_conflict_check() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let f = FusebillBuilder::from_lookup(&vars(&[
            (env::API_KEY, "k=="),
            (env::BASE_URL, "http://127.0.0.1:9"),
        ]))
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(f.transport().base_url(), "http://127.0.0.1:9");
        match FusebillBuilder::from_lookup(&vars(&[(env::API_KEY, " ")])) {
            Err(Error::Config { field, .. }) => assert_eq!(field, env::API_KEY),
            other => panic!("{other:?}"),
        }
        let mut b = Fusebill::builder().api_key("k");
        b.set_conflict_check(ConflictCheck::Off).unwrap();
        assert_eq!(b.conflict, ConflictCheck::Off);
    }
}
