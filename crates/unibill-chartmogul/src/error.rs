//! ChartMogul's error answers -> [`unibill_core::Error`], keeping the
//! vendor's own words.
//!
//! ChartMogul answers errors in several shapes:
//!
//! | shape | messages kept |
//! |---|---|
//! | `{"code":422,"message":"..","param":"email"}` | `".. (param: email)"` |
//! | `{"error":".."}` | `".."` |
//! | `{"errors":{"field":".."}}` (or a list per field) | `"field: .."` each |
//! | plain text / HTML (5xx pages of the load balancers) | the page's title or its text, whitespace collapsed |
//!
//! The status then picks the neutral variant through
//! [`VendorErrors::from_response`]: 401/403 -> `Unauthorized`, 404 ->
//! `NotFound`, 409 -> `Conflict`, 429 -> `RateLimited`, anything else
//! (400, 402, 422, 5xx) -> `Vendor` with the messages.

use serde_json::Value;
use unibill_core::backend::VendorErrors;
use unibill_core::backend::{error_json, error_text};
use unibill_core::error::excerpt;
use unibill_core::transport::Response;
use unibill_core::Error;

use crate::KIND;

/// The vendor's messages in an error body, in the order given; empty when
/// the body is empty.
pub fn vendor_messages(body: &[u8]) -> Vec<String> {
    match error_json(body) {
        Some(v) => json_messages(&v),
        // Not JSON, or too long to read as JSON: the text of its start.
        None => text_message(&error_text(body)).into_iter().collect(),
    }
}

