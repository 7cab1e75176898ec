//! The one error type of unibill.

use std::fmt;
use std::time::Duration;

use crate::capability::{Op, Target};
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
    #[error("invalid `{}`: {}", shown(field), shown(reason))]
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
        /// The neutral field, or another backend's extension.
        field: Target,
        /// Whether setting or clearing was asked for.
        op: Op,
    },

    /// A lookup by email or external reference
    /// ([`crate::CustomerRef`]) that the backend's vendor cannot do (see
    /// [`crate::Capabilities::can_lookup`]); raised before any request.
    #[error("{backend} cannot look up customers by {lookup}")]
    UnsupportedLookup {
        /// The backend that refused.
        backend: BackendKind,
        /// The lookup that was asked for.
        lookup: crate::reference::LookupKind,
    },

    /// A listing ([`crate::CustomerUpdater::list`]) the backend's vendor
    /// cannot give (see [`crate::Capabilities::listing`]); raised before
    /// any request.
    #[error("{backend} cannot list customers{}", if *changed_since { " changed since a given time" } else { "" })]
    UnsupportedListing {
        /// The backend that refused.
        backend: BackendKind,
        /// Whether it was the "changed since" filter that it cannot apply
        /// (it may list every customer).
        changed_since: bool,
    },

    /// A [`crate::CustomerRef`] (an email, an external reference) matches
    /// several customers, so none was picked: nothing was written. `Display`
    /// gives the count and lists the first 10 matches. Not retryable.
    #[error("{backend}: {reference} matches {}", shown_matches(matches, *count))]
    Ambiguous {
        /// The backend that answered.
        backend: BackendKind,
        /// The reference that was looked up.
        reference: crate::reference::CustomerRef,
        /// The matching customers, in the vendor's order: every one, or
        /// the first [`crate::reference::MAX_MATCHES`] when more matched.
        matches: Vec<crate::kind::CustomerId>,
        /// How many distinct customers matched: `matches.len()` when every
        /// match is listed; past [`crate::reference::MAX_MATCHES`] the
        /// lookup stops reading the vendor's pages, and `count` is then
        /// the matches counted so far (a lower bound, shown as
        /// "at least").
        count: usize,
    },

    /// A lookup by email or external reference ran past its overall
    /// deadline ([`crate::TransportConfig::lookup_deadline`]) and was
    /// stopped after reading `pages` pages of the vendor's answer: nothing
    /// was written. Retryable.
    #[error("{backend}: looking up {reference} took longer than its {:.3} s deadline: stopped after {pages} page(s) read; nothing was written", deadline.as_secs_f64())]
    LookupTimeout {
        /// The backend that was asked.
        backend: BackendKind,
        /// The reference that was looked up.
        reference: crate::reference::CustomerRef,
        /// The pages of the vendor's answer read in full before the
        /// deadline.
        pages: usize,
        /// The deadline that passed.
        deadline: Duration,
    },

    /// The vendor has no customer with this id (or, for a lookup, no
    /// customer matches the reference: `id` is then the reference as
    /// [`crate::CustomerRef`] displays it, e.g. `"email a@b.example"`).
    #[error("{backend}: customer `{}` not found", shown_id(id))]
    NotFound {
        /// The backend that answered.
        backend: BackendKind,
        /// The id that was asked for.
        id: String,
    },

    /// The vendor refused the credentials (HTTP 401 or 403).
    #[error("{backend}: unauthorized (HTTP {status}): {}", shown(message))]
    Unauthorized {
        /// The backend that answered.
        backend: BackendKind,
        /// 401 or 403.
        status: u16,
        /// The vendor's message.
        message: String,
    },

    /// The vendor is rate limiting us and retries did not get through.
    #[error("{backend}: rate limited{}", retry_after.map(|d| format!(" (retry after {:.3}s)", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// The backend that answered.
        backend: BackendKind,
        /// How long the vendor asked us to wait, when it said.
        retry_after: Option<Duration>,
    },

    /// The update collided with another change (HTTP 409, or a concurrent
    /// edit detected by a read-modify-write that kept losing the race).
    #[error("{backend}: conflict: {}", shown(message))]
    Conflict {
        /// The backend that answered.
        backend: BackendKind,
        /// What collided.
        message: String,
    },

    /// The vendor answered with an error status not covered by a more
    /// specific variant; `messages` holds the vendor's own texts.
    #[error("{backend}: HTTP {status}: {}", shown(&messages.join("; ")))]
    Vendor {
        /// The backend that answered.
        backend: BackendKind,
        /// The HTTP status.
        status: u16,
        /// The vendor's own error messages, in the order given.
        messages: Vec<String>,
    },

    /// The request did not complete (connection refused or dropped,
    /// timeout, TLS, ...). `Display` names the cause in plain words
    /// ("timed out after 30 s", "connection refused", "DNS lookup failed",
    /// "TLS handshake failed", "connection lost while reading the
    /// response body") without the URL or any credential.
    #[error("{backend}: transport error: {}", transport_cause(source, *timeout))]
    Transport {
        /// The backend the request was for.
        backend: BackendKind,
        /// The time limit of the attempt, when it timed out.
        timeout: Option<Duration>,
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
    #[error("{backend}: could not decode {}: {}", shown(what), shown(&source.to_string()))]
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
    #[error("{backend}: customer `{}` not updated: {reason}", shown_id(customer))]
    Lock {
        /// The backend.
        backend: BackendKind,
        /// The customer whose lock it was (cut to a few hundred characters).
        customer: String,
        /// What went wrong.
        reason: crate::lock::LockFailure,
    },

    /// A shared rate limiter (see [`crate::transport::RateLimiter`]) could
    /// not grant a permit, e.g. because the service it keeps its budget on
    /// is unreachable. The request was not sent: nothing ran unlimited.
    /// Retryable.
    #[error(
        "{backend}: request not sent: the shared rate limiter is unavailable: {}",
        shown(reason)
    )]
    Limiter {
        /// The backend the request was for.
        backend: BackendKind,
        /// Why no permit was granted (never a credential).
        reason: String,
    },

    /// A configuration value is missing or malformed, or names a backend
    /// that was not compiled in.
    #[error("configuration `{}`: {}", shown(field), shown(reason))]
    Config {
        /// The setting (e.g. `"base_url"`, `"UNIBILL_BACKEND"`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The most characters of one text field an error's `Display` shows
/// (a vendor's messages joined, a reason); the rest is cut with `…`.
const MAX_SHOWN_CHARS: usize = 4 * MAX_EXCERPT_CHARS;

/// How many of a vendor's messages an error keeps (and of the matches an
/// [`Error::Ambiguous`] lists); more are counted in a last message
/// (`"… and 12 more"`).
const MAX_MESSAGES: usize = 10;

/// Text as an error's `Display` shows it: control characters (ESC, NUL,
/// newline, ...) and invisible formatting characters (bidi overrides,
/// zero-width characters) escaped as `\u{..}` so a message is one line
/// that cannot rewrite a terminal or a log; cut after `limit` characters.
pub(crate) struct Shown<'a> {
    text: &'a str,
    limit: usize,
}

