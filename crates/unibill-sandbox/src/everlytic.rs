//! The Everlytic emulator (REST `/api/2.0`): fixtures, credentials and
//! behaviour.
//!
//! Endpoints (HTTP Basic `base64(username:apikey)`):
//!
//! * `GET /api/2.0/customers/{id}` → `{"links":[..],"item":{..}}`;
//! * `GET /api/2.0/customers` → `{"links":[..],"collection":[..]}`;
//! * `PUT /api/2.0/customers/{id}`: partial update of the documented
//!   properties, `name` and `email` required on every update. The answer's
//!   shape is chosen with [`VendorHandle::set_everlytic_put_shape`].
//!
//! The vendor's page documents no example customer id; the seeded ids are
//! the emulator's own.
//!
//! [`VendorHandle::set_everlytic_put_shape`]: crate::VendorHandle::set_everlytic_put_shape

use serde_json::{json, Map, Value};

use crate::http::{json_type, plausible_email, Req, Resp};

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
const INTEGER_PROPERTIES: &[&str] = &[
    "email_package_id",
    "email_quota",
    "sms_quota",
    "transactions_package_id",
    "transactions_quota",
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

fn error(status: u16, message: &str) -> Resp {
    Resp::json(status, &json!({"error": {"message": message}}))
}

/// Answer for injected faults, rate limiting and unreadable bodies.
pub(crate) fn error_response(status: u16, message: &str) -> Resp {
    let text = match status {
        429 => "Too many requests".to_string(),
        401 => "Authentication failed".to_string(),
        _ => format!("{} ({message})", crate::http::reason(status)),
    };
    error(status, &text)
}

fn seed_items() -> Vec<Value> {
    vec![
        json!({
            "id": 1001,
            "name": "Cape Mailers (Pty) Ltd",
            "email": SEED_CUSTOMER_EMAIL,
            "status": "on",
            "email_package_id": 3,
            "email_quota": 50000,
            "sms_quota": 2000,
            "transactions_package_id": 2,
            "transactions_quota": 10000,
            "deleted": "no",
            "address": "12 Loop Street, Cape Town City Centre",
            "state_provinces": "Western Cape",
            "postal_code": "8001",
            "telephone": "+27 21 555 0100",
            "website_url": "https://capemailers.example.com",
            "country": "ZA",
            "industry": "Hospitality, Travel & Tourism",
            "unique_id": "CM-0001"
        }),
        json!({
            "id": 1002,
            "name": "Karoo Books",
            "email": SECOND_CUSTOMER_EMAIL,
            "status": "off",
            "email_package_id": 1,
            "email_quota": 5000,
            "sms_quota": 0,
            "transactions_package_id": 1,
            "transactions_quota": 0,
            "deleted": "no",
            "address": "4 Church Street, Graaff-Reinet",
            "state_provinces": "Eastern Cape",
            "postal_code": "6280",
            "telephone": "+27 49 555 0199",
            "website_url": "https://karoobooks.example.com",
            "country": "ZA",
            "industry": "Publishing & Media",
            "unique_id": "KB-0002"
        }),
    ]
}

/// The customers the emulator starts with (bare items, as
/// [`VendorHandle::customer`](crate::VendorHandle::customer) answers).
pub fn seed_customers() -> Vec<Value> {
    seed_items()
}

pub(crate) struct State {
    customers: Vec<Value>,
    base_url: String,
    pub(crate) put_shape: PutShape,
}

impl State {
    pub(crate) fn seeded(base_url: &str) -> State {
        State {
            customers: seed_items(),
            base_url: base_url.to_string(),
            put_shape: PutShape::Wrapped,
        }
    }

    fn find(&self, id: &str) -> Option<usize> {
        let id: i64 = id.trim().parse().ok()?;
        self.customers
            .iter()
            .position(|c| c.get("id").and_then(Value::as_i64) == Some(id))
    }

    /// Adds `n` copies of the first seeded customer under fresh integer
    /// ids (after the highest one held); returns their ids.
    pub(crate) fn add_copies(&mut self, n: usize) -> Vec<String> {
        let template = seed_items()[0].clone();
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
        self.find(id).map(|i| self.customers[i].clone())
    }

    pub(crate) fn update_customer(&mut self, id: &str, f: &mut dyn FnMut(&mut Value)) -> bool {
        match self.find(id) {
            Some(i) => {
                f(&mut self.customers[i]);
                true
            }
            None => false,
        }
    }

    fn self_link(&self, id: &Value) -> Value {
        json!({
            "title": "Self",
            "rel": "self",
            "href": format!("{}/api/2.0/customers/{}", self.base_url, id),
        })
    }

    fn wrapped(&self, item: &Value) -> Value {
        let id = item.get("id").cloned().unwrap_or(Value::Null);
        json!({"links": [self.self_link(&id)], "item": item})
    }

    pub(crate) fn handle(&mut self, req: &Req) -> Resp {
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
                "GET" => {
                    let collection = Value::Array(self.customers.clone());
                    let link = json!({
                        "title": "Self",
                        "rel": "self",
                        "href": format!("{}/api/2.0/customers", self.base_url),
                    });
                    Resp::json(200, &json!({"links": [link], "collection": collection}))
                }
                _ => error(405, "Method not allowed"),
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
                _ => error(405, "Method not allowed"),
            },
            _ => error(404, "Resource not found"),
        }
    }

    fn put(&mut self, idx: usize, body: Value) -> Resp {
        let Value::Object(props) = body else {
            return error(400, "The properties must be a JSON object");
        };
        for required in ["name", "email"] {
            match props.get(required) {
                Some(Value::String(s)) if !s.trim().is_empty() => {}
                _ => {
                    return error(
                        400,
                        &format!("The '{required}' property is required on every update"),
                    )
                }
            }
        }
        let mut updates = Map::new();
        for (key, value) in &props {
            let k = key.as_str();
            if !PROPERTIES.contains(&k) {
                return error(400, &format!("Unknown property '{k}'"));
            }
            if INTEGER_PROPERTIES.contains(&k) {
                match value {
                    Value::Number(n) if n.is_u64() => {}
                    Value::Number(n) if n.is_i64() => {
                        return error(400, &format!("'{k}' must be a non-negative integer"))
                    }
                    other => {
                        return error(
                            400,
                            &format!(
                                "'{k}' must be a non-negative integer, got {}",
                                json_type(other)
                            ),
                        )
                    }
                }
                updates.insert(k.into(), value.clone());
                continue;
            }
            let Value::String(s) = value else {
                return error(
                    400,
                    &format!("'{k}' must be a string, got {}", json_type(value)),
                );
            };
            let allowed: Option<&[&str]> = match k {
                "status" => Some(STATUSES),
                "deleted" => Some(DELETED_VALUES),
                "industry" => Some(INDUSTRIES),
                _ => None,
            };
            if let Some(allowed) = allowed {
                if !allowed.contains(&s.as_str()) {
                    return error(
                        400,
                        &format!(
                            "'{s}' is not a valid {k}; expected one of: {}",
                            allowed.join(" | ")
                        ),
                    );
                }
            }
            if k == "email" && !plausible_email(s, true) {
                return error(400, &format!("'{s}' is not a valid email address"));
            }
            if k == "country" && !(s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic())) {
                return error(400, "'country' must be a two-character country code");
            }
            updates.insert(k.into(), value.clone());
        }
        let item = &mut self.customers[idx];
        if let Some(obj) = item.as_object_mut() {
            for (k, v) in updates {
                obj.insert(k, v);
            }
        }
        let item = item.clone();
        match self.put_shape {
            PutShape::Wrapped => Resp::json(200, &self.wrapped(&item)),
            PutShape::Bare => Resp::json(200, &item),
            PutShape::Integer => Resp::json(200, &item.get("id").cloned().unwrap_or(json!(0))),
        }
    }
}
