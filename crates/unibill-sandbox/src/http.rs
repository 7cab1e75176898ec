//! Vendor-neutral request/response values used by the emulators.

use base64::Engine;
use serde_json::Value;

/// A fully read request.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Raw query string (without `?`), if any.
    pub query: Option<String>,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Path plus `?query`.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{}", self.path, q),
            None => self.path.clone(),
        }
    }

    /// Path segments after splitting on `/`, empty segments removed.
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// The credentials part of `Authorization: Basic <credentials>`.
    pub fn basic_credentials(&self) -> Option<&str> {
        let value = self.header("authorization")?.trim();
        let (scheme, rest) = value.split_once(' ')?;
        if scheme.eq_ignore_ascii_case("basic") {
            Some(rest.trim())
        } else {
            None
        }
    }

    /// `user:password` decoded from Basic credentials.
    pub fn basic_user_password(&self) -> Option<(String, String)> {
        let creds = self.basic_credentials()?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(creds.as_bytes())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (user, pass) = text.split_once(':')?;
        Some((user.to_string(), pass.to_string()))
    }

    pub fn has_body(&self) -> bool {
        !self.body.iter().all(|b| b.is_ascii_whitespace())
    }

    /// Whether the Content-Type is JSON (`application/json`, any params).
    pub fn content_type_is_json(&self) -> bool {
        match self.header("content-type") {
            Some(ct) => {
                let mime = ct.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case("application/json")
            }
            None => false,
        }
    }

    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| e.to_string())
    }

    /// A query parameter's raw value (no percent-decoding beyond `%3A`/`+`).
    pub fn query_param(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        q.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if k == name {
                Some(percent_decode(v))
            } else {
                None
            }
        })
    }
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A response about to be sent.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(status: u16, value: &Value) -> Resp {
        Resp {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    pub fn text(status: u16, content_type: &str, body: &str) -> Resp {
        Resp {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Resp {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.into()));
    }
}

/// Standard reason phrase for the statuses the emulators use.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

/// Whether `s` looks like one email address: a non-empty local part, one
/// `@`, a non-empty domain and no whitespace; with `dotted_domain`, the
/// domain must also hold a dot, not at either end (Fusebill and Everlytic
/// check that much; ChartMogul's pages do not say it checks the domain).
pub(crate) fn plausible_email(s: &str, dotted_domain: bool) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let dotted = domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.');
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
        && (dotted || !dotted_domain)
}

/// Short JSON type name for error messages.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::plausible_email;

    #[test]
    fn email_shapes() {
        for ok in ["a@example.com", "first.last@mail.example.co.uk"] {
            assert!(plausible_email(ok, true), "{ok}");
            assert!(plausible_email(ok, false), "{ok}");
        }
        // Accepted only where the domain need not be dotted.
        assert!(plausible_email("a@localhost", false));
        assert!(!plausible_email("a@localhost", true));
        for bad in [
            "",
            "a",
            "@example.com",
            "a@",
            "a@b@c.com",
            "a b@example.com",
        ] {
            assert!(!plausible_email(bad, false), "{bad}");
            assert!(!plausible_email(bad, true), "{bad}");
        }
        for bad in ["a@.example.com", "a@example.com."] {
            assert!(!plausible_email(bad, true), "{bad}");
        }
    }
}
