//! The Stripe emulator (`/v1/customers`, API version 2024 and later):
//! fixtures, credentials and behaviour.
//!
//! Endpoints (`Authorization: Bearer <key>`, or HTTP Basic with the key as
//! user name):
//!
//! * `GET /v1/customers/{id}`: the customer object;
//! * `POST /v1/customers/{id}`: a form-encoded update (`address[city]=..`,
//!   `metadata[key]=..`, `""` clears), idempotent under an
//!   `Idempotency-Key` header;
//! * `GET /v1/customers?limit=&starting_after=&ending_before=&email=`:
//!   `{"object":"list",..}`, newest first;
//! * `GET /v1/customers/search?query=&limit=&page=`:
//!   `{"object":"search_result",..}`, trailing the store by
//!   [`VendorHandle::set_stripe_search_lag`].
//!
//! Errors are `{"error":{"type","code"?,"param"?,"message","doc_url"?}}`.
//! Anything else gets the not-emulated answer
//! ([`NOT_EMULATED_STATUS`](crate::NOT_EMULATED_STATUS)).
//!
//! [`VendorHandle::set_stripe_search_lag`]: crate::VendorHandle::set_stripe_search_lag
//!
//! The emulator is split by concern: routing, credentials and idempotency
//! here, the form decoding in `form`, the stored customers, their seeds
//! and indexes in `state`, the update's field rules in `fields`, the list
//! and search in `list` (its query language in `search`), and the error
//! envelope in `errors`.

mod errors;
mod fields;
mod form;
mod list;
mod search;
mod state;

use base64::Engine;

pub use errors::RATE_LIMIT_MESSAGE;
pub(crate) use errors::{add_fault_headers, error_response};
use errors::{invalid, next_request_id, no_such_customer, unknown_parameter};
use fields::Refusal;
use form::{FormError, Param};
pub(crate) use state::State;
use state::Stored;
pub use state::{lookup_seed_customers, seed_customers, MAX_IDEMPOTENCY_KEYS};

use crate::http::{Req, Resp};

/// The secret test-mode key the emulator accepts.
pub const API_KEY: &str = "sk_test_unibill_sandbox";

/// The customer the "Update a customer" and "List all customers" reference
/// pages print (Jenny Rosen).
pub const SEED_CUSTOMER_ID: &str = "cus_NffrFeUfNV2Hib";
/// Email of [`SEED_CUSTOMER_ID`].
pub const SEED_CUSTOMER_EMAIL: &str = "jennyrosen@example.com";
/// The customer the "Search customers" reference page prints (Jane Doe,
/// no email, `metadata` `{"foo": "bar"}`).
pub const SECOND_CUSTOMER_ID: &str = "cus_NeGfPRiPKxeBi1";
/// The sandbox's own seed: an address, a phone, a currency and
/// `metadata[external_id]` ([`ADDRESS_CUSTOMER_EXTERNAL_ID`]).
pub const ADDRESS_CUSTOMER_ID: &str = "cus_QHarbourLight1";
/// Email of [`ADDRESS_CUSTOMER_ID`].
pub const ADDRESS_CUSTOMER_EMAIL: &str = "billing@harbourlights.example.com";
/// `metadata[external_id]` (the caller's own reference) of
/// [`ADDRESS_CUSTOMER_ID`].
pub const ADDRESS_CUSTOMER_EXTERNAL_ID: &str = "HL-1001";

