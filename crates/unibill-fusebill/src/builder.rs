//! [`FusebillBuilder`]: the API key, the conflict check, the shared
//! connection settings of [`BackendBuilder`], and this backend's own
//! environment variables ([`env`](mod@env)).

use secrecy::SecretString;

use secrecy::ExposeSecret;
use serde::Deserialize;
use unibill_core::builder::{required_secret, BackendConfig, CommonConfig};
use unibill_core::lock::AccountScope;
use unibill_core::transport::{Auth, ClientOptions};
use unibill_core::{BackendBuilder, BackendKind, ConflictCheck, Result};

use crate::client::{Fusebill, DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT};
use crate::{error, KIND};

/// The environment variables [`FusebillConfig`] reads (with the shared
/// ones of [`Settings::ENV`](unibill_core::Settings::ENV); the `unibill`
/// facade reads them when `UNIBILL_BACKEND=fusebill`).
pub mod env {
    /// The API key, exactly as issued (required).
    pub const API_KEY: &str = "FUSEBILL_API_KEY";
    /// Base URL override (default `https://secure.fusebill.com`).
    pub const BASE_URL: &str = "FUSEBILL_BASE_URL";
    /// The conflict check: `reread` (default), `reread:N` or `off`.
    pub const CONFLICT_CHECK: &str = "FUSEBILL_CONFLICT_CHECK";
    /// Every variable of this backend's section.
    pub const ALL: &[&str] = &[API_KEY, BASE_URL, CONFLICT_CHECK];
}

/// Builds a [`Fusebill`] client. Only the API key is required; the shared
/// setters (`base_url`, `settings` with the timeouts, retry policy, rate
/// limit, ...) come with [`BackendBuilder`].
///
/// ```
/// use std::time::Duration;
/// use unibill_fusebill::{BackendBuilder, Fusebill, Settings};
/// let fusebill = Fusebill::builder()
///     .api_key("MDp1bmliaWxs...") // exactly as Fusebill issued it
///     .settings(Settings {
///         connect_timeout: Duration::from_secs(5),
///         timeout: Duration::from_secs(20),
///         ..Settings::default()
///     })
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
            options: ClientOptions {
                base_url: Some(DEFAULT_BASE_URL.to_owned()),
                default_rate_limit: Some(DEFAULT_RATE_LIMIT),
                default_retry_hint: Some(error::rate_limit_wait),
                // A Fusebill API key belongs to one account wherever it is
                // sent: the key identifies the account, not the host name.
                default_account_scope: AccountScope::Credentials,
                ..ClientOptions::default()
            },
            conflict: ConflictCheck::default(),
        }
    }
}

impl FusebillBuilder {
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

    /// Builds the client: [`unibill_core::Error::Config`] when the API key
    /// is missing or blank, or the base URL is not usable.
    pub fn build(self) -> Result<Fusebill> {
        let key = required_secret(KIND, "api_key", self.api_key)?;
        let max_read_age = self.options.settings.max_read_age;
        let transport = self.options.transport(KIND, Auth::PreEncoded(key))?;
        Ok(Fusebill::new(transport, self.conflict, max_read_age))
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
}

/// A Fusebill client's config, as a file (`{"backend": "fusebill",
/// "api_key": "...", "conflict_check": "reread:5", "settings": {...}}`
/// through `unibill::Config`) or the environment ([`env`](mod@env) and
/// the shared [`Settings::ENV`](unibill_core::Settings::ENV)) writes it.
///
/// ```
/// use unibill_fusebill::{builder::env, BackendConfig, ConflictCheck, FusebillConfig};
///
/// let vars = [
///     (env::API_KEY.to_string(), "k==".to_string()),
///     (env::CONFLICT_CHECK.to_string(), "off".to_string()),
/// ];
/// let config = FusebillConfig::from_map(&vars).unwrap();
/// assert_eq!(config.conflict_check, ConflictCheck::Off);
/// assert!(config.build().is_ok());
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FusebillConfig {
    /// The API key, exactly as issued (already base64 text, sent
    /// verbatim).
    pub api_key: SecretString,
    /// How an update guards against edits made outside unibill between
    /// its read and its write: `"reread"` (default, 3 rounds),
    /// `"reread:N"` or `"off"`.
    #[serde(default)]
    pub conflict_check: ConflictCheck,
    /// The base URL (default [`DEFAULT_BASE_URL`]) and the shared
    /// connection settings.
    #[serde(flatten)]
    pub common: CommonConfig,
}

impl FusebillConfig {
    /// A config with this API key and default settings.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            api_key: SecretString::from(api_key.into()),
            conflict_check: ConflictCheck::default(),
            common: CommonConfig::default(),
        }
    }
}

