//! Fusebill backend of **unibill**: update a Fusebill customer through the
//! neutral [`unibill_core::CustomerUpdater`] API without losing a field.
//!
//! Fusebill's `PUT /v1/customers` replaces the whole customer and nulls
//! every property the body leaves out. [`Fusebill`] therefore reads the
//! customer, merges the neutral patch into the JSON *as read* ([`merge`]),
//! and sends everything back: properties unibill does not know, nested
//! objects and the JSON types Fusebill used (its answers put numbers where
//! its documentation says String) all survive. A patch that changes
//! nothing sends no `PUT`, and an edit made by someone else between the
//! read and a write held back past
//! [`Settings::max_read_age`](unibill_core::Settings::max_read_age) is
//! detected by reading again and merged over (see [`ConflictCheck`]).
//!
//! ```no_run
//! use unibill_core::{CustomerId, CustomerPatch, CustomerStatus, CustomerUpdater};
//! use unibill_fusebill::{Fusebill, FusebillExtension};
//!
//! # async fn run() -> Result<(), unibill_core::Error> {
//! let fusebill = Fusebill::builder()
//!     .api_key(std::env::var("FUSEBILL_API_KEY").unwrap_or_default())
//!     .build()?;
//! let patch = CustomerPatch::new()
//!     .first_name("Kate")
//!     .campaign("spring-launch")
//!     .status(CustomerStatus::Hold)
//!     .extension(FusebillExtension::new().reference1("crm-991"));
//! let customer = fusebill.update(&CustomerId::from("12000750"), &patch).await?;
//! assert_eq!(customer.first_name.as_deref(), Some("Kate"));
//! # Ok(())
//! # }
//! ```
//!
//! Modules: [`wire`] (Fusebill's JSON vocabulary), [`mapping`] (neutral
//! <-> Fusebill, with the pre-flight validation), [`merge`] (the lossless
//! merge), [`error`] (Fusebill error bodies -> [`unibill_core::Error`]).
//! The field mapping table, the calls an update makes and the known limits
//! are in `docs/fusebill.md`.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

/// The crate README's example, compiled as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod builder;
mod client;
pub mod error;
mod extension;
mod list;
pub mod lookup;
pub mod mapping;
pub mod merge;
pub mod wire;

use unibill_core::BackendKind;

/// How an update guards against edits made outside unibill between its
/// read and its `PUT` (Fusebill has no conditional write); shared with the
/// other backends that read before they write.
pub use unibill_core::ConflictCheck;

pub use builder::{FusebillBuilder, FusebillConfig};
pub use client::{capabilities, Fusebill, DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT};
pub use extension::{FusebillExtension, QuickBooksLatchType, SalesTrackingCode};
/// The shared builder setters (`base_url`, `settings`, `rate_limiter`,
/// ...; bring the trait into scope to call them) and the shared
/// [`Settings`] (timeouts, retry policy, rate limit, ...) they take.
pub use unibill_core::{BackendBuilder, BackendConfig, Settings};

/// The Fusebill backend's name: `"fusebill"`.
pub const KIND: BackendKind = BackendKind::new("fusebill");
