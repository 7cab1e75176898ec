//! Fusebill's error shape: `{"ErrorId","HttpStatusCode","Errors":[{"Key","Value"}]}`.

use serde_json::{json, Value};

use crate::http::Resp;

/// An error answer listing `(Key, Value)` pairs.
pub(super) fn errors(status: u16, list: &[(String, String)]) -> Resp {
    let errs: Vec<Value> = list
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Resp::json(
        status,
        &json!({"ErrorId": 0, "HttpStatusCode": status, "Errors": errs}),
    )
}

/// An error answer with one `(Key, Value)` pair.
pub(super) fn error(status: u16, key: &str, value: &str) -> Resp {
    errors(status, &[(key.to_string(), value.to_string())])
}

/// Answer for injected faults, rate limiting and unreadable bodies.
pub(crate) fn error_response(status: u16, message: &str) -> Resp {
    let value = match status {
        429 => format!("API rate limit exceeded: {message}"),
        401 => "Invalid API key".to_string(),
        _ => format!("{} ({message})", crate::http::reason(status)),
    };
    error(status, "Api Error", &value)
}
