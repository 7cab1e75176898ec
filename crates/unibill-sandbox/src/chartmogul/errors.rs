//! ChartMogul's error shapes: `{"code","message","param"}`, `{"error"}`,
//! `{"errors": {field: message}}`, and HTML pages for 5xx.

use std::collections::BTreeMap;

use serde_json::json;

use crate::http::Resp;

pub(super) fn err_code(status: u16, message: &str, param: Option<&str>) -> Resp {
    Resp::json(
        status,
        &json!({"code": status, "message": message, "param": param}),
    )
}

pub(super) fn err_single(status: u16, message: &str) -> Resp {
    Resp::json(status, &json!({ "error": message }))
}

pub(super) fn err_map(status: u16, errors: BTreeMap<String, String>) -> Resp {
    Resp::json(status, &json!({ "errors": errors }))
}

/// Answer used for injected faults, rate limiting and unreadable bodies:
/// 5xx as a plain-text HTML page (as ChartMogul's front servers answer),
/// anything else as `{"code","message","param"}`.
pub(crate) fn error_response(status: u16, message: &str) -> Resp {
    if status >= 500 {
        let reason = crate::http::reason(status);
        let page = format!(
            "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
        );
        return Resp::text(status, "text/html", &page);
    }
    let message = match status {
        429 => "You have exceeded the rate limit. Please slow down your requests.".to_string(),
        401 => "No valid API key provided".to_string(),
        _ => format!("{} ({message})", crate::http::reason(status)),
    };
    err_code(status, &message, None)
}

pub(super) fn one_error(status: u16, field: &str, message: &str) -> Resp {
    let mut m = BTreeMap::new();
    m.insert(field.to_string(), message.to_string());
    err_map(status, m)
}

pub(super) fn not_found() -> Resp {
    err_code(404, "Customer not found", None)
}
