//! The kit a backend is built from: the [`Backend`] hooks trait it
//! implements, and the scaffolding every backend shares: sending a request
//! and mapping an error status, decoding an answer, reading the customer
//! back after a write, and the boilerplate of a transport-based
//! [`Backend`] ([`transport_backend!`](crate::transport_backend)).
//!
//! A backend describes its error bodies once, as a [`VendorErrors`]
//! (its backend kind and the function that finds the vendor's own
//! messages in an error body), and every call it makes goes through
//! [`VendorErrors::send`]; answers are read with [`decode`] (or
//! [`decode_object`]), and a write whose answer does not hold the customer
//! is followed by [`read_back`]. The customer id is checked by the
//! backend's [`Backend::canonical_id`] before it is put in a path.
//!
//! ```
//! use unibill_core::backend::{decode, VendorErrors};
//! use unibill_core::transport::Response;
//! use unibill_core::{BackendKind, Error};
//!
//! fn messages(body: &[u8]) -> Vec<String> {
//!     vec![String::from_utf8_lossy(body).into_owned()]
//! }
//! const KIND: BackendKind = BackendKind::new("acme");
//! const ERRORS: VendorErrors = VendorErrors::new(KIND, messages);
//!
//! let answer = Response {
//!     status: 404,
//!     headers: Default::default(),
//!     body: "no such customer".into(),
//!     attempts: 1,
//! };
//! assert!(matches!(ERRORS.from_response(&answer, Some("c1")), Error::NotFound { .. }));
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let e = decode::<serde_json::Value>(KIND, &answer, "customer").await.unwrap_err();
//! assert!(matches!(e, Error::Decode { .. }));
//! # });
//! ```

pub mod builder;
pub mod lock;
pub mod lookup;
pub mod transport;

use std::fmt;
use std::future::Future;

use serde::de::DeserializeOwned;

use async_trait::async_trait;

use crate::capability::Capabilities;
use crate::customer::Customer;
use crate::error::{cap_messages, Error, Result};
use crate::kind::{BackendKind, CustomerId};
use crate::listing::{ListOptions, ListPage};
use crate::lock::{CustomerLocks, LockGuard};
use crate::reference::LookupKind;
use crate::transport::{Request, Response, RetryHint, Transport};

/// The largest body [`decode`] parses on the executor thread; a larger one
/// is parsed on tokio's blocking pool.
const DECODE_INLINE_BYTES: usize = 64 * 1024;
use crate::update::{CheckedPatch, PlannedRequest, UpdateOutcome};

/// What a backend implements: the hooks that read one customer, look
/// customers up, plan and apply a checked patch under a held write lock,
/// and describe the backend.
///
/// Callers never call the hooks that send requests ([`Self::fetch`],
/// [`Self::lookup`], [`Self::apply`], [`Self::plan`]) directly: they use
/// [`CustomerUpdater`](crate::CustomerUpdater), which every `Backend` gets
/// through a blanket implementation that a backend cannot override, and
/// which validates the patch, checks it against [`Self::capabilities`]
/// before any request and holds the customer's write lock around
/// [`Self::apply`]. `object_store`'s `ObjectStore` (required methods) and
/// `ObjectStoreExt` (blanket conveniences) are the model.
///
/// A backend built on a [`Transport`] writes [`Self::kind`],
/// [`Self::capabilities`], [`Self::locks`] and [`Self::retries`] with
/// [`transport_backend!`](crate::transport_backend).
#[async_trait]
pub trait Backend: Send + Sync + fmt::Debug {
    /// Which backend this is.
    fn kind(&self) -> BackendKind;

    /// What this backend can do with each neutral field, and which
    /// lookups it offers.
    fn capabilities(&self) -> &Capabilities;

    /// The per-customer write locks of this client (usually its
    /// transport's, [`Transport::locks`]).
    fn locks(&self) -> &CustomerLocks;

    /// The one spelling of `id` this backend's vendor stores (e.g. an
    /// integer id without leading zeros), which keys the customer's write
    /// lock; [`Error::Validation`] on field `id`,
    /// before any request, for an id the vendor cannot hold. The default
    /// takes the id as it is.
    fn canonical_id(&self, id: &CustomerId) -> Result<CustomerId> {
        Ok(id.clone())
    }

