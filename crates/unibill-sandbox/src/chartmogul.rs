//! The ChartMogul emulator: fixtures, credentials and behaviour.
//!
//! Endpoints (all under `/v1`, HTTP Basic with [`API_KEY`] as the user name
//! and any password):
//!
//! * `GET /v1/ping` → `{"data":"pong!"}` (to check credentials);
//! * `GET /v1/customers/{uuid}` and `PATCH /v1/customers/{uuid}` (partial
//!   update of the writable fields, see `docs/sandbox.md`);
//! * `GET /v1/customers/{uuid}/attributes` →
//!   `{"tags","stripe","clearbit","custom"}` (not wrapped);
//! * `POST`/`PUT`/`DELETE /v1/customers/{uuid}/attributes/custom`;
//! * `POST`/`DELETE /v1/customers/{uuid}/attributes/tags`;
//! * `POST /v1/customers/attributes/custom` and
//!   `POST /v1/customers/attributes/tags` (by email).
//!
//! The seeded customers are the ones printed in the vendor's pages, with
//! realistic `example.com` addresses instead of the captured
//! `"[email protected]"` placeholders.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::http::{json_type, plausible_email, Req, Resp};
use crate::time::{format_millis_z, format_space_seconds, parse_timestamp};

/// The API key the emulator accepts (Basic user name; password ignored).
pub const API_KEY: &str = "3a9c1f0e7b2d4c8a9e6f5b1d0c7a2e48";

/// UUID of the customer printed in the "Update a Customer" page.
pub const SEED_CUSTOMER_UUID: &str = "cus_ab223d54-75b4-431b-adb2-eb6b9e234571";
/// Internal id of [`SEED_CUSTOMER_UUID`].
pub const SEED_CUSTOMER_ID: u64 = 12150249;
/// Email of [`SEED_CUSTOMER_UUID`] (the page shows a masked placeholder).
pub const SEED_CUSTOMER_EMAIL: &str = "ben@example.com";
/// UUID of the customer printed in the custom-attribute pages.
pub const SECOND_CUSTOMER_UUID: &str = "cus_de305d54-75b4-431b-adb2-eb6b9e546012";
/// Internal id of [`SECOND_CUSTOMER_UUID`].
pub const SECOND_CUSTOMER_ID: u64 = 25647;
/// Email of [`SECOND_CUSTOMER_UUID`] (the page shows a masked placeholder).
pub const SECOND_CUSTOMER_EMAIL: &str = "adam@example.com";
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

const BOOLEAN_SPELLINGS_TRUE: &[&str] = &["TRUE", "true", "t", "1"];
const BOOLEAN_SPELLINGS_FALSE: &[&str] = &["FALSE", "false", "f", "0"];
const STRING_MAX: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttrType {
    String,
    Integer,
    Decimal,
    Timestamp,
    Boolean,
}

impl AttrType {
    fn parse(s: &str) -> Option<AttrType> {
        Some(match s {
            "String" => AttrType::String,
            "Integer" => AttrType::Integer,
            "Decimal" => AttrType::Decimal,
            "Timestamp" => AttrType::Timestamp,
            "Boolean" => AttrType::Boolean,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            AttrType::String => "String",
            AttrType::Integer => "Integer",
            AttrType::Decimal => "Decimal",
            AttrType::Timestamp => "Timestamp",
            AttrType::Boolean => "Boolean",
        }
    }

    /// Type given to a key first seen in a `PATCH` `attributes.custom`.
    fn infer(v: &Value) -> AttrType {
        match v {
            Value::Bool(_) => AttrType::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => AttrType::Integer,
            Value::Number(_) => AttrType::Decimal,
            _ => AttrType::String,
        }
    }

    /// Validates a value for this type and returns what is stored.
    fn coerce(self, v: &Value) -> Result<Value, String> {
        match self {
            AttrType::String => match v {
                Value::String(s) if s.chars().count() <= STRING_MAX => Ok(v.clone()),
                Value::String(_) => Err(format!(
                    "String values may be at most {STRING_MAX} characters long"
                )),
                other => Err(format!("expected a String value, got {}", json_type(other))),
            },
            AttrType::Integer => match v {
                Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
                Value::String(s) if is_integer_text(s) => s
                    .parse::<i64>()
                    .map(|i| json!(i))
                    .map_err(|_| "Integer value out of range".to_string()),
                _ => Err("Integer values accept only numeric characters".to_string()),
            },
            AttrType::Decimal => match v {
                Value::Number(_) => Ok(v.clone()),
                Value::String(s) if is_decimal_text(s) => s
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| "Decimal value is not a floating point number".to_string()),
                _ => Err("Decimal values must be floating point numbers".to_string()),
            },
            AttrType::Timestamp => match v {
                Value::String(s) => parse_timestamp(s)
                    .map(|t| Value::String(format_space_seconds(t)))
                    .ok_or_else(|| "Timestamp values must be in ISO 8601 format".to_string()),
                _ => Err("Timestamp values must be ISO 8601 strings".to_string()),
            },
            AttrType::Boolean => match v {
                Value::Bool(_) => Ok(v.clone()),
                Value::String(s) if BOOLEAN_SPELLINGS_TRUE.contains(&s.as_str()) => {
                    Ok(Value::Bool(true))
                }
                Value::String(s) if BOOLEAN_SPELLINGS_FALSE.contains(&s.as_str()) => {
                    Ok(Value::Bool(false))
                }
                _ => Err(
                    "Boolean values must be one of TRUE, true, t, 1, FALSE, false, f, 0"
                        .to_string(),
                ),
            },
        }
    }
}

