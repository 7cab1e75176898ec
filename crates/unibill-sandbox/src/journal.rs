//! The request journal.

use serde::Serialize;

/// One request received by an emulator, as recorded in its journal.
///
/// Every request is recorded, in arrival order, including those answered by
/// an injected fault, refused by the rate limiter or by authentication, and
/// those whose connection was dropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    /// HTTP method, upper case (`"GET"`, `"PUT"`, ...).
    pub method: String,
    /// Path plus `?query` when there is one, as sent.
    pub path: String,
    /// Request headers in the order received, names in lower case. The
    /// credentials of `authorization` and `proxy-authorization` are masked
    /// (`"Basic ***"`), and `cookie` values are replaced by `***`.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON (a form body, as one JSON object of its
    /// fields' text); `None` when empty or not valid JSON.
    pub body: Option<serde_json::Value>,
    /// The body as text (lossy UTF-8), empty when there was none.
    pub raw_body: String,
    /// The status answered; `0` when the connection was dropped without a
    /// response.
    pub status: u16,
    /// What happened out of the ordinary: the injected fault's
    /// [`Fault::describe`](crate::Fault::describe) text; `"rate_limit"`
    /// for a 429 from the configured rate limiter (`"<fault>; rate_limit"`
    /// when a delay or garbage fault was taken first);
    /// `"concurrency_limit"` for a request refused by
    /// [`VendorHandle::set_max_in_flight`](crate::VendorHandle::set_max_in_flight);
    /// `None` otherwise.
    pub fault: Option<String>,
    /// When the emulator served the request from its store (read or
    /// wrote the customer), as time since the emulator started; `None`
    /// when it never got there (a fault, the rate limiter, a dropped
    /// connection, a body that could not be read). The time from a read to
    /// the write that follows it is the window in which an outside edit
    /// could be overwritten.
    pub served_at: Option<std::time::Duration>,
    /// Whether the answer was replayed from an earlier request with the
    /// same idempotency key (Stripe's `Idempotent-Replayed: true`): the
    /// request changed nothing.
    pub replayed: bool,
}

impl JournalEntry {
    /// Whether this request could change state (any method but GET/HEAD).
    pub fn is_write(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD")
    }

    /// The value of the first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
