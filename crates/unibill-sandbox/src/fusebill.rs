//! The Fusebill emulator: fixtures, credentials and behaviour.
//!
//! Endpoints (`Authorization: Basic {API_KEY}`, the key sent exactly as
//! issued):
//!
//! * `GET /v1/customers/{id}`;
//! * `GET /v1/customers` (a JSON array), filtered with `query=name:value;..`
//!   and paged with `pageSize`/`pageNumber`, as Stax Bill's reference describes;
//! * `PUT /v1/customers` with `id` in the body and full-replacement
//!   semantics: every writable field absent from the body becomes `null`.
//!
//! See `docs/sandbox.md` for the validation rules.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::http::{json_type, plausible_email, Req, Resp};
use crate::time::{format_ticks_z, parse_timestamp};

/// The API key the emulator accepts, exactly as issued (base64 text).
/// A client that base64-encodes it again is refused with 401.
pub const API_KEY: &str =
    "MDp1bmliaWxsLXNhbmRib3g6ZjVjMWU4YTItN2I0ZC00ZTkzLWE2ZjAtMmQ5YzNiN2UxYTQ4";

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

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// String (numbers accepted and kept as numbers), optional max length.
    Text(Option<usize>),
    /// `;`-separated email list, max length.
    Emails(usize),
    /// JSON integer.
    Int,
    /// One of these (case-insensitive, stored canonical).
    Enum(&'static [&'static str]),
    /// Special-cased elsewhere (status, currency, nested objects).
    Special,
}

const WRITABLE: &[(&str, Kind)] = &[
    ("firstName", Kind::Text(Some(50))),
    ("middleName", Kind::Text(Some(50))),
    ("lastName", Kind::Text(Some(50))),
    ("companyName", Kind::Text(Some(50))),
    ("suffix", Kind::Text(Some(50))),
    ("primaryEmail", Kind::Emails(255)),
    ("primaryPhone", Kind::Text(Some(50))),
    ("secondaryEmail", Kind::Emails(255)),
    ("secondaryPhone", Kind::Text(Some(50))),
    ("title", Kind::Enum(TITLES)),
    ("reference", Kind::Text(Some(255))),
    ("status", Kind::Special),
    ("currency", Kind::Special),
    ("customerReference", Kind::Special),
    ("customerAcquisition", Kind::Special),
    ("parentId", Kind::Int),
    ("quickBooksLatchType", Kind::Enum(QUICKBOOKS_LATCH_TYPES)),
    ("quickBooksId", Kind::Int),
    ("quickBooksSyncToken", Kind::Text(None)),
    ("salesforceId", Kind::Text(None)),
    ("salesforceAccountType", Kind::Text(None)),
    ("salesforceSynchStatus", Kind::Text(None)),
    ("netsuiteId", Kind::Text(None)),
    ("netsuiteSynchStatus", Kind::Text(None)),
    ("netsuiteCustomerType", Kind::Text(None)),
    ("portalUserName", Kind::Text(None)),
    ("hubSpotId", Kind::Text(None)),
    ("hubSpotCompanyId", Kind::Text(None)),
    ("geotabId", Kind::Text(None)),
];

const REFERENCE_FIELDS: &[&str] = &["reference1", "reference2", "reference3"];
const ACQUISITION_FIELDS: &[&str] = &[
    "adContent",
    "campaign",
    "keyword",
    "landingPage",
    "medium",
    "source",
];
const NESTED_SYSTEM: &[&str] = &["id", "uri"];

// ----- errors ---------------------------------------------------------------

fn errors(status: u16, list: &[(String, String)]) -> Resp {
    let errs: Vec<Value> = list
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Resp::json(
        status,
        &json!({"ErrorId": 0, "HttpStatusCode": status, "Errors": errs}),
    )
}

fn error(status: u16, key: &str, value: &str) -> Resp {
    errors(status, &[(key.to_string(), value.to_string())])
}