    /// Reads one customer by the vendor's id. Callers use
    /// [`CustomerUpdater::get`](crate::CustomerUpdater::get).
    async fn fetch(&self, id: &CustomerId) -> Result<Customer>;

    /// The ids of every customer whose `kind` (email, external reference)
    /// equals `value`, in the vendor's order, reading every page. Zero
    /// matches is `Ok(vec![])`, not an error. Called only for lookups
    /// [`Self::capabilities`] declares ([`Capabilities::can_lookup`]) and
    /// with a non-blank `value`; the default (no lookup) refuses with
    /// [`Error::UnsupportedLookup`]. A backend reads the pages through
    /// [`LookupPages`](crate::lookup::LookupPages), which holds the
    /// lookup's deadline, dedup and match cap. Callers use
    /// [`CustomerUpdater::find`](crate::CustomerUpdater::find) or
    /// [`CustomerUpdater::resolve`](crate::CustomerUpdater::resolve).
    async fn lookup(&self, kind: LookupKind, value: &str) -> Result<Vec<CustomerId>> {
        let _ = value;
        Err(Error::UnsupportedLookup {
            backend: self.kind(),
            lookup: kind,
        })
    }

    /// One page of the customer list: the page at `options.from` (the
    /// first when `None`), filtered by `options.changed_since` when set,
    /// with the position of the page after it. Called only for what
    /// [`Self::capabilities`] declares ([`Capabilities::listing`]); the
    /// default (no listing) refuses with [`Error::UnsupportedListing`].
    /// Callers use [`CustomerUpdater::list`](crate::CustomerUpdater::list).
    async fn list_page(&self, options: &ListOptions) -> Result<ListPage> {
        Err(Error::UnsupportedListing {
            backend: self.kind(),
            changed_since: options.changed_since.is_some(),
        })
    }

    /// Applies a checked patch while `lock` holds the customer's write
    /// lock, and returns the customer as the vendor holds it afterwards
    /// with the writes sent. The backend calls [`LockGuard::ensure_held`]
    /// before each write and sends nothing more once it fails. When the
    /// update named the customer by a reference
    /// ([`CheckedPatch::resolved_from`]), a backend that reads before it
    /// writes checks that the last record read still matches it. Callers
    /// use [`CustomerUpdater::update`](crate::CustomerUpdater::update).
    async fn apply(
        &self,
        id: &CustomerId,
        patch: &CheckedPatch,
        lock: &LockGuard,
    ) -> Result<UpdateOutcome>;

    /// The writes [`Self::apply`] would send now, without sending any
    /// (reads are allowed). Callers use
    /// [`CustomerUpdater::dry_run`](crate::CustomerUpdater::dry_run).
    async fn plan(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<PlannedRequest>>;

    /// How many times this backend's transport has retried a request so
    /// far (shared by clones); `0` for backends without a transport.
    fn retries(&self) -> u64 {
        0
    }
}

/// How one vendor's error answers map to [`Error`]: its backend kind and
/// its message extractor. The wait of a final 429 without `Retry-After`
/// is read by the transport's
/// [`retry_hint`](crate::transport::TransportConfig::retry_hint) (e.g.
/// Fusebill's `X-Rate-Limit-Reset-Minute`), the one place a backend gives
/// it.
#[derive(Clone, Copy, Debug)]
pub struct VendorErrors {
    kind: BackendKind,
    messages: fn(&[u8]) -> Vec<String>,
}

impl VendorErrors {
    /// The error mapping of backend `kind`, finding messages with
    /// `messages`: the vendor's own messages in an error body (JSON or
    /// not), in the order given; empty when there are none.
    pub const fn new(kind: BackendKind, messages: fn(&[u8]) -> Vec<String>) -> Self {
        Self { kind, messages }
    }

    /// The neutral error for a non-2xx answer, the same for every
    /// backend: 401/403 -> [`Error::Unauthorized`], 404 ->
    /// [`Error::NotFound`] when `id` names the customer (or email) asked
    /// for, 409 -> [`Error::Conflict`], 429 -> [`Error::RateLimited`] with
    /// its `Retry-After`, anything else -> [`Error::Vendor`]; each keeps
    /// the vendor's messages, capped like [`Error::vendor`]'s.
    pub fn from_response(&self, response: &Response, id: Option<&str>) -> Error {
        self.error_for(response, id, None)
    }