fn is_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn is_decimal_text(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let mut parts = body.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let int_ok = int.bytes().all(|b| b.is_ascii_digit());
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    int_ok && frac_ok && !(int.is_empty() && frac.is_none())
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

// ----- error shapes -------------------------------------------------------

fn err_code(status: u16, message: &str, param: Option<&str>) -> Resp {
    Resp::json(
        status,
        &json!({"code": status, "message": message, "param": param}),
    )
}

fn err_single(status: u16, message: &str) -> Resp {
    Resp::json(status, &json!({ "error": message }))
}

fn err_map(status: u16, errors: BTreeMap<String, String>) -> Resp {
    Resp::json(status, &json!({ "errors": errors }))
}

/// Answer used for injected faults, rate limiting and unreadable bodies:
/// 5xx as a plain-text HTML page (as ChartMogul's front servers answer),
/// anything else as `{"code","message","param"}`.
pub(crate) fn error_response(status: u16, message: &str) -> Resp {
    if status >= 500 {
        let reason = crate::http::reason(status);
        let page = format!(
            "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
        );
        return Resp::text(status, "text/html", &page);
    }
    let message = match status {
        429 => "You have exceeded the rate limit. Please slow down your requests.".to_string(),
        401 => "No valid API key provided".to_string(),
        _ => format!("{} ({message})", crate::http::reason(status)),
    };
    err_code(status, &message, None)
}

// ----- fixtures -----------------------------------------------------------

fn seed_customer() -> Value {
    json!({
        "id": SEED_CUSTOMER_ID,
        "uuid": SEED_CUSTOMER_UUID,
        "data_source_uuid": "ds_fef05d54-47b4-431b-aed2-eb6b9e545430",
        "data_source_uuids": ["ds_fef05d54-47b4-431b-aed2-eb6b9e545430"],
        "external_id": "34916129",
        "external_ids": ["34916129"],
        "name": "Ben",
        "email": SEED_CUSTOMER_EMAIL,
        "company": "Example Company",
        "city": "San Francisco",
        "country": "US",
        "state": "CA",
        "zip": "99801",
        "lead_created_at": "2015-01-01T00:00:00.000Z",
        "free_trial_started_at": "2015-06-13T15:45:13.000Z",
        "customer-since": "2015-06-19T13:16:00-04:00",
        "status": "Active",
        "address": {
            "address_zip": "99801",
            "city": "San Francisco",
            "country": "US",
            "state": "CA"
        },
        "attributes": {
            "custom": {"CAC": 25, "SalesRep": "Mike"},
            "clearbit": {},
            "stripe": {},
            "tags": ["high-value"]
        },
        "mrr": 3000,
        "arr": 36000,
        "billing-system-url": "",
        "chartmogul-url": "https://app.chartmogul.com/#customers/12150249-Example_Company",
        "billing-system-type": "Custom",
        "currency": "USD",
        "currency-sign": "$"
    })
}

fn second_customer() -> Value {
    json!({
        "id": SECOND_CUSTOMER_ID,
        "uuid": SECOND_CUSTOMER_UUID,
        "data_source_uuid": "ds_fef05d54-47b4-431b-aed2-eb6b9e545430",
        "data_source_uuids": ["ds_fef05d54-47b4-431b-aed2-eb6b9e545430"],
        "external_id": "cus_0001",
        "external_ids": ["cus_0001"],
        "name": "Smith Company",
        "email": SECOND_CUSTOMER_EMAIL,
        "company": "",
        "city": null,
        "country": null,
        "state": null,
        "zip": null,
        "lead_created_at": null,
        "free_trial_started_at": null,
        "customer-since": "2022-06-09T13:16:00-04:00",
        "status": "Active",
        "address": {
            "address_zip": null,
            "city": null,
            "country": null,
            "state": null
        },
        "attributes": {
            "custom": {
                "CAC": 213,
                "utmCampaign": "social media 1",
                "convertedAt": "2022-09-08 00:00:00",
                "pro": false,
                "channel": "Facebook"
            },
            "clearbit": {},
            "stripe": {"coupon": true},
            "tags": ["important", "Prio1"]
        },
        "mrr": 3000,
        "arr": 36000,
        "billing-system-url": "https://dashboard.stripe.com/customers/cus_4Z2ZpyJFuQ0XMb",
        "chartmogul-url": "https://app.chartmogul.com/#customers/25647-Smith_Company",
        "billing-system-type": "Stripe",
        "currency": "USD",
        "currency-sign": "$"
    })
}

/// The customers the emulator starts with, as `GET` answers them.
pub fn seed_customers() -> Vec<Value> {
    vec![seed_customer(), second_customer()]
}

// ----- state --------------------------------------------------------------

pub(crate) struct State {
    customers: Vec<Value>,
    types: BTreeMap<String, AttrType>,
}

const PATCH_STRINGS: &[&str] = &["name", "company", "state", "city", "zip", "website_url"];
/// Text fields the vendor never answers as `null`: unset, they read `""`
/// (chartmogul-python declares them non-nullable and its fixtures show
/// `"company": ""`). A `null` sent for them is stored as `""`.
const NEVER_NULL: &[&str] = &["name", "email", "company"];
const PRIMARY_CONTACT_KEYS: &[&str] = &[
    "first_name",
    "last_name",
    "email",
    "title",
    "phone",
    "linked_in",
    "twitter",
    "notes",
];

fn sync_address(c: &mut Value) {
    let get = |k: &str| c.get(k).cloned().unwrap_or(Value::Null);
    let address = json!({
        "address_zip": get("zip"),
        "city": get("city"),
        "country": get("country"),
        "state": get("state"),
    });
    if let Some(obj) = c.as_object_mut() {
        obj.insert("address".into(), address);
    }
}

fn custom_map(c: &mut Value) -> Option<&mut Map<String, Value>> {
    let attrs = c
        .as_object_mut()?
        .entry("attributes")
        .or_insert_with(|| json!({}));
    if !attrs.is_object() {
        *attrs = json!({});
    }
    let custom = attrs
        .as_object_mut()?
        .entry("custom")
        .or_insert_with(|| json!({}));
    if !custom.is_object() {
        *custom = json!({});
    }
    custom.as_object_mut()
}

fn tags_list(c: &mut Value) -> Option<&mut Vec<Value>> {
    let attrs = c
        .as_object_mut()?
        .entry("attributes")
        .or_insert_with(|| json!({}));
    if !attrs.is_object() {
        *attrs = json!({});
    }
    let tags = attrs
        .as_object_mut()?
        .entry("tags")
        .or_insert_with(|| json!([]));
    if !tags.is_array() {
        *tags = json!([]);
    }
    tags.as_array_mut()
}

/// Entry fields of the custom-attributes-by-email answer (seed 002).
const CUSTOM_BY_EMAIL_FIELDS: &[&str] = &[
    "id",
    "uuid",
    "external_id",
    "email",
    "name",
    "mrr",
    "arr",
    "status",
    "customer-since",
    "billing-system-url",
    "chartmogul-url",
    "billing-system-type",
    "currency",
    "currency-sign",
];

/// Entry fields of the tags-by-email answer (the vendor's "Add Tags to
/// Customers by Email" page).
const TAGS_BY_EMAIL_FIELDS: &[&str] = &[
    "id",
    "uuid",
    "external_id",
    "name",
    "email",
    "status",
    "customer-since",
];

/// One entry of a by-email answer: `fields`, then `attributes` with the
/// groups the vendor prints there (`tags`, `stripe`, `custom`; no
/// `clearbit`).
fn summary(c: &Value, fields: &[&str]) -> Value {
    let mut out = Map::new();
    for key in fields {
        out.insert((*key).into(), c.get(*key).cloned().unwrap_or(Value::Null));
    }
    let attrs = c.get("attributes");
    let mut groups = Map::new();
    for (k, default) in [
        ("tags", json!([])),
        ("stripe", json!({})),
        ("custom", json!({})),
    ] {
        let v = attrs.and_then(|a| a.get(k)).cloned().unwrap_or(default);
        groups.insert(k.into(), v);
    }
    out.insert("attributes".into(), Value::Object(groups));
    Value::Object(out)
}

/// One validated `{"type","key","value","source"}` entry of a POST.
struct NewAttr {
    key: String,
    ty: AttrType,
    value: Value,
}

impl State {
    pub(crate) fn seeded() -> State {
        let types = SEED_ATTRIBUTE_TYPES
            .iter()
            .filter_map(|(k, t)| AttrType::parse(t).map(|t| (k.to_string(), t)))
            .collect();
        State {
            customers: seed_customers(),
            types,
        }
    }

    fn find(&self, uuid: &str) -> Option<usize> {
        self.customers
            .iter()
            .position(|c| c.get("uuid").and_then(Value::as_str) == Some(uuid))
    }

    pub(crate) fn customer(&self, uuid: &str) -> Option<Value> {
        self.find(uuid).map(|i| self.customers[i].clone())
    }

    /// Adds `n` copies of the first seeded customer under fresh ids and
    /// uuids (`cus_00000000-0000-4000-8000-` + a 12-digit counter); returns
    /// their uuids.
    pub(crate) fn add_copies(&mut self, n: usize) -> Vec<String> {
        let template = seed_customer();
        let next_id = self
            .customers
            .iter()
            .filter_map(|c| c.get("id").and_then(Value::as_i64))
            .max()
            .unwrap_or(0)
            + 1;
        (0..n)
            .map(|k| {
                let id = next_id + k as i64;
                let uuid = format!("cus_00000000-0000-4000-8000-{id:012}");
                let mut c = template.clone();
                c["id"] = Value::from(id);
                c["uuid"] = Value::from(uuid.clone());
                c["external_id"] = Value::from(format!("copy_{id}"));
                self.customers.push(c);
                uuid
            })
            .collect()
    }

    pub(crate) fn update_customer(&mut self, uuid: &str, f: &mut dyn FnMut(&mut Value)) -> bool {
        match self.find(uuid) {
            Some(i) => {
                f(&mut self.customers[i]);
                sync_address(&mut self.customers[i]);
                true
            }
            None => false,
        }
    }

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
                _ => method_not_allowed("GET"),
            },
            ["v1", "customers", "attributes", "custom"] => match method {
                "POST" => self.with_body(req, |s, body| s.post_custom_by_email(body)),
                _ => method_not_allowed("POST"),
            },
            ["v1", "customers", "attributes", "tags"] => match method {
                "POST" => self.with_body(req, |s, body| s.post_tags_by_email(body)),
                _ => method_not_allowed("POST"),
            },
            ["v1", "customers", uuid] => match method {
                "GET" => match self.find(uuid) {
                    Some(i) => Resp::json(200, &self.customers[i]),
                    None => not_found(),
                },
                "PATCH" => self.with_body(req, |s, body| s.patch(uuid, body)),
                _ => method_not_allowed("GET, PATCH"),
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
                _ => method_not_allowed("GET"),
            },
            ["v1", "customers", uuid, "attributes", "custom"] => match method {
                "POST" => self.with_body(req, |s, body| s.post_custom(uuid, body)),
                "PUT" => self.with_body(req, |s, body| s.put_custom(uuid, body)),
                "DELETE" => self.with_body(req, |s, body| s.delete_custom(uuid, body)),
                _ => method_not_allowed("POST, PUT, DELETE"),
            },
            ["v1", "customers", uuid, "attributes", "tags"] => match method {
                "POST" => self.with_body(req, |s, body| s.tags(uuid, body, true)),
                "DELETE" => self.with_body(req, |s, body| s.tags(uuid, body, false)),
                _ => method_not_allowed("POST, DELETE"),
            },
            _ => err_single(404, "The requested resource was not found"),
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

    // ----- PATCH /v1/customers/{uuid} ------------------------------------

    fn patch(&mut self, uuid: &str, body: Value) -> Resp {
        let Some(idx) = self.find(uuid) else {
            return not_found();
        };
        let Value::Object(fields) = body else {
            return err_code(400, "The request body must be a JSON object", None);
        };
        // Validate everything first; apply only when all is well.
        let mut sets: Vec<(String, Value)> = Vec::new();
        let mut new_tags: Option<Vec<Value>> = None;
        let mut custom_sets: Vec<(String, AttrType, Option<Value>)> = Vec::new();
        let mut clear_custom = false;
        for (key, value) in &fields {
            let k = key.as_str();
            let bad = |msg: String| err_code(422, &msg, Some(k));
            if PATCH_STRINGS.contains(&k) {
                match value {
                    Value::String(_) | Value::Null => sets.push((k.into(), value.clone())),
                    other => return bad(format!("{k} must be a string, got {}", json_type(other))),
                }
            } else if k == "email" {
                match value {
                    Value::String(s) if plausible_email(s, false) => {
                        sets.push((k.into(), value.clone()))
                    }
                    Value::Null => sets.push((k.into(), Value::Null)),
                    Value::String(s) => return bad(format!("'{s}' is not a valid email address")),
                    other => {
                        return bad(format!("email must be a string, got {}", json_type(other)))
                    }
                }
            } else if k == "country" {
                match value {
                    Value::String(s) if crate::iso::is_country(s) => {
                        sets.push((k.into(), value.clone()))
                    }
                    Value::Null => sets.push((k.into(), Value::Null)),
                    Value::String(s) => {
                        return bad(format!("'{s}' is not an ISO 3166-1 alpha-2 country code"))
                    }
                    other => {
                        return bad(format!(
                            "country must be a string, got {}",
                            json_type(other)
                        ))
                    }
                }
            } else if k == "lead_created_at" || k == "free_trial_started_at" {
                match value {
                    Value::String(s) => match parse_timestamp(s) {
                        Some(t) => sets.push((k.into(), Value::String(format_millis_z(t)))),
                        None => {
                            return bad(format!(
                                "'{s}' is not a timestamp (use YYYY-MM-DD HH:MM:SS or ISO 8601)"
                            ))
                        }
                    },
                    Value::Null => sets.push((k.into(), Value::Null)),
                    other => return bad(format!("{k} must be a string, got {}", json_type(other))),
                }
            } else if k == "owner" {
                match value {
                    Value::String(s) if ACCOUNT_USERS.contains(&s.as_str()) => {
                        sets.push((k.into(), value.clone()))
                    }
                    Value::Null => sets.push((k.into(), Value::Null)),
                    Value::String(s) => {
                        return bad(format!("'{s}' is not the email of a user of this account"))
                    }
                    other => {
                        return bad(format!("owner must be a string, got {}", json_type(other)))
                    }
                }
            } else if k == "status" {
                match value {
                    Value::String(s) if LEAD_STATUSES.contains(&s.as_str()) => {
                        sets.push((k.into(), value.clone()))
                    }
                    _ => {
                        return bad(format!(
                            "status can only be set to one of: {}",
                            LEAD_STATUSES.join(", ")
                        ))
                    }
                }
            } else if k == "primary_contact" {
                match value {
                    Value::Null => sets.push((k.into(), Value::Null)),
                    Value::Object(pc) => {
                        let mut merged = self.customers[idx]
                            .get("primary_contact")
                            .and_then(Value::as_object)
                            .cloned()
                            .unwrap_or_else(|| {
                                PRIMARY_CONTACT_KEYS
                                    .iter()
                                    .map(|k| (k.to_string(), Value::Null))
                                    .collect()
                            });
                        for (ck, cv) in pc {
                            let param = format!("primary_contact.{ck}");
                            if !PRIMARY_CONTACT_KEYS.contains(&ck.as_str()) {
                                return err_code(
                                    422,
                                    &format!("'{ck}' is not a primary_contact field"),
                                    Some(&param),
                                );
                            }
                            match cv {
                                Value::String(s) if ck == "email" && !plausible_email(s, false) => {
                                    return err_code(
                                        422,
                                        &format!("'{s}' is not a valid email address"),
                                        Some(&param),
                                    )
                                }
                                Value::String(_) | Value::Null => {
                                    merged.insert(ck.clone(), cv.clone());
                                }
                                other => {
                                    return err_code(
                                        422,
                                        &format!(
                                            "{param} must be a string, got {}",
                                            json_type(other)
                                        ),
                                        Some(&param),
                                    )
                                }
                            }
                        }
                        sets.push((k.into(), Value::Object(merged)));
                    }
                    other => {
                        return bad(format!(
                            "primary_contact must be an object, got {}",
                            json_type(other)
                        ))
                    }
                }
            } else if k == "attributes" {
                let attrs = match value {
                    Value::Object(a) => a,
                    other => {
                        return bad(format!(
                            "attributes must be an object, got {}",
                            json_type(other)
                        ))
                    }
                };
                for (ak, av) in attrs {
                    let param = format!("attributes.{ak}");
                    match (ak.as_str(), av) {
                        ("tags", Value::Null) => new_tags = Some(Vec::new()),
                        ("tags", Value::Array(items)) => {
                            let mut tags = Vec::new();
                            for t in items {
                                match t {
                                    Value::String(s) if !s.trim().is_empty() => {
                                        if !tags.contains(t) {
                                            tags.push(Value::String(s.clone()))
                                        }
                                    }
                                    _ => {
                                        return err_code(
                                            422,
                                            "tags must be non-empty strings",
                                            Some(&param),
                                        )
                                    }
                                }
                            }
                            new_tags = Some(tags);
                        }
                        ("custom", Value::Null) => clear_custom = true,
                        ("custom", Value::Object(custom)) => {
                            for (ck, cv) in custom {
                                let param = format!("attributes.custom.{ck}");
                                if !valid_key(ck) {
                                    return err_code(
                                        422,
                                        "Custom attribute keys accept only alphanumeric characters and underscores",
                                        Some(&param),
                                    );
                                }
                                if cv.is_null() {
                                    custom_sets.push((ck.clone(), AttrType::String, None));
                                    continue;
                                }
                                let raw = match unwrap_source(cv) {
                                    Ok(v) => v,
                                    Err(msg) => return err_code(422, &msg, Some(&param)),
                                };
                                let ty = self
                                    .types
                                    .get(ck)
                                    .copied()
                                    .unwrap_or_else(|| AttrType::infer(raw));
                                match ty.coerce(raw) {
                                    Ok(v) => custom_sets.push((ck.clone(), ty, Some(v))),
                                    Err(msg) => return err_code(422, &msg, Some(&param)),
                                }
                            }
                        }
                        ("tags", _) | ("custom", _) => {
                            return err_code(
                                422,
                                &format!("{param} has the wrong type"),
                                Some(&param),
                            )
                        }
                        _ => {
                            return err_code(
                                422,
                                &format!("'{param}' is read-only or unknown"),
                                Some(&param),
                            )
                        }
                    }
                }
            } else {
                return bad(format!(
                    "'{k}' is read-only or unknown and cannot be updated"
                ));
            }
        }
        // Apply.
        let customer = &mut self.customers[idx];
        if let Some(obj) = customer.as_object_mut() {
            for (k, v) in sets {
                let v = if v.is_null() && NEVER_NULL.contains(&k.as_str()) {
                    Value::String(String::new())
                } else {
                    v
                };
                obj.insert(k, v);
            }
        }
        if let Some(tags) = new_tags {
            if let Some(list) = tags_list(customer) {
                *list = tags;
            }
        }
        if clear_custom {
            if let Some(map) = custom_map(customer) {
                map.clear();
            }
        }
        let mut new_types = Vec::new();
        if let Some(map) = custom_map(customer) {
            for (k, ty, v) in custom_sets {
                match v {
                    Some(v) => {
                        map.insert(k.clone(), v);
                        new_types.push((k, ty));
                    }
                    None => {
                        map.remove(&k);
                    }
                }
            }
        }
        sync_address(customer);
        let answer = customer.clone();
        for (k, ty) in new_types {
            self.types.entry(k).or_insert(ty);
        }
        Resp::json(200, &answer)
    }

    // ----- custom attributes --------------------------------------------

    /// Validates the `custom` array of a POST.
    fn parse_new_attrs(&self, custom: Option<&Value>) -> Result<Vec<NewAttr>, Resp> {
        let items = match custom {
            Some(Value::Array(items)) if !items.is_empty() => items,
            Some(Value::Array(_)) => {
                return Err(one_error(
                    400,
                    "custom",
                    "must contain at least one attribute",
                ))
            }
            Some(other) => {
                return Err(one_error(
                    400,
                    "custom",
                    &format!(
                        "must be an array of {{type, key, value}} objects, got {}",
                        json_type(other)
                    ),
                ))
            }
            None => return Err(one_error(400, "custom", "is required")),
        };
        let mut errors = BTreeMap::new();
        let mut out: Vec<NewAttr> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Value::Object(obj) = item else {
                errors.insert(format!("custom[{i}]"), "must be an object".to_string());
                continue;
            };
            let key = match obj.get("key") {
                Some(Value::String(k)) => k.clone(),
                _ => {
                    errors.insert(
                        format!("custom[{i}].key"),
                        "is required and must be a string".into(),
                    );
                    continue;
                }
            };
            if !valid_key(&key) {
                errors.insert(
                    key.clone(),
                    "Custom attribute keys accept only alphanumeric characters and underscores"
                        .into(),
                );
                continue;
            }
            if let Some(extra) = obj
                .keys()
                .find(|k| !matches!(k.as_str(), "type" | "key" | "value" | "source"))
            {
                errors.insert(key.clone(), format!("unknown property '{extra}'"));
                continue;
            }
            let ty = match obj.get("type") {
                Some(Value::String(t)) => match AttrType::parse(t) {
                    Some(ty) => ty,
                    None => {
                        errors.insert(
                            key.clone(),
                            format!("'{t}' is not a type; use String, Integer, Decimal, Timestamp or Boolean"),
                        );
                        continue;
                    }
                },
                _ => {
                    errors.insert(key.clone(), "type is required".into());
                    continue;
                }
            };
            if let Some(existing) = self.types.get(&key) {
                if *existing != ty {
                    errors.insert(
                        key.clone(),
                        format!("'{key}' is already defined with type {}", existing.name()),
                    );
                    continue;
                }
            }
            match obj.get("source") {
                None | Some(Value::String(_)) => {}
                Some(_) => {
                    errors.insert(key.clone(), "source must be a string".into());
                    continue;
                }
            }
            let value = match obj.get("value") {
                None | Some(Value::Null) => {
                    errors.insert(key.clone(), "value is required".into());
                    continue;
                }
                Some(v) => v,
            };
            match ty.coerce(value) {
                Ok(v) => out.push(NewAttr { key, ty, value: v }),
                Err(msg) => {
                    errors.insert(key, msg);
                }
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(err_map(422, errors))
        }
    }

    fn apply_new_attrs(&mut self, idx: usize, attrs: &[NewAttr]) {
        for a in attrs {
            self.types.entry(a.key.clone()).or_insert(a.ty);
        }
        if let Some(map) = custom_map(&mut self.customers[idx]) {
            for a in attrs {
                map.insert(a.key.clone(), a.value.clone());
            }
        }
    }

    fn custom_answer(&mut self, idx: usize) -> Resp {
        let custom = custom_map(&mut self.customers[idx])
            .map(|m| Value::Object(m.clone()))
            .unwrap_or_else(|| json!({}));
        Resp::json(200, &json!({ "custom": custom }))
    }

    fn post_custom(&mut self, uuid: &str, body: Value) -> Resp {
        let Some(idx) = self.find(uuid) else {
            return not_found();
        };
        if !body.is_object() {
            return err_single(400, "The request body must be a JSON object");
        }
        match self.parse_new_attrs(body.get("custom")) {
            Ok(attrs) => {
                self.apply_new_attrs(idx, &attrs);
                self.custom_answer(idx)
            }
            Err(resp) => resp,
        }
    }

    fn put_custom(&mut self, uuid: &str, body: Value) -> Resp {
        let Some(idx) = self.find(uuid) else {
            return not_found();
        };
        let custom = match body.get("custom") {
            Some(Value::Object(c)) => c.clone(),
            Some(other) => {
                return one_error(
                    400,
                    "custom",
                    &format!(
                        "must be an object of key: value pairs, got {}",
                        json_type(other)
                    ),
                )
            }
            None => return one_error(400, "custom", "is required"),
        };
        let existing: Vec<String> = custom_map(&mut self.customers[idx])
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for key in custom.keys() {
            if !existing.contains(key) {
                return err_code(
                    400,
                    &format!(
                        "Custom attribute '{key}' does not exist on this customer; create it with POST first"
                    ),
                    Some(key),
                );
            }
        }
        let mut errors = BTreeMap::new();
        let mut sets = Vec::new();
        for (key, v) in &custom {
            let raw = match unwrap_source(v) {
                Ok(raw) => raw,
                Err(msg) => {
                    errors.insert(key.clone(), msg);
                    continue;
                }
            };
            let current = self.customers[idx]
                .pointer(&format!("/attributes/custom/{}", pointer_escape(key)))
                .cloned()
                .unwrap_or(Value::Null);
            let ty = self
                .types
                .get(key)
                .copied()
                .unwrap_or_else(|| AttrType::infer(&current));
            match ty.coerce(raw) {
                Ok(v) => sets.push((key.clone(), v)),
                Err(msg) => {
                    errors.insert(key.clone(), msg);
                }
            }
        }
        if !errors.is_empty() {
            return err_map(422, errors);
        }
        if let Some(map) = custom_map(&mut self.customers[idx]) {
            for (k, v) in sets {
                map.insert(k, v);
            }
        }
        self.custom_answer(idx)
    }

    fn delete_custom(&mut self, uuid: &str, body: Value) -> Resp {
        let Some(idx) = self.find(uuid) else {
            return not_found();
        };
        let keys: Vec<String> = match body.get("custom") {
            Some(Value::Array(items)) => {
                let mut keys = Vec::new();
                for item in items {
                    match item {
                        Value::String(s) => keys.push(s.clone()),
                        _ => return one_error(400, "custom", "must be an array of key names"),
                    }
                }
                keys
            }
            Some(_) => return one_error(400, "custom", "must be an array of key names"),
            None => return one_error(400, "custom", "is required"),
        };
        if let Some(map) = custom_map(&mut self.customers[idx]) {
            for k in &keys {
                map.remove(k);
            }
        }
        self.custom_answer(idx)
    }

    fn post_custom_by_email(&mut self, body: Value) -> Resp {
        if !body.is_object() {
            return err_single(400, "The request body must be a JSON object");
        }
        let email = match body.get("email") {
            Some(Value::String(e)) if !e.trim().is_empty() => e.clone(),
            _ => return one_error(400, "email", "is required"),
        };
        let attrs = match self.parse_new_attrs(body.get("custom")) {
            Ok(a) => a,
            Err(resp) => return resp,
        };
        let matching = self.with_email(&email);
        if matching.is_empty() {
            return err_single(404, &format!("No customers found with email {email}"));
        }
        let mut entries = Vec::new();
        for idx in matching {
            self.apply_new_attrs(idx, &attrs);
            entries.push(summary(&self.customers[idx], CUSTOM_BY_EMAIL_FIELDS));
        }
        Resp::json(200, &json!({ "entries": entries }))
    }

    /// Indexes of the customers with this email (case-insensitive).
    fn with_email(&self, email: &str) -> Vec<usize> {
        self.customers
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.get("email")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .map(|(i, _)| i)
            .collect()
    }

    // ----- tags -----------------------------------------------------------

    fn tags(&mut self, uuid: &str, body: Value, add: bool) -> Resp {
        let Some(idx) = self.find(uuid) else {
            return not_found();
        };
        let names = match parse_tags(&body) {
            Ok(names) => names,
            Err(resp) => return resp,
        };
        let Some(list) = tags_list(&mut self.customers[idx]) else {
            return not_found();
        };
        for name in names {
            let v = Value::String(name);
            if add {
                if !list.contains(&v) {
                    list.push(v);
                }
            } else {
                list.retain(|t| t != &v);
            }
        }
        let all = list.clone();
        Resp::json(200, &json!({ "tags": all }))
    }

    /// `POST /v1/customers/attributes/tags`: adds the tags to every
    /// customer with the email; answers `{"entries": [..]}`.
    fn post_tags_by_email(&mut self, body: Value) -> Resp {
        if !body.is_object() {
            return err_single(400, "The request body must be a JSON object");
        }
        let email = match body.get("email") {
            Some(Value::String(e)) if !e.trim().is_empty() => e.clone(),
            _ => return one_error(400, "email", "is required"),
        };
        let names = match parse_tags(&body) {
            Ok(names) => names,
            Err(resp) => return resp,
        };
        let matching = self.with_email(&email);
        if matching.is_empty() {
            return err_single(404, &format!("No customers found with email {email}"));
        }
        let mut entries = Vec::new();
        for idx in matching {
            if let Some(list) = tags_list(&mut self.customers[idx]) {
                for name in &names {
                    let v = Value::String(name.clone());
                    if !list.contains(&v) {
                        list.push(v);
                    }
                }
            }
            entries.push(summary(&self.customers[idx], TAGS_BY_EMAIL_FIELDS));
        }
        Resp::json(200, &json!({ "entries": entries }))
    }
}

