//! Stripe backend of **unibill**: updates a Stripe customer from a neutral
//! [`CustomerPatch`](unibill_core::CustomerPatch).
//!
//! An update is one `POST /v1/customers/{id}` carrying only the
//! parameters that change (`""` clears one, `metadata[key]=` deletes a
//! metadata key), with an `Idempotency-Key` that stays the same across the
//! transport's retries of that update, so a write whose answer was lost
//! (a dropped connection, a 5xx) is sent again without applying twice.
//! Stripe answers the whole customer, so no read follows. The one
//! exception: Stripe replaces the `address` sub-object whole, so a patch
//! that changes some of its fields (not all six, and not clearing all)
//! reads the customer first and sends the whole address back.
//!
//! Custom attributes are Stripe `metadata`: text values only, at most 50
//! keys of 40 characters and values of 500, all checked before the first
//! request; the external reference is one metadata key (`external_id` by
//! default, see [`StripeBuilder::reference_key`]).
//!
//! ```no_run
//! use unibill_core::{CustomerId, CustomerPatch, CustomerUpdater};
//! use unibill_stripe::Stripe;
//!
//! # async fn demo() -> unibill_core::Result<()> {
//! let stripe = Stripe::builder().api_key("sk_test_...").build()?;
//! let id = CustomerId::from("cus_NffrFeUfNV2Hib");
//! let patch = CustomerPatch::new()
//!     .email("jenny.rosen@example.com")
//!     .clear_phone()
//!     .custom("plan", "gold");
//! let customer = stripe.update(&id, &patch).await?;
//! println!("{:?}", customer.email);
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/stripe.md` for the field mapping table, the calls each
//! operation makes, limits, lookups, idempotency and error mapping.
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

pub use builder::{StripeBuilder, StripeConfig};
pub use client::{
    capabilities, Stripe, DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT, DEFAULT_REFERENCE_KEY,
};
pub use extension::{Shipping, ShippingAddress, StripeExtension, TaxExempt};
/// The shared builder setters (`base_url`, `settings`, `rate_limiter`,
/// ...; bring the trait into scope to call them) and the shared
/// [`Settings`] (timeouts, retry policy, rate limit, ...) they take.
pub use unibill_core::{BackendBuilder, BackendConfig, Settings};

/// The name of this backend: `"stripe"`.
pub const KIND: BackendKind = BackendKind::new("stripe");
