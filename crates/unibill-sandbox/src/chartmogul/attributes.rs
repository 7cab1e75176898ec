//! Custom attributes (`POST`/`PUT`/`DELETE /v1/customers/{uuid}/attributes/custom`,
//! `POST /v1/customers/attributes/custom` by email) and tags
//! (`POST`/`DELETE /v1/customers/{uuid}/attributes/tags`,
//! `POST /v1/customers/attributes/tags` by email).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::errors::{err_code, err_map, err_single, not_found, one_error};
use super::state::{
    custom_map, summary, tags_list, State, CUSTOM_BY_EMAIL_FIELDS, TAGS_BY_EMAIL_FIELDS,
};
use super::validate::{
    parse_new_attrs, parse_tags, pointer_escape, unwrap_source, AttrType, NewAttr,
};
use crate::http::{json_type, Resp};

impl State {
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

    pub(super) fn post_custom(&mut self, uuid: &str, body: Value) -> Resp {
        let Some(idx) = self.find(uuid) else {
            return not_found();
        };
        if !body.is_object() {
            return err_single(400, "The request body must be a JSON object");
        }
        match parse_new_attrs(&self.types, body.get("custom")) {
            Ok(attrs) => {
                self.apply_new_attrs(idx, &attrs);
                self.custom_answer(idx)
            }
            Err(resp) => resp,
        }
    }

    pub(super) fn put_custom(&mut self, uuid: &str, body: Value) -> Resp {
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

    pub(super) fn delete_custom(&mut self, uuid: &str, body: Value) -> Resp {
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

    pub(super) fn post_custom_by_email(&mut self, body: Value) -> Resp {
        if !body.is_object() {
            return err_single(400, "The request body must be a JSON object");
        }
        let email = match body.get("email") {
            Some(Value::String(e)) if !e.trim().is_empty() => e.clone(),
            _ => return one_error(400, "email", "is required"),
        };
        let attrs = match parse_new_attrs(&self.types, body.get("custom")) {
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

    // ----- tags -----------------------------------------------------------

    pub(super) fn tags(&mut self, uuid: &str, body: Value, add: bool) -> Resp {
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
    pub(super) fn post_tags_by_email(&mut self, body: Value) -> Resp {
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