/// Validates the `tags` array of a tag call: present, not empty, each a
/// string that is not blank.
fn parse_tags(body: &Value) -> Result<Vec<String>, Resp> {
    let items = match body.get("tags") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) => {
            return Err(one_error(400, "tags", "must contain at least one tag"))
        }
        Some(_) => return Err(one_error(400, "tags", "must be an array of strings")),
        None => return Err(one_error(400, "tags", "is required")),
    };
    let mut names = Vec::new();
    for t in items {
        match t {
            Value::String(s) if !s.trim().is_empty() => names.push(s.clone()),
            _ => return Err(one_error(422, "tags", "tags must be non-empty strings")),
        }
    }
    Ok(names)
}

fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `value` or `{"value": .., "source": ..}` → the value.
fn unwrap_source(v: &Value) -> Result<&Value, String> {
    match v {
        Value::Object(obj) => {
            if let Some(extra) = obj
                .keys()
                .find(|k| !matches!(k.as_str(), "value" | "source"))
            {
                return Err(format!(
                    "unknown property '{extra}' (use {{\"value\", \"source\"}})"
                ));
            }
            match obj.get("source") {
                None | Some(Value::String(_)) => {}
                Some(_) => return Err("source must be a string".into()),
            }
            match obj.get("value") {
                Some(v) if !v.is_null() => Ok(v),
                _ => Err("value is required".into()),
            }
        }
        other => Ok(other),
    }
}

fn one_error(status: u16, field: &str, message: &str) -> Resp {
    let mut m = BTreeMap::new();
    m.insert(field.to_string(), message.to_string());
    err_map(status, m)
}

fn not_found() -> Resp {
    err_code(404, "Customer not found", None)
}

fn method_not_allowed(allow: &str) -> Resp {
    err_single(405, "Method not allowed").with_header("Allow", allow)
}
