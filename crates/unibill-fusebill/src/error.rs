//! Fusebill's error answers -> [`unibill_core::Error`], keeping Fusebill's
//! own words.
//!
//! | HTTP | neutral error |
//! |---|---|
//! | 400 | [`Error::Vendor`] with each `Errors[]` entry as `"Key: Value"` |
//! | 401, 403 | [`Error::Unauthorized`] (a key sent base64-encoded twice lands here) |
//! | 404 | [`Error::NotFound`] |
//! | 409 | [`Error::Conflict`]: a business rule was broken |
//! | 429 | [`Error::RateLimited`], after the transport's retries |
//! | other | [`Error::Vendor`] |

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use unibill_core::backend::VendorErrors;
use unibill_core::backend::{error_json, error_text};
use unibill_core::error::excerpt;
use unibill_core::transport::Response;
use unibill_core::Error;

use crate::wire::ErrorBody;
use crate::KIND;

/// The vendor's messages in an error body: the `Errors[]` entries of
/// Fusebill's JSON shape (or its `Message`), a JSON string as it is, else
/// a short excerpt of the body (non-JSON, or JSON of another shape).
pub fn vendor_messages(body: &[u8]) -> Vec<String> {
    if let Some(v) = error_json(body) {
        if let Value::String(s) = &v {
            // A message serialised as a JSON string.
            return excerpt(s).into_iter().collect();
        }
        // Fusebill's own shape says what it says, even when its list is
        // empty (as do `null` and `{}`); any other JSON is kept as text
        // rather than dropped.
        let (messages, says_nothing_more) = match &v {
            Value::Object(o) => match ErrorBody::deserialize(&v) {
                Ok(body) => {
                    let own_shape = o.is_empty() || body.errors.is_some();
                    (body.into_messages(), own_shape)
                }
                // Not reached: every property takes any JSON.
                Err(_) => (Vec::new(), false),
            },
            other => (Vec::new(), other.is_null()),
        };
        if !messages.is_empty() || says_nothing_more {
            return messages;
        }
    }
    excerpt(&error_text(body)).into_iter().collect()
}

/// How Fusebill's error answers map to the neutral error: its messages
/// ([`vendor_messages`]) and [`VendorErrors::from_response`]. Sent through
/// [`VendorErrors::send`], a final 429 carries the wait read from
/// `Retry-After` or else [`rate_limit_wait`] (the transport's retry hint).
pub const ERRORS: VendorErrors = VendorErrors::new(KIND, vendor_messages);

/// The neutral error for a non-2xx answer. `id` is the customer the
/// request was about, for [`Error::NotFound`].
pub fn from_response(response: &Response, id: Option<&str>) -> Error {
    ERRORS.from_response(response, id)
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    let text = headers.get(name)?.to_str().ok()?.trim();
    if let Ok(n) = text.parse::<u64>() {
        return Some(n);
    }
    // Fractional seconds, rounded up.
    if let Ok(f) = text.parse::<f64>() {
        if (0.0..1e12).contains(&f) {
            return Some(f.ceil() as u64);
        }
    }
    // A .NET TimeSpan ("00:00:42").
    let parts: Vec<&str> = text.split(':').collect();
    if let [h, m, s] = parts.as_slice() {
        let h: u64 = h.parse().ok()?;
        let m: u64 = m.parse().ok()?;
        let s: f64 = s.parse().ok()?;
        if !(0.0..1e12).contains(&s) {
            return None;
        }
        // Checked: a reading too large for 64 bits is unreadable, not a
        // panic (or a wrapped, tiny wait).
        return h
            .checked_mul(3600)?
            .checked_add(m.checked_mul(60)?)?
            .checked_add(s.ceil() as u64);
    }
    None
}

/// Seconds read from an `X-Rate-Limit-Reset-*` header: a delay in
/// seconds, or, for values that can only be a Unix time, the delay until
/// that time.
fn reset_delay(headers: &HeaderMap, name: &str) -> Option<Duration> {
    let n = header_u64(headers, name)?;
    // No window is a billion seconds long: such a value is a Unix time.
    if n >= 1_000_000_000 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        return Some(Duration::from_secs(n.saturating_sub(now)));
    }
    Some(Duration::from_secs(n))
}