impl BackendConfig for FusebillConfig {
    type Builder = FusebillBuilder;
    const ENV_PREFIX: &'static str = "FUSEBILL_";
    const ENV: &'static [&'static str] = env::ALL;

    fn placeholder() -> Self {
        Self::new("placeholder")
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }

    fn common_mut(&mut self) -> &mut CommonConfig {
        &mut self.common
    }

    fn builder(&self) -> FusebillBuilder {
        FusebillBuilder::default()
            .api_key(self.api_key.expose_secret())
            .conflict_check(self.conflict_check)
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
            .settings(unibill_core::Settings {
                rate_limit: Some(None),
                ..unibill_core::Settings::default()
            })
            .build()
            .unwrap();
        assert!(custom.transport().config().retry_hint.is_some());
        assert_eq!(custom.transport().config().rate_limit, None);
    }

    #[test]
    fn env_section_and_conflict_check() {
        let vars = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let f = FusebillConfig::from_map(&vars(&[
            (env::API_KEY, "k=="),
            (env::BASE_URL, "http://127.0.0.1:9"),
            (env::CONFLICT_CHECK, "reread:5"),
        ]))
        .unwrap();
        assert_eq!(f.conflict_check, ConflictCheck::Reread { max_rounds: 5 });
        let f = f.build().unwrap();
        assert_eq!(f.transport().base_url(), "http://127.0.0.1:9");
        for (pairs, var) in [
            (vec![(env::API_KEY, " ")], env::API_KEY),
            (
                vec![(env::API_KEY, "k"), (env::CONFLICT_CHECK, "sometimes")],
                env::CONFLICT_CHECK,
            ),
        ] {
            match FusebillConfig::from_map(&vars(&pairs)) {
                Err(Error::Config { field, .. }) => assert_eq!(field, var),
                other => panic!("{other:?}"),
            }
        }
        let file: FusebillConfig =
            serde_json::from_str(r#"{"api_key": "k", "conflict_check": "off"}"#).unwrap();
        assert_eq!(file.builder().conflict, ConflictCheck::Off);
    }

    #[test]
    fn the_freshness_bound_reaches_the_client() {
        assert_eq!(
            Fusebill::builder()
                .api_key("k")
                .build()
                .unwrap()
                .max_read_age,
            std::time::Duration::from_secs(1)
        );
        let file: FusebillConfig =
            serde_json::from_str(r#"{"api_key": "k", "settings": {"max_read_age": "250ms"}}"#)
                .unwrap();
        let f = file.build().unwrap();
        assert_eq!(f.max_read_age, std::time::Duration::from_millis(250));
        let env = FusebillConfig::from_map(&[
            (env::API_KEY.to_owned(), "k".to_owned()),
            ("UNIBILL_MAX_READ_AGE".to_owned(), "0".to_owned()),
        ])
        .unwrap();
        assert_eq!(env.build().unwrap().max_read_age, std::time::Duration::ZERO);
        match FusebillConfig::from_map(&[
            (env::API_KEY.to_owned(), "k".to_owned()),
            ("UNIBILL_MAX_READ_AGE".to_owned(), "later".to_owned()),
        ]) {
            Err(Error::Config { field, .. }) => assert_eq!(field, "UNIBILL_MAX_READ_AGE"),
            other => panic!("{other:?}"),
        }
        let e = serde_json::from_str::<FusebillConfig>(
            r#"{"api_key": "k", "settings": {"max_read_age": "-1s"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("max_read_age"), "{e}");
    }
}
