//! Input checks shared by the neutral model and every backend, so a rule
//! reads the same and fails the same way wherever it applies.

use crate::error::{Error, Result};

/// A text value to send: not blank (clearing is what removes a value) and
/// without control characters other than newline and tab.
pub fn text(field: &str, s: &str) -> Result<()> {
    if s.trim().is_empty() {
        return Err(Error::validation(
            field,
            "empty value; clear the field instead of setting it to an empty string",
        ));
    }
    if has_control(s) {
        return Err(Error::validation(field, "contains control characters"));
    }
    Ok(())
}

/// Whether `s` holds control characters other than newline and tab.
fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// A tag to add or remove: not blank, no control characters (as
/// [`text`]). The error is on `tags` and names the tag.
pub fn tag(tag: &str) -> Result<()> {
    if tag.trim().is_empty() {
        return Err(Error::validation("tags", "empty tag"));
    }
    if has_control(tag) {
        return Err(Error::validation(
            "tags",
            format!("tag {tag:?} contains control characters"),
        ));
    }
    Ok(())
}

/// Whether `s` looks like one email address: `local@domain.tld`, one `@`,
/// no white space, a dot inside the domain. Vendors check further; this
/// catches the mistakes worth catching before a request.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// A text value that must be one email address (see [`is_email`]).
pub fn email(field: &str, s: &str) -> Result<()> {
    text(field, s)?;
    if is_email(s) {
        Ok(())
    } else {
        Err(Error::validation(
            field,
            format!("`{s}` is not an email address"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert!(text("f", "Paris").is_ok());
        assert!(text("f", "two\nlines\tok").is_ok());
        for bad in ["", "  ", "a\u{0}b", "\u{7}"] {
            let e = text("f", bad).unwrap_err();
            assert!(
                matches!(&e, Error::Validation { field, .. } if field == "f"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn tag_rules() {
        assert!(tag("vip").is_ok());
        assert!(tag("two words").is_ok());
        for (bad, says) in [
            ("", "empty tag"),
            (" ", "empty tag"),
            ("vip\u{7}", "control"),
        ] {
            match tag(bad).unwrap_err() {
                Error::Validation { field, reason } => {
                    assert_eq!(field, "tags");
                    assert!(reason.contains(says), "{bad:?}: {reason}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn email_rules() {
        for ok in ["ben@example.com", "a.b+c@sub.example.co.uk"] {
            assert!(email("email", ok).is_ok(), "{ok}");
        }
        for bad in [
            "ben",
            "@example.com",
            "ben@",
            "ben@example",
            "a@b@c.com",
            "ben @example.com",
            "ben@.com",
            "ben@example.",
        ] {
            let e = email("email", bad).unwrap_err().to_string();
            assert!(e.contains("`email`"), "{bad}: {e}");
        }
    }
}
