//! Credentials and the `Authorization` header built from them.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;

/// How requests authenticate, with the secret held in a [`SecretString`].
///
/// The `Authorization` header is built once, when the [`Transport`] is
/// created, and marked sensitive. `Debug` never shows a secret:
///
/// ```
/// use unibill_core::transport::Auth;
///
/// let auth = Auth::Basic { username: "acme".into(), password: "s3cret".into() };
/// assert_eq!(format!("{auth:?}"), r#"Basic { username: "acme", password: "***" }"#);
/// assert_eq!(format!("{:?}", Auth::Bearer("tok".into())), r#"Bearer("***")"#);
/// ```
///
/// [`Transport`]: super::Transport
#[derive(Clone, Default)]
pub enum Auth {
    /// No `Authorization` header.
    #[default]
    None,
    /// `Authorization: Basic base64(username:password)` (RFC 7617), as
    /// Everlytic wants with `username:apikey`. The user name must not
    /// contain `:`.
    Basic {
        /// The user name (not secret).
        username: String,
        /// The password or API key.
        password: SecretString,
    },
    /// `Authorization: Basic base64(key:)`: the API key as the user name
    /// and an empty password, as ChartMogul wants. The key must not contain
    /// `:`.
    KeyAsUser(SecretString),
    /// `Authorization: Basic {key}` with the key sent exactly as issued,
    /// without encoding it again: Fusebill issues keys that already are
    /// base64 text.
    PreEncoded(SecretString),
    /// `Authorization: Bearer {token}`.
    Bearer(SecretString),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &Redacted)
                .finish(),
            Auth::KeyAsUser(_) => f.debug_tuple("KeyAsUser").field(&Redacted).finish(),
            Auth::PreEncoded(_) => f.debug_tuple("PreEncoded").field(&Redacted).finish(),
            Auth::Bearer(_) => f.debug_tuple("Bearer").field(&Redacted).finish(),
        }
    }
}

/// Prints `***` in place of a secret.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Auth {
    /// The `Authorization` header value, marked sensitive; `None` for
    /// [`Auth::None`]. Errors never contain the secret.
    pub(crate) fn header_value(&self) -> Result<Option<HeaderValue>, Error> {
        let basic = |user: &str, password: &str| {
            format!("Basic {}", BASE64.encode(format!("{user}:{password}")))
        };
        let refuse = |reason: &str| Err(Error::config("auth", reason));
        // An empty password is legal Basic auth; an empty user name with
        // it is not useful, nor is a blank key or token.
        let (text, empty) = match self {
            Auth::None => return Ok(None),
            Auth::Basic { username, password } => {
                if username.contains(':') {
                    return refuse("a Basic user name must not contain `:`");
                }
                let password = password.expose_secret();
                let empty = username.is_empty() && password.is_empty();
                (basic(username, password), empty)
            }
            Auth::KeyAsUser(key) => {
                let key = key.expose_secret();
                if key.contains(':') {
                    return refuse("an API key used as user name must not contain `:`");
                }
                (basic(key, ""), key.trim().is_empty())
            }
            Auth::PreEncoded(key) => {
                let key = key.expose_secret();
                (format!("Basic {key}"), key.trim().is_empty())
            }
            Auth::Bearer(token) => {
                let token = token.expose_secret();
                (format!("Bearer {token}"), token.trim().is_empty())
            }
        };
        if empty {
            return refuse("the API key is empty");
        }
        let mut value = HeaderValue::from_str(&text).map_err(|_| {
            Error::config(
                "auth",
                "the API key contains characters not allowed in an HTTP header (e.g. a line break)",
            )
        })?;
        value.set_sensitive(true);
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values() {
        let v = Auth::KeyAsUser("key".into())
            .header_value()
            .unwrap()
            .unwrap();
        assert_eq!(v.to_str().unwrap(), "Basic a2V5Og==");
        assert!(v.is_sensitive());
        let basic = Auth::Basic {
            username: "acme".into(),
            password: "s3cr\u{e9}t".into(),
        };
        let v = basic.header_value().unwrap().unwrap();
        assert_eq!(v.to_str().unwrap(), "Basic YWNtZTpzM2Nyw6l0");
        assert!(Auth::None.header_value().unwrap().is_none());
        let err = Auth::Bearer("a\nb-secret".into())
            .header_value()
            .unwrap_err();
        assert!(!err.to_string().contains("secret"));
        assert!(Auth::Bearer("  ".into()).header_value().is_err());
    }
}