    /// [`Self::from_response`], where a 429 without `Retry-After` carries
    /// the wait `hint` reads from the vendor's headers.
    fn error_for(&self, response: &Response, id: Option<&str>, hint: Option<RetryHint>) -> Error {
        let (backend, status) = (self.kind, response.status);
        let messages = cap_messages((self.messages)(&response.body));
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
                retry_after: response.asked_wait(hint),
            },
            _ => Error::Vendor {
                backend,
                status,
                messages,
            },
        }
    }

    /// Sends `req` through `transport` (with its retries) and answers the
    /// response when its status is 2xx, else the neutral error for it
    /// ([`Self::from_response`], `id` naming whom the request was about;
    /// a final 429 without `Retry-After` carries the wait the transport's
    /// [`retry_hint`](crate::transport::TransportConfig::retry_hint)
    /// reads).
    pub async fn send(
        &self,
        transport: &Transport,
        req: Request,
        id: Option<&str>,
    ) -> Result<Response> {
        let response = transport.send(req).await?;
        self.check(transport, response, id)
    }

    /// [`Self::send`] on a rate-limiter permit already taken
    /// ([`Transport::send_permitted`]), or, given `None`, on one taken now
    /// as [`Self::send`] does.
    pub async fn send_permitted(
        &self,
        transport: &Transport,
        req: Request,
        permit: Option<crate::transport::Permit>,
        id: Option<&str>,
    ) -> Result<Response> {
        let response = transport.send_permitted(req, permit).await?;
        self.check(transport, response, id)
    }

    /// The response when its status is 2xx, else the neutral error for it.
    fn check(
        &self,
        transport: &Transport,
        response: Response,
        id: Option<&str>,
    ) -> Result<Response> {
        if response.is_success() {
            Ok(response)
        } else {
            let hint = transport.config().retry_hint;
            Err(self.error_for(&response, id, hint))
        }
    }
}

/// The freshness rule of a read-modify-write, checked once the write's
/// rate-limit permit is taken ([`Transport::permit`]): whether the read
/// the write was worked out from, answered at `answered`, may be written
/// from without reading again, i.e. is at most `max_read_age` old
/// ([`Settings::max_read_age`](crate::Settings::max_read_age)). A zero
/// bound is never met: read again before every write.
///
/// ```
/// use std::time::{Duration, Instant};
/// use unibill_core::backend::fresh_enough;
///
/// let now = Instant::now();
/// assert!(fresh_enough(now, Duration::from_secs(60)));
/// assert!(!fresh_enough(now, Duration::ZERO));
/// ```
pub fn fresh_enough(answered: std::time::Instant, max_read_age: std::time::Duration) -> bool {
    !max_read_age.is_zero() && answered.elapsed() <= max_read_age
}

/// Decodes an answer's JSON body as `T`; [`Error::Decode`] saying `what`
/// could not be read when it does not parse as one. A body larger than
/// 64 KiB is parsed on tokio's blocking pool, so that parsing a page of
/// many thousand customers does not hold an executor thread.
pub async fn decode<T>(kind: BackendKind, response: &Response, what: &str) -> Result<T>
where
    T: DeserializeOwned + Send + 'static,
{
    let parse = move |body: &[u8], what: &str| {
        serde_json::from_slice(body).map_err(|source| Error::Decode {
            backend: kind,
            what: what.to_owned(),
            source,
        })
    };
    if response.body.len() <= DECODE_INLINE_BYTES {
        return parse(&response.body, what);
    }
    // Cheap: the body is `Bytes` (shared, not copied).
    let (body, owned) = (response.body.clone(), what.to_owned());
    match tokio::task::spawn_blocking(move || parse(&body, &owned)).await {
        Ok(decoded) => decoded,
        Err(join) => Err(Error::decode(
            kind,
            what,
            format!("decoding stopped: {join}"),
        )),
    }
}