/// Email shared by the two customers of [`LOOKUP_SHARED_EMAIL_IDS`] (a
/// lookup seed, added with
/// [`VendorHandle::add_lookup_seeds`](crate::VendorHandle::add_lookup_seeds)).
pub const LOOKUP_SHARED_EMAIL: &str = "accounts@fjordline.example.com";
/// Two lookup seeds with the same email.
pub const LOOKUP_SHARED_EMAIL_IDS: [&str; 2] = ["cus_LkpSharedMail1", "cus_LkpSharedMail2"];
/// `metadata[external_id]` shared by the two customers of
/// [`LOOKUP_SHARED_EXTERNAL_ID_IDS`].
pub const LOOKUP_SHARED_EXTERNAL_ID: &str = "ACME-7001";
/// Two lookup seeds with the same `metadata[external_id]`.
pub const LOOKUP_SHARED_EXTERNAL_ID_IDS: [&str; 2] = ["cus_LkpSharedRef01", "cus_LkpSharedRef02"];
/// A lookup seed alone with its email and its `metadata[external_id]`.
pub const LOOKUP_UNIQUE_ID: &str = "cus_LkpUniqueCust1";
/// Email of [`LOOKUP_UNIQUE_ID`].
pub const LOOKUP_UNIQUE_EMAIL: &str = "orders@northwind.example.com";
/// `metadata[external_id]` of [`LOOKUP_UNIQUE_ID`].
pub const LOOKUP_UNIQUE_EXTERNAL_ID: &str = "NW-7002";

/// Longest `email` ("Update a customer": "up to 512 characters").
pub const MAX_EMAIL_CHARS: usize = 512;
/// Most metadata keys on a customer ("Metadata").
pub const MAX_METADATA_KEYS: usize = 50;
/// Longest metadata key, in characters ("Metadata").
pub const MAX_METADATA_KEY_CHARS: usize = 40;
/// Longest metadata value, in characters ("Metadata").
pub const MAX_METADATA_VALUE_CHARS: usize = 500;
/// Accepted `tax_exempt` values (`""` stores `none`).
pub const TAX_EXEMPT_VALUES: &[&str] = &["none", "exempt", "reverse"];
/// Longest `Idempotency-Key`, in characters ("Idempotent requests").
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;
/// Customers per page of the list and the search when `limit` is not
/// given.
pub const DEFAULT_LIMIT: usize = 10;
/// The largest `limit` of the list and the search.
pub const MAX_LIMIT: usize = 100;

/// The header on an answer replayed from an earlier request with the same
/// idempotency key (value `true`); such a request changed nothing.
pub const IDEMPOTENT_REPLAYED_HEADER: &str = "Idempotent-Replayed";
/// The header telling Stripe's SDKs whether a retry is safe; the sandbox
/// sends `true` on 409, 429 and 5xx answers of status faults.
pub const SHOULD_RETRY_HEADER: &str = "Stripe-Should-Retry";

/// The key of `Authorization: Bearer <key>`, or the user name of
/// `Authorization: Basic base64(key:)`.
fn presented_key(req: &Req) -> Option<String> {
    let value = req.header("authorization")?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_string());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    Some(match text.split_once(':') {
        Some((user, _)) => user.to_string(),
        None => text,
    })
}

/// A plain parameter of a query string, or the 400 for a hash or list.
fn plain<'a>(name: &str, value: &'a Param) -> Result<&'a str, Resp> {
    match value {
        Param::Str(s) => Ok(s),
        _ => Err(invalid(
            name,
            &format!("Invalid string: {name} must be a string"),
        )),
    }
}

/// The 400 for a body or query string that is not a set of parameters.
fn form_error(e: FormError) -> Resp {
    match e {
        FormError::Malformed(key) => unknown_parameter(&key),
        FormError::Conflict(key) => invalid(
            &key,
            &format!("Invalid parameters: {key} was sent both as a value and as a hash or list"),
        ),
    }
}

/// The request's parameters from its query string.
fn query_params(req: &Req) -> Result<Vec<(String, Param)>, Resp> {
    form::parse(req.query.as_deref().unwrap_or("").as_bytes())
        .map(|(params, _)| params)
        .map_err(form_error)
}

