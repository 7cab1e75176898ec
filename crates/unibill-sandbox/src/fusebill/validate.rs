//! Value checks shared by the `PUT` fields: simple kinds, case-insensitive
//! key matching, sales tracking codes.

use serde_json::{Map, Value};

use super::fields::Kind;
use super::SALES_TRACKING_CODE_TYPES;
use crate::http::{json_type, plausible_email};

/// Finds `name` among `candidates` ignoring ASCII case.
pub(super) fn canonical<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
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
pub(super) fn check(
    name: &str,
    kind: Kind,
    v: &Value,
    errs: &mut Vec<(String, String)>,
) -> Option<Value> {
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
pub(super) fn canonicalize(
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

/// Checks one entry of `customerReference.salesTrackingCodes`: an object
/// with a known `type` and a `code`, both non-blank strings of at most 255
/// characters.
pub(super) fn sales_tracking_code(
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
