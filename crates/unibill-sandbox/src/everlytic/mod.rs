//! The Everlytic emulator (REST `/api/2.0`): fixtures, credentials and
//! behaviour.
//!
//! Endpoints (HTTP Basic `base64(username:apikey)`):
//!
//! * `GET /api/2.0/customers/{id}` → `{"links":[..],"item":{..}}`;
//! * `GET /api/2.0/customers?page=N&count=M` → `{"links":[..],"collection":[..]}`,
//!   paged: `self`, `home`, and `prev`/`next` links to the neighbouring
//!   pages;
//! * `PUT /api/2.0/customers/{id}`: partial update of the documented
//!   properties, `name` and `email` required on every update. The answer's
//!   shape is chosen with [`VendorHandle::set_everlytic_put_shape`].
//!
//! Errors are `{"links":[self, home],"error":{"code","message","additional"}}`.
//! Anything else gets the not-emulated answer
//! ([`NOT_EMULATED_STATUS`](crate::NOT_EMULATED_STATUS)).
//!
//! The vendor's page documents no example customer id; the seeded ids are
//! the emulator's own.
//!
//! [`VendorHandle::set_everlytic_put_shape`]: crate::VendorHandle::set_everlytic_put_shape
//!
//! The emulator is split by concern: routing and content negotiation here,
//! the stored customers, their seeds and their `id` order (an index a
//! page is a slice of) in `state`, the property rules and the `PUT` in
//! `fields`, and the error shape in `errors`.

mod errors;
mod fields;
mod state;

use serde_json::{json, Value};

use errors::error;
pub(crate) use errors::error_response;
pub(crate) use state::State;
pub use state::{lookup_seed_customers, seed_customers};

use crate::http::{Req, Resp};

/// The user name the emulator accepts.
pub const USERNAME: &str = "sandbox-admin";
/// The API key the emulator accepts.
pub const API_KEY: &str = "ev_7QmZp3Lk9Wt2Xr5Bn8Cv1Df4Gh6Js0";

/// Id of the first seeded customer (every property set).
pub const SEED_CUSTOMER_ID: &str = "1001";
/// Email of [`SEED_CUSTOMER_ID`].
pub const SEED_CUSTOMER_EMAIL: &str = "accounts@capemailers.example.com";
/// Id of the second seeded customer.
pub const SECOND_CUSTOMER_ID: &str = "1002";
/// Email of [`SECOND_CUSTOMER_ID`].
pub const SECOND_CUSTOMER_EMAIL: &str = "hello@karoobooks.example.com";

/// Email shared by the two customers of [`LOOKUP_SHARED_IDS`] (a lookup
/// seed, added with
/// [`VendorHandle::add_lookup_seeds`](crate::VendorHandle::add_lookup_seeds)).
pub const LOOKUP_SHARED_EMAIL: &str = "info@umhlanga.example.com";
/// Two lookup seeds with the same email.
pub const LOOKUP_SHARED_IDS: [&str; 2] = ["1003", "1004"];
/// A lookup seed alone with its email and its `unique_id`.
pub const LOOKUP_UNIQUE_ID: &str = "1005";
/// Email of [`LOOKUP_UNIQUE_ID`].
pub const LOOKUP_UNIQUE_EMAIL: &str = "cellar@stellenbosch.example.com";
/// `unique_id` (the caller's own reference) of [`LOOKUP_UNIQUE_ID`].
pub const LOOKUP_UNIQUE_UNIQUE_ID: &str = "SC-1005";

/// Accepted `status` values.
pub const STATUSES: &[&str] = &["on", "off", "suspended", "deleted"];
/// Accepted `deleted` values.
pub const DELETED_VALUES: &[&str] = &["yes", "no"];
/// Accepted `industry` values (19; several contain a comma).
pub const INDUSTRIES: &[&str] = &[
    "Personal Use",
    "Agriculture & Environmental",
    "Automotive",
    "Business & Consulting Services",
    "E-commerce",
    "Education & Training",
    "Financial Institutions",
    "Governmental Organisations",
    "Hospitality, Travel & Tourism",
    "Industry, Trade & Manufacture",
    "Lifestyle, Arts & Entertainment",
    "Logistic Services",
    "Publishing & Media",
    "Agencies & Marketing",
    "Medical & Healthcare",
    "Non Governmental Organisations",
    "Property & Real Estate",
    "Retail & Wholesale",
    "Technology & Science",
];
/// Properties a `PUT` may send.
pub const PROPERTIES: &[&str] = &[
    "name",
    "email",
    "status",
    "email_package_id",
    "email_quota",
    "sms_quota",
    "transactions_package_id",
    "transactions_quota",
    "deleted",
    "address",
    "state_provinces",
    "postal_code",
    "telephone",
    "website_url",
    "country",
    "industry",
    "unique_id",
];

