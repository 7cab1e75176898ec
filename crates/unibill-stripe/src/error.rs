//! Stripe's error answers -> [`unibill_core::Error`], keeping Stripe's
//! own words.
//!
//! Stripe answers every error as `{"error": {"type", "code", "param",
//! "message"}}` (<https://docs.stripe.com/api/errors>); a proxy in front
//! of it may answer plain text or HTML. One message is kept per answer:
//! `"{field}: {message} (type: .., code: .., param: ..)"`, where `field`
//! is the neutral name of `param` ([`crate::mapping::neutral_field`]), each part
//! only when present, cut and escaped like every vendor text
//! ([`excerpt`], and `Display` escapes control characters).
//!
//! | answer | neutral error |
//! |---|---|
//! | 401, 403 | [`Error::Unauthorized`] |
//! | 404 (`resource_missing`) for a named customer | [`Error::NotFound`] |
//! | 409 (`idempotency_key_in_use`, `lock_timeout`, ...) | [`Error::Conflict`] (retryable); with `Stripe-Should-Retry: false`, [`Error::Vendor`] 409 (not retryable) |
//! | 429 | [`Error::RateLimited`] with `Retry-After` (retryable) |
//! | other 4xx with `Stripe-Should-Retry: true` | [`Error::Conflict`] (retryable) |
//! | 400 with `param`, 402, other 4xx | [`Error::Vendor`] naming the field (not retryable) |
//! | 5xx | [`Error::Vendor`] (retryable) |
//!
//! `Stripe-Should-Retry` (<https://docs.stripe.com/error-low-level>) is
//! honoured in the error's [`Error::is_retryable`] as far as core's error
//! type can say it: `true` makes a 4xx retryable, `false` makes a 409 not
//! retryable. A 5xx stays retryable even with `false` (core's `Vendor`
//! error is retryable for every 5xx); the header is then quoted in the
//! message. The transport's own retries, which happen before this
//! mapping, follow its status table, not the header (see `docs/stripe.md`).

use serde_json::Value;
use unibill_core::backend::{error_json, error_text, VendorErrors};
use unibill_core::error::excerpt;
use unibill_core::transport::Response;
use unibill_core::Error;

use crate::mapping::neutral_field;
use crate::wire::{ErrorBody, ErrorEnvelope};
use crate::KIND;

/// The response header with Stripe's advice on retrying.
pub const SHOULD_RETRY: &str = "stripe-should-retry";

/// `Stripe-Should-Retry` of an answer: `Some(true)`, `Some(false)`, or
/// `None` when absent or neither.
pub fn should_retry(response: &Response) -> Option<bool> {
    retry_advice(&response.headers)
}

/// `Stripe-Should-Retry` read from headers: the transport's retry advice
/// ([`TransportConfig::retry_advice`](unibill_core::transport::TransportConfig::retry_advice)),
/// so that an error answer Stripe says to retry is retried (a `409
/// lock_timeout`, say) and one it says not to is not (whatever its
/// status).
pub fn retry_advice(headers: &reqwest::header::HeaderMap) -> Option<bool> {
    let value = headers.get(SHOULD_RETRY)?.to_str().ok()?.trim();
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The `error` object of an error body, when it is Stripe's envelope.
pub fn envelope(body: &[u8]) -> Option<ErrorBody> {
    let value = error_json(body)?;
    serde_json::from_value::<ErrorEnvelope>(value)
        .ok()
        .map(|e| e.error)
}

/// Stripe's message in an error body (see the module docs); `param` is
/// named by its neutral field when `reference_key` is given (so that
/// `metadata[<reference key>]` reads `external_reference`). Empty for an
/// empty body.
pub fn messages(body: &[u8], reference_key: Option<&str>) -> Vec<String> {
    if let Some(e) = envelope(body) {
        let mut details = Vec::new();
        for (name, value) in [("type", &e.kind), ("code", &e.code), ("param", &e.param)] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                details.push(format!("{name}: {v}"));
            }
        }
        let field = e
            .param
            .as_deref()
            .and_then(|p| neutral_field(p, reference_key.unwrap_or_default()));
        let mut text = String::new();
        if let Some(field) = field {
            text.push_str(&field);
            text.push_str(": ");
        }
        text.push_str(e.message.as_deref().unwrap_or("(no message)"));
        if !details.is_empty() {
            text.push_str(&format!(" ({})", details.join(", ")));
        }
        return excerpt(&text).into_iter().collect();
    }
    match error_json(body) {
        Some(Value::Null) => Vec::new(),
        Some(v) => excerpt(&v.to_string()).into_iter().collect(),
        None => text_message(&error_text(body)).into_iter().collect(),
    }
}

/// [`messages`] without a reference key: the message extractor of
/// [`ERRORS`].
pub fn vendor_messages(body: &[u8]) -> Vec<String> {
    messages(body, None)
}

