//! `PUT /api/2.0/customers/{id}`: the properties a `PUT` may send, as one
//! table of property rules ([`PROPERTY_RULES`]).
//!
//! `name` and `email` are required on every update; the first property that
//! fails (in the body's key order) answers 400 and nothing changes.

use serde_json::{json, Map, Value};

use super::errors::error;
use super::state::State;
use super::{PutShape, DELETED_VALUES, INDUSTRIES, STATUSES};
use crate::http::{json_type, plausible_email, Resp};

/// How a property's value is checked (stored as sent when valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Any string.
    Text,
    /// A JSON integer, zero or more (package ids and quotas).
    Count,
    /// One of these strings, exactly.
    OneOf(&'static [&'static str]),
    /// One email address with a dotted domain.
    Email,
    /// Two ASCII letters.
    Country,
}

/// Every property a `PUT` may send, with its rule; the names are
/// [`PROPERTIES`](super::PROPERTIES), in the same order.
const PROPERTY_RULES: &[(&str, Rule)] = &[
    ("name", Rule::Text),
    ("email", Rule::Email),
    ("status", Rule::OneOf(STATUSES)),
    ("email_package_id", Rule::Count),
    ("email_quota", Rule::Count),
    ("sms_quota", Rule::Count),
    ("transactions_package_id", Rule::Count),
    ("transactions_quota", Rule::Count),
    ("deleted", Rule::OneOf(DELETED_VALUES)),
    ("address", Rule::Text),
    ("state_provinces", Rule::Text),
    ("postal_code", Rule::Text),
    ("telephone", Rule::Text),
    ("website_url", Rule::Text),
    ("country", Rule::Country),
    ("industry", Rule::OneOf(INDUSTRIES)),
    ("unique_id", Rule::Text),
];

/// The properties every update must carry, as non-blank strings.
const REQUIRED: &[&str] = &["name", "email"];

impl Rule {
    /// Checks the value of property `k`; `Err` is the message of the 400.
    fn check(self, k: &str, value: &Value) -> Result<(), String> {
        match (self, value) {
            (Rule::Count, Value::Number(n)) if n.is_u64() => Ok(()),
            (Rule::Count, Value::Number(n)) if n.is_i64() => {
                Err(format!("'{k}' must be a non-negative integer"))
            }
            (Rule::Count, other) => Err(format!(
                "'{k}' must be a non-negative integer, got {}",
                json_type(other)
            )),
            (_, Value::String(s)) => match self {
                Rule::OneOf(allowed) if !allowed.contains(&s.as_str()) => Err(format!(
                    "'{s}' is not a valid {k}; expected one of: {}",
                    allowed.join(" | ")
                )),
                Rule::Email if !plausible_email(s, true) => {
                    Err(format!("'{s}' is not a valid email address"))
                }
                Rule::Country if !(s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic())) => {
                    Err(format!("'{k}' must be a two-character country code"))
                }
                _ => Ok(()),
            },
            (_, other) => Err(format!("'{k}' must be a string, got {}", json_type(other))),
        }
    }
}

impl State {
    pub(super) fn put(&mut self, idx: usize, body: Value) -> Resp {
        let Value::Object(props) = body else {
            return error(400, "The properties must be a JSON object");
        };
        for required in REQUIRED {
            match props.get(*required) {
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
            let Some((_, rule)) = PROPERTY_RULES.iter().find(|(name, _)| *name == k) else {
                return error(400, &format!("Unknown property '{k}'"));
            };
            if let Err(message) = rule.check(k, value) {
                return error(400, &message);
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
        self.reindex(idx);
        match self.put_shape {
            PutShape::Wrapped => Resp::json(200, &self.wrapped(&item)),
            PutShape::Bare => Resp::json(200, &item),
            PutShape::Integer => Resp::json(200, &item.get("id").cloned().unwrap_or(json!(0))),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Rule, PROPERTY_RULES};

    #[test]
    fn rule_table_covers_the_documented_properties() {
        let names: Vec<&str> = PROPERTY_RULES.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, super::super::PROPERTIES);
    }

    #[test]
    fn rules() {
        assert!(Rule::Count.check("sms_quota", &json!(5)).is_ok());
        assert_eq!(
            Rule::Count.check("sms_quota", &json!(-1)),
            Err("'sms_quota' must be a non-negative integer".to_string())
        );
        assert_eq!(
            Rule::Text.check("telephone", &json!(12)),
            Err("'telephone' must be a string, got number".to_string())
        );
        assert!(Rule::Country.check("country", &json!("ZA")).is_ok());
        assert!(Rule::Country.check("country", &json!("ZAF")).is_err());
        assert!(Rule::Email.check("email", &json!("a@localhost")).is_err());
        assert!(Rule::OneOf(&["on", "off"])
            .check("status", &json!("On"))
            .is_err());
    }
}
