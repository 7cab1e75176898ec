//! `PATCH /v1/customers/{uuid}`: the writable top-level fields as one table
//! of field rules ([`PATCH_FIELDS`]), each checked by its [`Check`].
//!
//! A PATCH is validated whole before anything is stored: the first field
//! that fails (in the body's key order) answers 422 with `param` naming it,
//! and nothing changes.

use serde_json::{Map, Value};

use super::errors::{err_code, not_found};
use super::state::{custom_map, sync_address, tags_list, State};
use super::validate::{unwrap_source, valid_key, AttrType};
use super::{ACCOUNT_USERS, LEAD_STATUSES};
use crate::http::{json_type, plausible_email, Resp};
use crate::time::{format_millis_z, parse_timestamp};

/// How a writable field's value is checked and what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// A string (or `null`), stored as sent.
    Text,
    /// An email address (or `null`); the domain need not hold a dot.
    Email,
    /// An assigned ISO 3166-1 alpha-2 code (or `null`).
    Country,
    /// A timestamp in one of the accepted spellings (or `null`), stored as
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    Timestamp,
    /// The email of a user of the account, one of [`ACCOUNT_USERS`] (or
    /// `null`).
    AccountUser,
    /// One of [`LEAD_STATUSES`]; `null` is refused like any other value.
    LeadStatus,
    /// An object of [`PRIMARY_CONTACT_KEYS`] merged into the stored one
    /// (or `null`).
    PrimaryContact,
    /// `{"tags": [..] | null, "custom": {..} | null}`.
    Attributes,
}

/// One writable top-level field of a `PATCH`.
#[derive(Debug, Clone, Copy)]
struct FieldRule {
    /// The JSON key.
    name: &'static str,
    check: Check,
    /// A `null` is stored as `""`: the vendor never answers `null` for
    /// these (chartmogul-python declares them non-nullable and its fixtures
    /// show `"company": ""`).
    null_reads_empty: bool,
}

impl FieldRule {
    const fn new(name: &'static str, check: Check) -> FieldRule {
        FieldRule {
            name,
            check,
            null_reads_empty: false,
        }
    }

    const fn null_reads_empty(self) -> FieldRule {
        FieldRule {
            null_reads_empty: true,
            ..self
        }
    }
}

/// Every top-level field a `PATCH` may write; any other key is refused as
/// read-only or unknown.
const PATCH_FIELDS: &[FieldRule] = &[
    FieldRule::new("name", Check::Text).null_reads_empty(),
    FieldRule::new("company", Check::Text).null_reads_empty(),
    FieldRule::new("state", Check::Text),
    FieldRule::new("city", Check::Text),
    FieldRule::new("zip", Check::Text),
    FieldRule::new("website_url", Check::Text),
    FieldRule::new("email", Check::Email).null_reads_empty(),
    FieldRule::new("country", Check::Country),
    FieldRule::new("lead_created_at", Check::Timestamp),
    FieldRule::new("free_trial_started_at", Check::Timestamp),
    FieldRule::new("owner", Check::AccountUser),
    FieldRule::new("status", Check::LeadStatus),
    FieldRule::new("primary_contact", Check::PrimaryContact),
    FieldRule::new("attributes", Check::Attributes),
];

/// The keys of `primary_contact`, each a string or `null`.
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

impl Check {
    /// Checks a single-valued field; `Ok` holds the value to store, `Err`
    /// the message of the 422.
    fn scalar(self, name: &str, value: &Value) -> Result<Value, String> {
        let accepted =
            |ok: bool, refusal: String| if ok { Ok(value.clone()) } else { Err(refusal) };
        match (self, value) {
            (Check::LeadStatus, Value::String(s)) if LEAD_STATUSES.contains(&s.as_str()) => {
                Ok(value.clone())
            }
            (Check::LeadStatus, _) => Err(format!(
                "status can only be set to one of: {}",
                LEAD_STATUSES.join(", ")
            )),
            (_, Value::Null) => Ok(Value::Null),
            (Check::Text, Value::String(_)) => Ok(value.clone()),
            (Check::Email, Value::String(s)) => accepted(
                plausible_email(s, false),
                format!("'{s}' is not a valid email address"),
            ),
            (Check::Country, Value::String(s)) => accepted(
                unibill_core::CountryCode::new(s).is_ok(),
                format!("'{s}' is not an ISO 3166-1 alpha-2 country code"),
            ),
            (Check::Timestamp, Value::String(s)) => parse_timestamp(s)
                .map(|t| Value::String(format_millis_z(t)))
                .ok_or_else(|| {
                    format!("'{s}' is not a timestamp (use YYYY-MM-DD HH:MM:SS or ISO 8601)")
                }),
            (Check::AccountUser, Value::String(s)) => accepted(
                ACCOUNT_USERS.contains(&s.as_str()),
                format!("'{s}' is not the email of a user of this account"),
            ),
            (_, other) => Err(format!("{name} must be a string, got {}", json_type(other))),
        }
    }
}

