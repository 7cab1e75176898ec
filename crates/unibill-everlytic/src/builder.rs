//! [`EverlyticBuilder`]: the install's address, the user and API key, the
//! conflict check, the shared connection settings of [`BackendBuilder`],
//! and this backend's own environment variables ([`env`](mod@env)).

use secrecy::SecretString;

use secrecy::ExposeSecret;
use serde::Deserialize;
use unibill_core::builder::{required_secret, BackendConfig, CommonConfig};
use unibill_core::lock::AccountScope;
use unibill_core::transport::{Auth, ClientOptions};
use unibill_core::{BackendBuilder, BackendKind, ConflictCheck, Error, Result};

use crate::client::Everlytic;
use crate::KIND;

/// The environment variables [`EverlyticConfig`] reads (with the shared
/// ones of [`Settings::ENV`](unibill_core::Settings::ENV); the `unibill`
/// facade reads them when `UNIBILL_BACKEND=everlytic`).
pub mod env {
    /// The install's URL (required: there is no default host).
    pub const URL: &str = "EVERLYTIC_URL";
    /// The API user's name (required).
    pub const USERNAME: &str = "EVERLYTIC_USERNAME";
    /// The API key (required).
    pub const API_KEY: &str = "EVERLYTIC_API_KEY";
    /// The conflict check: `reread` (default), `reread:N` or `off`.
    pub const CONFLICT_CHECK: &str = "EVERLYTIC_CONFLICT_CHECK";
    /// Every variable of this backend's own.
    pub const ALL: &[&str] = &[URL, USERNAME, API_KEY, CONFLICT_CHECK];
}

/// Builds an [`Everlytic`] client. The install's address, the user name
/// and the API key are required; the shared setters (`settings` with the
/// timeouts, retry policy, rate limit, ...) come with [`BackendBuilder`].
///
/// The address is your install's (`https://mail.example.com`, optionally
/// with a path prefix for installs served below one), not the API's:
/// `/api/2.0` is added by the client. There is no default host and no
/// default rate limit (the platform documents none).
///
/// ```
/// use std::time::Duration;
/// use unibill_everlytic::{BackendBuilder, Everlytic, Settings};
/// let client = Everlytic::builder()
///     .base_url("https://mail.example.com")
///     .username("acme-admin")
///     .api_key("not-a-real-key")
///     .settings(Settings {
///         connect_timeout: Duration::from_secs(5),
///         timeout: Duration::from_secs(20),
///         ..Settings::default()
///     })
///     .build()
///     .unwrap();
/// assert!(!format!("{client:?}").contains("not-a-real-key"));
/// ```
#[derive(Clone, Debug)]
pub struct EverlyticBuilder {
    username: Option<String>,
    api_key: Option<SecretString>,
    options: ClientOptions,
    conflict: ConflictCheck,
}

impl Default for EverlyticBuilder {
    fn default() -> Self {
        Self {
            username: None,
            api_key: None,
            // Each install is one account: every user and key of it
            // reaches the same customers, so its address alone identifies
            // the account (two users' updates of one customer serialise).
            options: ClientOptions {
                default_account_scope: AccountScope::BaseUrl,
                ..ClientOptions::default()
            },
            conflict: ConflictCheck::default(),
        }
    }
}

impl EverlyticBuilder {
    /// The user name the API key belongs to (required).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// The API key (required), kept as a [`SecretString`]: never shown by
    /// `Debug`, errors or logs.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// How an update that reads the customer first (to send its current
    /// `name` and `email`) guards against an edit made outside unibill
    /// before its `PUT` (default [`ConflictCheck::Reread`] with 3 rounds:
    /// one more `GET` when the read is older than
    /// [`Settings::max_read_age`](unibill_core::Settings::max_read_age)
    /// once the `PUT` may go).
    pub fn conflict_check(mut self, check: ConflictCheck) -> Self {
        self.conflict = check;
        self
    }

    /// Builds the client. A missing or malformed setting is an
    /// [`Error::Config`] naming it (`base_url`, `username`, `api_key`).
    pub fn build(mut self) -> Result<Everlytic> {
        let base = self
            .options
            .base_url
            .take()
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                Error::config(
                    "base_url",
                    "required: the address of your Everlytic install (there is no default host)",
                )
            })?;
        if base.to_ascii_lowercase().ends_with("/api/2.0") {
            return Err(Error::config(
                "base_url",
                "give the install's address without `/api/2.0` (the client adds it)",
            ));
        }
        let username = self
            .username
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| Error::config("username", "required: the API user's name"))?;
        if username.contains(':') {
            return Err(Error::config("username", "must not contain `:`"));
        }
        let key = required_secret(KIND, "api_key", self.api_key)?;
        let auth = Auth::Basic {
            username: username.clone(),
            password: key,
        };
        self.options.base_url = Some(base);
        let max_read_age = self.options.settings.max_read_age;
        let transport = self.options.transport(KIND, auth)?;
        Ok(Everlytic::new(
            transport,
            username,
            self.conflict,
            max_read_age,
        ))
    }
}

