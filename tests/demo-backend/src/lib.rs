//! A demo backend of unibill: customers kept in a named in-memory store
//! ([`unibill_testkit::memory::InMemory`]), reached with an API key, so
//! that adding a backend can be shown and checked without a vendor.
//!
//! It is what any backend crate provides to the `unibill` facade:
//! - [`KIND`], its name in configs (`"backend": "demo"`);
//! - [`DemoConfig`], its serde config and environment variables
//!   ([`env::ALL`]), a [`BackendConfig`];
//! - [`DemoBuilder`], its [`BackendBuilder`];
//! - [`Demo`], its client, a [`Backend`] (so a `CustomerUpdater`);
//! - [`capabilities`], what it supports, with no client built.
//!
//! A store is named by its base URL (`memory://demo` by default) and is
//! shared by every client of this process that names it; the first
//! client to open it sets its key, and a client with another key is
//! refused ([`Error::Unauthorized`]) on every call. The shared settings
//! (timeouts, retries, rate limit) have nothing to act on here, since no
//! request leaves the process, and writes are locked per store within the
//! process whatever `write_locking` says.
//!
//! Like a vendor, a store knows only the customers stored in it (any other
//! id is [`Error::NotFound`]), refuses a malformed id before looking
//! ([`check_id`]), and journals what it was asked
//! ([`InMemory::requests`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use unibill_core::builder::CommonConfig;
use unibill_core::lock::{AccountId, WriteLocking, DEFAULT_LOCK_WAIT};
use unibill_core::transport::ClientOptions;
use unibill_core::{
    async_trait, Backend, BackendKind, Capabilities, CheckedPatch, Customer, CustomerId,
    CustomerLocks, Error, LockGuard, LookupKind, PlannedRequest, Result, UpdateOutcome,
};
pub use unibill_core::{BackendBuilder, BackendConfig};
use unibill_testkit::memory::{InMemory, STORED};

/// The backend's name.
pub const KIND: BackendKind = BackendKind::new("demo");

/// The store a config names when it names none.
pub const DEFAULT_BASE_URL: &str = "memory://demo";

/// The backend's own environment variables.
pub mod env {
    /// The store's API key (required).
    pub const API_KEY: &str = "DEMO_API_KEY";
    /// The store's name, `memory://...` (default [`super::DEFAULT_BASE_URL`]).
    pub const BASE_URL: &str = "DEMO_BASE_URL";
    /// All of them.
    pub const ALL: &[&str] = &[API_KEY, BASE_URL];
}

/// What the demo backend supports: the text fields the store keeps
/// ([`STORED`]) readable, settable and clearable, tags, and lookups by
/// email and external reference.
pub fn capabilities() -> Capabilities {
    use unibill_core::FieldCaps;
    Capabilities::new(KIND)
        .with_all(&STORED, FieldCaps::ALL)
        .with(unibill_core::Field::Tags, FieldCaps::ALL)
        .with_lookup(LookupKind::Email)
        .with_lookup(LookupKind::External)
}

/// The stores of this process by base URL, each with the key it was
/// opened with.
type Stores = Mutex<HashMap<String, (SecretString, Arc<InMemory>)>>;

/// The stores of this process.
fn stores() -> &'static Stores {
    static STORES: OnceLock<Stores> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

/// The store named `base_url`, opened with `api_key` if it is not open
/// yet (to seed it or read it in tests); and whether `api_key` is its key.
pub fn store(base_url: &str, api_key: &str) -> (Arc<InMemory>, bool) {
    let mut stores = stores().lock().unwrap_or_else(|e| e.into_inner());
    let (key, store) = stores.entry(base_url.to_owned()).or_insert_with(|| {
        let account = AccountId::of(base_url, b"");
        let store = InMemory::new()
            .with_capabilities(capabilities())
            .with_locks(CustomerLocks::new(
                KIND,
                account,
                &WriteLocking::InProcess,
                DEFAULT_LOCK_WAIT,
            ))
            .only_stored();
        (SecretString::from(api_key), Arc::new(store))
    });
    (Arc::clone(store), key.expose_secret() == api_key)
}

