//! The one error type of unibill.

use std::time::Duration;

use crate::capability::{Field, Op};
use crate::kind::BackendKind;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when reading or updating a customer.
///
/// Errors raised before the first request ([`Error::Validation`],
/// [`Error::Unsupported`], [`Error::Config`]) guarantee that nothing was
/// sent to the vendor. Each variant names the backend (where there is one)
/// and keeps the vendor's own words where the vendor gave any. No variant
/// ever contains an API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input was refused before any request: `field` names the offending
    /// neutral field (e.g. `"address.country"`, `"custom.CAC"`, `"id"`) and
    /// `reason` the rule it broke.
    #[error("invalid `{field}`: {reason}")]
    Validation {
        /// The field, as a path in the neutral patch (`"custom.CAC"`).
        field: String,
        /// The rule that was broken, in plain words.
        reason: String,
    },

    /// The patch asks a backend for something it cannot do (see
    /// [`crate::Capabilities`]); raised before any request.
    #[error("{backend} cannot {op} `{field}`")]
    Unsupported {
        /// The backend that refused.
        backend: BackendKind,
        /// The neutral field.
        field: Field,
        /// Whether setting or clearing was asked for.
        op: Op,
    },

    /// The vendor has no customer with this id.
    #[error("{backend}: customer `{id}` not found")]
    NotFound {
        /// The backend that answered.
        backend: BackendKind,
        /// The id that was asked for.
        id: String,
    },

    /// The vendor refused the credentials (HTTP 401 or 403).
    #[error("{backend}: unauthorized (HTTP {status}): {message}")]
    Unauthorized {
        /// The backend that answered.
        backend: BackendKind,
        /// 401 or 403.
        status: u16,
        /// The vendor's message.
        message: String,
    },

    /// The vendor is rate limiting us and retries did not get through.
    #[error("{backend}: rate limited{}", fmt_retry_after(*.retry_after))]
    RateLimited {
        /// The backend that answered.
        backend: BackendKind,
        /// How long the vendor asked us to wait, when it said.
        retry_after: Option<Duration>,
    },

    /// The update collided with another change (HTTP 409, or a concurrent
    /// edit detected by a read-modify-write that kept losing the race).
    #[error("{backend}: conflict: {message}")]
    Conflict {
        /// The backend that answered.
        backend: BackendKind,
        /// What collided.
        message: String,
    },

    /// The vendor answered with an error status not covered by a more
    /// specific variant; `messages` holds the vendor's own texts.
    #[error("{backend}: HTTP {status}: {}", messages.join("; "))]
    Vendor {
        /// The backend that answered.
        backend: BackendKind,
        /// The HTTP status.
        status: u16,
        /// The vendor's own error messages, in the order given.
        messages: Vec<String>,
    },

    /// The request did not complete (connection refused or dropped,
    /// timeout, TLS, ...).
    #[error("{backend}: transport error: {source}")]
    Transport {
        /// The backend the request was for.
        backend: BackendKind,
        /// The underlying client error.
        #[source]
        source: reqwest::Error,
    },

    /// The response body was larger than the configured cap; it was not
    /// read into memory.
    #[error("{backend}: response body exceeds the {limit}-byte cap")]
    ResponseTooLarge {
        /// The backend that answered.
        backend: BackendKind,
        /// The cap in bytes.
        limit: usize,
    },

    /// The vendor's answer could not be understood.
    #[error("{backend}: could not decode {what}: {source}")]
    Decode {
        /// The backend that answered.
        backend: BackendKind,
        /// What was being decoded (e.g. `"customer response"`).
        what: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },

    /// An update needing several vendor calls failed midway: `applied`
    /// lists the calls that took effect (as `"METHOD path"`), `failed` the
    /// one that did not, and `source` why. Calls after `failed` were not
    /// sent. Re-running the same patch is safe: patches are declarative.
    #[error("{backend}: partial update: {} call(s) applied ({}), `{failed}` failed: {source}", applied.len(), applied.join(", "))]
    PartialUpdate {
        /// The backend.
        backend: BackendKind,
        /// The calls that took effect, in order.
        applied: Vec<String>,
        /// The call that failed.
        failed: String,
        /// Why it failed.
        #[source]
        source: Box<Error>,
    },

    /// The customer's write lock could not be had in time, or was lost
    /// before a write (see [`crate::lock`]): nothing was written after
    /// that point. Retryable.
    #[error("{backend}: customer `{customer}` not updated: {reason}")]
    Lock {
        /// The backend.
        backend: BackendKind,
        /// The customer whose lock it was (cut to a few hundred characters).
        customer: String,
        /// What went wrong.
        reason: crate::lock::LockFailure,
    },

    /// A configuration value is missing or malformed, or names a backend
    /// that was not compiled in.
    #[error("configuration `{field}`: {reason}")]
    Config {
        /// The setting (e.g. `"base_url"`, `"UNIBILL_BACKEND"`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

fn fmt_retry_after(d: Option<Duration>) -> String {
    match d {
        Some(d) => format!(" (retry after {:.3}s)", d.as_secs_f64()),
        None => String::new(),
    }
}

/// The kind of an [`Error`], without its data: handy for counting failures
/// by kind (bulk summaries) and for matching in tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::Validation`]
    Validation,
    /// [`Error::Unsupported`]
    Unsupported,
    /// [`Error::NotFound`]
    NotFound,
    /// [`Error::Unauthorized`]
    Unauthorized,
    /// [`Error::RateLimited`]
    RateLimited,
    /// [`Error::Conflict`]
    Conflict,
    /// [`Error::Vendor`]
    Vendor,
    /// [`Error::Transport`]
    Transport,
    /// [`Error::ResponseTooLarge`]
    ResponseTooLarge,
    /// [`Error::Decode`]
    Decode,
    /// [`Error::PartialUpdate`]
    PartialUpdate,
    /// [`Error::Lock`]
    Lock,
    /// [`Error::Config`]
    Config,
}

