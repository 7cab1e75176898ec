//! Stripe's error envelope:
//! `{"error":{"type","code"?,"param"?,"message","doc_url"?}}`, as the
//! "Errors" reference (<https://docs.stripe.com/api/errors>) describes it:
//! `type` is one of `api_error`, `card_error`, `idempotency_error`,
//! `invalid_request_error`; `code` and `param` appear only when they apply,
//! and `doc_url` only with a `code`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Map, Value};

use crate::http::Resp;

/// `type` of errors about the request's parameters, path or credentials.
pub(super) const INVALID_REQUEST: &str = "invalid_request_error";
/// `type` of a reused idempotency key.
pub(super) const IDEMPOTENCY: &str = "idempotency_error";
/// `type` of errors on Stripe's side (5xx).
pub(super) const API_ERROR: &str = "api_error";

/// The message of a 429, as the "Errors" reference's status table and
/// the "Error codes" page (`rate_limit`) word it.
pub const RATE_LIMIT_MESSAGE: &str =
    "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.";

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(1);

/// A fresh `Request-Id` (`req_` and 14 alphanumerics), as every Stripe
/// answer carries one.
pub(crate) fn next_request_id() -> String {
    let n = REQUEST_SEQ.fetch_add(1, Ordering::Relaxed);
    format!("req_{}", super::state::base62(n, 14))
}

/// An error answer in Stripe's envelope.
pub(super) fn error(
    status: u16,
    kind: &str,
    code: Option<&str>,
    param: Option<&str>,
    message: &str,
) -> Resp {
    let mut err = Map::new();
    if let Some(code) = code {
        err.insert("code".into(), json!(code));
        err.insert(
            "doc_url".into(),
            json!(format!(
                "https://stripe.com/docs/error-codes/{}",
                code.replace('_', "-")
            )),
        );
    }
    err.insert("message".into(), json!(message));
    if let Some(param) = param {
        err.insert("param".into(), json!(param));
    }
    err.insert("type".into(), json!(kind));
    Resp::json(status, &json!({ "error": Value::Object(err) }))
}

/// 400 `invalid_request_error` about `param`, without a code.
pub(super) fn invalid(param: &str, message: &str) -> Resp {
    error(400, INVALID_REQUEST, None, Some(param), message)
}

/// 400 `invalid_request_error` about `param`, with a code.
pub(super) fn invalid_code(code: &str, param: &str, message: &str) -> Resp {
    error(400, INVALID_REQUEST, Some(code), Some(param), message)
}

/// 400 `parameter_unknown`: "Received unknown parameter: {name}".
pub(super) fn unknown_parameter(name: &str) -> Resp {
    invalid_code(
        "parameter_unknown",
        name,
        &format!("Received unknown parameter: {name}"),
    )
}

/// 400 `parameter_missing`.
pub(super) fn missing_parameter(name: &str) -> Resp {
    invalid_code(
        "parameter_missing",
        name,
        &format!("Missing required param: {name}."),
    )
}

/// `resource_missing` for a customer id: 404 when the path names it
/// (`param` `id`), 400 when a parameter does (`starting_after`).
pub(super) fn no_such_customer(status: u16, id: &str, param: &str) -> Resp {
    error(
        status,
        INVALID_REQUEST,
        Some("resource_missing"),
        Some(param),
        &format!("No such customer: '{id}'"),
    )
}

/// The key as Stripe quotes a refused one: its prefix (`sk_test_`) and
/// its last four characters, everything between masked; a key of four
/// characters or fewer is masked whole. The key is never echoed.
pub(super) fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let prefix = [
        "sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_",
    ]
    .iter()
    .find(|p| key.starts_with(**p))
    .map_or(0, |p| p.len());
    if chars.len() <= prefix + 4 {
        let keep = if chars.len() > 4 {
            prefix.min(chars.len() - 4)
        } else {
            0
        };
        let masked = chars.len() - keep;
        return format!(
            "{}{}",
            chars[..keep].iter().collect::<String>(),
            "*".repeat(masked)
        );
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!(
        "{}{}{tail}",
        chars[..prefix].iter().collect::<String>(),
        "*".repeat(chars.len() - prefix - 4)
    )
}