/// Like [`decode`], for an answer that must be a JSON object: serde would
/// otherwise read a struct from an array, field by field, so `[]` would
/// pass as an empty answer. The first non-blank character decides, and
/// the body is parsed once.
pub async fn decode_object<T>(kind: BackendKind, response: &Response, what: &str) -> Result<T>
where
    T: DeserializeOwned + Send + 'static,
{
    if response.body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Error::decode(kind, what, "not a JSON object"));
    }
    decode(kind, response, what).await
}

/// After writes that applied (`applied`, each as `"METHOD path"`), reads
/// the customer back with `read`; when the read fails, the update is an
/// [`Error::PartialUpdate`] whose failed call is `failed` (the read's
/// `"GET path"`), with the read's error as its source.
pub async fn read_back<T>(
    kind: BackendKind,
    applied: Vec<String>,
    failed: impl Into<String>,
    read: impl Future<Output = Result<T>>,
) -> Result<T> {
    read.await
        .map_err(|source| Error::partial_update(kind, applied, failed, source))
}

/// The [`Backend`] methods every backend built on a [`Transport`] writes
/// the same way: `kind` (the given
/// constant), `capabilities` (its `caps` field), and `locks` and `retries`
/// (its `transport` field's). Use it inside the `impl` block.
///
/// ```
/// use unibill_core::transport::{Auth, Transport, TransportConfig};
/// use unibill_core::{
///     async_trait, Backend, BackendKind, Capabilities, CheckedPatch, Customer, CustomerId,
///     LockGuard, PlannedRequest, Result, UpdateOutcome,
/// };
///
/// const KIND: BackendKind = BackendKind::new("acme");
///
/// #[derive(Debug)]
/// struct Acme {
///     transport: Transport,
///     caps: Capabilities,
/// }
///
/// #[async_trait]
/// impl Backend for Acme {
///     unibill_core::transport_backend!(KIND);
///
///     async fn fetch(&self, id: &CustomerId) -> Result<Customer> {
///         Ok(Customer::new(id.clone(), serde_json::Value::Null))
///     }
///     async fn apply(&self, id: &CustomerId, _: &CheckedPatch, _: &LockGuard) -> Result<UpdateOutcome> {
///         Ok(UpdateOutcome::new(self.fetch(id).await?, Vec::new()))
///     }
///     async fn plan(&self, _: &CustomerId, _: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
///         Ok(Vec::new())
///     }
/// }
///
/// let acme = Acme {
///     transport: Transport::new(KIND, "https://acme.example", Auth::None, TransportConfig::default(), None).unwrap(),
///     caps: Capabilities::new(KIND),
/// };
/// assert_eq!(acme.kind(), KIND);
/// assert_eq!(acme.retries(), 0);
/// ```
#[macro_export]
macro_rules! transport_backend {
    ($kind:expr) => {
        fn kind(&self) -> $crate::BackendKind {
            $kind
        }

        fn capabilities(&self) -> &$crate::Capabilities {
            &self.caps
        }

        fn locks(&self) -> &$crate::CustomerLocks {
            self.transport.locks()
        }

        fn retries(&self) -> u64 {
            self.transport.retries()
        }
    };
}

/// The most of an error body read to find the vendor's messages, as JSON
/// ([`error_json`]) or as text ([`error_text`]): a huge body costs no more
/// than a 64 KiB one.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// An error body read as JSON, when it is JSON and at most 64 KiB long:
/// reading a 4 MiB array of messages into memory as JSON values would
/// take many times its size. Otherwise read it with [`error_text`].
pub fn error_json(body: &[u8]) -> Option<serde_json::Value> {
    if body.len() > MAX_ERROR_BODY_BYTES {
        return None;
    }
    serde_json::from_slice(body).ok()
}

