//! Everlytic's error shape, as its "Get the List of Available Field
//! Definitions" page prints it:
//! `{"links":[{"title":"Self",..},{"title":"Home",..}],"error":{"code":"09001","message":"..","additional":null}}`.
//!
//! The only code the vendor documents is `09001` (that page's "Access
//! Denied"); the emulator's codes are its own, in the same five-digit
//! text form: `00` followed by the HTTP status (`"00404"`, `"00400"`).

use serde_json::{json, Value};

use crate::http::Resp;

/// The emulator's `error.code` for an answer with this status: `00` and
/// the status, five digits as text.
pub(crate) fn code(status: u16) -> String {
    format!("{status:05}")
}

/// An error answer with this message, without its `links` (added by
/// [`add_links`] once the request's address is known).
pub(super) fn error(status: u16, message: &str) -> Resp {
    Resp::json(
        status,
        &json!({"error": {"code": code(status), "message": message, "additional": null}}),
    )
}

/// The `home` link: the API's base address.
fn home_link(base_url: &str) -> Value {
    json!({"title": "Home", "rel": "home", "href": format!("{base_url}/api/2.0/")})
}

/// Puts `links` (`self` for `self_href`, when known, then `home`) at the
/// front of an error answer made by [`error`]; any other answer is left
/// as it is.
pub(super) fn add_links(resp: &mut Resp, base_url: &str, self_href: Option<String>) {
    if resp.status < 400 {
        return;
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&resp.body) else {
        return;
    };
    if !body.contains_key("error") {
        return;
    }
    let mut links = Vec::with_capacity(2);
    if let Some(href) = self_href {
        links.push(json!({"title": "Self", "rel": "self", "href": href}));
    }
    links.push(home_link(base_url));
    let mut out = serde_json::Map::with_capacity(body.len() + 1);
    out.insert("links".into(), Value::Array(links));
    out.extend(body);
    *resp = Resp::json(resp.status, &Value::Object(out));
}

/// Answer for injected faults, rate limiting and unreadable bodies (the
/// `home` link only: the request's address is not at hand).
pub(crate) fn error_response(base_url: &str, status: u16, message: &str) -> Resp {
    let text = match status {
        429 => "Too many requests".to_string(),
        401 => "Authentication failed".to_string(),
        _ => format!("{} ({message})", crate::http::reason(status)),
    };
    let mut resp = error(status, &text);
    add_links(&mut resp, base_url, None);
    resp
}