/// Answer for injected faults, rate limiting and unreadable bodies.
pub(crate) fn error_response(status: u16, message: &str) -> Resp {
    let value = match status {
        429 => format!("API rate limit exceeded: {message}"),
        401 => "Invalid API key".to_string(),
        _ => format!("{} ({message})", crate::http::reason(status)),
    };
    error(status, "Api Error", &value)
}

// ----- fixtures -------------------------------------------------------------

fn seed_customer() -> Value {
    json!({
        "firstName": "Katelyn",
        "middleName": "Kent",
        "lastName": "Floyd",
        "companyName": "Ronbert",
        "suffix": "Sr.",
        "primaryEmail": SEED_CUSTOMER_EMAIL,
        "primaryPhone": 9964413586u64,
        "secondaryEmail": SEED_CUSTOMER_SECONDARY_EMAIL,
        "secondaryPhone": 9555473089u64,
        "title": "Miss",
        "reference": 100986,
        "status": "Active",
        "customerAccountStatus": "Good",
        "currency": "USD",
        "customerReference": {
            "reference1": null,
            "reference2": "customValue",
            "reference3": null,
            "salesTrackingCodes": [],
            "id": 12000750,
            "uri": "https://secure.fusebill.com/v1/customers/12000750"
        },
        "customerAcquisition": {
            "adContent": null,
            "campaign": null,
            "keyword": null,
            "landingPage": null,
            "medium": null,
            "source": null,
            "id": 12000750,
            "uri": "https://secure.fusebill.com/v1/customers/12000750"
        },
        "monthlyRecurringRevenue": 250,
        "netMonthlyRecurringRevenue": 220,
        "salesforceId": 12345678,
        "salesforceAccountType": null,
        "salesforceSynchStatus": "Enabled",
        "netsuiteId": 12345678,
        "netsuiteSynchStatus": "Enabled",
        "netsuiteCustomerType": "Individual",
        "portalUserName": "Katelyn1974",
        "parentId": 12000749,
        "quickBooksLatchType": null,
        "quickBooksId": null,
        "quickBooksSyncToken": null,
        "hubSpotId": null,
        "hubSpotCompanyId": null,
        "geotabId": "7813",
        "modifiedTimestamp": "2019-11-07T15:51:11.1915461Z",
        "createdTimestamp": "2018-01-01T03:33:33.02",
        "id": 12000750,
        "uri": "https://secure.fusebill.com/v1/customers/12000750"
    })
}

fn parent_customer() -> Value {
    json!({
        "firstName": "Robert",
        "middleName": null,
        "lastName": "Bertram",
        "companyName": "Ronbert Group",
        "suffix": null,
        "primaryEmail": PARENT_CUSTOMER_EMAIL,
        "primaryPhone": "+1 (613) 555-0142",
        "secondaryEmail": null,
        "secondaryPhone": null,
        "title": "Mr",
        "reference": "RG-0001",
        "status": "Active",
        "customerAccountStatus": "Good",
        "currency": "USD",
        "customerReference": {
            "reference1": null,
            "reference2": null,
            "reference3": null,
            "salesTrackingCodes": [],
            "id": 12000749,
            "uri": "https://secure.fusebill.com/v1/customers/12000749"
        },
        "customerAcquisition": {
            "adContent": null,
            "campaign": null,
            "keyword": null,
            "landingPage": null,
            "medium": null,
            "source": null,
            "id": 12000749,
            "uri": "https://secure.fusebill.com/v1/customers/12000749"
        },
        "monthlyRecurringRevenue": 0,
        "netMonthlyRecurringRevenue": 0,
        "salesforceId": null,
        "salesforceAccountType": null,
        "salesforceSynchStatus": "Enabled",
        "netsuiteId": null,
        "netsuiteSynchStatus": "Enabled",
        "netsuiteCustomerType": "Company",
        "portalUserName": null,
        "parentId": null,
        "quickBooksLatchType": null,
        "quickBooksId": null,
        "quickBooksSyncToken": null,
        "hubSpotId": null,
        "hubSpotCompanyId": null,
        "geotabId": null,
        "modifiedTimestamp": "2019-11-01T09:12:45.5530000Z",
        "createdTimestamp": "2017-12-31T23:10:05.47",
        "id": 12000749,
        "uri": "https://secure.fusebill.com/v1/customers/12000749"
    })
}

