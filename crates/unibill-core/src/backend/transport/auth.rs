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
        let text = match self {
            Auth::None => return Ok(None),
            Auth::Basic { username, password } => {
                if username.contains(':') {
                    return Err(Error::config(
                        "auth",
                        "a Basic user name must not contain `:`",
                    ));
                }
                basic(username, password.expose_secret())
            }
            Auth::KeyAsUser(key) => {
                if key.expose_secret().contains(':') {
                    return Err(Error::config(
                        "auth",
                        "an API key used as user name must not contain `:`",
                    ));
                }
                basic(key.expose_secret(), "")
            }
            Auth::PreEncoded(key) => format!("Basic {}", key.expose_secret()),
            Auth::Bearer(token) => format!("Bearer {}", token.expose_secret()),
        };
        if self.secret_is_empty() {
            return Err(Error::config("auth", "the API key is empty"));
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

    fn secret_is_empty(&self) -> bool {
        match self {
            Auth::None => false,
            // An empty password is legal Basic auth; an empty user name is not useful.
            Auth::Basic { username, password } => {
                username.is_empty() && password.expose_secret().is_empty()
            }
            Auth::KeyAsUser(s) | Auth::PreEncoded(s) | Auth::Bearer(s) => {
                s.expose_secret().trim().is_empty()
            }
        }
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
