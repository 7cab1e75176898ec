//! Core of **unibill**: the neutral customer model, the [`Backend`] hooks
//! trait every backend implements, the [`CustomerUpdater`] trait callers
//! use on any backend, the [`Error`] type, and the HTTP [`transport`] the
//! backends share.
//!
//! Core knows no vendor. A caller builds a [`CustomerPatch`] once and hands
//! it to any backend (ChartMogul, Fusebill, Everlytic), chosen by cargo
//! feature and configuration in the `unibill` facade crate.
//!
//! ```
//! use unibill_core::{CustomerPatch, CustomerStatus};
//! let patch = CustomerPatch::new()
//!     .city("San Francisco")
//!     .country("US")
//!     .status(CustomerStatus::Active)
//!     .custom("CAC", 25);
//! assert!(patch.validate().is_ok());
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

// The crate README's example, compiled as a doc test so it cannot rot
// (rustdoc runs the doc tests of private items too).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

// Three roles, one folder each: `model` (what a caller builds and reads),
// `backend` (the kit a backend implements and builds on), `runtime` (the
// calls a caller makes). The model imports neither of the others.
pub mod backend;
pub mod error;
mod model;
mod runtime;

pub use backend::{builder, lock, lookup, transport};
pub use model::{
    attribute, capability, change, check, customer, field, kind, listing, patch, reference, status,
    update, values,
};
pub use runtime::{bulk, portable, updater};

pub use attribute::{AttributeType, AttributeValue, CustomAttribute};
pub use backend::Backend;
pub use builder::{BackendBuilder, BackendConfig, ConflictCheck, Settings};
pub use bulk::{bulk_update_stream, BulkItemResult, BulkOptions, BulkStream, BulkSummary};
pub use capability::{Capabilities, FieldCaps, Op, Target};
pub use change::Change;
pub use customer::{Acquisition, Address, Customer};
pub use error::{Error, ErrorKind, Result};
pub use field::{Field, FieldKind, FieldValue};
pub use kind::{BackendKind, CustomerId};
pub use listing::{ListOptions, ListPage, ListPosition, Listing};
pub use lock::{CustomerLocks, LockFailure, LockGuard, WriteLock, WriteLocking};
pub use patch::{
    AcquisitionPatch, AddressPatch, CustomerPatch, Extensions, PatchExtension, TagChanges,
};
pub use portable::Portability;
pub use reference::{AsCustomerRef, CustomerRef, LookupKind};
pub use status::CustomerStatus;
pub use transport::{
    Auth, Idempotency, RateLimit, Request, Response, RetryConfig, Transport, TransportConfig,
};
pub use update::{
    CheckedPatch, DryRun, Ignored, Mirrored, PlannedRequest, UnsupportedPolicy, UpdateOptions,
    UpdateOutcome,
};
pub use updater::CustomerUpdater;
pub use values::{CountryCode, Currency, Decimal, Money};

pub use async_trait::async_trait;
pub use secrecy::{ExposeSecret, SecretString};