/// The customers the emulator starts with, as `GET` answers them.
pub fn seed_customers() -> Vec<Value> {
    vec![seed_customer(), parent_customer()]
}

// ----- state ----------------------------------------------------------------

pub(crate) struct State {
    customers: Vec<Value>,
    last_modified: DateTime<Utc>,
}

fn id_of(c: &Value) -> Option<i64> {
    c.get("id").and_then(Value::as_i64)
}

/// Finds `name` among `candidates` ignoring ASCII case.
fn canonical<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .find(|c| c.eq_ignore_ascii_case(name))
}

fn text_len(v: &Value) -> usize {
    match v {
        Value::String(s) => s.chars().count(),
        other => other.to_string().chars().count(),
    }
}

/// Validates one simple field; pushes an error and returns `None` on failure.
fn check(name: &str, kind: Kind, v: &Value, errs: &mut Vec<(String, String)>) -> Option<Value> {
    match (kind, v) {
        (_, Value::Null) => Some(Value::Null),
        (Kind::Text(max), Value::String(_) | Value::Number(_)) => match max {
            Some(max) if text_len(v) > max => {
                errs.push((
                    name.into(),
                    format!("{name} exceeds the maximum length of {max} characters"),
                ));
                None
            }
            _ => Some(v.clone()),
        },
        (Kind::Text(_), other) => {
            errs.push((
                name.into(),
                format!("{name} must be a string, got {}", json_type(other)),
            ));
            None
        }
        (Kind::Emails(max), Value::String(s)) => {
            if text_len(v) > max {
                errs.push((
                    name.into(),
                    format!("{name} exceeds the maximum length of {max} characters"),
                ));
                return None;
            }
            let all_ok = s
                .split(';')
                .map(str::trim)
                .all(|e| plausible_email(e, true));
            if s.trim().is_empty() || all_ok {
                Some(v.clone())
            } else {
                errs.push((
                    name.into(),
                    format!("{name} must be email addresses separated by ';'"),
                ));
                None
            }
        }
        (Kind::Emails(_), other) => {
            errs.push((
                name.into(),
                format!("{name} must be a string, got {}", json_type(other)),
            ));
            None
        }
        (Kind::Int, Value::Number(n)) if n.is_i64() || n.is_u64() => Some(v.clone()),
        (Kind::Int, other) => {
            errs.push((
                name.into(),
                format!("{name} must be an integer, got {}", json_type(other)),
            ));
            None
        }
        (Kind::Enum(values), Value::String(s)) => match canonical(s, values.iter().copied()) {
            Some(c) => Some(Value::String(c.to_string())),
            None => {
                errs.push((
                    name.into(),
                    format!(
                        "'{s}' is not a valid {name}; expected one of {}",
                        values.join(", ")
                    ),
                ));
                None
            }
        },
        (Kind::Enum(values), other) => {
            errs.push((
                name.into(),
                format!(
                    "{name} must be one of {}, got {}",
                    values.join(", "),
                    json_type(other)
                ),
            ));
            None
        }
        (Kind::Special, _) => Some(v.clone()),
    }
}

/// Maps the keys of `obj` onto canonical names (case-insensitively);
/// unknown keys are dropped (as the real API ignores them). Duplicates that
/// differ only in case are errors.
fn canonicalize(
    obj: &Map<String, Value>,
    known: &[String],
    prefix: &str,
    errs: &mut Vec<(String, String)>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in obj {
        if let Some(c) = canonical(k, known.iter().map(String::as_str)) {
            if out.contains_key(c) {
                errs.push((
                    format!("{prefix}{c}"),
                    format!("property {prefix}{c} is given more than once"),
                ));
            } else {
                out.insert(c.to_string(), v.clone());
            }
        }
    }
    out
}

impl State {
    pub(crate) fn seeded() -> State {
        let last_modified =
            parse_timestamp("2019-11-07T15:51:11.1915461Z").unwrap_or_else(Utc::now);
        State {
            customers: seed_customers(),
            last_modified,
        }
    }