/// Checks a customer id: 1 to 64 ASCII letters, digits, `-` or `_`, so
/// that an id is a name and never a path; else [`Error::Validation`]
/// naming `id`.
pub fn check_id(id: &CustomerId) -> Result<()> {
    let s = id.as_str();
    let ok = (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        return Ok(());
    }
    Err(Error::validation(
        "id",
        format!(
            "`{}` is not a demo customer id (1 to 64 letters, digits, `-` or `_`)",
            unibill_core::error::clip(s)
        ),
    ))
}

/// The demo backend's config: `{"backend": "demo", "api_key": "...",
/// "base_url": "memory://shop"}`, or `DEMO_API_KEY` and `DEMO_BASE_URL`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DemoConfig {
    /// The store's API key.
    pub api_key: SecretString,
    /// The store's name (`base_url`, default [`DEFAULT_BASE_URL`]) and
    /// the shared settings.
    #[serde(flatten)]
    pub common: CommonConfig,
}

impl DemoConfig {
    /// A config with this key, the default store and default settings.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            api_key: SecretString::from(api_key.into()),
            common: CommonConfig::default(),
        }
    }
}

impl BackendConfig for DemoConfig {
    type Builder = DemoBuilder;
    const ENV_PREFIX: &'static str = "DEMO_";
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

    fn builder(&self) -> DemoBuilder {
        DemoBuilder::default().api_key(self.api_key.expose_secret())
    }
}

/// Builds a [`Demo`] client.
#[derive(Default)]
pub struct DemoBuilder {
    options: ClientOptions,
    api_key: Option<SecretString>,
}

impl DemoBuilder {
    /// The store's API key (required).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }
}

impl BackendBuilder for DemoBuilder {
    type Client = Demo;
    const KIND: BackendKind = KIND;

    fn options_mut(&mut self) -> &mut ClientOptions {
        &mut self.options
    }

    /// The client of the named store; [`Error::Config`] names `api_key`
    /// when it is missing or blank, `base_url` when it is not
    /// `memory://...`.
    fn build(self) -> Result<Demo> {
        let key = self.api_key.as_ref().map(|k| k.expose_secret().trim());
        let key = key
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Error::config("api_key", "is required"))?;
        let url = self.options.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
        if !url.starts_with("memory://") {
            return Err(Error::config("base_url", "must start with `memory://`"));
        }
        let (store, authorized) = store(url, key);
        Ok(Demo { store, authorized })
    }
}

/// The demo backend's client: the named store, if the key is its key.
#[derive(Clone, Debug)]
pub struct Demo {
    store: Arc<InMemory>,
    authorized: bool,
}

impl Demo {
    /// The store behind this client (to seed or inspect it).
    pub fn store(&self) -> &InMemory {
        &self.store
    }

    fn check(&self) -> Result<()> {
        if self.authorized {
            return Ok(());
        }
        Err(Error::Unauthorized {
            backend: KIND,
            status: 401,
            message: "the API key is not this store's".into(),
        })
    }
}

#[async_trait]
impl Backend for Demo {
    fn kind(&self) -> BackendKind {
        KIND
    }

    fn capabilities(&self) -> &Capabilities {
        self.store.capabilities()
    }

    fn locks(&self) -> &CustomerLocks {
        self.store.locks()
    }

    fn canonical_id(&self, id: &CustomerId) -> Result<CustomerId> {
        check_id(id)?;
        self.store.canonical_id(id)
    }

    async fn fetch(&self, id: &CustomerId) -> Result<Customer> {
        check_id(id)?;
        self.check()?;
        self.store.fetch(id).await
    }

    async fn lookup(&self, kind: LookupKind, value: &str) -> Result<Vec<CustomerId>> {
        self.check()?;
        self.store.lookup(kind, value).await
    }

    async fn apply(
        &self,
        id: &CustomerId,
        patch: &CheckedPatch,
        lock: &LockGuard,
    ) -> Result<UpdateOutcome> {
        check_id(id)?;
        self.check()?;
        self.store.apply(id, patch, lock).await
    }

    async fn plan(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
        check_id(id)?;
        self.check()?;
        self.store.plan(id, patch).await
    }

    fn retries(&self) -> u64 {
        0
    }
}