/// A plain-text or HTML body as one message: an HTML page's `<title>`,
/// else its text, whitespace collapsed.
fn text_message(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let title = lower.find("<title>").and_then(|start| {
        let from = start + "<title>".len();
        lower[from..]
            .find("</title>")
            .and_then(|len| text.get(from..from + len))
    });
    let body = title.unwrap_or(text);
    excerpt(&body.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Stripe's messages through core's status mapping (used where no
/// Stripe-specific rule applies).
pub const ERRORS: VendorErrors = VendorErrors::new(KIND, vendor_messages);

/// The neutral error for an error answer (see the module's table). `id`
/// names the customer asked for, so a 404 becomes [`Error::NotFound`];
/// `reference_key` names metadata parameters.
pub fn from_response(response: &Response, id: Option<&str>, reference_key: &str) -> Error {
    let status = response.status;
    let retry = should_retry(response);
    let mut messages = messages(&response.body, Some(reference_key));
    let joined = |messages: &[String]| {
        if messages.is_empty() {
            format!("HTTP {status}")
        } else {
            messages.join("; ")
        }
    };
    match (status, retry) {
        (401 | 403, _) => Error::Unauthorized {
            backend: KIND,
            status,
            message: joined(&messages),
        },
        (404, _) if id.is_some() => Error::NotFound {
            backend: KIND,
            id: id.unwrap_or_default().to_owned(),
        },
        (429, _) => Error::RateLimited {
            backend: KIND,
            retry_after: response.retry_after(),
        },
        (409, Some(false)) => {
            messages.push("Stripe-Should-Retry: false".into());
            Error::vendor(KIND, status, messages)
        }
        (409, _) => Error::Conflict {
            backend: KIND,
            message: joined(&messages),
        },
        (400..=499, Some(true)) => {
            messages.push("Stripe-Should-Retry: true".into());
            Error::Conflict {
                backend: KIND,
                message: joined(&messages),
            }
        }
        (500..=599, Some(false)) => {
            messages.push("Stripe-Should-Retry: false".into());
            Error::vendor(KIND, status, messages)
        }
        _ => Error::vendor(KIND, status, messages),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
    use std::time::Duration;

    fn answer(status: u16, body: &str, headers: &[(&'static str, &'static str)]) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_static(v));
        }
        Response {
            status,
            headers: map,
            body: body.as_bytes().to_vec().into(),
            attempts: 1,
        }
    }

    fn envelope_of(kind: &str, code: &str, param: &str, message: &str) -> String {
        serde_json::json!({"error": {"type": kind, "code": code, "param": param, "message": message}})
            .to_string()
    }

    fn map(status: u16, body: &str, headers: &[(&'static str, &'static str)]) -> Error {
        from_response(&answer(status, body, headers), Some("cus_1"), "external_id")
    }

    #[test]
    fn param_errors_name_the_neutral_field() {
        for (param, field) in [
            ("address[state]", "address.region"),
            ("address[postal_code]", "address.postal_code"),
            ("email", "email"),
            ("name", "name"),
            ("phone", "phone"),
            ("metadata[plan]", "custom.plan"),
            ("metadata[external_id]", "external_reference"),
            ("metadata", "custom"),
            (
                "invoice_settings[footer]",
                "extensions.stripe.invoice_footer",
            ),
            (
                "preferred_locales[0]",
                "extensions.stripe.preferred_locales",
            ),
            ("shipping[name]", "extensions.stripe.shipping"),
            ("tax_exempt", "extensions.stripe.tax_exempt"),
        ] {
            let body = envelope_of(
                "invalid_request_error",
                "parameter_invalid_empty",
                param,
                "Bad value",
            );
            let e = map(400, &body, &[]);
            match &e {
                Error::Vendor { status: 400, messages, .. } => assert_eq!(
                    messages,
                    &vec![format!("{field}: Bad value (type: invalid_request_error, code: parameter_invalid_empty, param: {param})")]
                ),
                other => panic!("{param}: {other:?}"),
            }
            assert!(!e.is_retryable(), "{param}");
        }
        // Too many metadata keys after the patch: Stripe names `metadata`.
        let body = envelope_of(
            "invalid_request_error",
            "",
            "metadata",
            "You can have at most 50 keys",
        );
        let e = map(400, &body, &[]);
        assert!(
            e.to_string()
                .contains("custom: You can have at most 50 keys"),
            "{e}"
        );
    }

    #[test]
    fn each_status_picks_its_variant() {
        let e = map(
            401,
            &envelope_of(
                "invalid_request_error",
                "",
                "",
                "Invalid API Key provided: sk_test_****1234",
            ),
            &[],
        );
        assert!(
            matches!(&e, Error::Unauthorized { status: 401, message, .. } if message.starts_with("Invalid API Key")),
            "{e:?}"
        );
        let e = map(
            403,
            &envelope_of(
                "invalid_request_error",
                "",
                "",
                "The provided key does not have the required permissions",
            ),
            &[],
        );
        assert!(
            matches!(&e, Error::Unauthorized { status: 403, .. }),
            "{e:?}"
        );
        let e = map(
            404,
            &envelope_of(
                "invalid_request_error",
                "resource_missing",
                "id",
                "No such customer: 'cus_1'",
            ),
            &[],
        );
        assert!(
            matches!(&e, Error::NotFound { id, .. } if id == "cus_1"),
            "{e:?}"
        );
        // Without a named customer (a list page), a 404 is the vendor's.
        let e = from_response(&answer(404, "{}", &[]), None, "external_id");
        assert!(matches!(&e, Error::Vendor { status: 404, .. }), "{e:?}");
        let e = map(
            402,
            &envelope_of("card_error", "card_declined", "", "Your card was declined."),
            &[],
        );
        assert!(
            matches!(&e, Error::Vendor { status: 402, .. }) && !e.is_retryable(),
            "{e:?}"
        );
        let e = map(
            409,
            &envelope_of("idempotency_error", "idempotency_key_in_use", "", "in use"),
            &[],
        );
        assert!(
            matches!(&e, Error::Conflict { message, .. } if message.contains("idempotency_key_in_use")),
            "{e:?}"
        );
        assert!(e.is_retryable());
        let e = map(
            409,
            &envelope_of("invalid_request_error", "lock_timeout", "", "locked"),
            &[],
        );
        assert!(
            matches!(&e, Error::Conflict { .. }) && e.is_retryable(),
            "{e:?}"
        );
        let e = answer(
            429,
            &envelope_of(
                "invalid_request_error",
                "rate_limit",
                "",
                "Too many requests",
            ),
            &[("retry-after", "2")],
        );
        let e = from_response(&e, Some("cus_1"), "external_id");
        assert!(
            matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(2)),
            "{e:?}"
        );
        assert!(e.is_retryable());
        let e = map(
            500,
            &envelope_of("api_error", "", "", "Something went wrong"),
            &[],
        );
        assert!(
            matches!(&e, Error::Vendor { status: 500, .. }) && e.is_retryable(),
            "{e:?}"
        );
        let e = map(
            400,
            &envelope_of(
                "idempotency_error",
                "",
                "",
                "Keys for idempotent requests can only be used with the same parameters",
            ),
            &[],
        );
        assert!(
            matches!(&e, Error::Vendor { status: 400, .. }) && !e.is_retryable(),
            "{e:?}"
        );
        let _ = RETRY_AFTER;
    }

    #[test]
    fn stripe_should_retry_decides_where_core_can_say_it() {
        let body = envelope_of("invalid_request_error", "lock_timeout", "", "locked");
        // `false` forbids retrying a 409.
        let e = map(409, &body, &[("stripe-should-retry", "false")]);
        assert!(
            matches!(&e, Error::Vendor { status: 409, .. }) && !e.is_retryable(),
            "{e:?}"
        );
        // `true` makes any 4xx retryable.
        let e = map(400, &body, &[("stripe-should-retry", "true")]);
        assert!(
            matches!(&e, Error::Conflict { message, .. } if message.contains("Stripe-Should-Retry: true")),
            "{e:?}"
        );
        assert!(e.is_retryable());
        // A 5xx with `false` keeps its status; the header is quoted.
        let e = map(503, "", &[("stripe-should-retry", "false")]);
        assert!(
            matches!(&e, Error::Vendor { status: 503, messages, .. } if messages == &["Stripe-Should-Retry: false"]),
            "{e:?}"
        );
        // An unreadable value counts as absent.
        assert_eq!(
            should_retry(&answer(500, "", &[("stripe-should-retry", "maybe")])),
            None
        );
        assert_eq!(
            should_retry(&answer(500, "", &[("stripe-should-retry", " TRUE ")])),
            Some(true)
        );
        assert_eq!(should_retry(&answer(500, "", &[])), None);
    }

    #[test]
    fn vendor_text_is_capped_and_kept_inert() {
        let long = "x".repeat(5000);
        let body = envelope_of("api_error", "", "", &long);
        let m = messages(body.as_bytes(), None);
        assert_eq!(m.len(), 1);
        assert_eq!(
            m[0].chars().count(),
            unibill_core::error::MAX_EXCERPT_CHARS + 1
        );
        let body = envelope_of("api_error", "", "", "evil \u{1b}[31m \u{202e}txt");
        let e = map(500, &body, &[]);
        let shown = e.to_string();
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{202e}'),
            "{shown:?}"
        );
        let page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
        assert_eq!(vendor_messages(page.as_bytes()), vec!["502 Bad Gateway"]);
        assert_eq!(
            vendor_messages(b"upstream  reset\n"),
            vec!["upstream reset"]
        );
        assert!(vendor_messages(b"").is_empty());
        assert_eq!(vendor_messages(br#"{"odd":1}"#), vec![r#"{"odd":1}"#]);
        // A huge body is not parsed as JSON, only its start kept.
        let huge = format!("{{\"error\":{{\"message\":\"{}\"}}}}", "y".repeat(100_000));
        let m = vendor_messages(huge.as_bytes());
        assert_eq!(m.len(), 1);
        assert!(m[0].chars().count() <= unibill_core::error::MAX_EXCERPT_CHARS + 1);
    }
}