    fn find(&self, id: i64) -> Option<usize> {
        self.customers.iter().position(|c| id_of(c) == Some(id))
    }

    fn next_timestamp(&mut self) -> String {
        let now = Utc::now();
        let min_next = self.last_modified + chrono::Duration::nanoseconds(100);
        let ts = if now > min_next { now } else { min_next };
        self.last_modified = ts;
        format_ticks_z(ts)
    }

    /// Adds `n` copies of the first seeded customer under fresh integer
    /// ids (after the highest one held); returns their ids.
    pub(crate) fn add_copies(&mut self, n: usize) -> Vec<String> {
        let template = seed_customers()[0].clone();
        let next = self
            .customers
            .iter()
            .filter_map(|c| c.get("id").and_then(Value::as_i64))
            .max()
            .unwrap_or(0)
            + 1;
        (0..n)
            .map(|k| {
                let id = next + k as i64;
                let mut c = template.clone();
                c["id"] = Value::from(id);
                self.customers.push(c);
                id.to_string()
            })
            .collect()
    }

    pub(crate) fn customer(&self, id: &str) -> Option<Value> {
        let id: i64 = id.trim().parse().ok()?;
        self.find(id).map(|i| self.customers[i].clone())
    }

    pub(crate) fn update_customer(&mut self, id: &str, f: &mut dyn FnMut(&mut Value)) -> bool {
        let Ok(id) = id.trim().parse::<i64>() else {
            return false;
        };
        let Some(i) = self.find(id) else {
            return false;
        };
        f(&mut self.customers[i]);
        let ts = self.next_timestamp();
        if let Some(obj) = self.customers[i].as_object_mut() {
            obj.insert("modifiedTimestamp".into(), Value::String(ts));
        }
        true
    }

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
                _ => error(
                    405,
                    "Api Error",
                    "The requested resource does not support this method",
                ),
            },
            ["v1", "customers", id] => match method {
                "GET" => match id.parse::<i64>().ok().and_then(|n| self.find(n)) {
                    Some(i) => Resp::json(200, &self.customers[i]),
                    None => error(404, "Api Error", &format!("Customer {id} was not found")),
                },
                _ => error(
                    405,
                    "Api Error",
                    "The requested resource does not support this method",
                ),
            },
            _ => error(404, "Api Error", "No resource matches the request URI"),
        }
    }

    /// `GET /v1/customers` with Stax Bill's "String Filtering"
    /// (`query=name:value;name:value`, `*` wildcards, `[empty]`, comma sets
    /// on enum and id fields) and "Pagination" (`pageSize`, `pageNumber`,
    /// `X-*` paging headers). Range filtering (`a|b`) is not emulated.
    fn list(&self, req: &Req) -> Resp {
        let mut filters: Vec<(String, String)> = Vec::new();
        if let Some(q) = req.query_param("query") {
            for pair in q.split(';').filter(|p| !p.is_empty()) {
                let Some((field, wanted)) = pair.split_once(':') else {
                    return error(400, "query", "query must look like name:value;name:value");
                };
                let Some(path) = filter_path(field) else {
                    return error(
                        400,
                        "query",
                        &format!("cannot filter customers by '{field}'"),
                    );
                };
                if wanted.contains('|') {
                    return error(
                        400,
                        "query",
                        "range filtering (a|b) is not emulated by the sandbox",
                    );
                }
                filters.push((path, wanted.to_string()));
            }
        }
        let page_size = match req.query_param("pageSize").map(|v| v.parse::<usize>()) {
            None => 1000,
            Some(Ok(n)) if n > 0 => n,
            Some(_) => return error(400, "pageSize", "pageSize must be a positive integer"),
        };
        let page = match req.query_param("pageNumber").map(|v| v.parse::<usize>()) {
            None => 0,
            Some(Ok(n)) => n,
            Some(_) => {
                return error(
                    400,
                    "pageNumber",
                    "pageNumber must be a non-negative integer",
                )
            }
        };
        let matches: Vec<&Value> = self
            .customers
            .iter()
            .filter(|c| {
                filters
                    .iter()
                    .all(|(path, wanted)| filter_matches(c, path, wanted))
            })
            .collect();
        let count = matches.len();
        let pages = count.div_ceil(page_size).max(1);
        let items: Vec<Value> = matches
            .into_iter()
            .skip(page.saturating_mul(page_size))
            .take(page_size)
            .cloned()
            .collect();
        let mut resp = Resp::json(200, &Value::Array(items));
        let next = if page + 1 < pages {
            (page + 1) as i64
        } else {
            -1
        };
        let previous = if page == 0 { -1 } else { page as i64 - 1 };
        for (name, value) in [
            ("X-Count", count.to_string()),
            ("X-MaxCount", self.customers.len().to_string()),
            ("X-CurrentPage", page.to_string()),
            ("X-PreviousPage", previous.to_string()),
            ("X-NextPage", next.to_string()),
            ("X-PageSize", page_size.to_string()),
            ("X-MaxPageIndex", (pages - 1).to_string()),
        ] {
            resp.set_header(name, value);
        }
        resp
    }

    fn put(&mut self, body: Value) -> Resp {
        let Value::Object(raw) = body else {
            return error(
                400,
                "Api Error",
                "The request body must be a customer object",
            );
        };
        let mut errs: Vec<(String, String)> = Vec::new();

        // id first: we need the stored record to know its extra fields.
        let id_value = raw
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("id"))
            .map(|(_, v)| v.clone());
        let id = match id_value {
            None | Some(Value::Null) => {
                return error(400, "id", "id is required");
            }
            Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or_default(),
            Some(other) => {
                return error(
                    400,
                    "id",
                    &format!("id must be an integer, got {}", json_type(&other)),
                );
            }
        };
        let Some(idx) = self.find(id) else {
            return error(404, "Api Error", &format!("Customer {id} was not found"));
        };
        let stored = self.customers[idx].clone();

        // Known top-level names: documented, system-managed, and whatever
        // else the stored record carries.
        let mut known: Vec<String> = WRITABLE.iter().map(|(k, _)| k.to_string()).collect();
        known.extend(SYSTEM_FIELDS.iter().map(|s| s.to_string()));
        if let Some(obj) = stored.as_object() {
            for k in obj.keys() {
                if !known.contains(k) {
                    known.push(k.clone());
                }
            }
        }
        let body = canonicalize(&raw, &known, "", &mut errs);

        let mut out = Map::new();
        // System-managed fields keep their values.
        if let Some(obj) = stored.as_object() {
            for f in SYSTEM_FIELDS {
                if let Some(v) = obj.get(*f) {
                    out.insert(f.to_string(), v.clone());
                }
            }
        }

        // status: required, enum, never to Suspended by hand.
        let current_status = stored.get("status").and_then(Value::as_str).unwrap_or("");
        match body.get("status") {
            None | Some(Value::Null) => errs.push(("status".into(), "status is required".into())),
            Some(Value::String(s)) => match canonical(s, STATUSES.iter().copied()) {
                Some("Suspended") if current_status != "Suspended" => {
                    return error(
                        400,
                        "Api Error",
                        "Customers cannot be suspended by hand: suspension is managed by the system.",
                    );
                }
                Some(c) => {
                    out.insert("status".into(), Value::String(c.into()));
                }
                None => errs.push((
                    "status".into(),
                    format!(
                        "'{s}' is not a valid status; expected one of {}",
                        STATUSES.join(", ")
                    ),
                )),
            },
            Some(other) => errs.push((
                "status".into(),
                format!("status must be a string, got {}", json_type(other)),
            )),
        }

        // currency: set once, when the customer is created ("This value can
        // not be edited after the customer has been created"). Absent or
        // null keeps it; the same code is accepted; another is refused.
        let current_currency = stored
            .get("currency")
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_CURRENCY)
            .to_string();
        match body.get("currency") {
            None | Some(Value::Null) => {
                out.insert("currency".into(), Value::String(current_currency));
            }
            Some(Value::String(c)) if crate::iso::is_currency(c) => {
                if *c == current_currency {
                    out.insert("currency".into(), Value::String(c.clone()));
                } else {
                    errs.push((
                        "currency".into(),
                        format!(
                            "the customer's currency is {current_currency}; a customer's currency cannot be changed after it is created"
                        ),
                    ));
                }
            }
            Some(other) => errs.push((
                "currency".into(),
                format!("currency must be a 3-letter ISO 4217 code, got {other}"),
            )),
        }

        // Simple documented fields.
        for (name, kind) in WRITABLE {
            if matches!(kind, Kind::Special) {
                continue;
            }
            let v = body.get(*name).cloned().unwrap_or(Value::Null);
            if let Some(ok) = check(name, *kind, &v, &mut errs) {
                out.insert(name.to_string(), ok);
            }
        }

        // parentId must name another existing customer.
        if let Some(Value::Number(n)) = out.get("parentId") {
            let pid = n.as_i64().unwrap_or_default();
            if pid == id || self.find(pid).is_none() {
                errs.push((
                    "parentId".into(),
                    format!("parent customer {pid} does not exist"),
                ));
            }
        }

        // Nested objects.
        let reference = self.nested(
            "customerReference",
            REFERENCE_FIELDS,
            &stored,
            body.get("customerReference"),
            &mut errs,
        );
        out.insert("customerReference".into(), reference);
        let acquisition = self.nested(
            "customerAcquisition",
            ACQUISITION_FIELDS,
            &stored,
            body.get("customerAcquisition"),
            &mut errs,
        );
        out.insert("customerAcquisition".into(), acquisition);

        // Fields the documentation does not list but the record carries:
        // writable, so nulled when absent.
        if let Some(obj) = stored.as_object() {
            for k in obj.keys() {
                if out.contains_key(k) || SYSTEM_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                if WRITABLE.iter().any(|(w, _)| w == k) {
                    continue;
                }
                out.insert(k.clone(), body.get(k).cloned().unwrap_or(Value::Null));
            }
        }

        if !errs.is_empty() {
            return errors(400, &errs);
        }
        out.insert(
            "modifiedTimestamp".into(),
            Value::String(self.next_timestamp()),
        );
        let record = Value::Object(out);
        self.customers[idx] = record.clone();
        Resp::json(200, &record)
    }

    fn nested(
        &self,
        name: &str,
        fields: &[&str],
        stored: &Value,
        given: Option<&Value>,
        errs: &mut Vec<(String, String)>,
    ) -> Value {
        let stored_obj = stored
            .get(name)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut out = Map::new();
        for k in NESTED_SYSTEM {
            if let Some(v) = stored_obj.get(*k) {
                out.insert(k.to_string(), v.clone());
            }
        }
        let mut known: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
        let is_reference = name == "customerReference";
        if is_reference {
            known.push("salesTrackingCodes".into());
        }
        known.extend(NESTED_SYSTEM.iter().map(|s| s.to_string()));
        for k in stored_obj.keys() {
            if !known.contains(k) {
                known.push(k.clone());
            }
        }
        let given_obj = match given {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(o)) => canonicalize(o, &known, &format!("{name}."), errs),
            Some(other) => {
                errs.push((
                    name.into(),
                    format!("{name} must be an object, got {}", json_type(other)),
                ));
                Map::new()
            }
        };
        for f in fields {
            let v = given_obj.get(*f).cloned().unwrap_or(Value::Null);
            let label = format!("{name}.{f}");
            if let Some(ok) = check(&label, Kind::Text(Some(255)), &v, errs) {
                out.insert(f.to_string(), ok);
            }
        }
        if is_reference {
            let codes = match given_obj.get("salesTrackingCodes") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => {
                    if items.len() > 5 {
                        errs.push((
                            format!("{name}.salesTrackingCodes"),
                            "at most 5 sales tracking codes are allowed".into(),
                        ));
                    }
                    items
                        .iter()
                        .enumerate()
                        .filter_map(|(i, item)| sales_tracking_code(name, i, item, errs))
                        .collect()
                }
                Some(other) => {
                    errs.push((
                        format!("{name}.salesTrackingCodes"),
                        format!(
                            "salesTrackingCodes must be an array, got {}",
                            json_type(other)
                        ),
                    ));
                    Vec::new()
                }
            };
            out.insert("salesTrackingCodes".into(), Value::Array(codes));
        }
        for k in stored_obj.keys() {
            if !out.contains_key(k) {
                out.insert(k.clone(), given_obj.get(k).cloned().unwrap_or(Value::Null));
            }
        }
        Value::Object(out)
    }
}