/// How the emulator answers a successful `PUT /api/2.0/customers/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PutShape {
    /// `{"links":[..],"item":{..}}`, like a REST `GET` (the default).
    #[default]
    Wrapped,
    /// The bare item object.
    Bare,
    /// The customer id as a JSON integer, like the XML-RPC
    /// `UpdateCustomer(...) : int`.
    Integer,
}

/// Customers per page of `GET /api/2.0/customers` when `count` is not
/// given (the vendor documents no default: the emulator's choice).
pub const DEFAULT_PAGE_COUNT: usize = 100;
/// The largest `count` the emulator accepts (its choice; larger is 400).
pub const MAX_PAGE_COUNT: usize = 1000;

impl State {
    /// `GET /api/2.0/customers?page=N&count=M`: one page of the collection
    /// (`page` from 1, default 1; `count` 1 to [`MAX_PAGE_COUNT`], default
    /// [`DEFAULT_PAGE_COUNT`]), in id order, with the `self` and `home`
    /// links, `prev` after the first page and `next` while customers
    /// remain.
    fn list(&self, req: &Req) -> Resp {
        let page = match req.query_param("page").map(|v| v.parse::<usize>()) {
            None => 1,
            Some(Ok(n)) if n >= 1 => n,
            Some(_) => return error(400, "page must be a whole number from 1"),
        };
        let count = match req.query_param("count").map(|v| v.parse::<usize>()) {
            None => DEFAULT_PAGE_COUNT,
            Some(Ok(n)) if (1..=MAX_PAGE_COUNT).contains(&n) => n,
            Some(_) => {
                return error(
                    400,
                    &format!("count must be a whole number from 1 to {MAX_PAGE_COUNT}"),
                )
            }
        };
        // A page is a slice of the list order: no pass over the store.
        let ordered = self.order.entries();
        let total = ordered.len();
        let start = (page - 1).saturating_mul(count).min(total);
        let end = start.saturating_add(count).min(total);
        let collection: Vec<Value> = ordered[start..end]
            .iter()
            .map(|(_, i)| self.customers[*i].clone())
            .collect();
        let base = &self.base_url;
        let href = |p: usize| format!("{base}/api/2.0/customers?page={p}&count={count}");
        let link = |title: &str, rel: &str, href: String| json!({"title": title, "rel": rel, "href": href});
        let mut links = vec![
            link("Self", "self", href(page)),
            link("Home", "home", format!("{base}/api/2.0/")),
        ];
        if page > 1 {
            links.push(link("Previous", "prev", href(page - 1)));
        }
        if page.saturating_mul(count) < total {
            links.push(link("Next", "next", href(page + 1)));
        }
        Resp::json(200, &json!({"links": links, "collection": collection}))
    }

    /// The answer to `req`; an error answer carries the `self` and `home`
    /// links, as the vendor's do.
    pub(crate) fn handle(&mut self, req: &Req) -> Resp {
        let mut resp = self.route(req);
        let self_href = format!("{}{}", self.base_url, req.path_and_query());
        errors::add_links(&mut resp, &self.base_url, Some(self_href));
        resp
    }

