//! The writable fields, as one table ([`WRITABLE`]), and `PUT
//! /v1/customers` with full-replacement semantics over it.

use serde_json::{Map, Value};

use super::errors::{error, errors};
use super::state::State;
use super::validate::{canonical, canonicalize, check, sales_tracking_code};
use super::{DEFAULT_CURRENCY, QUICKBOOKS_LATCH_TYPES, STATUSES, SYSTEM_FIELDS, TITLES};
use crate::http::{json_type, Resp};

#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
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

pub(super) const WRITABLE: &[(&str, Kind)] = &[
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

pub(super) const REFERENCE_FIELDS: &[&str] = &["reference1", "reference2", "reference3"];
pub(super) const ACQUISITION_FIELDS: &[&str] = &[
    "adContent",
    "campaign",
    "keyword",
    "landingPage",
    "medium",
    "source",
];
const NESTED_SYSTEM: &[&str] = &["id", "uri"];

impl State {
    pub(super) fn put(&mut self, body: Value) -> Resp {
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
            Some(Value::String(c)) if unibill_core::Currency::new(c).is_ok() => {
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
        self.reindex(idx);
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