impl BackendBuilder for EverlyticBuilder {
    type Client = Everlytic;
    const KIND: BackendKind = KIND;

    fn options_mut(&mut self) -> &mut ClientOptions {
        &mut self.options
    }

    fn build(self) -> Result<Everlytic> {
        EverlyticBuilder::build(self)
    }
}
/// An Everlytic client's config, as a file (`{"backend": "everlytic",
/// "base_url": "https://mail.example.com", "username": "...", "api_key":
/// "...", "settings": {...}}` through `unibill::Config`) or the
/// environment ([`env`](mod@env) and the shared
/// [`Settings::ENV`](unibill_core::Settings::ENV)) writes it.
///
/// ```
/// use unibill_everlytic::{builder::env, BackendConfig, EverlyticConfig};
///
/// let vars = [
///     (env::URL.to_string(), "https://mail.example.com".to_string()),
///     (env::USERNAME.to_string(), "api-user".to_string()),
/// ];
/// let e = EverlyticConfig::from_map(&vars).unwrap_err();
/// assert!(e.to_string().contains(env::API_KEY), "{e}");
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EverlyticConfig {
    /// The API user's name.
    pub username: String,
    /// The user's API key.
    pub api_key: SecretString,
    /// How an update guards against edits made outside unibill between
    /// its read and its write: `"reread"` (default, 3 rounds),
    /// `"reread:N"` or `"off"`.
    #[serde(default)]
    pub conflict_check: ConflictCheck,
    /// The install's address (`base_url`, also read as `url`; required:
    /// there is no default host) and the shared connection settings.
    #[serde(flatten)]
    pub common: CommonConfig,
}

impl EverlyticConfig {
    /// A config for this install, user and key, with default settings.
    pub fn new(
        base_url: impl Into<String>,
        username: impl Into<String>,
        api_key: impl Into<String>,
    ) -> Self {
        let mut config = Self {
            username: username.into(),
            api_key: SecretString::from(api_key.into()),
            conflict_check: ConflictCheck::default(),
            common: CommonConfig::default(),
        };
        config.common.base_url = Some(base_url.into());
        config
    }
}

impl BackendConfig for EverlyticConfig {
    type Builder = EverlyticBuilder;
    const ENV_PREFIX: &'static str = "EVERLYTIC_";
    const ENV: &'static [&'static str] = env::ALL;

    fn placeholder() -> Self {
        Self::new("https://install.example.com", "placeholder", "placeholder")
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }

    fn common_mut(&mut self) -> &mut CommonConfig {
        &mut self.common
    }

    fn builder(&self) -> EverlyticBuilder {
        EverlyticBuilder::default()
            .username(self.username.clone())
            .api_key(self.api_key.expose_secret())
            .conflict_check(self.conflict_check)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_freshness_bound_reaches_the_client() {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let base = [
            pair(env::URL, "http://127.0.0.1:9"),
            pair(env::USERNAME, "u"),
            pair(env::API_KEY, "k"),
        ];
        let config = EverlyticConfig::from_map(&base).unwrap();
        assert_eq!(config.build().unwrap().max_read_age, Duration::from_secs(1));
        let mut vars = base.to_vec();
        vars.push(pair("UNIBILL_MAX_READ_AGE", "750ms"));
        let config = EverlyticConfig::from_map(&vars).unwrap();
        assert_eq!(
            config.build().unwrap().max_read_age,
            Duration::from_millis(750)
        );
        let file: EverlyticConfig = serde_json::from_str(
            r#"{"base_url": "http://127.0.0.1:9", "username": "u", "api_key": "k",
                "settings": {"max_read_age": 0}}"#,
        )
        .unwrap();
        assert_eq!(file.build().unwrap().max_read_age, Duration::ZERO);
        vars.push(pair("UNIBILL_MAX_READ_AGE", "whenever"));
        vars.swap_remove(3);
        match EverlyticConfig::from_map(&vars) {
            Err(Error::Config { field, .. }) => assert_eq!(field, "UNIBILL_MAX_READ_AGE"),
            other => panic!("{other:?}"),
        }
    }
}
