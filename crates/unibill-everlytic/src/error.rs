//! The platform's error answers -> [`unibill_core::Error`], keeping its
//! own words.
//!
//! Everlytic answers errors as `{"error":{"message":".."}}`. Proxies and
//! older installs answer other shapes (`{"error":".."}`,
//! `{"message":".."}`, `{"errors":[..]}`, an HTML or text page); the
//! message is taken from whichever is there.

use serde_json::Value;
use unibill_core::transport::Response;
use unibill_core::Error;

use crate::KIND;

/// The longest text kept from a body that is not JSON (an HTML error page
/// from a proxy, say).
const MAX_TEXT: usize = 300;

fn push_text(out: &mut Vec<String>, v: &Value) {
    match v {
        Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_owned()),
        Value::Object(o) => {
            if let Some(m) = o.get("message") {
                push_text(out, m);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| push_text(out, i)),
        _ => {}
    }
}

/// The platform's own messages in an error body, in order; empty when the
/// body has none.
pub(crate) fn vendor_messages(body: &[u8]) -> Vec<String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => json_messages(&v),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                return Vec::new();
            }
            let cut: String = text.chars().take(MAX_TEXT).collect();
            vec![if cut.len() < text.len() {
                format!("{cut}…")
            } else {
                cut
            }]
        }
    }
}

/// The messages of an error body already read as JSON.
fn json_messages(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match v {
        Value::Object(o) => {
            if let Some(e) = o.get("error") {
                match e {
                    Value::Object(eo) => {
                        if let Some(m) = eo.get("message") {
                            push_text(&mut out, m);
                        }
                        if let Some(m) = eo.get("messages") {
                            push_text(&mut out, m);
                        }
                    }
                    other => push_text(&mut out, other),
                }
            }
            if let Some(errors) = o.get("errors") {
                match errors {
                    Value::Object(fields) => {
                        for (field, v) in fields {
                            let mut msgs = Vec::new();
                            push_text(&mut msgs, v);
                            out.extend(msgs.into_iter().map(|m| format!("{field}: {m}")));
                        }
                    }
                    other => push_text(&mut out, other),
                }
            }
            if out.is_empty() {
                if let Some(m) = o.get("message") {
                    push_text(&mut out, m);
                }
            }
        }
        Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_owned()),
        _ => {}
    }
    out
}

/// Whether a successful (2xx) answer, read as JSON, is in fact an error
/// report, as some PHP installs send: `{"error":{"message":..}}` with
/// status 200.
pub(crate) fn error_in_success(answer: &Value) -> Option<Vec<String>> {
    let o = answer.as_object()?;
    if o.contains_key("item") || o.contains_key("id") {
        return None;
    }
    o.get("error")?;
    let msgs = json_messages(answer);
    (!msgs.is_empty()).then_some(msgs)
}

/// The neutral error for a non-2xx answer: 401/403 -> `Unauthorized`,
/// 404 -> `NotFound` (for `id`), 409 -> `Conflict`, 429 -> `RateLimited`,
/// anything else -> `Vendor`, each with the platform's messages.
pub(crate) fn from_response(resp: &Response, id: Option<&str>) -> Error {
    Error::from_status(
        KIND,
        resp.status,
        vendor_messages(&resp.body),
        resp.retry_after(),
        id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs(body: &str) -> Vec<String> {
        vendor_messages(body.as_bytes())
    }

    #[test]
    fn documented_shape_and_the_others() {
        assert_eq!(
            msgs(r#"{"error":{"message":"Customer 9 not found"}}"#),
            ["Customer 9 not found"]
        );
        assert_eq!(msgs(r#"{"error":"Bad key"}"#), ["Bad key"]);
        assert_eq!(msgs(r#"{"message":"Nope"}"#), ["Nope"]);
        assert_eq!(msgs(r#"{"errors":["a", {"message":"b"}]}"#), ["a", "b"]);
        assert_eq!(
            msgs(r#"{"errors":{"email":"is invalid"}}"#),
            ["email: is invalid"]
        );
        assert_eq!(
            msgs("<h1>502 Bad Gateway</h1>"),
            ["<h1>502 Bad Gateway</h1>"]
        );
        assert!(msgs("").is_empty());
        assert!(msgs("{}").is_empty());
        let long = "x".repeat(1000);
        assert_eq!(msgs(&long)[0].chars().count(), MAX_TEXT + 1);
    }

    #[test]
    fn error_reported_with_success_status() {
        let answer = |body: &str| serde_json::from_str::<Value>(body).unwrap();
        assert_eq!(
            error_in_success(&answer(r#"{"error":{"message":"Invalid industry"}}"#)),
            Some(vec!["Invalid industry".to_owned()])
        );
        assert_eq!(
            error_in_success(&answer(r#"{"links":[],"item":{"id":1}}"#)),
            None
        );
        assert_eq!(error_in_success(&answer("1001")), None);
        // An empty body is not JSON: the caller has no answer to check.
        assert_eq!(error_in_success(&Value::Null), None);
    }
}
