//! The Fusebill emulator: fixtures, credentials and behaviour.
//!
//! Endpoints (`Authorization: Basic {API_KEY}`, the key sent exactly as
//! issued):
//!
//! * `GET /v1/customers/{id}`;
//! * `GET /v1/customers` (a JSON array), filtered with `query=name:value;..`
//!   (string and range filtering), sorted by `id` and paged with
//!   `pageSize`/`pageNumber`, as Stax Bill's reference describes;
//! * `PUT /v1/customers` with `id` in the body and full-replacement
//!   semantics: every writable field absent from the body becomes `null`.
//!
//! Anything else gets the not-emulated answer
//! ([`NOT_EMULATED_STATUS`](crate::NOT_EMULATED_STATUS)).
//!
//! See `docs/sandbox.md` for the validation rules.
//!
//! The emulator is split by concern: routing here, the stored customers,
//! their seeds and the rate-limit headers in `state`, the writable fields
//! and the full-replacement `PUT` in `fields`, value checks in `validate`,
//! the filtered and paged list in `list`, and the error shape in `errors`.
//! The store keeps two ordered indexes (`crate::index`): by
//! `id`, so an unfiltered page is a slice of the list, and by
//! `modifiedTimestamp`, so a `modifiedTimestamp` range reads only the
//! customers in it.

mod errors;
mod fields;
mod list;
mod state;
mod validate;

use errors::error;
pub(crate) use errors::error_response;
pub(crate) use state::rate_limit_headers;
pub(crate) use state::State;
pub use state::{lookup_seed_customers, seed_customers};

use crate::http::{Req, Resp};

/// The API key the emulator accepts, exactly as issued (base64 text).
/// A client that base64-encodes it again is refused with 401.
pub const API_KEY: &str =
    "MDp1bmliaWxsLXNhbmRib3g6ZjVjMWU4YTItN2I0ZC00ZTkzLWE2ZjAtMmQ5YzNiN2UxYTQ4";

/// The customer printed in the "Response" example of Fusebill's
/// `PUT /v1/customers` page, verbatim (JSON text). The emulator seeds
/// [`SEED_CUSTOMER_ID`] from it with [`SEED_CUSTOMER_EMAIL`] and
/// [`SEED_CUSTOMER_SECONDARY_EMAIL`] in place of the page's masked
/// addresses; the backend's tests decode it as is.
pub const SEED_CUSTOMER_PAGE_JSON: &str = include_str!("../../fixtures/fusebill_put_customer.json");