/// The start of an error body as text (its first 64 KiB, invalid UTF-8
/// replaced, ending in ` …` when the body is longer), for a body that is
/// not in the vendor's error shape; [`excerpt`](crate::error::excerpt)
/// cuts it to what a message shows.
pub fn error_text(body: &[u8]) -> String {
    let head = &body[..body.len().min(MAX_ERROR_BODY_BYTES)];
    let mut text = String::from_utf8_lossy(head).into_owned();
    if head.len() < body.len() {
        // Make sure the excerpt is marked as cut.
        text.push_str(" …");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
    use std::time::Duration;

    const KIND: BackendKind = BackendKind::new("test");

    fn lines(body: &[u8]) -> Vec<String> {
        String::from_utf8_lossy(body)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn answer(status: u16, body: &str, headers: HeaderMap) -> Response {
        Response {
            status,
            headers,
            body: body.as_bytes().to_vec().into(),
            attempts: 1,
        }
    }

    fn ten_seconds(_: &HeaderMap) -> Option<Duration> {
        Some(Duration::from_secs(10))
    }

    #[test]
    fn statuses_map_with_the_vendor_messages() {
        let errors = VendorErrors::new(KIND, lines);
        let e = errors.from_response(&answer(422, "a\nb", HeaderMap::new()), Some("c"));
        assert!(
            matches!(&e, Error::Vendor { status: 422, messages, .. } if messages == &["a", "b"]),
            "{e:?}"
        );
        let e = errors.from_response(&answer(404, "", HeaderMap::new()), Some("c"));
        assert!(
            matches!(&e, Error::NotFound { id, .. } if id == "c"),
            "{e:?}"
        );
        // Without a hint, a 429 without Retry-After carries no wait.
        let e = errors.from_response(&answer(429, "", HeaderMap::new()), None);
        assert!(
            matches!(
                e,
                Error::RateLimited {
                    retry_after: None,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn retry_after_wins_over_the_hint_and_only_for_429() {
        let errors = VendorErrors::new(KIND, lines);
        let from_response =
            |response: &Response| errors.error_for(response, None, Some(ten_seconds));
        let e = from_response(&answer(429, "", HeaderMap::new()));
        assert!(
            matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(10)),
            "{e:?}"
        );
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        let e = from_response(&answer(429, "", headers));
        assert!(
            matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(2)),
            "{e:?}"
        );
        let e = from_response(&answer(503, "down", HeaderMap::new()));
        assert!(matches!(e, Error::Vendor { status: 503, .. }), "{e:?}");
    }

    #[tokio::test]
    async fn decode_object_refuses_what_is_not_an_object() {
        let ok: serde_json::Value =
            decode_object(KIND, &answer(200, " {\"a\":1}", HeaderMap::new()), "x")
                .await
                .unwrap();
        assert_eq!(ok["a"], 1);
        for body in ["[]", "", "1", "\"x\"", "{"] {
            let e =
                decode_object::<serde_json::Value>(KIND, &answer(200, body, HeaderMap::new()), "x")
                    .await
                    .unwrap_err();
            assert!(
                matches!(&e, Error::Decode { what, .. } if what == "x"),
                "{body}: {e:?}"
            );
        }
        // Plain decode takes any JSON.
        let list: Vec<u8> = decode(KIND, &answer(200, "[1,2]", HeaderMap::new()), "x")
            .await
            .unwrap();
        assert_eq!(list, [1, 2]);
    }

    #[tokio::test]
    async fn read_back_failure_is_a_partial_update() {
        let ok = read_back(KIND, vec!["PUT /x".into()], "GET /x", async { Ok(5) }).await;
        assert_eq!(ok.unwrap(), 5);
        let e = read_back::<()>(KIND, vec!["PUT /x".into()], "GET /x", async {
            Err(Error::decode(KIND, "customer", "bad"))
        })
        .await
        .unwrap_err();
        match e {
            Error::PartialUpdate {
                applied,
                failed,
                source,
                ..
            } => {
                assert_eq!(applied, ["PUT /x"]);
                assert_eq!(failed, "GET /x");
                assert!(matches!(*source, Error::Decode { .. }));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn error_text_reads_only_the_start() {
        let mut body = vec![b'x'; 4 << 20];
        body[0] = b'<';
        let text = error_text(&body);
        assert_eq!(text.len(), MAX_ERROR_BODY_BYTES + " …".len());
        let cut = crate::error::excerpt(&text).unwrap();
        assert_eq!(cut.chars().count(), crate::error::MAX_EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(error_text(b"  short \xff"), "  short \u{fffd}");
        assert!(error_json(&body).is_none());
        assert!(error_json(br#"{"a":1}"#).is_some());
    }
}
