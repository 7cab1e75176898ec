//! Everlytic's error shape: `{"error": {"message": ..}}`.

use serde_json::json;

use crate::http::Resp;

/// An error answer with this message.
pub(super) fn error(status: u16, message: &str) -> Resp {
    Resp::json(status, &json!({"error": {"message": message}}))
}

/// Answer for injected faults, rate limiting and unreadable bodies.
pub(crate) fn error_response(status: u16, message: &str) -> Resp {
    let text = match status {
        429 => "Too many requests".to_string(),
        401 => "Authentication failed".to_string(),
        _ => format!("{} ({message})", crate::http::reason(status)),
    };
    error(status, &text)
}