impl State {
    /// The answer to `req`, with a `Request-Id`.
    pub(crate) fn handle(&mut self, req: &Req) -> Resp {
        let request_id = next_request_id();
        let mut resp = self.route(req, &request_id);
        if !resp
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("request-id"))
        {
            resp.set_header("Request-Id", request_id);
        }
        resp
    }

    fn route(&mut self, req: &Req, request_id: &str) -> Resp {
        match presented_key(req) {
            Some(key) if key == API_KEY => {}
            Some(key) if !key.is_empty() => {
                return errors::error(
                    401,
                    errors::INVALID_REQUEST,
                    None,
                    None,
                    &format!("Invalid API Key provided: {}", errors::mask_key(&key)),
                )
            }
            _ => {
                return errors::error(
                    401,
                    errors::INVALID_REQUEST,
                    None,
                    None,
                    "You did not provide an API key. Send it in the Authorization header as Bearer auth ('Authorization: Bearer YOUR_SECRET_KEY') or as the user name of Basic auth.",
                )
            }
        }
        let segs = req.segments();
        match (segs.as_slice(), req.method.as_str()) {
            (["v1", "customers"], "GET") => self.list(req),
            (["v1", "customers", "search"], "GET") => self.search(req),
            (["v1", "customers", "search"], _) => crate::not_emulated::answer("Stripe", req),
            (["v1", "customers", id], "GET") => self.retrieve(req, id),
            (["v1", "customers", id], "POST") => self.post_customer(req, id, request_id),
            _ => crate::not_emulated::answer("Stripe", req),
        }
    }

    /// `GET /v1/customers/{id}`.
    fn retrieve(&self, req: &Req, id: &str) -> Resp {
        let params = match query_params(req) {
            Ok(p) => p,
            Err(resp) => return resp,
        };
        if let Some((name, _)) = params.first() {
            if name == "expand" {
                return crate::not_emulated::answer("Stripe", req);
            }
            return unknown_parameter(name);
        }
        match self.find(id) {
            Some(i) => Resp::json(200, &self.customers[i]),
            None => no_such_customer(404, id, "id"),
        }
    }

    /// `POST /v1/customers/{id}`, idempotent under an `Idempotency-Key`:
    /// the first answer that got past the parameter checks (200, or 404
    /// for an unknown id) is kept under the key; the same key with the
    /// same endpoint and parameters replays it without applying anything,
    /// another endpoint or other parameters get 400 `idempotency_error`.
    fn post_customer(&mut self, req: &Req, id: &str, request_id: &str) -> Resp {
        let endpoint = format!("POST {}", req.path);
        let key = req.header("idempotency-key").map(str::to_string);
        let mut fingerprint: Vec<(String, String)> = form_urlencoded::parse(&req.body)
            .filter(|(k, v)| !(k.is_empty() && v.is_empty()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        fingerprint.sort();
        if let Some(key) = &key {
            if key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS {
                return errors::error(
                    400,
                    errors::INVALID_REQUEST,
                    None,
                    None,
                    &format!("Idempotency keys can be at most {MAX_IDEMPOTENCY_KEY_CHARS} characters long."),
                );
            }
            if let Some(stored) = self.idempotent_answer(key) {
                return replay(stored, key, &endpoint, &fingerprint, request_id);
            }
        }
        let resp = self.update(req, id);
        if let Some(key) = key {
            if matches!(resp.status, 200 | 404) {
                self.keep_idempotent_answer(
                    key.clone(),
                    Stored {
                        endpoint,
                        params: fingerprint,
                        status: resp.status,
                        body: resp.body.clone(),
                        request_id: request_id.to_string(),
                    },
                    state::MAX_IDEMPOTENCY_KEYS,
                );
            }
            return resp.with_header("Idempotency-Key", key);
        }
        resp
    }

    /// Applies an update (no idempotency involved).
    fn update(&mut self, req: &Req, id: &str) -> Resp {
        let params = match form::parse(&req.body) {
            Ok((params, _)) => params,
            Err(e) => return form_error(e),
        };
        let Some(i) = self.find(id) else {
            return no_such_customer(404, id, "id");
        };
        match fields::updated(&self.customers[i], &params) {
            Ok(new) => {
                self.replace(i, new);
                self.updates[i] += 1;
                Resp::json(200, &self.customers[i])
            }
            Err(Refusal::Vendor(resp)) => resp,
            Err(Refusal::NotModelled) => crate::not_emulated::answer("Stripe", req),
        }
    }
}

/// The answer to a request whose idempotency key was seen before.
fn replay(
    stored: &Stored,
    key: &str,
    endpoint: &str,
    fingerprint: &[(String, String)],
    request_id: &str,
) -> Resp {
    if stored.endpoint != endpoint {
        return errors::error(
            400,
            errors::IDEMPOTENCY,
            None,
            None,
            &format!(
                "Keys for idempotent requests can only be used for the same endpoint they were first used for ('{}' vs '{endpoint}'). Try using a key other than '{key}' if you meant to execute a different request.",
                stored.endpoint
            ),
        );
    }
    if stored.params != fingerprint {
        return errors::error(
            400,
            errors::IDEMPOTENCY,
            None,
            None,
            &format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
            ),
        );
    }
    Resp {
        status: stored.status,
        headers: vec![(
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        )],
        body: stored.body.clone(),
    }
    .with_header(IDEMPOTENT_REPLAYED_HEADER, "true")
    .with_header("Original-Request", stored.request_id.clone())
    .with_header("Idempotency-Key", key)
    .with_header("Request-Id", request_id)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn req(method: &str, path: &str, body: &str, headers: &[(&str, &str)]) -> Req {
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q.to_string())),
            None => (path, None),
        };
        let mut all = vec![("authorization".to_string(), format!("Bearer {API_KEY}"))];
        all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Req {
            method: method.into(),
            path: path.into(),
            query,
            headers: all,
            body: body.as_bytes().to_vec(),
        }
    }

    fn json_of(resp: &Resp) -> Value {
        serde_json::from_slice(&resp.body).unwrap()
    }

    fn header<'a>(resp: &'a Resp, name: &str) -> Option<&'a str> {
        resp.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn credentials() {
        let mut state = State::seeded();
        let path = format!("/v1/customers/{SEED_CUSTOMER_ID}");
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:"));
        let ok = state.handle(&req(
            "GET",
            &path,
            "",
            &[("authorization", &format!("Basic {basic}"))],
        ));
        // The Bearer header comes first; a second one is not read.
        assert_eq!(ok.status, 200);
        let mut wrong = req("GET", &path, "", &[]);
        wrong.headers[0].1 = "Bearer sk_test_wrongwrongwrong1234".into();
        let r = state.handle(&wrong);
        assert_eq!(r.status, 401);
        let message = json_of(&r)["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            message,
            "Invalid API Key provided: sk_test_***************1234"
        );
        assert!(!String::from_utf8_lossy(&r.body).contains("wrongwrong"));
        wrong.headers.clear();
        assert_eq!(state.handle(&wrong).status, 401);
        wrong.headers = vec![("authorization".into(), format!("Basic {basic}"))];
        assert_eq!(state.handle(&wrong).status, 200);
    }

    #[test]
    fn idempotent_update_applies_once() {
        let mut state = State::seeded();
        let path = format!("/v1/customers/{SEED_CUSTOMER_ID}");
        let key = [("idempotency-key", "k-1")];
        let first = state.handle(&req("POST", &path, "metadata[plan]=gold&name=A", &key));
        assert_eq!(first.status, 200);
        assert_eq!(header(&first, IDEMPOTENT_REPLAYED_HEADER), None);
        // Another writer changes the customer in between.
        state.update_customer(SEED_CUSTOMER_ID, &mut |c| c["name"] = json!("B"));
        // The same parameters in another order: a replay, nothing applied.
        let again = state.handle(&req("POST", &path, "name=A&metadata[plan]=gold", &key));
        assert_eq!(again.status, 200);
        assert_eq!(again.body, first.body);
        assert_eq!(header(&again, IDEMPOTENT_REPLAYED_HEADER), Some("true"));
        assert_eq!(
            header(&again, "Original-Request"),
            header(&first, "Request-Id")
        );
        assert_ne!(header(&again, "Request-Id"), header(&first, "Request-Id"));
        assert_eq!(state.customer(SEED_CUSTOMER_ID).unwrap()["name"], "B");
        assert_eq!(state.update_count(SEED_CUSTOMER_ID), Some(1));
        let other = state.handle(&req("POST", &path, "name=C", &key));
        assert_eq!(other.status, 400);
        assert_eq!(json_of(&other)["error"]["type"], "idempotency_error");
        let elsewhere = state.handle(&req(
            "POST",
            &format!("/v1/customers/{SECOND_CUSTOMER_ID}"),
            "name=A&metadata[plan]=gold",
            &key,
        ));
        assert_eq!(json_of(&elsewhere)["error"]["type"], "idempotency_error");
        // A refused request keeps nothing under its key.
        let bad = [("idempotency-key", "k-2")];
        assert_eq!(
            state.handle(&req("POST", &path, "nickname=x", &bad)).status,
            400
        );
        assert_eq!(
            state.handle(&req("POST", &path, "name=D", &bad)).status,
            200
        );
        assert_eq!(state.update_count(SEED_CUSTOMER_ID), Some(2));
        // An unknown id is kept (the endpoint ran).
        let missing = [("idempotency-key", "k-3")];
        let r = state.handle(&req("POST", "/v1/customers/cus_nope", "name=A", &missing));
        assert_eq!(r.status, 404);
        let r = state.handle(&req("POST", "/v1/customers/cus_nope", "name=A", &missing));
        assert_eq!(
            (r.status, header(&r, IDEMPOTENT_REPLAYED_HEADER)),
            (404, Some("true"))
        );
        let long = "k".repeat(256);
        assert_eq!(
            state
                .handle(&req("POST", &path, "name=E", &[("idempotency-key", &long)]))
                .status,
            400
        );
    }

    #[test]
    fn routes_and_not_emulated() {
        let mut state = State::seeded();
        for (method, path) in [
            ("POST", "/v1/customers"),
            (
                "DELETE",
                &format!("/v1/customers/{SEED_CUSTOMER_ID}") as &str,
            ),
            ("GET", "/v1/charges"),
            ("POST", "/v1/customers/search"),
            (
                "GET",
                &format!("/v1/customers/{SEED_CUSTOMER_ID}?expand[]=test_clock"),
            ),
            ("GET", "/v1/customers?created[gt]=1"),
            ("GET", "/v1/customers/search?query=email~'jenny'"),
        ] {
            let r = state.handle(&req(method, path, "", &[]));
            assert_eq!(r.status, crate::NOT_EMULATED_STATUS, "{method} {path}");
        }
        let r = state.handle(&req(
            "POST",
            &format!("/v1/customers/{SEED_CUSTOMER_ID}"),
            "coupon=X",
            &[],
        ));
        assert_eq!(r.status, crate::NOT_EMULATED_STATUS);
        let r = state.handle(&req("GET", "/v1/customers/cus_x", "", &[]));
        assert_eq!(
            json_of(&r),
            json!({"error": {"type": "invalid_request_error", "code": "resource_missing", "param": "id",
                "message": "No such customer: 'cus_x'", "doc_url": "https://stripe.com/docs/error-codes/resource-missing"}})
        );
        assert_eq!(r.status, 404);
        let r = state.handle(&req(
            "GET",
            &format!("/v1/customers/{SEED_CUSTOMER_ID}?foo=1"),
            "",
            &[],
        ));
        assert_eq!(json_of(&r)["error"]["code"], "parameter_unknown");
    }
}