/// Fields whose filter value may be a comma-separated set (enums and ids).
const SET_FILTERS: &[&str] = &[
    "id",
    "parentId",
    "quickBooksId",
    "status",
    "title",
    "customerAccountStatus",
    "salesforceAccountType",
    "salesforceSynchStatus",
    "netsuiteSynchStatus",
    "quickBooksLatchType",
];

/// The record path (`name` or `object.name`) a filter name selects, matched
/// case-insensitively; `accountStatus` is the documented name of
/// `customerAccountStatus`.
fn filter_path(name: &str) -> Option<String> {
    if name.eq_ignore_ascii_case("accountStatus") {
        return Some("customerAccountStatus".into());
    }
    if let Some((obj, field)) = name.split_once('.') {
        let (obj, fields) = if obj.eq_ignore_ascii_case("customerReference") {
            ("customerReference", REFERENCE_FIELDS)
        } else if obj.eq_ignore_ascii_case("customerAcquisition") {
            ("customerAcquisition", ACQUISITION_FIELDS)
        } else {
            return None;
        };
        let field = canonical(field, fields.iter().copied())?;
        return Some(format!("{obj}.{field}"));
    }
    let top = WRITABLE
        .iter()
        .map(|(k, _)| *k)
        .chain(SYSTEM_FIELDS.iter().copied())
        .filter(|k| !matches!(*k, "customerReference" | "customerAcquisition"));
    canonical(name, top).map(str::to_string)
}

