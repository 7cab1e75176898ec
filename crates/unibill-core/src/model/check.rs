//! Input checks shared by the neutral model and every backend, so a rule
//! reads the same and fails the same way wherever it applies.

use crate::error::{Error, Result};

/// The most characters of any neutral text value (a name, an address
/// line, a URL, a custom `String` attribute's source) when the vendor
/// documents no tighter limit: far above any real value, and low enough
/// that no request carries megabytes of one field.
pub(crate) const MAX_TEXT_CHARS: usize = 1000;

/// The most characters of a tag (no vendor documents one; the same as
/// ChartMogul's documented limit for `String` attributes).
pub(crate) const MAX_TAG_CHARS: usize = 255;

/// The most characters of a postal code: the longest in use are 10
/// characters; 32 leaves room for any format.
pub(crate) const MAX_POSTAL_CODE_CHARS: usize = 32;

/// The most characters of an email address (RFC 5321's 254-octet path
/// limit, counted in characters).
pub(crate) const MAX_EMAIL_CHARS: usize = 254;

/// A text value to send: not blank (clearing is what removes a value),
/// without control characters other than newline and tab, without bidi
/// embedding, override or isolate characters (U+202A–U+202E,
/// U+2066–U+2069, which reorder how text is shown: a name could show as
/// another), and at most 1,000 characters. Zero-width
/// joiners and non-joiners and the left-to-right and right-to-left marks
/// are kept: scripts and emoji need them.
pub fn text(field: &str, s: &str) -> Result<()> {
    text_within(field, s, MAX_TEXT_CHARS)
}

/// [`text`] with another length limit, in characters.
pub(crate) fn text_within(field: &str, s: &str, max_chars: usize) -> Result<()> {
    if s.trim().is_empty() {
        return Err(Error::validation(
            field,
            "empty value; clear the field instead of setting it to an empty string",
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::validation(field, "contains control characters"));
    }
    // Explicit bidi formatting: embeddings, overrides and isolates.
    if s.chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Err(Error::validation(
            field,
            "contains bidi embedding, override or isolate characters (U+202A-U+202E, U+2066-U+2069)",
        ));
    }
    let n = s.chars().count();
    if n > max_chars {
        return Err(Error::validation(
            field,
            format!("{n} characters; at most {max_chars} are allowed"),
        ));
    }
    Ok(())
}

/// A tag to add or remove: the rule of [`text`], at most 255
/// characters. The error is on `tags` and names the tag.
pub fn tag(tag: &str) -> Result<()> {
    if tag.trim().is_empty() {
        return Err(Error::validation("tags", "empty tag"));
    }
    text_within("tags", tag, MAX_TAG_CHARS).map_err(|e| match e {
        Error::Validation { field, reason } => Error::validation(
            field,
            format!("tag {:?}: {reason}", crate::error::clip(tag)),
        ),
        other => other,
    })
}

/// A timestamp to send: not a leap second. chrono reads `23:59:60` as the
/// last second of the minute with a nanosecond count of a second or more;
/// no vendor stores leap seconds, and sending one as is (or as a
/// "fraction") would be refused or moved by the vendor. The same rule for
/// every timestamp, neutral fields and custom attributes alike.
pub(crate) fn timestamp<Tz: chrono::TimeZone>(
    field: &str,
    at: &chrono::DateTime<Tz>,
) -> Result<()> {
    use chrono::Timelike;
    if at.nanosecond() >= 1_000_000_000 {
        return Err(Error::validation(
            field,
            "is a leap second (:60); no vendor stores leap seconds: write :59 of the same minute or 00 of the next",
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

/// A text value that must be one email address (see [`is_email`]), at
/// most 254 characters.
pub fn email(field: &str, s: &str) -> Result<()> {
    text_within(field, s, MAX_EMAIL_CHARS)?;
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