    fn route(&mut self, req: &Req) -> Resp {
        match req.basic_user_password() {
            Some((user, key)) if user == USERNAME && key == API_KEY => {}
            _ => return error(401, "Authentication failed: invalid username or API key"),
        }
        // The vendor answers JSON unless XML is asked for ("Accept:
        // application/json or Accept: application/xml"; a browser, whose
        // Accept starts with text/html, is shown JSON). The sandbox serves
        // no XML: an Accept that names XML and no JSON gets 406.
        if let Some(accept) = req.header("accept") {
            let mimes: Vec<String> = accept
                .split(',')
                .map(|part| {
                    part.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })
                .collect();
            let json_ok = mimes.iter().any(|m| {
                m.is_empty() || m == "*/*" || m == "application/*" || m == "application/json"
            });
            let wants_xml = mimes
                .iter()
                .any(|m| m == "application/xml" || m == "text/xml");
            if wants_xml && !json_ok {
                return error(
                    406,
                    "The sandbox answers JSON only; the vendor would answer XML",
                );
            }
        }
        let segs = req.segments();
        let method = req.method.as_str();
        match segs.as_slice() {
            ["api", "2.0", "customers"] => match method {
                "GET" => self.list(req),
                _ => crate::not_emulated::answer("Everlytic", req),
            },
            ["api", "2.0", "customers", id] => match method {
                "GET" => match self.find(id) {
                    Some(i) => Resp::json(200, &self.wrapped(&self.customers[i])),
                    None => error(404, &format!("Customer {id} not found")),
                },
                "PUT" => {
                    let Some(idx) = self.find(id) else {
                        return error(404, &format!("Customer {id} not found"));
                    };
                    if !req.has_body() {
                        return error(400, "A JSON object of properties is required");
                    }
                    if !req.content_type_is_json() {
                        return error(415, "Content-Type must be application/json");
                    }
                    match req.json() {
                        Ok(body) => self.put(idx, body),
                        Err(e) => error(400, &format!("Invalid JSON: {e}")),
                    }
                }
                _ => crate::not_emulated::answer("Everlytic", req),
            },
            _ => crate::not_emulated::answer("Everlytic", req),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::State;
    use crate::http::Req;

    const BASE: &str = "http://sandbox.test";

    fn get(state: &State, query: &str) -> Value {
        let resp = state.list(&Req::get("/api/2.0/customers", query));
        assert_eq!(resp.status, 200, "{query}");
        serde_json::from_slice(&resp.body).unwrap()
    }

    /// Every page at `count`, following the `next` links: the ids in the
    /// order answered.
    fn all_pages(state: &State, count: usize) -> Vec<i64> {
        let mut ids = Vec::new();
        let mut query = format!("page=1&count={count}");
        loop {
            let page = get(state, &query);
            for c in page["collection"].as_array().unwrap() {
                ids.push(c["id"].as_i64().unwrap());
            }
            let next = page["links"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["rel"] == json!("next"));
            match next {
                Some(link) => {
                    let href = link["href"].as_str().unwrap();
                    query = href.split_once('?').unwrap().1.to_string();
                }
                None => return ids,
            }
        }
    }

    #[test]
    fn pages_keep_the_id_order_after_updates_move_customers() {
        let mut state = State::seeded(BASE);
        state.add_lookup_seeds();
        let copies = state.add_copies(25);
        // Move customers in the id order: to the front, to the back, and
        // between two others, then one of them again.
        for (id, new_id) in [
            (&copies[10], 1),
            (&copies[3], 9_000_000),
            (&copies[24], 1000),
        ] {
            assert!(state.update_customer(id, &mut |c| c["id"] = json!(new_id)));
        }
        assert!(state.update_customer("1", &mut |c| c["id"] = json!(2000)));
        // A `PUT` changes no id: the order stays as it is.
        let body = json!({"name": "Moved Ltd", "email": "moved@example.com"});
        let resp = state.put(state.find("9000000").unwrap(), body);
        assert_eq!(resp.status, 200);

        let mut all: Vec<i64> = state
            .customers
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        all.sort();
        assert_eq!(all.len(), 2 + 25 + 3);
        assert_eq!(all[all.len() - 1], 9_000_000);
        for count in [1, 4, 100] {
            assert_eq!(all_pages(&state, count), all, "count={count}");
        }
        assert_eq!(all[0], 1000);
        assert!(all.contains(&2000) && !all.contains(&1));
        assert_eq!(state.customer("2000").unwrap()["id"], json!(2000));
        assert!(state.customer("1").is_none());
        // Past the last page: an empty collection.
        let past = get(&state, "page=9&count=4");
        assert_eq!(past["collection"], json!([]));
    }
}
