//! Everlytic backend of **unibill**: an email platform's customers
//! (`/api/2.0/customers`, on Everlytic's own hosts or a white-label install)
//! behind the neutral [`CustomerUpdater`] API.
//!
//! ```no_run
//! use unibill_core::{CustomerId, CustomerPatch, CustomerStatus, CustomerUpdater};
//! use unibill_everlytic::{BackendBuilder, Everlytic, EverlyticExtension, Industry};
//!
//! # async fn demo() -> unibill_core::Result<()> {
//! let everlytic = Everlytic::builder()
//!     .base_url("https://mail.example.com") // your install: there is no default
//!     .username("acme-admin")
//!     .api_key(std::env::var("EVERLYTIC_API_KEY").unwrap_or_default())
//!     .build()?;
//!
//! let patch = CustomerPatch::new()
//!     .status(CustomerStatus::Active)
//!     .postal_code("8001")
//!     .extension(
//!         EverlyticExtension::new()
//!             .email_quota(50_000)
//!             .industry(Industry::RetailWholesale),
//!     );
//! // Reads the customer for its name and email (required on every
//! // update), then sends one PUT.
//! let customer = everlytic.update(&CustomerId::new("1001"), &patch).await?;
//! println!("{:?} {:?}", customer.name, customer.status);
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/everlytic.md` for the field mapping, the requests each update
//! sends, the validation rules and the error mapping.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

/// The crate README's example, compiled as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod builder;
mod client;
mod error;
mod extension;
mod listing;
mod mapping;
mod wire;

use unibill_core::BackendKind;

pub use builder::{EverlyticBuilder, EverlyticConfig};
pub use client::{capabilities, Everlytic};
pub use extension::{EverlyticExtension, MAX_INTEGER};
pub use mapping::EverlyticFields;
/// How an update that reads the customer first guards against edits made
/// outside unibill before its `PUT` (the platform has no conditional
/// write); shared with the other backends that read before they write.
pub use unibill_core::ConflictCheck;
/// The shared builder setters (`base_url`, `settings`, `rate_limiter`,
/// ...; bring the trait into scope to call them) and the shared
/// [`Settings`] (timeouts, retry policy, rate limit, ...) they take.
pub use unibill_core::{BackendBuilder, BackendConfig, Settings};
pub use wire::{Industry, IndustryValue, UnknownIndustry};

pub use unibill_core::{CustomerUpdater, PatchExtension};

/// This backend's name: `"everlytic"`.
pub const KIND: BackendKind = BackendKind::new("everlytic");

/// Entry points for the fuzz targets (`crates/unibill-fuzz`): the
/// platform's answer and error decoders, from raw bytes. Not part of the
/// API.
#[doc(hidden)]
pub mod fuzzing {
    use unibill_core::transport::Response;
    use unibill_core::{CustomerId, Error};

    /// Decodes a successful answer to a read, as the client does.
    pub fn decode_answer(body: &[u8]) -> Result<unibill_core::Customer, Error> {
        let raw = serde_json::from_slice(body)
            .map_err(|e| Error::decode(crate::KIND, "customer response", e))?;
        crate::client::decode_read(&CustomerId::new("1"), 200, raw)
    }

    /// Maps an error answer to the neutral error, as the client does.
    pub fn decode_error(status: u16, body: &[u8]) -> Error {
        let response = Response {
            status,
            headers: Default::default(),
            body: body.to_vec().into(),
            attempts: 1,
        };
        crate::error::from_response(&response, Some("1"))
    }
}
