//! The ChartMogul emulator: fixtures, credentials and behaviour.
//!
//! Endpoints (all under `/v1`, HTTP Basic with [`API_KEY`] as the user name
//! and any password):
//!
//! * `GET /v1/ping` → `{"data":"pong!"}` (to check credentials);
//! * `GET /v1/customers/search?email=` (every customer with that email,
//!   404 when none) and `GET /v1/customers` (the list, filtered by
//!   `external_id`, `data_source_uuid`, `status`, `system`), both paged
//!   with `per_page` and `cursor`;
//! * `GET /v1/customers/{uuid}` and `PATCH /v1/customers/{uuid}` (partial
//!   update of the writable fields, see `docs/sandbox.md`);
//! * `GET /v1/customers/{uuid}/attributes` →
//!   `{"tags","stripe","clearbit","custom"}` (not wrapped);
//! * `POST`/`PUT`/`DELETE /v1/customers/{uuid}/attributes/custom`;
//! * `POST`/`DELETE /v1/customers/{uuid}/attributes/tags`;
//! * `POST /v1/customers/attributes/custom` and
//!   `POST /v1/customers/attributes/tags` (by email).
//!
//! Anything else gets the not-emulated answer
//! ([`NOT_EMULATED_STATUS`](crate::NOT_EMULATED_STATUS)).
//!
//! The seeded customers are the ones printed in the vendor's pages, with
//! realistic `example.com` addresses instead of the captured
//! `"[email protected]"` placeholders.
//!
//! The emulator is split by concern: routing here, the stored customers
//! and their seeds in `state`, the rules of each writable `PATCH` field in
//! `fields`, custom attributes and tags in `attributes`, value checks in
//! `validate`, search and the filtered list in `lookup`, the vendor's
//! error shapes in `errors`, and in `index` the ordered index each
//! emulator serves its list pages from (here by `customer-since` and
//! `id`), so that a page costs the page, not a pass over the store.

mod attributes;
mod errors;
mod fields;
mod lookup;
mod state;
mod validate;

use serde_json::{json, Map, Value};

pub(crate) use errors::error_response;
use errors::{err_code, err_single, not_found};
pub(crate) use state::State;
pub use state::{lookup_seed_customers, seed_customers};

use crate::http::{Req, Resp};

/// The answer to what the emulator does not model (any other method or
/// path): see [`crate::NOT_EMULATED_STATUS`].
fn not_emulated(req: &Req) -> Resp {
    crate::not_emulated::answer("ChartMogul", req)
}

/// The API key the emulator accepts (Basic user name; password ignored).
pub const API_KEY: &str = "3a9c1f0e7b2d4c8a9e6f5b1d0c7a2e48";

/// UUID of the customer printed in the "Update a Customer" page.
pub const SEED_CUSTOMER_UUID: &str = "cus_ab223d54-75b4-431b-adb2-eb6b9e234571";
/// Internal id of [`SEED_CUSTOMER_UUID`].
pub const SEED_CUSTOMER_ID: u64 = 12150249;
/// Email of [`SEED_CUSTOMER_UUID`] (the page shows a masked placeholder).
pub const SEED_CUSTOMER_EMAIL: &str = "ben@example.com";
/// The customer printed in the "Result Format" of ChartMogul's "Update a
/// Customer" page, as captured (JSON text), except for one character: the
/// capture has a trailing comma after `"SalesRep": "Mike"`, which is not
/// JSON, so it is removed. The emulator seeds [`SEED_CUSTOMER_UUID`] from
/// it with [`SEED_CUSTOMER_EMAIL`] in place of the page's masked address;
/// the backend's tests decode it as is.
pub const SEED_CUSTOMER_PAGE_JSON: &str =
    include_str!("../../fixtures/chartmogul_update_customer.json");
