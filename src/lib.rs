//! # unibill
//!
//! Update a billing customer at **ChartMogul**, **Fusebill** or an
//! **Everlytic** install through one neutral API. The calling code is the
//! same for every vendor; which one receives the update is a cargo feature
//! plus one line of configuration.
//!
//! ```no_run
//! use unibill::{Config, CustomerPatch, CustomerId};
//!
//! # async fn run() -> unibill::Result<()> {
//! let updater = Config::from_env()?.build()?;   // UNIBILL_BACKEND=fusebill, FUSEBILL_API_KEY=...
//! let patch = CustomerPatch::new().first_name("Katelyn").email("katelyn@example.com");
//! let customer = updater.update(&CustomerId::from("12000750"), &patch).await?;
//! println!("{:?}", customer.email);
//! # Ok(()) }
//! ```
//!
//! - [`CustomerPatch`]: the neutral update (a JSON Merge Patch of the
//!   neutral customer: keep / set / clear per field, tags, typed custom
//!   attributes, per-backend extensions).
//! - [`CustomerUpdater`]: the object-safe trait callers use, which every
//!   backend gets by implementing the hooks of [`Backend`];
//!   [`Capabilities`] says what each can do, and anything else is refused
//!   with [`Error::Unsupported`] before any request.
//! - [`Config`]: a serde-friendly choice of backend and settings that
//!   builds an `Arc<dyn CustomerUpdater>` ([`Config::build`]) or a typed
//!   [`Client`] with the vendor-only calls ([`Config::build_client`]);
//!   [`Config::from_env`] reads [`config::BACKEND_VAR`], the backend's
//!   own variables and the shared [`Settings::ENV`].
//! - [`Settings`]: the connection settings every backend shares (timeouts,
//!   retry, rate limit, lock wait, ...), one plain struct with public
//!   fields and `Default`, read by serde from files and the environment.
//! - [`BackendBuilder`]: the builder setters of `ChartMogul::builder()` and
//!   the others: `base_url`, `settings` (a whole [`Settings`]) and the
//!   runtime objects (`rate_limiter`, `write_locking`, `http_client`).
//! - [`bulk`]: many updates at the vendor's rate limit.
//!
//! Backends are behind cargo features `chartmogul`, `fusebill` and
//! `everlytic` (all three on by default; use `default-features = false`
//! and name the one you use to compile only it). Each enabled backend's
//! crate is re-exported under its name (`unibill::fusebill::Fusebill`).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

pub mod config;

/// The README's examples, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use config::{Client, Config};
pub use unibill_core::builder::{RedisSetting, Settings};

// Everything of core stays reachable from here (`unibill::Transport`
// included, for backends written outside this workspace), but the front
// page lists only what callers use: the transport's internals are
// documented under `unibill::transport`.
#[doc(hidden)]
pub use unibill_core::*;

#[doc(inline)]
pub use unibill_core::{
    async_trait, attribute, bulk, bulk_update_stream, capability, change, check, customer, error,
    kind, patch, portable, reference, status, transport, update, updater, values, Acquisition,
    AcquisitionPatch, Address, AddressPatch, AsCustomerRef, AttributeType, AttributeValue, Backend,
    BackendBuilder, BackendConfig, BackendKind, BulkItemResult, BulkOptions, BulkStream,
    BulkSummary, Capabilities, Change, CheckedPatch, CountryCode, Currency, CustomAttribute,
    Customer, CustomerId, CustomerPatch, CustomerRef, CustomerStatus, CustomerUpdater, Decimal,
    DryRun, Error, ErrorKind, ExposeSecret, Extensions, Field, FieldCaps, Ignored, LookupKind,
    Money, Op, PatchExtension, PlannedRequest, Portability, RateLimit, Result, RetryConfig,
    SecretString, TagChanges, Target, TransportConfig, UnsupportedPolicy, UpdateOptions,
    UpdateOutcome,
};

/// The crate of each backend compiled in, under its name
/// (`unibill::fusebill`), and [`backend_capabilities`], from the registry
/// in [`config`].
macro_rules! backend_items {
    ($(
        $name:ident($($arg:ident),*) => $variant:ident($config:ident)
            in $krate:ident, feature = $feature:literal, $as_x:ident;
    )*) => {
        $(
            #[doc = concat!("The ", stringify!($variant), " backend (feature `", $feature, "`).")]
            #[cfg(feature = $feature)]
            #[doc(inline)]
            pub use $krate as $name;
        )*

        /// The [`Capabilities`] of every compiled-in backend, in registry
        /// order (ChartMogul, Fusebill, Everlytic); no credentials or
        /// network needed. Pass them to [`Capabilities::common`] or
        /// [`CustomerPatch::portability`] to write calling code that any of
        /// them can run.
        ///
        /// ```
        /// let all = unibill::backend_capabilities();
        /// let patch = unibill::CustomerPatch::new().email("ada@example.com");
        /// assert!(patch.portability(&all).is_portable());
        /// ```
        pub fn backend_capabilities() -> Vec<Capabilities> {
            vec![$(#[cfg(feature = $feature)] $krate::capabilities(),)*]
        }
    };
}

config::registry!(backend_items);

/// A rate limit and per-customer write lock shared by several processes
/// through Redis (feature `redis`, off by default); see
/// `docs/scaling.md`.
#[cfg(feature = "redis")]
#[doc(inline)]
pub use unibill_redis as redis;

/// Comparing and repairing customers between two backends: pairing by
/// reference, email or an id map, and drift reports (feature `migrate`,
/// off by default).
#[cfg(feature = "migrate")]
#[doc(inline)]
pub use unibill_migrate as migrate;

/// The [`Capabilities`] of the compiled-in backend named `backend`
/// (`"chartmogul"`, `"fusebill"`, `"everlytic"`, as in `UNIBILL_BACKEND`);
/// `None` for any other name or a backend whose feature is off.
pub fn capabilities_of(backend: &str) -> Option<Capabilities> {
    backend_capabilities()
        .into_iter()
        .find(|c| c.backend().as_str() == backend)
}

/// The capability table of every compiled-in backend, as Markdown (one row
/// per neutral field, one column per backend). Builds each backend with
/// placeholder credentials; makes no network call.
pub fn capability_table() -> Result<String> {
    let configs = config::placeholders();
    let updaters = configs
        .iter()
        .map(Config::build)
        .collect::<Result<Vec<_>>>()?;
    let caps: Vec<&Capabilities> = updaters.iter().map(|u| u.capabilities()).collect();
    Ok(capability::markdown_table(&caps))
}
