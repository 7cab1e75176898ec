//! Checks of custom attribute values, keys, tags and the `custom` array of
//! a POST.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::errors::{err_map, one_error};
use crate::http::{json_type, Resp};
use crate::time::{format_space_seconds, parse_timestamp};

const BOOLEAN_SPELLINGS_TRUE: &[&str] = &["TRUE", "true", "t", "1"];
const BOOLEAN_SPELLINGS_FALSE: &[&str] = &["FALSE", "false", "f", "0"];
const STRING_MAX: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AttrType {
    String,
    Integer,
    Decimal,
    Timestamp,
    Boolean,
}

impl AttrType {
    pub(super) fn parse(s: &str) -> Option<AttrType> {
        Some(match s {
            "String" => AttrType::String,
            "Integer" => AttrType::Integer,
            "Decimal" => AttrType::Decimal,
            "Timestamp" => AttrType::Timestamp,
            "Boolean" => AttrType::Boolean,
            _ => return None,
        })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            AttrType::String => "String",
            AttrType::Integer => "Integer",
            AttrType::Decimal => "Decimal",
            AttrType::Timestamp => "Timestamp",
            AttrType::Boolean => "Boolean",
        }
    }

    /// Type given to a key first seen in a `PATCH` `attributes.custom`.
    pub(super) fn infer(v: &Value) -> AttrType {
        match v {
            Value::Bool(_) => AttrType::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => AttrType::Integer,
            Value::Number(_) => AttrType::Decimal,
            _ => AttrType::String,
        }
    }

    /// Validates a value for this type and returns what is stored.
    pub(super) fn coerce(self, v: &Value) -> Result<Value, String> {
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

pub(super) fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// One validated `{"type","key","value","source"}` entry of a POST.
pub(super) struct NewAttr {
    pub(super) key: String,
    pub(super) ty: AttrType,
    pub(super) value: Value,
}

/// Validates the `custom` array of a POST against the account's known
/// attribute types.
pub(super) fn parse_new_attrs(
    types: &BTreeMap<String, AttrType>,
    custom: Option<&Value>,
) -> Result<Vec<NewAttr>, Resp> {
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
                "Custom attribute keys accept only alphanumeric characters and underscores".into(),
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
        if let Some(existing) = types.get(&key) {
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

/// Validates the `tags` array of a tag call: present, not empty, each a
/// string that is not blank.
pub(super) fn parse_tags(body: &Value) -> Result<Vec<String>, Resp> {
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

pub(super) fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `value` or `{"value": .., "source": ..}` → the value.
pub(super) fn unwrap_source(v: &Value) -> Result<&Value, String> {
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