/// UUID of the customer printed in the custom-attribute pages.
pub const SECOND_CUSTOMER_UUID: &str = "cus_de305d54-75b4-431b-adb2-eb6b9e546012";
/// Internal id of [`SECOND_CUSTOMER_UUID`].
pub const SECOND_CUSTOMER_ID: u64 = 25647;
/// Email of [`SECOND_CUSTOMER_UUID`] (the page shows a masked placeholder).
pub const SECOND_CUSTOMER_EMAIL: &str = "adam@example.com";
/// External id (`external_id`) of [`SEED_CUSTOMER_UUID`].
pub const SEED_CUSTOMER_EXTERNAL_ID: &str = "34916129";
/// The data source of the seeded customers.
pub const SEED_DATA_SOURCE_UUID: &str = "ds_fef05d54-47b4-431b-aed2-eb6b9e545430";
/// A second data source, holding one of the lookup seeds
/// ([`VendorHandle::add_lookup_seeds`](crate::VendorHandle::add_lookup_seeds)).
pub const LOOKUP_SECOND_DATA_SOURCE_UUID: &str = "ds_7c41e2a8-5d3b-11ee-9f2a-3b5c8d1e4f60";
/// Email shared by the two customers of [`LOOKUP_SHARED_UUIDS`] (a lookup
/// seed).
pub const LOOKUP_SHARED_EMAIL: &str = "billing@twinpeaks.example.com";
/// External id shared by the two customers of [`LOOKUP_SHARED_UUIDS`]: the
/// same account imported from two data sources.
pub const LOOKUP_SHARED_EXTERNAL_ID: &str = "acct_7001";
/// Two lookup seeds with the same email and external id, one in
/// [`SEED_DATA_SOURCE_UUID`], one in [`LOOKUP_SECOND_DATA_SOURCE_UUID`]
/// (in the order the API lists them).
pub const LOOKUP_SHARED_UUIDS: [&str; 2] = [
    "cus_5e3a0c1e-5d3b-11ee-8c99-0242ac120001",
    "cus_5e3a0c1e-5d3b-11ee-8c99-0242ac120002",
];
/// A lookup seed found alone by its email and by its external id.
pub const LOOKUP_UNIQUE_UUID: &str = "cus_5e3a0c1e-5d3b-11ee-8c99-0242ac120003";
/// Email of [`LOOKUP_UNIQUE_UUID`].
pub const LOOKUP_UNIQUE_EMAIL: &str = "solo@lonepine.example.com";
/// External id of [`LOOKUP_UNIQUE_UUID`].
pub const LOOKUP_UNIQUE_EXTERNAL_ID: &str = "acct_7002";
/// Users of the emulated account: the only values `owner` accepts.
pub const ACCOUNT_USERS: &[&str] = &["owner@example.com", "mike@example.com"];
/// The statuses a `PATCH` may set.
pub const LEAD_STATUSES: &[&str] = &[
    "New Lead",
    "Working Lead",
    "Qualified Lead",
    "Unqualified Lead",
];
/// Custom attribute keys the account knows from the start, with their type.
pub const SEED_ATTRIBUTE_TYPES: &[(&str, &str)] = &[
    ("CAC", "Integer"),
    ("SalesRep", "String"),
    ("channel", "String"),
    ("age", "Integer"),
    ("pro", "Boolean"),
    ("utmCampaign", "String"),
    ("convertedAt", "Timestamp"),
];

impl State {
    pub(crate) fn handle(&mut self, req: &Req) -> Resp {
        match req.basic_user_password() {
            Some((user, _)) if user == API_KEY => {}
            _ => return err_code(401, "No valid API key provided", None),
        }
        let segs = req.segments();
        let method = req.method.as_str();
        match segs.as_slice() {
            ["v1", "ping"] => match method {
                "GET" => Resp::json(200, &json!({"data": "pong!"})),
                _ => not_emulated(req),
            },
            ["v1", "customers", "attributes", "custom"] => match method {
                "POST" => self.with_body(req, |s, body| s.post_custom_by_email(body)),
                _ => not_emulated(req),
            },
            ["v1", "customers", "attributes", "tags"] => match method {
                "POST" => self.with_body(req, |s, body| s.post_tags_by_email(body)),
                _ => not_emulated(req),
            },
            ["v1", "customers"] => match method {
                "GET" => self.list(req),
                _ => not_emulated(req),
            },
            ["v1", "customers", "search"] => match method {
                "GET" => self.search(req),
                _ => not_emulated(req),
            },
            ["v1", "customers", uuid] => match method {
                "GET" => match self.find(uuid) {
                    Some(i) => Resp::json(200, &self.customers[i]),
                    None => not_found(),
                },
                "PATCH" => self.with_body(req, |s, body| s.patch(uuid, body)),
                _ => not_emulated(req),
            },
            ["v1", "customers", uuid, "attributes"] => match method {
                "GET" => match self.find(uuid) {
                    Some(i) => {
                        let attrs = self.customers[i]
                            .get("attributes")
                            .cloned()
                            .unwrap_or_else(|| json!({}));
                        let mut out = Map::new();
                        for k in ["tags", "stripe", "clearbit", "custom"] {
                            let default = if k == "tags" { json!([]) } else { json!({}) };
                            out.insert(k.into(), attrs.get(k).cloned().unwrap_or(default));
                        }
                        Resp::json(200, &Value::Object(out))
                    }
                    None => not_found(),
                },
                _ => not_emulated(req),
            },
            ["v1", "customers", uuid, "attributes", "custom"] => match method {
                "POST" => self.with_body(req, |s, body| s.post_custom(uuid, body)),
                "PUT" => self.with_body(req, |s, body| s.put_custom(uuid, body)),
                "DELETE" => self.with_body(req, |s, body| s.delete_custom(uuid, body)),
                _ => not_emulated(req),
            },
            ["v1", "customers", uuid, "attributes", "tags"] => match method {
                "POST" => self.with_body(req, |s, body| s.tags(uuid, body, true)),
                "DELETE" => self.with_body(req, |s, body| s.tags(uuid, body, false)),
                _ => not_emulated(req),
            },
            _ => not_emulated(req),
        }
    }

    fn with_body(&mut self, req: &Req, f: impl FnOnce(&mut State, Value) -> Resp) -> Resp {
        if !req.has_body() {
            return err_single(400, "A JSON request body is required");
        }
        if !req.content_type_is_json() {
            return err_code(415, "Content-Type must be application/json", None);
        }
        match req.json() {
            Ok(v) => f(self, v),
            Err(e) => err_single(400, &format!("Invalid JSON in request body: {e}")),
        }
    }
}