fn shown(text: &str) -> Shown<'_> {
    Shown {
        text,
        limit: MAX_SHOWN_CHARS,
    }
}

pub(crate) fn shown_id(text: &str) -> Shown<'_> {
    Shown {
        text,
        limit: MAX_EXCERPT_CHARS,
    }
}

/// Whether `c` is invisible formatting that can reorder or hide text:
/// bidi embeddings, overrides and isolates, zero-width characters and the
/// byte order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
        | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // bidi isolates
        | '\u{061C}' // Arabic letter mark
        | '\u{FEFF}' // zero-width no-break space (BOM)
    )
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for (n, c) in self.text.chars().enumerate() {
            if n == self.limit {
                return f.write_char('…');
            }
            if c.is_control() || is_invisible_format(c) {
                write!(f, "\\u{{{:x}}}", u32::from(c))?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// The cause of a transport failure in plain words, from the error chain
/// of `source` (never its URL).
fn transport_cause(source: &reqwest::Error, timeout: Option<Duration>) -> String {
    use std::error::Error as _;
    if source.is_timeout() {
        return match timeout {
            Some(t) => format!("timed out after {} s", t.as_secs_f64()),
            None => "timed out".to_owned(),
        };
    }
    let causes: Vec<&(dyn std::error::Error + 'static)> =
        std::iter::successors(source.source(), |&e| e.source()).collect();
    let refused = causes.iter().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    });
    let chain: Vec<String> = causes
        .iter()
        .map(|e| e.to_string().to_ascii_lowercase())
        .collect();
    let chain = chain.join(" ");
    let cause = if source.is_connect() {
        if refused || chain.contains("connection refused") {
            return "connection refused".to_owned();
        } else if chain.contains("dns error") || chain.contains("lookup") {
            "DNS lookup failed"
        } else if ["tls", "certificate", "handshake", "rustls"]
            .iter()
            .any(|w| chain.contains(w))
        {
            "TLS handshake failed"
        } else {
            "could not connect"
        }
    } else if source.is_body() || source.is_decode() {
        "connection lost while reading the response body"
    } else if source.is_builder() {
        "invalid request"
    } else if source.is_redirect() {
        "redirect refused"
    } else if source.is_request() {
        "connection lost before an answer"
    } else {
        "request failed"
    };
    let detail = causes
        .last()
        .and_then(|e| excerpt(&e.to_string()))
        .map(|d| format!(": {}", shown(&d)))
        .unwrap_or_default();
    format!("{cause}{detail}")
}

/// Whether a request that failed with `source` may go through when sent
/// again: every failure to complete it (connect, timeout, a connection
/// lost, a body cut short) may; a request that could not be built, a
/// redirect or a status error cannot.
pub(crate) fn may_complete(source: &reqwest::Error) -> bool {
    !(source.is_builder() || source.is_redirect() || source.is_status())
}

/// The count and matches of [`Error::Ambiguous`] as its `Display` gives
/// them: the count exact when every match is listed, else "at least" the
/// matches counted; then each match quoted, escaped and cut like an id, at
/// most [`MAX_MESSAGES`].
fn shown_matches(matches: &[crate::kind::CustomerId], count: usize) -> String {
    let mut out: Vec<String> = matches
        .iter()
        .take(MAX_MESSAGES)
        .map(|m| format!("`{}`", shown_id(m.as_str())))
        .collect();
    let shown = matches.len().min(MAX_MESSAGES);
    let total = count.max(matches.len());
    if total > shown {
        out.push(format!("… and {} more", total - shown));
    }
    let at_least = if count > matches.len() {
        "at least "
    } else {
        ""
    };
    format!("{at_least}{total} customers: {}", out.join(", "))
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
    /// [`Error::Ambiguous`]
    Ambiguous,
    /// [`Error::LookupTimeout`]
    LookupTimeout,
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
    /// [`Error::Limiter`]
    Limiter,
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
    (!text.is_empty()).then(|| cut(text, MAX_EXCERPT_CHARS))
}

/// `text` cut after `max` characters, then ending in `…`.
fn cut(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// A caller's value as an error's reason quotes it: cut after 64
/// characters (then ending in `…`), so a 10 KB id gives a short message.
/// Control characters are escaped when the error is displayed.
///
/// ```
/// use unibill_core::error::clip;
/// assert_eq!(clip("12000750"), "12000750");
/// assert_eq!(clip(&"9".repeat(10_000)).chars().count(), 65);
/// ```
pub fn clip(value: &str) -> String {
    cut(value, 64)
}

/// A vendor's messages as an error keeps them: each an [`excerpt`] (blank
/// ones dropped), at most [`MAX_MESSAGES`], then one counting the rest.
pub(crate) fn cap_messages(messages: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut messages = messages.into_iter();
    let mut kept: Vec<String> = messages
        .by_ref()
        .filter_map(|m| excerpt(&m))
        .take(MAX_MESSAGES)
        .collect();
    let more = messages.count();
    if more > 0 {
        kept.push(format!("… and {more} more"));
    }
    kept
}

impl Error {
    /// [`Error::Vendor`] with the vendor's messages capped: each cut as an
    /// [`excerpt`] (blank ones dropped), at most 10, then one counting the
    /// rest.
    pub fn vendor(backend: BackendKind, status: u16, messages: Vec<String>) -> Self {
        Error::Vendor {
            backend,
            status,
            messages: cap_messages(messages),
        }
    }

    /// Shorthand for [`Error::Validation`].
    pub fn validation(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::PartialUpdate`]: the calls in `applied` took
    /// effect, then `failed` did not, because of `source`.
    pub fn partial_update(
        backend: BackendKind,
        applied: Vec<String>,
        failed: impl Into<String>,
        source: Error,
    ) -> Self {
        Error::PartialUpdate {
            backend,
            applied,
            failed: failed.into(),
            source: Box::new(source),
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
            Error::Unsupported { .. }
            | Error::UnsupportedLookup { .. }
            | Error::UnsupportedListing { .. } => ErrorKind::Unsupported,
            Error::Ambiguous { .. } => ErrorKind::Ambiguous,
            Error::LookupTimeout { .. } => ErrorKind::LookupTimeout,
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
            Error::Limiter { .. } => ErrorKind::Limiter,
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
            Error::RateLimited { .. }
            | Error::Conflict { .. }
            | Error::Lock { .. }
            | Error::LookupTimeout { .. }
            | Error::Limiter { .. } => true,
            Error::Transport { source, .. } => may_complete(source),
            Error::Vendor { status, .. } => *status >= 500,
            Error::PartialUpdate { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// The backend this error came from, when it came from one.
    pub fn backend(&self) -> Option<BackendKind> {
        match self {
            Error::Unsupported { backend, .. }
            | Error::UnsupportedLookup { backend, .. }
            | Error::UnsupportedListing { backend, .. }
            | Error::Ambiguous { backend, .. }
            | Error::LookupTimeout { backend, .. }
            | Error::NotFound { backend, .. }
            | Error::Unauthorized { backend, .. }
            | Error::RateLimited { backend, .. }
            | Error::Conflict { backend, .. }
            | Error::Vendor { backend, .. }
            | Error::Transport { backend, .. }
            | Error::ResponseTooLarge { backend, .. }
            | Error::Decode { backend, .. }
            | Error::PartialUpdate { backend, .. }
            | Error::Lock { backend, .. }
            | Error::Limiter { backend, .. } => Some(*backend),
            Error::Validation { .. } | Error::Config { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: BackendKind = BackendKind::new("demo");

    /// The error an answer with `status` and the vendor's `messages` maps
    /// to, through the mapping every backend uses.
    fn from_status(status: u16, messages: Vec<String>, id: Option<&str>) -> Error {
        fn split(body: &[u8]) -> Vec<String> {
            match body {
                [] => Vec::new(),
                _ => String::from_utf8_lossy(body)
                    .split('\0')
                    .map(str::to_owned)
                    .collect(),
            }
        }
        let answer = crate::transport::Response {
            status,
            headers: Default::default(),
            body: messages.join("\0").into(),
            attempts: 1,
        };
        crate::backend::VendorErrors::new(KIND, split).from_response(&answer, id)
    }

    #[test]
    fn from_status_maps_the_same_for_every_backend() {
        let map = |status, id| from_status(status, vec![], id).kind();
        assert_eq!(map(401, None), ErrorKind::Unauthorized);
        assert_eq!(map(403, Some("7")), ErrorKind::Unauthorized);
        assert_eq!(map(404, Some("7")), ErrorKind::NotFound);
        // Without an id a 404 names no customer: the vendor's answer stays whole.
        assert_eq!(map(404, None), ErrorKind::Vendor);
        assert_eq!(map(409, None), ErrorKind::Conflict);
        assert_eq!(map(429, None), ErrorKind::RateLimited);
        assert_eq!(map(500, Some("7")), ErrorKind::Vendor);
        match from_status(404, vec![], Some("cus_1")) {
            Error::NotFound { backend, id } => assert_eq!((backend, id.as_str()), (KIND, "cus_1")),
            other => panic!("{other:?}"),
        }
        let e = from_status(401, vec![], None);
        assert_eq!(e.to_string(), "demo: unauthorized (HTTP 401): HTTP 401");
    }

    #[test]
    fn display_escapes_control_and_invisible_characters() {
        let e = from_status(400, vec!["a\u{1b}[31mred\nnext\u{202e}x".into()], None);
        let shown = e.to_string();
        assert_eq!(shown, "demo: HTTP 400: a\\u{1b}[31mred\\u{a}next\\u{202e}x");
        let e = from_status(404, vec![], Some("1\u{0}\n2"));
        assert_eq!(e.to_string(), "demo: customer `1\\u{0}\\u{a}2` not found");
        let e = Error::validation("custom.a\u{7}", "bad\r");
        assert_eq!(e.to_string(), "invalid `custom.a\\u{7}`: bad\\u{d}");
    }

    #[test]
    fn vendor_text_and_ids_are_capped() {
        let huge = "v".repeat(3_000_000);
        let e = from_status(400, vec![huge.clone()], None);
        match &e {
            Error::Vendor { messages, .. } => {
                assert_eq!(messages[0].chars().count(), MAX_EXCERPT_CHARS + 1)
            }
            other => panic!("{other:?}"),
        }
        let many = (0..100_000).map(|n| format!("e{n}")).collect();
        let e = from_status(400, many, None);
        match &e {
            Error::Vendor { messages, .. } => {
                assert_eq!(messages.len(), MAX_MESSAGES + 1);
                assert_eq!(messages[MAX_MESSAGES], "… and 99990 more");
            }
            other => panic!("{other:?}"),
        }
        let e = from_status(404, vec![], Some(&"9".repeat(10_000)));
        assert!(e.to_string().len() < 400, "{e}");
        assert!(e.to_string().len() < MAX_SHOWN_CHARS);
    }
}
