//! ChartMogul backend of **unibill**: updates a ChartMogul customer from a
//! neutral [`CustomerPatch`](unibill_core::CustomerPatch).
//!
//! One patch becomes the fewest ChartMogul calls that apply it exactly, in
//! this order (each sent only when the patch needs it):
//!
//! 1. `PATCH /v1/customers/{uuid}` with only the plain fields that change;
//! 2. `POST /v1/customers/{uuid}/attributes/custom`: custom attributes to
//!    create or set, each with its type;
//! 3. `DELETE /v1/customers/{uuid}/attributes/custom`: keys to remove;
//! 4. `POST /v1/customers/{uuid}/attributes/tags`: tags to add;
//! 5. `DELETE /v1/customers/{uuid}/attributes/tags`: tags to remove;
//!
//! The result is the customer as ChartMogul holds it: the PATCH's answer
//! (the whole customer) with the custom map and the tags the later calls
//! answered, or, when no PATCH was sent or an answer does not carry what
//! it documents, one `GET` after the writes. A patch of plain fields is
//! exactly one request, with one attribute or tag change two; a failure
//! after a call has applied is an
//! [`Error::PartialUpdate`](unibill_core::Error::PartialUpdate) naming the
//! calls that did. Everything ChartMogul would refuse (lead-only status,
//! timestamps, attribute keys and types, emails) is refused before the
//! first request.
//!
//! ```no_run
//! use unibill_chartmogul::ChartMogul;
//! use unibill_core::{CustomerId, CustomerPatch, CustomerUpdater};
//!
//! # async fn demo() -> unibill_core::Result<()> {
//! let cm = ChartMogul::builder().api_key("YOUR_API_KEY").build()?;
//! let id = CustomerId::from("cus_ab223d54-75b4-431b-adb2-eb6b9e234571");
//! let patch = CustomerPatch::new()
//!     .city("San Francisco")
//!     .country("US")
//!     .custom("CAC", 25)
//!     .add_tag("high-value");
//! let customer = cm.update(&id, &patch).await?;
//! println!("MRR {:?}, tags {:?}", customer.mrr, customer.tags);
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/chartmogul.md` for the field mapping table, validation rules,
//! error mapping and known limits.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

/// The crate README's example, compiled as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

use unibill_core::BackendKind;

pub mod builder;
pub mod client;
pub mod error;
pub mod extension;
mod list;
pub mod lookup;
pub mod mapping;
pub mod wire;

pub use builder::{ChartMogulBuilder, ChartMogulConfig};
pub use client::{capabilities, ChartMogul, DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT};
pub use extension::{ChartMogulExtension, PrimaryContactPatch};
/// The shared builder setters (`base_url`, `settings`, `rate_limiter`,
/// ...; bring the trait into scope to call them) and the shared
/// [`Settings`] (timeouts, retry policy, rate limit, ...) they take.
pub use unibill_core::{BackendBuilder, BackendConfig, Settings};

/// The name of this backend: `"chartmogul"`.
pub const KIND: BackendKind = BackendKind::new("chartmogul");