/// How long to wait on a 429 that has no `Retry-After`, from Fusebill's
/// rate-limit headers: until the daily window resets when
/// `X-Rate-Limit-Remaining-Day` is 0, else until the minute window resets
/// (`X-Rate-Limit-Reset-Minute`, seconds until the window resets). `None`
/// when the headers are absent or unreadable (the transport then backs off
/// exponentially). Used as the transport's
/// [`retry_hint`](unibill_core::transport::TransportConfig::retry_hint).
pub fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    if header_u64(headers, "x-rate-limit-remaining-day") == Some(0) {
        if let Some(d) = reset_delay(headers, "x-rate-limit-reset-day") {
            return Some(d);
        }
    }
    reset_delay(headers, "x-rate-limit-reset-minute")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn reset_headers() {
        let h = headers(&[
            ("X-Rate-Limit-Reset-Minute", "42"),
            ("X-Rate-Limit-Remaining-Day", "100"),
        ]);
        assert_eq!(rate_limit_wait(&h), Some(Duration::from_secs(42)));
        let h = headers(&[("X-Rate-Limit-Reset-Minute", "1.2")]);
        assert_eq!(rate_limit_wait(&h), Some(Duration::from_secs(2)));
        let h = headers(&[("X-Rate-Limit-Reset-Minute", "00:00:07")]);
        assert_eq!(rate_limit_wait(&h), Some(Duration::from_secs(7)));
        let h = headers(&[
            ("X-Rate-Limit-Reset-Minute", "5"),
            ("X-Rate-Limit-Remaining-Day", "0"),
            ("X-Rate-Limit-Reset-Day", "3600"),
        ]);
        assert_eq!(rate_limit_wait(&h), Some(Duration::from_secs(3600)));
        let past = headers(&[("X-Rate-Limit-Reset-Minute", "1000000000")]);
        assert_eq!(rate_limit_wait(&past), Some(Duration::ZERO));
        assert_eq!(
            rate_limit_wait(&headers(&[("X-Rate-Limit-Reset-Minute", "soon")])),
            None
        );
        assert_eq!(rate_limit_wait(&HeaderMap::new()), None);
    }

    #[test]
    fn absurd_reset_headers_do_not_overflow() {
        // A `hh:mm:ss` reading whose seconds do not fit in 64 bits is
        // unreadable (backoff applies), not an arithmetic overflow.
        for v in [
            "18446744073709551615:00:00",
            "5124095576030432:00:00",
            "0:307445734561825861:00",
            "0:0:1e300",
            "5124095576030431:0:1e19",
        ] {
            let h = headers(&[("X-Rate-Limit-Reset-Minute", v)]);
            assert_eq!(rate_limit_wait(&h), None, "{v}");
        }
    }

    #[test]
    fn messages_from_json_and_text() {
        let body = br#"{"ErrorId":0,"HttpStatusCode":409,"Errors":[{"Key":"Api Error","Value":"Customer has unpaid invoices"}]}"#;
        assert_eq!(
            vendor_messages(body),
            vec!["Api Error: Customer has unpaid invoices"]
        );
        assert_eq!(
            vendor_messages(b"  Service Unavailable \n"),
            vec!["Service Unavailable"]
        );
        assert!(vendor_messages(b"").is_empty());
        // A message serialised as a bare JSON string, an `Errors` list of
        // plain strings, or a JSON shape Fusebill does not document: the
        // vendor's words are kept, never reduced to "HTTP 400".
        assert_eq!(
            vendor_messages(br#""Customer 5 is locked""#),
            vec!["Customer 5 is locked"]
        );
        assert_eq!(
            vendor_messages(br#"{"Errors":["firstName is too long"]}"#),
            vec!["firstName is too long"]
        );
        assert_eq!(
            vendor_messages(br#"{"detail":"gateway down"}"#),
            vec![r#"{"detail":"gateway down"}"#]
        );
        // Fusebill's own shape with nothing in it stays empty.
        assert!(vendor_messages(br#"{"ErrorId":0,"HttpStatusCode":500,"Errors":[]}"#).is_empty());
        assert!(vendor_messages(b"{}").is_empty());
        assert!(vendor_messages(b"null").is_empty());
        let long = "x".repeat(1000);
        assert_eq!(
            vendor_messages(long.as_bytes())[0].chars().count(),
            unibill_core::error::MAX_EXCERPT_CHARS + 1
        );
    }
}