/// Id of the customer printed in the `PUT /v1/customers` page.
pub const SEED_CUSTOMER_ID: &str = "12000750";
/// Primary email of [`SEED_CUSTOMER_ID`] (the page shows a masked
/// placeholder).
pub const SEED_CUSTOMER_EMAIL: &str = "katelyn.floyd@example.com";
/// Secondary email of [`SEED_CUSTOMER_ID`].
pub const SEED_CUSTOMER_SECONDARY_EMAIL: &str = "accounts@ronbert.example.com";
/// Id of the seed customer's parent (`parentId`), also seeded.
pub const PARENT_CUSTOMER_ID: &str = "12000749";
/// Primary email of [`PARENT_CUSTOMER_ID`].
pub const PARENT_CUSTOMER_EMAIL: &str = "billing@ronbert-group.example.com";
/// Primary email shared by the two customers of
/// [`LOOKUP_SHARED_EMAIL_IDS`] (a lookup seed, added with
/// [`VendorHandle::add_lookup_seeds`](crate::VendorHandle::add_lookup_seeds)).
pub const LOOKUP_SHARED_EMAIL: &str = "accounts@hart.example.com";
/// Two lookup seeds with the same `primaryEmail` (and different references).
pub const LOOKUP_SHARED_EMAIL_IDS: [&str; 2] = ["12000801", "12000802"];
/// Reference shared by the two customers of [`LOOKUP_SHARED_REFERENCE_IDS`].
pub const LOOKUP_SHARED_REFERENCE: &str = "GRANT-2023";
/// Two lookup seeds with the same `reference` (and different emails):
/// Fusebill does not keep references unique.
pub const LOOKUP_SHARED_REFERENCE_IDS: [&str; 2] = ["12000803", "12000804"];
/// A lookup seed whose `primaryEmail` holds two `;`-separated addresses
/// ([`LOOKUP_MULTI_PRIMARY_EMAIL`]).
pub const LOOKUP_MULTI_EMAIL_ID: &str = "12000806";
/// `primaryEmail` of [`LOOKUP_MULTI_EMAIL_ID`].
pub const LOOKUP_MULTI_PRIMARY_EMAIL: &str = "ops@vale.example.com;billing@vale.example.com";
/// A lookup seed found alone by its email and by its reference.
pub const LOOKUP_UNIQUE_ID: &str = "12000805";
/// `primaryEmail` of [`LOOKUP_UNIQUE_ID`].
pub const LOOKUP_UNIQUE_EMAIL: &str = "rosa@lindsolo.example.com";
/// `reference` of [`LOOKUP_UNIQUE_ID`].
pub const LOOKUP_UNIQUE_REFERENCE: &str = "LIND-0805";
/// The account's default currency (a `PUT` without `currency` keeps the
/// customer's own: it cannot change after creation).
pub const DEFAULT_CURRENCY: &str = "USD";
/// Customer statuses.
pub const STATUSES: &[&str] = &["Draft", "Active", "Hold", "Suspended", "Cancelled"];
/// Name titles.
pub const TITLES: &[&str] = &["Mr", "Mrs", "Ms", "Miss", "Dr"];
/// QuickBooks latch types.
pub const QUICKBOOKS_LATCH_TYPES: &[&str] = &["CreateNew", "LatchExisting", "DoNothing"];
/// Sales tracking code types of an account that renamed none.
pub const SALES_TRACKING_CODE_TYPES: &[&str] = &[
    "Sales Tracking Code 1",
    "Sales Tracking Code 2",
    "Sales Tracking Code 3",
    "Sales Tracking Code 4",
    "Sales Tracking Code 5",
];
/// Fields the system manages: a `PUT` never changes them.
pub const SYSTEM_FIELDS: &[&str] = &[
    "id",
    "uri",
    "customerAccountStatus",
    "monthlyRecurringRevenue",
    "netMonthlyRecurringRevenue",
    "createdTimestamp",
    "modifiedTimestamp",
];

impl State {
    pub(crate) fn handle(&mut self, req: &Req) -> Resp {
        if req.basic_credentials() != Some(API_KEY) {
            return error(
                401,
                "Api Error",
                "The API key is missing or invalid; send Authorization: Basic {APIKey} with the key as issued",
            );
        }
        let segs: Vec<String> = req
            .segments()
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let method = req.method.as_str();
        match segs.as_slice() {
            ["v1", "customers"] => match method {
                "PUT" => {
                    if !req.has_body() {
                        return error(
                            400,
                            "Api Error",
                            "A customer object is required in the request body",
                        );
                    }
                    if !req.content_type_is_json() {
                        return error(415, "Api Error", "Content-Type must be application/json");
                    }
                    match req.json() {
                        Ok(body) => self.put(body),
                        Err(e) => error(
                            400,
                            "Api Error",
                            &format!("The request body is not valid JSON: {e}"),
                        ),
                    }
                }
                "GET" => self.list(req),
                _ => crate::not_emulated::answer("Fusebill", req),
            },
            ["v1", "customers", id] => match method {
                "GET" => match id.parse::<i64>().ok().and_then(|n| self.find(n)) {
                    Some(i) => Resp::json(200, &self.customers[i]),
                    None => error(404, "Api Error", &format!("Customer {id} was not found")),
                },
                _ => crate::not_emulated::answer("Fusebill", req),
            },
            _ => crate::not_emulated::answer("Fusebill", req),
        }
    }
}