/// Answer for injected faults, rate limiting, the in-flight limit and
/// unreadable bodies: 429 with `code` `rate_limit`, 5xx as `api_error`,
/// anything else as `invalid_request_error`. Carries a `Request-Id`.
pub(crate) fn error_response(status: u16, message: &str) -> Resp {
    let resp = match status {
        429 => error(
            status,
            INVALID_REQUEST,
            Some("rate_limit"),
            None,
            RATE_LIMIT_MESSAGE,
        ),
        s if s >= 500 => error(
            status,
            API_ERROR,
            None,
            None,
            &format!("{} ({message})", crate::http::reason(status)),
        ),
        401 => error(
            status,
            INVALID_REQUEST,
            None,
            None,
            "Invalid API Key provided (injected fault)",
        ),
        _ => error(
            status,
            INVALID_REQUEST,
            None,
            None,
            &format!("{} ({message})", crate::http::reason(status)),
        ),
    };
    resp.with_header("Request-Id", next_request_id())
}

/// Headers of an answer the sandbox made up in place of the vendor logic
/// (a status fault, the in-flight limit): `Stripe-Should-Retry: true` on
/// 409, 429 and 5xx, as Stripe sends it to tell its SDKs a retry is safe.
/// The rate limiter's 429 does not carry it.
pub(crate) fn add_fault_headers(resp: &mut Resp) {
    if matches!(resp.status, 409 | 429) || resp.status >= 500 {
        resp.set_header("Stripe-Should-Retry", "true");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(resp: &Resp) -> Value {
        serde_json::from_slice(&resp.body).unwrap()
    }

    #[test]
    fn envelope_has_code_param_and_doc_url_only_when_they_apply() {
        let r = unknown_parameter("nickname");
        assert_eq!(r.status, 400);
        assert_eq!(
            body(&r),
            json!({"error": {
                "type": "invalid_request_error",
                "code": "parameter_unknown",
                "param": "nickname",
                "message": "Received unknown parameter: nickname",
                "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
            }})
        );
        let r = error_response(503, "injected fault");
        let v = body(&r);
        assert_eq!(v["error"]["type"], "api_error");
        assert!(v["error"].get("code").is_none() && v["error"].get("param").is_none());
        assert!(r
            .headers
            .iter()
            .any(|(k, v)| k == "Request-Id" && v.starts_with("req_")));
        let v = body(&error_response(429, "x"));
        assert_eq!(v["error"]["code"], "rate_limit");
        assert_eq!(v["error"]["message"], RATE_LIMIT_MESSAGE);
    }

    #[test]
    fn keys_are_masked_never_echoed() {
        assert_eq!(mask_key("sk_test_abcdefgh1234"), "sk_test_********1234");
        assert_eq!(mask_key("undefined"), "*****ined");
        assert_eq!(mask_key("nil"), "***");
        assert_eq!(mask_key("sk_test_1234"), "sk_test_****");
        assert_eq!(mask_key(""), "");
        for key in ["sk_test_unibill_sandbox", "sk_live_x", "abcd", "abcde"] {
            assert_ne!(mask_key(key), key);
        }
    }

    #[test]
    fn only_retryable_fault_answers_say_so() {
        for (status, retry) in [
            (503, true),
            (500, true),
            (429, true),
            (409, true),
            (400, false),
            (404, false),
        ] {
            let mut r = error_response(status, "injected fault");
            add_fault_headers(&mut r);
            let has = r
                .headers
                .iter()
                .any(|(k, v)| k == "Stripe-Should-Retry" && v == "true");
            assert_eq!(has, retry, "{status}");
        }
    }
}
