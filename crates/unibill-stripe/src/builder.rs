//! [`StripeBuilder`]: the secret key, the metadata key of the external
//! reference, the shared connection settings of [`BackendBuilder`], and
//! this backend's own environment variables ([`env`](mod@env)).

use secrecy::{ExposeSecret, SecretString};

use serde::Deserialize;
use unibill_core::builder::{required_secret, BackendConfig, CommonConfig};
use unibill_core::lock::AccountScope;
use unibill_core::transport::{Auth, ClientOptions};
use unibill_core::{BackendBuilder, BackendKind, Error, Result};

use crate::client::{Stripe, DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT, DEFAULT_REFERENCE_KEY};
use crate::mapping::check_metadata_key;
use crate::KIND;

/// The environment variables [`StripeConfig`] reads (with the shared ones
/// of [`Settings::ENV`](unibill_core::Settings::ENV); the `unibill` facade
/// reads them when `UNIBILL_BACKEND=stripe`).
pub mod env {
    /// The secret (`sk_...`) or restricted (`rk_...`) key (required).
    pub const API_KEY: &str = "STRIPE_API_KEY";
    /// Base URL override (default `https://api.stripe.com`).
    pub const BASE_URL: &str = "STRIPE_BASE_URL";
    /// The metadata key holding the external reference (default
    /// `external_id`).
    pub const REFERENCE_KEY: &str = "STRIPE_REFERENCE_KEY";
    /// Every variable of this backend's section.
    pub const ALL: &[&str] = &[API_KEY, BASE_URL, REFERENCE_KEY];
}

/// Builds a [`Stripe`] client. The shared setters (`base_url`, `settings`
/// with the timeouts, retry policy, rate limit, ...) come with
/// [`BackendBuilder`].
///
/// ```
/// use std::time::Duration;
/// use unibill_stripe::{BackendBuilder, Settings, Stripe};
///
/// let stripe = Stripe::builder()
///     .api_key("sk_test_my-secret-key")
///     .reference_key("crm_id")
///     .settings(Settings {
///         timeout: Duration::from_secs(20),
///         ..Settings::default()
///     })
///     .build()
///     .unwrap();
/// assert!(!format!("{stripe:?}").contains("my-secret-key"));
/// assert_eq!(stripe.reference_key(), "crm_id");
/// ```
#[derive(Clone, Debug)]
pub struct StripeBuilder {
    api_key: Option<SecretString>,
    reference_key: String,
    options: ClientOptions,
}

impl Default for StripeBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            reference_key: DEFAULT_REFERENCE_KEY.to_owned(),
            // A Stripe key belongs to one account (and one mode, live or
            // test) wherever it is sent: the key identifies the account.
            options: ClientOptions {
                base_url: Some(DEFAULT_BASE_URL.to_owned()),
                default_rate_limit: Some(DEFAULT_RATE_LIMIT),
                default_retry_advice: Some(crate::error::retry_advice),
                default_account_scope: AccountScope::Credentials,
                ..ClientOptions::default()
            },
        }
    }
}

impl StripeBuilder {
    /// The account's secret key (`sk_live_...`, `sk_test_...`) or a
    /// restricted key (`rk_...`) allowed to read and write customers,
    /// sent as `Authorization: Bearer <key>`. Held as a [`SecretString`]:
    /// never printed.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// The metadata key that holds the neutral external reference
    /// (default [`DEFAULT_REFERENCE_KEY`], `external_id`). It follows
    /// Stripe's metadata key rules (1 to 40 characters, no `[` or `]`)
    /// and, since lookups quote it in a search query, holds no `'`, `"`
    /// or `\`.
    pub fn reference_key(mut self, key: impl Into<String>) -> Self {
        self.reference_key = key.into();
        self
    }

    /// The client; [`Error::Config`] when the key is missing, empty or
    /// publishable (`pk_...`, which cannot read customers), the reference
    /// key is unusable, or the base URL or a setting is unusable.
    pub fn build(self) -> Result<Stripe> {
        let key = required_secret(KIND, "api_key", self.api_key)?;
        if key.expose_secret().trim_start().starts_with("pk_") {
            return Err(Error::config(
                "api_key",
                "a publishable key (`pk_...`) cannot read or update customers: use a secret (`sk_...`) or restricted (`rk_...`) key",
            ));
        }
        check_reference_key(&self.reference_key)?;
        let transport = self.options.transport(KIND, Auth::Bearer(key))?;
        Ok(Stripe::new(transport, self.reference_key))
    }
}

/// The reference key's rules: a metadata key that can be quoted in a
/// search query.
fn check_reference_key(key: &str) -> Result<()> {
    let config = |reason: String| Error::config("reference_key", reason);
    check_metadata_key("reference_key", key).map_err(|e| match e {
        Error::Validation { reason, .. } => config(reason),
        other => other,
    })?;
    if key.contains(['\'', '"', '\\']) {
        return Err(config(
            "must not contain quotes or `\\` (it is quoted in search queries)".into(),
        ));
    }
    Ok(())
}

impl BackendBuilder for StripeBuilder {
    type Client = Stripe;
    const KIND: BackendKind = KIND;

