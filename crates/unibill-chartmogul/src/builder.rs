//! [`ChartMogulBuilder`]: the API key, the shared connection settings of
//! [`BackendBuilder`], and this backend's own environment variables
//! ([`env`](mod@env)).

use secrecy::{ExposeSecret, SecretString};

use serde::Deserialize;
use unibill_core::builder::{required_secret, BackendConfig, CommonConfig};
use unibill_core::lock::AccountScope;
use unibill_core::transport::{Auth, ClientOptions};
use unibill_core::{BackendBuilder, BackendKind, Result};

use crate::client::{ChartMogul, DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT};
use crate::KIND;

/// The environment variables [`ChartMogulConfig`] reads (with the shared
/// ones of [`Settings::ENV`](unibill_core::Settings::ENV); the `unibill`
/// facade reads them when `UNIBILL_BACKEND=chartmogul`).
pub mod env {
    /// The API key (required).
    pub const API_KEY: &str = "CHARTMOGUL_API_KEY";
    /// Base URL override (default `https://api.chartmogul.com`).
    pub const BASE_URL: &str = "CHARTMOGUL_BASE_URL";
    /// Every variable of this backend's section.
    pub const ALL: &[&str] = &[API_KEY, BASE_URL];
}

/// Builds a [`ChartMogul`] client. The shared setters (`base_url`,
/// `settings` with the timeouts, retry policy, rate limit, ...) come with
/// [`BackendBuilder`].
///
/// ```
/// use std::time::Duration;
/// use unibill_chartmogul::{BackendBuilder, ChartMogul, Settings};
///
/// let cm = ChartMogul::builder()
///     .api_key("my-secret-key")
///     .settings(Settings {
///         connect_timeout: Duration::from_secs(5),
///         timeout: Duration::from_secs(20),
///         ..Settings::default()
///     })
///     .build()
///     .unwrap();
/// assert!(!format!("{cm:?}").contains("my-secret-key"));
/// ```
#[derive(Clone, Debug)]
pub struct ChartMogulBuilder {
    api_key: Option<SecretString>,
    options: ClientOptions,
}

impl Default for ChartMogulBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            // A ChartMogul API key belongs to one account wherever it is
            // sent: the key identifies the account, not the host name.
            options: ClientOptions {
                base_url: Some(DEFAULT_BASE_URL.to_owned()),
                default_rate_limit: Some(DEFAULT_RATE_LIMIT),
                default_account_scope: AccountScope::Credentials,
                ..ClientOptions::default()
            },
        }
    }
}

impl ChartMogulBuilder {
    /// The account's API key (sent as the Basic user name with an empty
    /// password). Held as a [`SecretString`]: never printed.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// The client; [`unibill_core::Error::Config`] when the key is missing
    /// or empty, or the base URL or a setting is unusable.
    pub fn build(self) -> Result<ChartMogul> {
        let key = required_secret(KIND, "api_key", self.api_key)?;
        Ok(ChartMogul::new(
            self.options.transport(KIND, Auth::KeyAsUser(key))?,
        ))
    }
}

impl BackendBuilder for ChartMogulBuilder {
    type Client = ChartMogul;
    const KIND: BackendKind = KIND;

    fn options_mut(&mut self) -> &mut ClientOptions {
        &mut self.options
    }

    fn build(self) -> Result<ChartMogul> {
        ChartMogulBuilder::build(self)
    }
}
/// A ChartMogul client's config, as a file (`{"backend": "chartmogul",
/// "api_key": "...", "settings": {...}}` through `unibill::Config`) or the
/// environment ([`env`](mod@env) and the shared
/// [`Settings::ENV`](unibill_core::Settings::ENV)) writes it.
///
/// ```
/// use unibill_chartmogul::{builder::env, BackendConfig, ChartMogulConfig};
///
/// let vars = [(env::API_KEY.to_string(), "k".to_string())];
/// let config = ChartMogulConfig::from_map(&vars).unwrap();
/// assert_eq!(config.common.base_url, None); // the default host
/// assert!(config.build().is_ok());
/// let e = ChartMogulConfig::from_map(&[]).unwrap_err();
/// assert!(e.to_string().contains(env::API_KEY), "{e}");
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ChartMogulConfig {
    /// The account's API key (sent as the Basic user name).
    pub api_key: SecretString,
    /// The base URL (default [`DEFAULT_BASE_URL`]) and the shared
    /// connection settings.
    #[serde(flatten)]
    pub common: CommonConfig,
}

impl ChartMogulConfig {
    /// A config with this API key and default settings.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            api_key: SecretString::from(api_key.into()),
            common: CommonConfig::default(),
        }
    }
}

impl BackendConfig for ChartMogulConfig {
    type Builder = ChartMogulBuilder;
    const ENV_PREFIX: &'static str = "CHARTMOGUL_";
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

    fn builder(&self) -> ChartMogulBuilder {
        ChartMogulBuilder::default().api_key(self.api_key.expose_secret())
    }
}
