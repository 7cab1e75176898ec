//! [`ChartMogulBuilder`]: the API key, the shared connection settings of
//! [`BackendBuilder`], and this backend's own environment variables
//! ([`env`](mod@env)).

use secrecy::SecretString;
use unibill_core::builder::{lookup_required, lookup_set, required_secret};
use unibill_core::lock::AccountScope;
use unibill_core::transport::{Auth, ClientOptions};
use unibill_core::{BackendBuilder, BackendKind, Result};

use crate::client::{ChartMogul, DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT};
use crate::KIND;

/// The environment variables [`ChartMogulBuilder::from_env`] reads (the
/// `unibill` facade reads the same ones when `UNIBILL_BACKEND=chartmogul`).
pub mod env {
    /// The API key (required).
    pub const API_KEY: &str = "CHARTMOGUL_API_KEY";
    /// Base URL override (default `https://api.chartmogul.com`).
    pub const BASE_URL: &str = "CHARTMOGUL_BASE_URL";
    /// Every variable of this backend's section.
    pub const ALL: [&str; 2] = [API_KEY, BASE_URL];
}

/// Builds a [`ChartMogul`] client. The shared settings (`base_url`,
/// `timeouts`, `retry`, `rate_limit`, ...) come with [`BackendBuilder`].
///
/// ```
/// use std::time::Duration;
/// use unibill_chartmogul::{BackendBuilder, ChartMogul};
///
/// let cm = ChartMogul::builder()
///     .api_key("my-secret-key")
///     .timeouts(Duration::from_secs(5), Duration::from_secs(20))
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
            options: ClientOptions::new(Some(DEFAULT_BASE_URL))
                .with_rate_limit(DEFAULT_RATE_LIMIT)
                .with_account_scope(AccountScope::Credentials),
        }
    }
}

impl ChartMogulBuilder {
    unibill_core::shared_setters!();

    /// The account's API key (sent as the Basic user name with an empty
    /// password). Held as a [`SecretString`]: never printed.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// A builder from the process environment (see [`env`](mod@env)).
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// A builder from any name -> value lookup, with the variables of
    /// [`env`](mod@env) (blank values count as unset). [`unibill_core::Error::Config`]
    /// names [`env::API_KEY`] when it is missing.
    ///
    /// ```
    /// use unibill_chartmogul::{builder::env, ChartMogulBuilder};
    /// let b = ChartMogulBuilder::from_lookup(&|name| (name == env::API_KEY).then(|| "k".into()));
    /// assert!(b.unwrap().build().is_ok());
    /// let e = ChartMogulBuilder::from_lookup(&|_| None).unwrap_err();
    /// assert!(e.to_string().contains(env::API_KEY), "{e}");
    /// ```
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let mut b = Self::default().api_key(lookup_required(KIND, lookup, env::API_KEY)?);
        if let Some(url) = lookup_set(lookup, env::BASE_URL) {
            b = b.base_url(url);
        }
        Ok(b)
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