    fn options_mut(&mut self) -> &mut ClientOptions {
        &mut self.options
    }

    fn build(self) -> Result<Stripe> {
        StripeBuilder::build(self)
    }
}

/// A Stripe client's config, as a file (`{"backend": "stripe",
/// "api_key": "...", "reference_key": "crm_id", "settings": {...}}`
/// through `unibill::Config`) or the environment ([`env`](mod@env) and the
/// shared [`Settings::ENV`](unibill_core::Settings::ENV)) writes it.
///
/// ```
/// use unibill_stripe::{builder::env, BackendConfig, StripeConfig};
///
/// let vars = [
///     (env::API_KEY.to_string(), "sk_test_k".to_string()),
///     (env::REFERENCE_KEY.to_string(), "crm_id".to_string()),
/// ];
/// let config = StripeConfig::from_map(&vars).unwrap();
/// assert_eq!(config.common.base_url, None); // the default host
/// assert_eq!(config.build().unwrap().reference_key(), "crm_id");
/// let e = StripeConfig::from_map(&[]).unwrap_err();
/// assert!(e.to_string().contains(env::API_KEY), "{e}");
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StripeConfig {
    /// The secret or restricted key (sent as a Bearer token).
    pub api_key: SecretString,
    /// The metadata key of the external reference; `None`:
    /// [`DEFAULT_REFERENCE_KEY`].
    #[serde(default)]
    pub reference_key: Option<String>,
    /// The base URL (default [`DEFAULT_BASE_URL`]) and the shared
    /// connection settings.
    #[serde(flatten)]
    pub common: CommonConfig,
}

impl StripeConfig {
    /// A config with this key and default settings.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            api_key: SecretString::from(api_key.into()),
            reference_key: None,
            common: CommonConfig::default(),
        }
    }
}

impl BackendConfig for StripeConfig {
    type Builder = StripeBuilder;
    const ENV_PREFIX: &'static str = "STRIPE_";
    const ENV: &'static [&'static str] = env::ALL;

    fn placeholder() -> Self {
        Self::new("sk_test_placeholder")
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }

    fn common_mut(&mut self) -> &mut CommonConfig {
        &mut self.common
    }

    fn builder(&self) -> StripeBuilder {
        let b = StripeBuilder::default().api_key(self.api_key.expose_secret());
        match &self.reference_key {
            Some(key) => b.reference_key(key.clone()),
            None => b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transport_reads_stripe_should_retry() {
        let stripe = Stripe::builder().api_key("sk_test_x").build().unwrap();
        let advice = stripe.transport_config().retry_advice.expect("set");
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(advice(&headers), None);
        headers.insert("stripe-should-retry", "false".parse().unwrap());
        assert_eq!(advice(&headers), Some(false));
        headers.insert("stripe-should-retry", "true".parse().unwrap());
        assert_eq!(advice(&headers), Some(true));
    }

    #[test]
    fn keys_are_checked_and_never_shown() {
        let e = Stripe::builder().build().unwrap_err();
        assert!(
            matches!(&e, Error::Config { field, .. } if field == "api_key"),
            "{e}"
        );
        let e = Stripe::builder().api_key("  ").build().unwrap_err();
        assert!(
            matches!(&e, Error::Config { field, .. } if field == "api_key"),
            "{e}"
        );
        let e = Stripe::builder()
            .api_key("pk_live_SECRETVALUE")
            .build()
            .unwrap_err();
        assert!(
            matches!(&e, Error::Config { field, .. } if field == "api_key"),
            "{e}"
        );
        assert!(!e.to_string().contains("SECRETVALUE"));
        let e = Stripe::builder()
            .api_key("sk_test_a\nb_SECRETVALUE")
            .build()
            .unwrap_err();
        assert!(!e.to_string().contains("SECRETVALUE"), "{e}");
        let ok = Stripe::builder()
            .api_key("rk_live_SECRETVALUE")
            .build()
            .unwrap();
        assert!(!format!("{ok:?}").contains("SECRETVALUE"));
        let config = StripeConfig::new("sk_live_SECRETVALUE");
        assert!(!format!("{config:?}").contains("SECRETVALUE"));
    }

    #[test]
    fn reference_keys_follow_the_metadata_rules() {
        for bad in ["", "a[b]", "x'y", "back\\slash", &"k".repeat(41)] {
            let e = Stripe::builder()
                .api_key("sk_test_k")
                .reference_key(bad)
                .build()
                .unwrap_err();
            assert!(
                matches!(&e, Error::Config { field, .. } if field == "reference_key"),
                "{bad:?}: {e}"
            );
        }
        let ok = Stripe::builder()
            .api_key("sk_test_k")
            .reference_key("k".repeat(40))
            .build()
            .unwrap();
        assert_eq!(ok.reference_key(), "k".repeat(40));
        assert_eq!(
            Stripe::builder()
                .api_key("k")
                .build()
                .unwrap()
                .reference_key(),
            DEFAULT_REFERENCE_KEY
        );
    }

    #[test]
    fn unknown_config_keys_are_refused() {
        let e = serde_json::from_value::<StripeConfig>(
            serde_json::json!({"api_key": "k", "metadata": "x"}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("metadata"), "{e}");
    }
}
