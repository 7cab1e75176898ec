//! The platform's error answers -> [`unibill_core::Error`], keeping its
//! own words.
//!
//! Everlytic answers errors as `{"error":{"message":".."}}`. Proxies and
//! older installs answer other shapes (`{"error":".."}`,
//! `{"message":".."}`, `{"errors":[..]}`, an HTML or text page); the
//! message is taken from whichever is there (the typed
//! [`ErrorBody`](crate::wire::ErrorBody)); the "no error" spellings and
//! the excerpt of an error without a message read the `error` value as
//! JSON, whatever its shape.

use serde::Deserialize;
use serde_json::Value;
use unibill_core::backend::VendorErrors;
use unibill_core::backend::{error_json, error_text};
use unibill_core::error::excerpt;
use unibill_core::transport::Response;
use unibill_core::Error;

use crate::wire::{push_message, ErrorBody};
use crate::KIND;

/// The platform's own messages in an error body, in order, each followed
/// by the platform's `error.code` when it sends one; `code X` alone when
/// the body has a code and no message; empty when it has neither.
pub(crate) fn vendor_messages(body: &[u8]) -> Vec<String> {
    match error_json(body) {
        Some(v) => {
            let out = json_messages(&v);
            if !out.is_empty() {
                return out;
            }
            json_code(&v)
                .map(|code| vec![format!("code {code}")])
                .unwrap_or_default()
        }
        // Not JSON (an HTML error page from a proxy, say), or too long to
        // read as JSON.
        None => excerpt(&error_text(body)).into_iter().collect(),
    }
}

/// The messages of an error body already read as JSON, through the typed
/// [`ErrorBody`]: an object of that shape, or a bare JSON string.
fn json_messages(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match v {
        Value::Object(_) => {
            // Cannot fail: every property is optional and takes any JSON.
            if let Ok(body) = ErrorBody::deserialize(v) {
                out = body.messages();
            }
        }
        Value::String(s) => push_message(&mut out, s),
        _ => {}
    }
    out
}

/// The `error.code` of an error body already read as JSON.
fn json_code(v: &Value) -> Option<String> {
    match v {
        Value::Object(_) => ErrorBody::deserialize(v).ok()?.code(),
        _ => None,
    }
}

/// Whether an `error` value says "no error" (`null`, `false`, `0`, `""`,
/// `{}`, `[]`), as PHP code sometimes sends beside a normal answer.
fn no_error(e: &Value) -> bool {
    match e {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Whether a successful (2xx) answer, read as JSON, is in fact an error
/// report, as some PHP installs send: `{"error":{"message":..}}` with
/// status 200. An error without a readable message (`{"error":true}`,
/// `{"error":{"code":3}}`) is still an error; its JSON stands in for the
/// message.
pub(crate) fn error_in_success(answer: &Value) -> Option<Vec<String>> {
    if crate::wire::customer_object(answer).is_some() {
        return None;
    }
    let e = answer.as_object()?.get("error")?;
    if no_error(e) {
        return None;
    }
    let msgs = json_messages(answer);
    if !msgs.is_empty() {
        return Some(msgs);
    }
    let json = excerpt(&e.to_string()).unwrap_or_default();
    Some(vec![format!(
        "error reported with a success status: {json}"
    )])
}

/// How the platform's error answers map to the neutral error: its
/// messages and [`VendorErrors::from_response`] (401/403 ->
/// `Unauthorized`, 404 -> `NotFound`, 409 -> `Conflict`, 429 ->
/// `RateLimited`, anything else -> `Vendor`).
pub(crate) const ERRORS: VendorErrors = VendorErrors::new(KIND, vendor_messages);

/// The neutral error for a non-2xx answer: 401/403 -> `Unauthorized`,
/// 404 -> `NotFound` (for `id`), 409 -> `Conflict`, 429 -> `RateLimited`,
/// anything else -> `Vendor`, each with the platform's messages.
pub(crate) fn from_response(resp: &Response, id: Option<&str>) -> Error {
    ERRORS.from_response(resp, id)
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
        // The documented shape: the message, and the code with it.
        assert_eq!(
            msgs(
                r#"{"links":[],"error":{"code":"09001","message":"Access Denied","additional":null}}"#
            ),
            ["Access Denied (code 09001)"]
        );
        assert_eq!(msgs(r#"{"error":{"code":"00404"}}"#), ["code 00404"]);
        assert!(msgs("").is_empty());
        assert!(msgs("{}").is_empty());
        let long = "x".repeat(1000);
        assert_eq!(
            msgs(&long)[0].chars().count(),
            unibill_core::error::MAX_EXCERPT_CHARS + 1
        );
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
        // A customer answer is never an error, whatever else it carries.
        assert_eq!(
            error_in_success(&answer(r#"{"id":5,"name":"A","error":"x"}"#)),
            None
        );
        // "No error" spellings beside a non-customer answer.
        for fine in [
            r#"{"error":null}"#,
            r#"{"error":false}"#,
            r#"{"error":0}"#,
            r#"{"error":""}"#,
            r#"{"error":{}}"#,
            r#"{"ok":true}"#,
        ] {
            assert_eq!(error_in_success(&answer(fine)), None, "{fine}");
        }
        // An empty body is not JSON: the caller has no answer to check.
        assert_eq!(error_in_success(&Value::Null), None);
    }

    #[test]
    fn error_without_a_message_in_a_success_answer_is_still_an_error() {
        let answer = |body: &str| serde_json::from_str::<Value>(body).unwrap();
        for body in [
            r#"{"error":true}"#,
            r#"{"error":{"code":3}}"#,
            r#"{"error":{"message":""}}"#,
            r#"{"error":1}"#,
        ] {
            let msgs = error_in_success(&answer(body)).unwrap_or_default();
            assert_eq!(msgs.len(), 1, "{body}");
            assert!(
                msgs[0].starts_with("error reported with a success status: "),
                "{body}: {msgs:?}"
            );
        }
        // An envelope without a customer item is not a customer answer.
        assert_eq!(
            error_in_success(&answer(
                r#"{"links":[],"item":null,"error":{"message":"Customer 9 not found"}}"#
            )),
            Some(vec!["Customer 9 not found".to_owned()])
        );
        let long = format!(r#"{{"error":{{"code":"{}"}}}}"#, "x".repeat(1000));
        let msgs = error_in_success(&answer(&long)).unwrap();
        assert!(msgs[0].chars().count() < 400);
    }
}
