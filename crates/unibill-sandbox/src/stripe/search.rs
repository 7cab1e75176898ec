//! The part of Stripe's search query language the emulator models
//! ("Search", <https://docs.stripe.com/search>, and "Search customers",
//! <https://docs.stripe.com/api/customers/search>): clauses
//! `field:'value'` (exact match) on `email`, `name`, `phone` and
//! `metadata['KEY']`, values in single or double quotes (a backslash
//! escapes the quote), joined by spaces or `AND` (any case).
//!
//! Valid syntax the emulator does not model (`OR`, negation with `-`,
//! substring `~`, numeric comparisons, `null`, the `created` field) is
//! [`Parsed::NotModelled`]: the not-emulated answer, not a refusal. Text
//! that is not a query, or names a field customers cannot be searched by,
//! is [`Parsed::Invalid`]: 400 with `param` `query`.

use super::state::SearchDoc;

/// The customer fields a query may name (`created` too, not modelled).
const FIELDS: &[&str] = &["email", "name", "phone", "metadata", "created"];

/// One exact-match clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Clause {
    /// `email`, `name` or `phone` equal to the value.
    Field(&'static str, String),
    /// `metadata['KEY']` equal to the value.
    Metadata(String, String),
}

impl Clause {
    pub(super) fn matches(&self, doc: &SearchDoc) -> bool {
        match self {
            Clause::Field(field, value) => {
                let held = match *field {
                    "email" => &doc.email,
                    "name" => &doc.name,
                    _ => &doc.phone,
                };
                held.as_deref() == Some(value.as_str())
            }
            Clause::Metadata(key, value) => {
                doc.metadata.get(key).and_then(|v| v.as_str()) == Some(value.as_str())
            }
        }
    }
}

/// What a query string is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Parsed {
    /// Clauses that must all match.
    All(Vec<Clause>),
    /// Valid Stripe syntax the emulator does not model (named).
    NotModelled(&'static str),
    /// Not a query the vendor would take: the 400's message.
    Invalid(String),
}

struct Cursor {
    chars: Vec<char>,
    at: usize,
}

impl Cursor {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_spaces(&mut self) -> bool {
        let start = self.at;
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
        self.at > start
    }

    /// The word at the cursor (letters, digits, `_`), not consumed.
    fn word(&self) -> String {
        self.chars[self.at..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
            .collect()
    }

    /// A quoted string at the cursor, consumed.
    fn quoted(&mut self) -> Result<String, String> {
        let quote = match self.peek() {
            Some(q @ ('\'' | '"')) => q,
            _ => return Err("String values must be quoted with ' or \"".to_string()),
        };
        self.at += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err("Unterminated quoted string".to_string()),
                Some('\\') if self.chars.get(self.at + 1) == Some(&quote) => {
                    out.push(quote);
                    self.at += 2;
                }
                Some(c) if c == quote => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
    }
}

/// Reads a query.
pub(super) fn parse(query: &str) -> Parsed {
    let mut cur = Cursor {
        chars: query.chars().collect(),
        at: 0,
    };
    let mut clauses = Vec::new();
    cur.skip_spaces();
    if cur.peek().is_none() {
        return Parsed::Invalid("The query is empty".to_string());
    }
    loop {
        match clause(&mut cur) {
            Ok(c) => clauses.push(c),
            Err(other) => return other,
        }
        let spaced = cur.skip_spaces();
        if cur.peek().is_none() {
            return Parsed::All(clauses);
        }
        let word = cur.word();
        if spaced && word.eq_ignore_ascii_case("and") {
            cur.at += 3;
            if !cur.skip_spaces() {
                return Parsed::Invalid("AND must be followed by a clause".to_string());
            }
        } else if spaced && word.eq_ignore_ascii_case("or") {
            return Parsed::NotModelled("OR");
        } else if !spaced {
            return Parsed::Invalid(format!("Unexpected text at character {}", cur.at + 1));
        }
    }
}

fn clause(cur: &mut Cursor) -> Result<Clause, Parsed> {
    if cur.peek() == Some('-') {
        return Err(Parsed::NotModelled("negation (-)"));
    }
    let field = cur.word();
    if field.is_empty() {
        return Err(Parsed::Invalid(format!(
            "Expected a field at character {}",
            cur.at + 1
        )));
    }
    let Some(known) = FIELDS.iter().find(|f| **f == field) else {
        return Err(Parsed::Invalid(format!(
            "Field '{field}' is an unsupported search field for resource customers"
        )));
    };
    cur.at += field.len();
    let key = if *known == "metadata" {
        if cur.peek() != Some('[') {
            return Err(Parsed::Invalid(
                "metadata must be followed by ['KEY']".to_string(),
            ));
        }
        cur.at += 1;
        let key = cur.quoted().map_err(Parsed::Invalid)?;
        if cur.peek() != Some(']') {
            return Err(Parsed::Invalid(
                "metadata['KEY'] is missing its ]".to_string(),
            ));
        }
        cur.at += 1;
        Some(key)
    } else {
        None
    };
    match cur.peek() {
        Some(':') => cur.at += 1,
        Some('~') => return Err(Parsed::NotModelled("substring matching (~)")),
        Some('<' | '>') => return Err(Parsed::NotModelled("numeric comparison (<, >)")),
        _ => {
            return Err(Parsed::Invalid(format!(
                "Expected an operator after '{field}' at character {}",
                cur.at + 1
            )))
        }
    }
    if *known == "created" {
        return Err(Parsed::NotModelled("the created field"));
    }
    if cur.word() == "null" {
        return Err(Parsed::NotModelled("null"));
    }
    let value = cur.quoted().map_err(Parsed::Invalid)?;
    Ok(match key {
        Some(key) => Clause::Metadata(key, value),
        None => Clause::Field(known, value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(q: &str) -> Vec<Clause> {
        match parse(q) {
            Parsed::All(c) => c,
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn documented_forms() {
        assert_eq!(
            all("metadata['external_id']:'HL-1001'"),
            [Clause::Metadata("external_id".into(), "HL-1001".into())]
        );
        assert_eq!(
            all(r#"email:"amy@rocketrides.io" metadata["key"]:"value""#),
            [
                Clause::Field("email", "amy@rocketrides.io".into()),
                Clause::Metadata("key".into(), "value".into())
            ]
        );
        assert_eq!(
            all("name:'Jane Doe' AND metadata['foo']:'bar'"),
            [
                Clause::Field("name", "Jane Doe".into()),
                Clause::Metadata("foo".into(), "bar".into())
            ]
        );
        assert_eq!(all("  phone:'1' and email:'O\\'Hara'  ").len(), 2);
        assert_eq!(
            all(r"email:'O\'Hara'")[0],
            Clause::Field("email", "O'Hara".into())
        );
    }

    #[test]
    fn unmodelled_and_invalid_queries() {
        for q in [
            "email:'a' OR email:'b'",
            "-email:'a'",
            "email~'amy'",
            "created>1680000000",
            "created:1680000000",
            "email:null",
        ] {
            assert!(matches!(parse(q), Parsed::NotModelled(_)), "{q}");
        }
        for q in [
            "",
            "   ",
            "email",
            "email:amy",
            "email:'amy",
            "status:'active'",
            "metadata:'x'",
            "metadata['k':'v'",
            "email:'a'email:'b'",
            "email:'a' AND",
            ":'x'",
        ] {
            assert!(
                matches!(parse(q), Parsed::Invalid(_)),
                "{q}: {:?}",
                parse(q)
            );
        }
    }
}