/// What a valid `PATCH` will do, gathered before anything is stored.
#[derive(Default)]
struct Plan {
    /// Top-level fields to store as they are.
    sets: Vec<(&'static str, Value)>,
    /// The new tag list (`attributes.tags`).
    tags: Option<Vec<Value>>,
    /// `attributes.custom: null`: drop every custom attribute first.
    clear_custom: bool,
    /// Custom attributes to store (`Some`) or remove (`None`), with the
    /// type the account learns for a new key.
    custom: Vec<(String, AttrType, Option<Value>)>,
}

impl State {
    pub(super) fn patch(&mut self, uuid: &str, body: Value) -> Resp {
        let Some(idx) = self.find(uuid) else {
            return not_found();
        };
        let Value::Object(fields) = body else {
            return err_code(400, "The request body must be a JSON object", None);
        };
        // Validate everything first; apply only when all is well.
        let mut plan = Plan::default();
        for (key, value) in &fields {
            let Some(rule) = PATCH_FIELDS.iter().find(|r| r.name == key) else {
                return err_code(
                    422,
                    &format!("'{key}' is read-only or unknown and cannot be updated"),
                    Some(key),
                );
            };
            if let Err(resp) = self.check_field(idx, rule, value, &mut plan) {
                return resp;
            }
        }
        self.apply(idx, plan)
    }

    /// Checks one top-level field by its rule and adds its effect to `plan`.
    fn check_field(
        &self,
        idx: usize,
        rule: &FieldRule,
        value: &Value,
        plan: &mut Plan,
    ) -> Result<(), Resp> {
        let name = rule.name;
        let bad = |msg: String| err_code(422, &msg, Some(name));
        match (rule.check, value) {
            (Check::PrimaryContact, Value::Null) => plan.sets.push((name, Value::Null)),
            (Check::PrimaryContact, Value::Object(pc)) => {
                let merged = self.merge_primary_contact(idx, pc)?;
                plan.sets.push((name, Value::Object(merged)));
            }
            (Check::Attributes, Value::Object(attrs)) => self.check_attributes(attrs, plan)?,
            (Check::PrimaryContact | Check::Attributes, other) => {
                return Err(bad(format!(
                    "{name} must be an object, got {}",
                    json_type(other)
                )))
            }
            (check, value) => {
                let stored = match check.scalar(name, value).map_err(bad)? {
                    Value::Null if rule.null_reads_empty => Value::String(String::new()),
                    v => v,
                };
                plan.sets.push((name, stored));
            }
        }
        Ok(())
    }

    /// The stored `primary_contact` (all keys `null` when there is none)
    /// with the sent keys written over it.
    fn merge_primary_contact(
        &self,
        idx: usize,
        pc: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Resp> {
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
                return Err(err_code(
                    422,
                    &format!("'{ck}' is not a primary_contact field"),
                    Some(&param),
                ));
            }
            match cv {
                Value::String(s) if ck == "email" && !plausible_email(s, false) => {
                    return Err(err_code(
                        422,
                        &format!("'{s}' is not a valid email address"),
                        Some(&param),
                    ))
                }
                Value::String(_) | Value::Null => {
                    merged.insert(ck.clone(), cv.clone());
                }
                other => {
                    return Err(err_code(
                        422,
                        &format!("{param} must be a string, got {}", json_type(other)),
                        Some(&param),
                    ))
                }
            }
        }
        Ok(merged)
    }

