//! Customer references as the command line takes them: the library's
//! [`CustomerRef`], written as text.
//!
//! | text | reference |
//! |---|---|
//! | `cus_ab…`, `12000750` | the vendor's id ([`CustomerRef::Id`]) |
//! | `id:VALUE` | the vendor's id, spelled out (for an id that starts like a prefix below) |
//! | `email:ADDR` | by email ([`CustomerRef::Email`]) |
//! | `ref:VALUE` or `external:VALUE` | by your own reference ([`CustomerRef::External`]) |
//!
//! The library resolves email and reference with the vendor's search:
//! several matches are `Error::Ambiguous`, none `Error::NotFound`, and a
//! backend without that search refuses with `Error::UnsupportedLookup`
//! before any request.

use unibill::{CustomerRef, Error, Result};

/// The prefixes a reference may start with, and the field an error about
/// its value names.
const PREFIXES: &[(&str, &str)] = &[
    ("id:", "id"),
    ("email:", "email"),
    ("ref:", "external"),
    ("external:", "external"),
];

/// Reads a reference written as in the table of this module. Surrounding
/// whitespace is ignored; an empty reference or an empty value after a
/// prefix is a validation error naming `id`, `email` or `external`.
pub fn parse(text: &str) -> Result<CustomerRef> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::validation("id", "is empty"));
    }
    for (prefix, field) in PREFIXES {
        let Some(value) = strip_prefix_ignore_case(text, prefix) else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(Error::validation(
                *field,
                format!("is empty after `{prefix}`"),
            ));
        }
        return Ok(match *field {
            "id" => CustomerRef::id(value),
            "email" => CustomerRef::email(value),
            _ => CustomerRef::external(value),
        });
    }
    Ok(CustomerRef::id(text))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_and_prefixed_forms() {
        assert_eq!(parse(" 12000750 ").unwrap(), CustomerRef::id("12000750"));
        assert_eq!(
            parse("cus_ab223d54-75b4-431b-adb2-eb6b9e234571").unwrap(),
            CustomerRef::id("cus_ab223d54-75b4-431b-adb2-eb6b9e234571")
        );
        assert_eq!(
            parse("email:ops@acme.example").unwrap(),
            CustomerRef::email("ops@acme.example")
        );
        assert_eq!(
            parse("EMAIL: ops@acme.example").unwrap(),
            CustomerRef::email("ops@acme.example")
        );
        assert_eq!(
            parse("ref:ACME-42").unwrap(),
            CustomerRef::external("ACME-42")
        );
        assert_eq!(
            parse("external:ACME:42").unwrap(),
            CustomerRef::external("ACME:42")
        );
        assert_eq!(parse("id:email:x").unwrap(), CustomerRef::id("email:x"));
        // An unknown prefix is part of the id.
        assert_eq!(parse("urn:1").unwrap(), CustomerRef::id("urn:1"));
    }

    #[test]
    fn empty_values_name_their_field() {
        for (text, field) in [
            ("", "id"),
            ("  ", "id"),
            ("email:", "email"),
            ("ref: ", "external"),
            ("id:", "id"),
        ] {
            match parse(text) {
                Err(Error::Validation { field: f, .. }) => assert_eq!(f, field, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
}