/// The most characters of a vendor's text (an error page, an unexpected
/// body) that [`excerpt`] keeps.
pub const MAX_EXCERPT_CHARS: usize = 300;

/// A vendor's text as an error message keeps it: trimmed, cut to
/// [`MAX_EXCERPT_CHARS`] characters (then ending in `…`); `None` when
/// blank. Backends use it for bodies that are not in the vendor's error
/// shape, so a proxy's whole HTML page never becomes a message.
///
/// ```
/// use unibill_core::error::{excerpt, MAX_EXCERPT_CHARS};
/// assert_eq!(excerpt("  Bad Gateway \n").as_deref(), Some("Bad Gateway"));
/// assert_eq!(excerpt(" "), None);
/// let long = excerpt(&"x".repeat(1000)).unwrap();
/// assert_eq!(long.chars().count(), MAX_EXCERPT_CHARS + 1);
/// assert!(long.ends_with('…'));
/// ```
pub fn excerpt(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut cut: String = text.chars().take(MAX_EXCERPT_CHARS).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    Some(cut)
}

impl Error {
    /// Shorthand for [`Error::Validation`].
    pub fn validation(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Config`].
    pub fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Config {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Decode`] from any message.
    pub fn decode(
        backend: BackendKind,
        what: impl Into<String>,
        msg: impl std::fmt::Display,
    ) -> Self {
        Error::Decode {
            backend,
            what: what.into(),
            source: <serde_json::Error as serde::de::Error>::custom(msg),
        }
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Validation { .. } => ErrorKind::Validation,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Unauthorized { .. } => ErrorKind::Unauthorized,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::Vendor { .. } => ErrorKind::Vendor,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::ResponseTooLarge { .. } => ErrorKind::ResponseTooLarge,
            Error::Decode { .. } => ErrorKind::Decode,
            Error::PartialUpdate { .. } => ErrorKind::PartialUpdate,
            Error::Lock { .. } => ErrorKind::Lock,
            Error::Config { .. } => ErrorKind::Config,
        }
    }

    /// Whether running the same operation again later may succeed: rate
    /// limits, conflicts, lock timeouts, transport failures and the
    /// vendor's 5xx answers.
    /// Input errors, missing customers and bad credentials are not.
    /// Updates are declarative, so retrying a whole update is always safe
    /// (a [`Error::PartialUpdate`] is as retryable as its cause).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Conflict { .. } | Error::Lock { .. } => true,
            Error::Transport { source, .. } => {
                source.is_connect()
                    || source.is_timeout()
                    || source.is_request()
                    || source.is_body()
            }
            Error::Vendor { status, .. } => *status >= 500,
            Error::PartialUpdate { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// The backend this error came from, when it came from one.
    pub fn backend(&self) -> Option<BackendKind> {
        match self {
            Error::Unsupported { backend, .. }
            | Error::NotFound { backend, .. }
            | Error::Unauthorized { backend, .. }
            | Error::RateLimited { backend, .. }
            | Error::Conflict { backend, .. }
            | Error::Vendor { backend, .. }
            | Error::Transport { backend, .. }
            | Error::ResponseTooLarge { backend, .. }
            | Error::Decode { backend, .. }
            | Error::PartialUpdate { backend, .. }
            | Error::Lock { backend, .. } => Some(*backend),
            Error::Validation { .. } | Error::Config { .. } => None,
        }
    }

    /// Maps an HTTP error status to the neutral error every backend uses:
    /// 401/403 -> [`Error::Unauthorized`], 404 -> [`Error::NotFound`] (with
    /// `id`), 409 -> [`Error::Conflict`], 429 -> [`Error::RateLimited`],
    /// anything else -> [`Error::Vendor`]. `messages` are the vendor's own
    /// texts, extracted by the backend from its error body.
    pub fn from_status(
        backend: BackendKind,
        status: u16,
        messages: Vec<String>,
        retry_after: Option<Duration>,
        id: Option<&str>,
    ) -> Self {
        let joined = || {
            if messages.is_empty() {
                format!("HTTP {status}")
            } else {
                messages.join("; ")
            }
        };
        match (status, id) {
            (401 | 403, _) => Error::Unauthorized {
                backend,
                status,
                message: joined(),
            },
            (404, Some(id)) => Error::NotFound {
                backend,
                id: id.to_owned(),
            },
            (409, _) => Error::Conflict {
                backend,
                message: joined(),
            },
            (429, _) => Error::RateLimited {
                backend,
                retry_after,
            },
            _ => Error::Vendor {
                backend,
                status,
                messages,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: BackendKind = BackendKind::new("demo");

    #[test]
    fn from_status_maps_the_same_for_every_backend() {
        let map = |status, id| Error::from_status(KIND, status, vec![], None, id).kind();
        assert_eq!(map(401, None), ErrorKind::Unauthorized);
        assert_eq!(map(403, Some("7")), ErrorKind::Unauthorized);
        assert_eq!(map(404, Some("7")), ErrorKind::NotFound);
        // Without an id a 404 names no customer: the vendor's answer stays whole.
        assert_eq!(map(404, None), ErrorKind::Vendor);
        assert_eq!(map(409, None), ErrorKind::Conflict);
        assert_eq!(map(429, None), ErrorKind::RateLimited);
        assert_eq!(map(500, Some("7")), ErrorKind::Vendor);
        match Error::from_status(KIND, 404, vec![], None, Some("cus_1")) {
            Error::NotFound { backend, id } => assert_eq!((backend, id.as_str()), (KIND, "cus_1")),
            other => panic!("{other:?}"),
        }
        let e = Error::from_status(KIND, 401, vec![], None, None);
        assert_eq!(e.to_string(), "demo: unauthorized (HTTP 401): HTTP 401");
    }
}
