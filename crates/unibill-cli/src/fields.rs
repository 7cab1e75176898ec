//! Turning field names and text values (flags, CSV columns) into a
//! neutral [`CustomerPatch`].

use serde_json::{Map, Value};
use unibill::{AttributeType, AttributeValue, CustomAttribute, CustomerPatch, Field, FieldKind};

/// The neutral field paths a patch can name (`address.city`), taken from
/// [`Field::ALL`]: those a patch can carry ([`Field::is_writable`]), less
/// tags and custom attributes ([`FieldKind::Tags`],
/// [`FieldKind::CustomAttributes`]), which have their own syntax.
pub fn settable_fields() -> Vec<&'static str> {
    Field::ALL
        .iter()
        .filter(|f| f.is_writable())
        .filter(|f| !matches!(f.kind(), FieldKind::Tags | FieldKind::CustomAttributes))
        .map(|f| f.name())
        .collect()
}

/// Puts `value` at a dotted `path` of a JSON object, creating the parents.
pub fn insert_path(root: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            root.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let child = root
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(m) = child {
                insert_path(m, rest, value);
            }
        }
    }
}

/// Checks a field path against [`settable_fields`]; the error lists the
/// valid names, and says how tags and custom attributes are written
/// (`how_tags`, `how_custom`: the flag or column that sets them).
pub fn check_field(name: &str, valid: &[&'static str]) -> Result<(), String> {
    check_field_for(name, valid, "--tag +TAG/-TAG", "--custom KEY:Type=VALUE")
}

/// [`check_field`], naming the syntax of tags and custom attributes of
/// the caller (flags or CSV columns).
pub fn check_field_for(
    name: &str,
    valid: &[&'static str],
    how_tags: &str,
    how_custom: &str,
) -> Result<(), String> {
    if valid.contains(&name) {
        return Ok(());
    }
    if name == Field::Tags.name() || name.starts_with("tags.") {
        return Err(format!(
            "`{name}` is not a field to set: tags are changed with {how_tags}"
        ));
    }
    if name == Field::CustomAttributes.name() || name.starts_with("custom.") {
        return Err(format!(
            "`{name}` is not a field to set: custom attributes are set with {how_custom}"
        ));
    }
    Err(format!(
        "unknown field `{name}`; valid fields: {}; tags with {how_tags}, custom attributes with {how_custom}",
        valid.join(", ")
    ))
}

/// Reads a custom attribute type name (`Integer`, case-insensitive).
pub fn parse_type(text: &str) -> Result<AttributeType, String> {
    let all = [
        AttributeType::String,
        AttributeType::Integer,
        AttributeType::Decimal,
        AttributeType::Timestamp,
        AttributeType::Boolean,
    ];
    all.into_iter()
        .find(|t| t.to_string().eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| {
            format!(
                "unknown custom attribute type `{text}`; valid types: {}",
                all.map(|t| t.to_string()).join(", ")
            )
        })
}

/// Reads `KEY:Type` (a `custom.` prefix is allowed).
pub fn parse_custom_key(spec: &str) -> Result<(String, AttributeType), String> {
    let spec = spec.strip_prefix("custom.").unwrap_or(spec);
    let (key, ty) = spec
        .rsplit_once(':')
        .ok_or_else(|| format!("custom attribute `{spec}` needs a type: KEY:Type"))?;
    if key.is_empty() {
        return Err(format!("custom attribute `{spec}` has an empty key"));
    }
    Ok((key.to_owned(), parse_type(ty)?))
}

/// Reads `KEY:Type=value` into a custom attribute.
pub fn parse_custom(spec: &str) -> Result<(String, CustomAttribute), String> {
    let (head, value) = spec
        .split_once('=')
        .ok_or_else(|| format!("--custom `{spec}` needs the form KEY:Type=value"))?;
    let (key, ty) = parse_custom_key(head)?;
    let value = AttributeValue::parse(&key, ty, value).map_err(|e| e.to_string())?;
    Ok((key, CustomAttribute::new(value)))
}

/// Deserialises a neutral JSON merge patch; the error names the field
/// (`invalid `currency`: …`) and, for a timestamp, the form expected.
pub fn patch_from_json(value: Value) -> Result<CustomerPatch, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let reason = e.into_inner().to_string();
        if path.is_empty() || path == "." {
            return format!("invalid patch: {reason}");
        }
        let timestamp = Field::ALL
            .iter()
            .any(|f| f.name() == path && matches!(f.kind(), FieldKind::Timestamp));
        let hint = if timestamp {
            "; expected an RFC 3339 date-time such as 2024-01-02T00:00:00Z"
        } else {
            ""
        };
        format!("invalid `{path}`: {reason}{hint}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settable_fields_are_the_patch_paths() {
        let f = settable_fields();
        assert!(f.contains(&Field::City.name()));
        assert!(f.contains(&Field::Email.name()));
        assert!(!f.contains(&Field::Tags.name()));
        assert!(
            !f.contains(&Field::Mrr.name()),
            "read-only fields are not patch fields"
        );
        // Every name is a path the neutral JSON merge patch accepts.
        for name in &f {
            let mut probe = Map::new();
            insert_path(&mut probe, name, Value::Null);
            assert!(patch_from_json(Value::Object(probe)).is_ok(), "{name}");
        }
    }

    #[test]
    fn custom_specs() {
        let (k, a) = parse_custom("plan_tier:Integer=3").unwrap();
        assert_eq!(k, "plan_tier");
        assert_eq!(a.value, AttributeValue::Integer(3));
        assert!(parse_custom("plan_tier:Integer=three")
            .unwrap_err()
            .contains("custom.plan_tier"));
        assert!(parse_custom("x:Colour=1").unwrap_err().contains("Boolean"));
        assert!(parse_custom("x=1").is_err());
    }
}