    /// Checks `attributes`: `tags` (a list or `null`) and `custom` (an
    /// object or `null`); any other group is read-only or unknown.
    fn check_attributes(&self, attrs: &Map<String, Value>, plan: &mut Plan) -> Result<(), Resp> {
        for (ak, av) in attrs {
            let param = format!("attributes.{ak}");
            match (ak.as_str(), av) {
                ("tags", Value::Null) => plan.tags = Some(Vec::new()),
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
                                return Err(err_code(
                                    422,
                                    "tags must be non-empty strings",
                                    Some(&param),
                                ))
                            }
                        }
                    }
                    plan.tags = Some(tags);
                }
                ("custom", Value::Null) => plan.clear_custom = true,
                ("custom", Value::Object(custom)) => self.check_custom(custom, plan)?,
                ("tags", _) | ("custom", _) => {
                    return Err(err_code(
                        422,
                        &format!("{param} has the wrong type"),
                        Some(&param),
                    ))
                }
                _ => {
                    return Err(err_code(
                        422,
                        &format!("'{param}' is read-only or unknown"),
                        Some(&param),
                    ))
                }
            }
        }
        Ok(())
    }

    /// Checks `attributes.custom`: each value (bare or `{"value","source"}`)
    /// against the key's known type, or the type inferred for a new key;
    /// `null` removes the key.
    fn check_custom(&self, custom: &Map<String, Value>, plan: &mut Plan) -> Result<(), Resp> {
        for (ck, cv) in custom {
            let param = format!("attributes.custom.{ck}");
            if !valid_key(ck) {
                return Err(err_code(
                    422,
                    "Custom attribute keys accept only alphanumeric characters and underscores",
                    Some(&param),
                ));
            }
            if cv.is_null() {
                plan.custom.push((ck.clone(), AttrType::String, None));
                continue;
            }
            let raw = unwrap_source(cv).map_err(|msg| err_code(422, &msg, Some(&param)))?;
            let ty = self
                .types
                .get(ck)
                .copied()
                .unwrap_or_else(|| AttrType::infer(raw));
            let v = ty
                .coerce(raw)
                .map_err(|msg| err_code(422, &msg, Some(&param)))?;
            plan.custom.push((ck.clone(), ty, Some(v)));
        }
        Ok(())
    }

    /// Stores a validated plan and answers the customer as it now reads.
    fn apply(&mut self, idx: usize, plan: Plan) -> Resp {
        let customer = &mut self.customers[idx];
        if let Some(obj) = customer.as_object_mut() {
            for (k, v) in plan.sets {
                obj.insert(k.to_string(), v);
            }
        }
        if let Some(tags) = plan.tags {
            if let Some(list) = tags_list(customer) {
                *list = tags;
            }
        }
        if plan.clear_custom {
            if let Some(map) = custom_map(customer) {
                map.clear();
            }
        }
        let mut new_types = Vec::new();
        if let Some(map) = custom_map(customer) {
            for (k, ty, v) in plan.custom {
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
        self.reindex(idx);
        for (k, ty) in new_types {
            self.types.entry(k).or_insert(ty);
        }
        Resp::json(200, &answer)
    }
}

#[cfg(test)]
mod tests {
    use super::{Check, PATCH_FIELDS};

    #[test]
    fn field_table_names_each_field_once() {
        let mut names: Vec<&str> = PATCH_FIELDS.iter().map(|r| r.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        let never_null: Vec<&str> = PATCH_FIELDS
            .iter()
            .filter(|r| r.null_reads_empty)
            .map(|r| r.name)
            .collect();
        assert_eq!(never_null, ["name", "company", "email"]);
    }

    #[test]
    fn scalar_checks() {
        use serde_json::json;
        assert_eq!(
            Check::Text.scalar("city", &json!("Paris")),
            Ok(json!("Paris"))
        );
        assert_eq!(Check::Text.scalar("city", &json!(null)), Ok(json!(null)));
        assert_eq!(
            Check::Text.scalar("city", &json!(3)),
            Err("city must be a string, got number".to_string())
        );
        assert!(Check::LeadStatus.scalar("status", &json!(null)).is_err());
        assert_eq!(
            Check::Timestamp.scalar("lead_created_at", &json!("2024-01-02")),
            Ok(json!("2024-01-02T00:00:00.000Z"))
        );
        assert!(Check::Country.scalar("country", &json!("XX")).is_err());
        assert!(Check::AccountUser
            .scalar("owner", &json!("owner@example.com"))
            .is_ok());
    }
}