fn filter_matches(customer: &Value, path: &str, wanted: &str) -> bool {
    let value = match path.split_once('.') {
        Some((obj, field)) => customer.get(obj).and_then(|o| o.get(field)),
        None => customer.get(path),
    };
    let text = match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    if wanted == "[empty]" {
        return text.is_none_or(|t| t.is_empty());
    }
    let Some(text) = text else {
        return false;
    };
    let set = SET_FILTERS.contains(&path);
    let alternatives: Vec<&str> = if set {
        wanted.split(',').map(str::trim).collect()
    } else {
        vec![wanted]
    };
    alternatives.iter().any(|alt| {
        if set && !alt.contains('*') {
            text.eq_ignore_ascii_case(alt)
        } else {
            wildcard_match(alt, &text)
        }
    })
}

/// `*` matches any run of characters (none included); everything else is
/// compared exactly.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

fn sales_tracking_code(
    parent: &str,
    i: usize,
    item: &Value,
    errs: &mut Vec<(String, String)>,
) -> Option<Value> {
    let label = format!("{parent}.salesTrackingCodes[{i}]");
    let Value::Object(obj) = item else {
        errs.push((label, "a sales tracking code must be an object".into()));
        return None;
    };
    let known = vec!["type".to_string(), "code".to_string()];
    let obj = canonicalize(obj, &known, &format!("{label}."), errs);
    let mut out = Map::new();
    for f in ["type", "code"] {
        let field = format!("{label}.{f}");
        match obj.get(f) {
            Some(Value::String(s)) if !s.trim().is_empty() => {
                if s.chars().count() > 255 {
                    errs.push((
                        field,
                        format!("{f} exceeds the maximum length of 255 characters"),
                    ));
                    return None;
                }
                if f == "type" && canonical(s, SALES_TRACKING_CODE_TYPES.iter().copied()).is_none()
                {
                    errs.push((
                        field,
                        format!("'{s}' is not a sales tracking code type of this account"),
                    ));
                    return None;
                }
                out.insert(f.into(), Value::String(s.clone()));
            }
            _ => {
                errs.push((field, format!("{f} is required and must be a string")));
                return None;
            }
        }
    }
    Some(Value::Object(out))
}