fn json_messages(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match v {
        Value::Object(obj) => {
            if let Some(msg) = obj.get("message").and_then(scalar_text) {
                match obj.get("param").and_then(scalar_text) {
                    Some(p) if !p.is_empty() => out.push(format!("{msg} (param: {p})")),
                    _ => out.push(msg),
                }
            }
            match obj.get("error") {
                Some(Value::Null) | None => {}
                Some(e) => match scalar_text(e) {
                    Some(t) => out.push(t),
                    None => out.extend(json_messages(e)),
                },
            }
            match obj.get("errors") {
                Some(Value::Object(fields)) => {
                    for (field, msg) in fields {
                        match msg {
                            Value::Array(items) => {
                                for item in items {
                                    out.push(format!("{field}: {}", any_text(item)));
                                }
                            }
                            other => out.push(format!("{field}: {}", any_text(other))),
                        }
                    }
                }
                Some(Value::Array(items)) => out.extend(items.iter().map(any_text)),
                Some(Value::Null) | None => {}
                Some(other) => out.push(any_text(other)),
            }
            if out.is_empty() && !obj.is_empty() {
                out.push(truncate(&v.to_string()));
            }
        }
        Value::String(s) => out.extend(text_message(s)),
        Value::Null => {}
        other => out.push(truncate(&other.to_string())),
    }
    out
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn any_text(v: &Value) -> String {
    scalar_text(v).unwrap_or_else(|| truncate(&v.to_string()))
}

/// A non-blank text kept as a message (see [`excerpt`]).
fn truncate(s: &str) -> String {
    excerpt(s).unwrap_or_default()
}

/// A plain-text or HTML body as one message: an HTML page's `<title>`
/// (or its text without tags), whitespace collapsed.
fn text_message(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let title = lower.find("<title>").and_then(|start| {
        let from = start + "<title>".len();
        lower[from..]
            .find("</title>")
            .and_then(|len| text.get(from..from + len))
    });
    let body = match title {
        Some(t) => t.to_owned(),
        None if lower.contains('<') && lower.contains('>') => strip_tags(text),
        None => text.to_owned(),
    };
    excerpt(&body.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// How ChartMogul's error answers map to the neutral error: its messages
/// ([`vendor_messages`]) and [`VendorErrors::from_response`].
pub const ERRORS: VendorErrors = VendorErrors::new(KIND, vendor_messages);

/// The neutral error for an error answer. `id` names the customer (or
/// email) asked for, so a 404 becomes [`Error::NotFound`].
pub fn from_response(response: &Response, id: Option<&str>) -> Error {
    ERRORS.from_response(response, id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// An error answer, with `Retry-After` when given.
    fn from_answer(
        status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
        id: Option<&str>,
    ) -> Error {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(d) = retry_after {
            headers.insert(
                reqwest::header::RETRY_AFTER,
                d.as_secs().to_string().parse().unwrap(),
            );
        }
        let response = Response {
            status,
            headers,
            body: body.to_vec().into(),
            attempts: 1,
        };
        from_response(&response, id)
    }

    #[test]
    fn code_message_param() {
        let b = br#"{"code":422,"message":"'x' is not a valid email address","param":"email"}"#;
        assert_eq!(
            vendor_messages(b),
            vec!["'x' is not a valid email address (param: email)"]
        );
        let b = br#"{"code":401,"message":"No valid API key provided","param":null}"#;
        assert_eq!(vendor_messages(b), vec!["No valid API key provided"]);
    }

    #[test]
    fn single_error() {
        assert_eq!(
            vendor_messages(br#"{"error":"Customer not found"}"#),
            vec!["Customer not found"]
        );
        assert_eq!(
            vendor_messages(br#"{"error":{"message":"nested"}}"#),
            vec!["nested"]
        );
    }

    #[test]
    fn errors_map_and_lists() {
        let b = br#"{"errors":{"CAC":"'CAC' is already defined with type Integer","email":["is required","is invalid"]}}"#;
        assert_eq!(
            vendor_messages(b),
            vec![
                "CAC: 'CAC' is already defined with type Integer",
                "email: is required",
                "email: is invalid"
            ]
        );
        assert_eq!(vendor_messages(br#"{"errors":["a","b"]}"#), vec!["a", "b"]);
    }

    #[test]
    fn plain_text_and_html_pages() {
        let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><h1>502 Bad Gateway</h1></body></html>";
        assert_eq!(vendor_messages(page.as_bytes()), vec!["502 Bad Gateway"]);
        assert_eq!(
            vendor_messages(b"<h1>Service  Unavailable</h1>\n<p>try later</p>"),
            vec!["Service Unavailable try later"]
        );
        assert_eq!(
            vendor_messages(b"upstream connect error"),
            vec!["upstream connect error"]
        );
        assert!(vendor_messages(b"").is_empty());
        assert!(vendor_messages(b"  \n").is_empty());
        let long = "x".repeat(1000);
        assert_eq!(
            vendor_messages(long.as_bytes())[0].chars().count(),
            unibill_core::error::MAX_EXCERPT_CHARS + 1
        );
    }

    #[test]
    fn unknown_json_kept_as_text() {
        assert_eq!(
            vendor_messages(br#"{"detail":"odd"}"#),
            vec![r#"{"detail":"odd"}"#]
        );
        assert!(vendor_messages(b"{}").is_empty());
    }

    #[test]
    fn statuses_pick_the_variant() {
        let e = from_answer(
            401,
            br#"{"code":401,"message":"No valid API key provided","param":null}"#,
            None,
            Some("cus_1"),
        );
        assert!(
            matches!(&e, Error::Unauthorized { status: 401, message, .. } if message == "No valid API key provided"),
            "{e:?}"
        );
        let e = from_answer(
            404,
            br#"{"code":404,"message":"Customer not found","param":null}"#,
            None,
            Some("cus_1"),
        );
        assert!(
            matches!(&e, Error::NotFound { id, .. } if id == "cus_1"),
            "{e:?}"
        );
        let e = from_answer(422, br#"{"errors":{"CAC":"bad"}}"#, None, Some("cus_1"));
        assert!(
            matches!(&e, Error::Vendor { status: 422, messages, .. } if messages == &vec!["CAC: bad".to_string()]),
            "{e:?}"
        );
        let e = from_answer(429, b"", Some(Duration::from_secs(2)), Some("cus_1"));
        assert!(
            matches!(&e, Error::RateLimited { retry_after: Some(d), .. } if *d == Duration::from_secs(2)),
            "{e:?}"
        );
        let e = from_answer(
            503,
            b"<html><head><title>503 Service Unavailable</title></head></html>",
            None,
            Some("cus_1"),
        );
        assert!(
            matches!(&e, Error::Vendor { status: 503, messages, .. } if messages == &vec!["503 Service Unavailable".to_string()]),
            "{e:?}"
        );
        assert!(e.is_retryable());
    }
}
