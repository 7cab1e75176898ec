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
    /// A `GET` of `path?query` with no header or body (for unit tests of
    /// the handlers).
    #[cfg(test)]
    pub fn get(path: &str, query: &str) -> Req {
        Req {
            method: "GET".into(),
            path: path.into(),
            query: Some(query.into()),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

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

    /// A query parameter's value, form-decoded (`+` is a space, `%XX` a
    /// byte; an invalid escape stays as it is); the first one wins.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
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

    /// The value of the first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.into()));
    }
}

/// Standard reason phrase of a status (`"Not Found"`), `"Error"` for a
/// code without one.
pub(crate) fn reason(status: u16) -> &'static str {
    ::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
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
    use super::{plausible_email, reason, Req};

    fn with_query(q: &str) -> Req {
        Req {
            method: "GET".into(),
            path: "/v1/customers".into(),
            query: Some(q.into()),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    #[test]
    fn query_params_are_form_decoded() {
        let req =
            with_query("query=email%3Aa%2Bb%40example.com&name=Ann+Lee&bad=%zz%4&empty&x=1&x=2");
        assert_eq!(
            req.query_param("query").as_deref(),
            Some("email:a+b@example.com")
        );
        assert_eq!(req.query_param("name").as_deref(), Some("Ann Lee"));
        assert_eq!(req.query_param("bad").as_deref(), Some("%zz%4"));
        assert_eq!(req.query_param("empty").as_deref(), Some(""));
        assert_eq!(req.query_param("x").as_deref(), Some("1"));
        assert_eq!(req.query_param("missing"), None);
    }

    #[test]
    fn reason_phrases() {
        for (status, phrase) in [
            (200, "OK"),
            (400, "Bad Request"),
            (404, "Not Found"),
            (413, "Payload Too Large"),
            (422, "Unprocessable Entity"),
            (429, "Too Many Requests"),
            (503, "Service Unavailable"),
            (599, "Error"),
            (42, "Error"),
        ] {
            assert_eq!(reason(status), phrase, "{status}");
        }
    }

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
