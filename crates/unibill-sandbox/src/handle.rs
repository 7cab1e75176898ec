//! The per-vendor handle and its shared state.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::everlytic::PutShape;
use crate::fault::{Fault, RateLimit, RequestMatcher};
use crate::http::{Req, Resp};
use crate::journal::JournalEntry;
use crate::{chartmogul, everlytic, fusebill, stripe};

/// Which vendor an emulator plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vendor {
    /// ChartMogul (`/v1/customers/...`, Basic auth with the API key as user).
    ChartMogul,
    /// Fusebill (`/v1/customers`, `Authorization: Basic {key as issued}`).
    Fusebill,
    /// Everlytic (`/api/2.0/customers/...`, Basic `username:apikey`).
    Everlytic,
    /// Stripe (`/v1/customers/...`, `Authorization: Bearer {secret key}`).
    Stripe,
}

impl Vendor {
    /// Every vendor the sandbox emulates.
    pub const ALL: &'static [Vendor] = &[
        Vendor::ChartMogul,
        Vendor::Fusebill,
        Vendor::Everlytic,
        Vendor::Stripe,
    ];

    /// The vendor with this [`name`](Self::name) (as in `UNIBILL_BACKEND`).
    ///
    /// ```
    /// use unibill_sandbox::Vendor;
    /// assert_eq!(Vendor::from_name("fusebill"), Some(Vendor::Fusebill));
    /// assert_eq!(Vendor::from_name("acme"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Vendor> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }

    /// Lower-case name (`"chartmogul"`, `"fusebill"`, `"everlytic"`,
    /// `"stripe"`).
    pub fn name(self) -> &'static str {
        match self {
            Vendor::ChartMogul => "chartmogul",
            Vendor::Fusebill => "fusebill",
            Vendor::Everlytic => "everlytic",
            Vendor::Stripe => "stripe",
        }
    }
}

pub(crate) enum VendorState {
    ChartMogul(chartmogul::State),
    Fusebill(fusebill::State),
    Everlytic(everlytic::State),
    // Boxed: its search documents and idempotency keys make it the largest.
    Stripe(Box<stripe::State>),
}

impl VendorState {
    pub(crate) fn new(vendor: Vendor, base_url: &str) -> VendorState {
        match vendor {
            Vendor::ChartMogul => VendorState::ChartMogul(chartmogul::State::seeded()),
            Vendor::Fusebill => VendorState::Fusebill(fusebill::State::seeded()),
            Vendor::Everlytic => VendorState::Everlytic(everlytic::State::seeded(base_url)),
            Vendor::Stripe => VendorState::Stripe(Box::new(stripe::State::seeded())),
        }
    }

    fn handle(&mut self, req: &Req) -> Resp {
        match self {
            VendorState::ChartMogul(s) => s.handle(req),
            VendorState::Fusebill(s) => s.handle(req),
            VendorState::Everlytic(s) => s.handle(req),
            VendorState::Stripe(s) => s.handle(req),
        }
    }

    fn error_response(&self, status: u16, message: &str) -> Resp {
        match self {
            VendorState::ChartMogul(_) => chartmogul::error_response(status, message),
            VendorState::Fusebill(_) => fusebill::error_response(status, message),
            VendorState::Everlytic(s) => everlytic::error_response(&s.base_url, status, message),
            VendorState::Stripe(_) => stripe::error_response(status, message),
        }
    }

    fn customer(&self, id: &str) -> Option<Value> {
        match self {
            VendorState::ChartMogul(s) => s.customer(id),
            VendorState::Fusebill(s) => s.customer(id),
            VendorState::Everlytic(s) => s.customer(id),
            VendorState::Stripe(s) => s.customer(id),
        }
    }

    fn add_copies(&mut self, n: usize) -> Vec<String> {
        match self {
            VendorState::ChartMogul(s) => s.add_copies(n),
            VendorState::Fusebill(s) => s.add_copies(n),
            VendorState::Everlytic(s) => s.add_copies(n),
            VendorState::Stripe(s) => s.add_copies(n),
        }
    }

    fn add_lookup_seeds(&mut self) -> Vec<String> {
        match self {
            VendorState::ChartMogul(s) => s.add_lookup_seeds(),
            VendorState::Fusebill(s) => s.add_lookup_seeds(),
            VendorState::Everlytic(s) => s.add_lookup_seeds(),
            VendorState::Stripe(s) => s.add_lookup_seeds(),
        }
    }

    fn update_customer(&mut self, id: &str, f: &mut dyn FnMut(&mut Value)) -> bool {
        match self {
            VendorState::ChartMogul(s) => s.update_customer(id, f),
            VendorState::Fusebill(s) => s.update_customer(id, f),
            VendorState::Everlytic(s) => s.update_customer(id, f),
            VendorState::Stripe(s) => s.update_customer(id, f),
        }
    }
}

/// Sliding-window request counter, also the source of Fusebill's
/// `X-Rate-Limit-*` headers.
pub(crate) struct RateState {
    limit: Option<RateLimit>,
    window: VecDeque<Instant>,
    day_count: u64,
    day: chrono::NaiveDate,
}

impl RateState {
    fn new() -> RateState {
        RateState {
            limit: None,
            window: VecDeque::new(),
            day_count: 0,
            day: chrono::Utc::now().date_naive(),
        }
    }

    fn per(&self) -> Duration {
        self.limit.map(|l| l.per).unwrap_or(Duration::from_secs(60))
    }

    fn purge(&mut self, now: Instant) {
        let per = self.per();
        while let Some(front) = self.window.front() {
            if now.duration_since(*front) >= per {
                self.window.pop_front();
            } else {
                break;
            }
        }
        let today = chrono::Utc::now().date_naive();
        if today != self.day {
            self.day = today;
            self.day_count = 0;
        }
    }

    /// Counts the request if it is within the limit; `false` means 429.
    fn admit(&mut self, now: Instant) -> bool {
        self.purge(now);
        if let Some(limit) = self.limit {
            if self.window.len() >= limit.requests as usize {
                return false;
            }
        }
        self.window.push_back(now);
        self.day_count += 1;
        true
    }

    /// Which limit a refused request hit, in words ("the limit of 50
    /// requests per minute"), for the vendors whose 429 body says so.
    fn describe_limit(&self) -> String {
        match self.limit {
            Some(l) => {
                let per = match l.per.as_secs() {
                    1 => "second".to_string(),
                    60 => "minute".to_string(),
                    3600 => "hour".to_string(),
                    86400 => "day".to_string(),
                    _ => format!("{:?}", l.per),
                };
                format!("the limit of {} requests per {per} was reached", l.requests)
            }
            None => "rate limit".to_string(),
        }
    }

    /// The counter as it stands, for vendors that report it in headers.
    fn usage(&mut self, now: Instant) -> RateUsage {
        self.purge(now);
        let per = self.per();
        RateUsage {
            limit: self.limit,
            per,
            used: self.window.len() as u64,
            oldest_leaves_in: self
                .window
                .front()
                .map(|front| per.saturating_sub(now.duration_since(*front))),
            today: self.day_count,
        }
    }
}

/// A snapshot of the request counter ([`RateState`]), vendor-neutral; a
/// vendor turns it into its own headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateUsage {
    /// The limit in force, if any.
    pub(crate) limit: Option<RateLimit>,
    /// The window (the limit's, else a minute).
    pub(crate) per: Duration,
    /// Requests counted in the current window.
    pub(crate) used: u64,
    /// When the oldest counted request leaves the window; `None` when the
    /// window is empty.
    pub(crate) oldest_leaves_in: Option<Duration>,
    /// Requests counted today (UTC).
    pub(crate) today: u64,
}

type Hook = Box<dyn FnOnce(&VendorHandle) + Send + 'static>;

pub(crate) struct Inner {
    pub(crate) vendor: Vendor,
    pub(crate) base_url: String,
    /// When the emulator started ([`JournalEntry::served_at`] counts from it).
    started: Instant,
    state: Mutex<VendorState>,
    journal: Mutex<Journal>,
    seq: AtomicU64,
    faults: Mutex<VecDeque<Fault>>,
    latency: Mutex<Duration>,
    rate: Mutex<RateState>,
    hooks: Mutex<Vec<(RequestMatcher, Hook)>>,
    pub(crate) connections: AtomicUsize,
    pub(crate) live_connections: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: Mutex<Option<usize>>,
}

/// The journal's storage: entries in arrival order, with their sequence
/// number, bounded to `capacity` when one is set.
#[derive(Default)]
struct Journal {
    entries: VecDeque<(u64, JournalEntry)>,
    capacity: Option<usize>,
}

impl Journal {
    fn push(&mut self, seq: u64, entry: JournalEntry) {
        if self.capacity == Some(0) {
            return;
        }
        self.entries.push_back((seq, entry));
        self.trim();
    }

    /// Forgets the oldest entries beyond the capacity.
    fn trim(&mut self) {
        if let Some(cap) = self.capacity {
            while self.entries.len() > cap {
                self.entries.pop_front();
            }
        }
    }
}

/// Decrements the in-flight counter when a request leaves the pipeline.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the request pipeline should do with a request.
pub(crate) enum Outcome {
    /// Send this response.
    Respond(Resp),
    /// Close the connection without a response.
    Drop,
}

const GARBAGE: &[u8] = b"<!-- upstream --> }{ \"customer\": [unterminated \xff\xfe \x01 garbage";

impl Inner {
    pub(crate) fn new(vendor: Vendor, base_url: String, latency: Duration) -> Inner {
        Inner {
            vendor,
            state: Mutex::new(VendorState::new(vendor, &base_url)),
            base_url,
            started: Instant::now(),
            journal: Mutex::new(Journal::default()),
            seq: AtomicU64::new(0),
            faults: Mutex::new(VecDeque::new()),
            latency: Mutex::new(latency),
            rate: Mutex::new(RateState::new()),
            hooks: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            live_connections: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: Mutex::new(None),
        }
    }

    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let idx = faults
            .iter()
            .position(|f| f.matcher.matches(method, path))?;
        let fault = faults.get_mut(idx)?;
        fault.times = fault.times.saturating_sub(1);
        let taken = fault.clone();
        if fault.times == 0 {
            faults.remove(idx);
        }
        Some(taken)
    }

    fn reserve_entry(&self, req: &Req) -> u64 {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst);
        let headers = req
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), mask_header(k, v)))
            .collect();
        let raw_body = String::from_utf8_lossy(&req.body).into_owned();
        let body = if !req.has_body() {
            None
        } else if is_form(req) {
            // A form (Stripe's writes): its fields as one JSON object of
            // text, keys as sent (`address[city]`), the last of a
            // repeated key winning.
            let fields: serde_json::Map<String, Value> = form_urlencoded::parse(&req.body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            Some(Value::Object(fields))
        } else {
            serde_json::from_slice(&req.body).ok()
        };
        let entry = JournalEntry {
            method: req.method.clone(),
            path: req.path_and_query(),
            headers,
            body,
            raw_body,
            status: 0,
            fault: None,
            served_at: None,
            replayed: false,
        };
        lock(&self.journal).push(seq, entry);
        seq
    }

    fn complete_entry(
        &self,
        seq: u64,
        status: u16,
        fault: Option<String>,
        served_at: Option<Duration>,
    ) {
        let mut journal = lock(&self.journal);
        if let Some((_, entry)) = journal.entries.iter_mut().rev().find(|(s, _)| *s == seq) {
            entry.status = status;
            entry.fault = fault;
            entry.served_at = served_at;
        }
    }

    /// Flags the entry of an answer replayed from an idempotency key.
    fn mark_replayed(&self, seq: u64) {
        let mut journal = lock(&self.journal);
        if let Some((_, entry)) = journal.entries.iter_mut().rev().find(|(s, _)| *s == seq) {
            entry.replayed = true;
        }
    }

    /// Headers a vendor sends on every answer (Fusebill's rate-limit
    /// headers; none for the others).
    fn add_vendor_headers(&self, resp: &mut Resp) {
        let headers = match self.vendor {
            Vendor::Fusebill => {
                fusebill::rate_limit_headers(&lock(&self.rate).usage(Instant::now()))
            }
            Vendor::ChartMogul | Vendor::Everlytic | Vendor::Stripe => return,
        };
        for (k, v) in headers {
            resp.set_header(&k, v);
        }
    }

    /// Headers of an answer made up in place of the vendor logic (a status
    /// fault, the in-flight limit): Stripe's `Stripe-Should-Retry`.
    fn add_fault_headers(&self, resp: &mut Resp) {
        if self.vendor == Vendor::Stripe {
            stripe::add_fault_headers(resp);
        }
    }

    /// The whole pipeline for one request: journal, fault, latency, rate
    /// limit, vendor logic, garbage, hooks.
    pub(crate) async fn process(self: &Arc<Inner>, req: Req) -> Outcome {
        let path = req.path_and_query();
        let seq = self.reserve_entry(&req);
        let running = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let _in_flight = InFlight(&self.in_flight);
        if let Some(max) = *lock(&self.max_in_flight) {
            if running > max {
                let mut resp = lock(&self.state).error_response(503, "too many parallel requests");
                self.add_vendor_headers(&mut resp);
                self.add_fault_headers(&mut resp);
                self.complete_entry(
                    seq,
                    resp.status,
                    Some("concurrency_limit".to_string()),
                    None,
                );
                return Outcome::Respond(resp);
            }
        }
        let fault = self.take_fault(&req.method, &path);
        let latency = *lock(&self.latency);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let mut garbage = false;
        let mut drop_after = false;
        let mut fault_text = None;
        if let Some(fault) = fault {
            fault_text = Some(fault.describe());
            match fault.kind {
                crate::fault::FaultKind::Delay(d) => tokio::time::sleep(d).await,
                crate::fault::FaultKind::GarbageBody => garbage = true,
                crate::fault::FaultKind::DropAfterHandling => drop_after = true,
                crate::fault::FaultKind::DropConnection => {
                    self.complete_entry(seq, 0, fault_text, None);
                    return Outcome::Drop;
                }
                crate::fault::FaultKind::Status(code) => {
                    let mut resp = lock(&self.state).error_response(code, "injected fault");
                    match fault.retry_after {
                        Some(crate::fault::RetryAfter::Seconds(s)) => {
                            resp.set_header("Retry-After", s.to_string())
                        }
                        Some(crate::fault::RetryAfter::Date(at)) => {
                            resp.set_header("Retry-After", httpdate::fmt_http_date(at))
                        }
                        None => {}
                    }
                    self.add_vendor_headers(&mut resp);
                    self.add_fault_headers(&mut resp);
                    self.complete_entry(seq, resp.status, fault_text, None);
                    return Outcome::Respond(resp);
                }
            }
        }
        let admitted = lock(&self.rate).admit(Instant::now());
        if !admitted {
            let which = lock(&self.rate).describe_limit();
            let mut resp = lock(&self.state).error_response(429, &which);
            self.add_vendor_headers(&mut resp);
            let text = match fault_text {
                Some(f) => format!("{f}; rate_limit"),
                None => "rate_limit".to_string(),
            };
            self.complete_entry(seq, 429, Some(text), None);
            return Outcome::Respond(resp);
        }
        let mut resp = lock(&self.state).handle(&req);
        let served_at = self.started.elapsed();
        self.add_vendor_headers(&mut resp);
        if garbage {
            resp.body = GARBAGE.to_vec();
        }
        self.complete_entry(seq, resp.status, fault_text, Some(served_at));
        if resp.header(crate::stripe::IDEMPOTENT_REPLAYED_HEADER) == Some("true") {
            self.mark_replayed(seq);
        }
        self.run_hooks(&req.method, &path);
        if drop_after {
            return Outcome::Drop;
        }
        Outcome::Respond(resp)
    }

    /// Answer for a body that could not be read (too large / broken).
    pub(crate) fn body_error(self: &Arc<Inner>, req: Req, status: u16, message: &str) -> Resp {
        let seq = self.reserve_entry(&req);
        let mut resp = lock(&self.state).error_response(status, message);
        self.add_vendor_headers(&mut resp);
        self.complete_entry(seq, resp.status, None, None);
        resp
    }

    fn run_hooks(self: &Arc<Inner>, method: &str, path: &str) {
        let due: Vec<Hook> = {
            let mut hooks = lock(&self.hooks);
            let mut due = Vec::new();
            let mut keep = Vec::new();
            for (m, h) in hooks.drain(..) {
                if m.matches(method, path) {
                    due.push(h);
                } else {
                    keep.push((m, h));
                }
            }
            *hooks = keep;
            due
        };
        if due.is_empty() {
            return;
        }
        let handle = VendorHandle {
            inner: Arc::clone(self),
        };
        for hook in due {
            hook(&handle);
        }
    }
}

fn mask_header(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("authorization")
        || name.eq_ignore_ascii_case("proxy-authorization")
    {
        match value.trim().split_once(' ') {
            Some((scheme, _)) => format!("{scheme} ***"),
            None => "***".to_string(),
        }
    } else if name.eq_ignore_ascii_case("cookie") {
        "***".to_string()
    } else {
        value.to_string()
    }
}

/// Control and inspection handle for one vendor emulator.
///
/// Cheap to clone (an `Arc` inside), `Send + Sync`; clones share the same
/// emulator. A handle stays usable after the [`Sandbox`](crate::Sandbox) is
/// shut down (its store and journal remain readable), but nothing listens
/// any more.
#[derive(Clone)]
pub struct VendorHandle {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for VendorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorHandle")
            .field("vendor", &self.inner.vendor)
            .field("base_url", &self.inner.base_url)
            .finish()
    }
}

impl VendorHandle {
    /// Which vendor this emulator plays.
    pub fn vendor(&self) -> Vendor {
        self.inner.vendor
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash; clients append
    /// `/v1/...` (ChartMogul, Fusebill, Stripe) or `/api/2.0/...`
    /// (Everlytic).
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// Every request received so far, in arrival order, including faulted,
    /// rate-limited and unauthenticated ones. A request still in flight shows
    /// status 0 until it is answered.
    ///
    /// With a [journal capacity](Self::set_journal_capacity), only the
    /// latest requests, that many at most.
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.inner.journal)
            .entries
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// Forget all journal entries.
    pub fn clear_journal(&self) {
        lock(&self.inner.journal).entries.clear();
    }

    /// Bounds the journal to the latest `capacity` requests, a ring that
    /// forgets the oldest (`Some(0)` keeps none); `None`, the default,
    /// keeps every request. A long-running emulator that nobody inspects
    /// (a bulk run of millions of rows) then stays flat in memory.
    pub fn set_journal_capacity(&self, capacity: Option<usize>) {
        let mut journal = lock(&self.inner.journal);
        journal.capacity = capacity;
        journal.trim();
    }

    /// The journal's capacity ([`Self::set_journal_capacity`]).
    pub fn journal_capacity(&self) -> Option<usize> {
        lock(&self.inner.journal).capacity
    }

    /// Queue a fault; see [`Fault`] for the semantics.
    pub fn inject(&self, fault: Fault) {
        lock(&self.inner.faults).push_back(fault);
    }

    /// Remove all queued faults.
    pub fn clear_faults(&self) {
        lock(&self.inner.faults).clear();
    }

    /// Number of queued faults (a fault with `times(n)` counts once).
    pub fn pending_faults(&self) -> usize {
        lock(&self.inner.faults).len()
    }

    /// Latency added to every request before it is handled
    /// (`Duration::ZERO` to turn it off).
    pub fn set_latency(&self, d: Duration) {
        *lock(&self.inner.latency) = d;
    }

    /// Enforce a server-side rate limit (`None` to lift it). Beyond the
    /// limit the vendor answers 429 in its own error shape: ChartMogul and
    /// Everlytic without `Retry-After`, Fusebill with its `X-Rate-Limit-*`
    /// headers and no `Retry-After`.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        let mut rate = lock(&self.inner.rate);
        rate.limit = limit;
        rate.window.clear();
    }

    /// Answer 503 (in the vendor's 5xx shape) to a request that arrives
    /// while `max` requests are already being processed; `None` (the
    /// default) lifts the limit. ChartMogul documents 503 beyond 20 parallel
    /// connections: `sandbox.chartmogul().set_max_in_flight(Some(20))`.
    /// Such requests are journaled with fault `"concurrency_limit"`.
    pub fn set_max_in_flight(&self, max: Option<usize>) {
        *lock(&self.inner.max_in_flight) = max;
    }

    /// TCP connections accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.inner.connections.load(Ordering::SeqCst)
    }

    /// The stored customer as the vendor would answer `GET` (for Everlytic
    /// the bare item, without the `{"links","item"}` wrapper). The id is the
    /// ChartMogul uuid, the Fusebill numeric id or the Everlytic id, as
    /// text, or the Stripe `cus_...` id.
    pub fn customer(&self, id: &str) -> Option<Value> {
        lock(&self.inner.state).customer(id)
    }

    /// Adds `n` customers, each a copy of the first seeded one under a
    /// fresh id of the vendor's form (a ChartMogul uuid, a Fusebill or
    /// Everlytic integer, a Stripe `cus_` id created now), and returns
    /// their ids. For workloads that spread
    /// over many customers, such as bulk runs at a vendor's rate limit.
    pub fn add_customers(&self, n: usize) -> Vec<String> {
        lock(&self.inner.state).add_copies(n)
    }

    /// Adds the lookup seeds: customers that share an email (and, on
    /// ChartMogul, an external id; on Fusebill, separately, a reference),
    /// for the ambiguous case of a lookup; on Stripe, separately,
    /// `metadata[external_id]`), and one customer found alone by its
    /// email and by its own reference. Returns their ids (ChartMogul
    /// uuids, Fusebill and Everlytic ids as text, Stripe `cus_` ids);
    /// calling it again adds nothing and returns the same ids.
    ///
    /// They are not seeded by default, so that the default store stays the
    /// customers printed in the vendors' pages. See
    /// [`chartmogul::lookup_seed_customers`](crate::chartmogul::lookup_seed_customers),
    /// [`fusebill::lookup_seed_customers`](crate::fusebill::lookup_seed_customers),
    /// [`everlytic::lookup_seed_customers`](crate::everlytic::lookup_seed_customers),
    /// [`stripe::lookup_seed_customers`](crate::stripe::lookup_seed_customers)
    /// and the `LOOKUP_*` constants of each vendor module.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// use unibill_sandbox::{chartmogul, Sandbox};
    /// let sandbox = Sandbox::start().await?;
    /// let uuids = sandbox.chartmogul().add_lookup_seeds();
    /// assert!(uuids.contains(&chartmogul::LOOKUP_UNIQUE_UUID.to_string()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_lookup_seeds(&self) -> Vec<String> {
        lock(&self.inner.state).add_lookup_seeds()
    }

    /// Edit a stored customer directly, as another user of the vendor
    /// account would: no request is journaled. On Fusebill the
    /// `modifiedTimestamp` advances; on ChartMogul the `address` object is
    /// re-derived from the top-level `city`/`state`/`zip`/`country`; on
    /// Stripe the change reaches search after the
    /// [search lag](Self::set_stripe_search_lag).
    /// Does nothing when the id is unknown.
    pub fn update_customer(&self, id: &str, f: impl FnOnce(&mut Value)) {
        let mut f = Some(f);
        let mut call = |v: &mut Value| {
            if let Some(f) = f.take() {
                f(v)
            }
        };
        lock(&self.inner.state).update_customer(id, &mut call);
    }

    /// Run `hook` right after the next request matching `matcher` has been
    /// handled by the vendor logic, before its response is sent. Requests
    /// answered by a status fault, a dropped connection or the rate limiter
    /// are not handled and do not trigger hooks. Every pending hook whose
    /// matcher matches runs (in registration order) and is then discarded.
    pub fn on_next_request(
        &self,
        matcher: RequestMatcher,
        hook: impl FnOnce(&VendorHandle) + Send + 'static,
    ) {
        lock(&self.inner.hooks).push((matcher, Box::new(hook)));
    }

    /// Choose how the Everlytic emulator answers a successful `PUT`
    /// (default [`PutShape::Wrapped`]). No effect on other vendors.
    pub fn set_everlytic_put_shape(&self, shape: PutShape) {
        if let VendorState::Everlytic(s) = &mut *lock(&self.inner.state) {
            s.put_shape = shape;
        }
    }

    /// How long a Stripe customer's change (through `POST` or
    /// [`update_customer`](Self::update_customer)) takes to reach
    /// `GET /v1/customers/search`: until then search matches the
    /// customer's earlier email, name, phone and metadata (the answer still
    /// shows the customer as stored). Stripe documents search as
    /// eventually consistent ("under normal operating conditions, data is
    /// searchable in under 1 minute"). Default `Duration::ZERO`: at once.
    /// Changes already made keep the lag they were made under. No effect
    /// on the other vendors.
    pub fn set_stripe_search_lag(&self, lag: Duration) {
        if let VendorState::Stripe(s) = &mut *lock(&self.inner.state) {
            s.search_lag = lag;
        }
    }

    /// How many `POST /v1/customers/{id}` updates the Stripe emulator has
    /// applied to `id` (a replay under an idempotency key, a refused
    /// request and [`update_customer`](Self::update_customer) do not
    /// count); `None` for an unknown id or another vendor.
    pub fn stripe_update_count(&self, id: &str) -> Option<u64> {
        match &*lock(&self.inner.state) {
            VendorState::Stripe(s) => s.update_count(id),
            _ => None,
        }
    }
}

/// Whether `req`'s body is a form (`application/x-www-form-urlencoded`).
fn is_form(req: &Req) -> bool {
    req.header("content-type").is_some_and(|t| {
        t.split(';').next().is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    })
}
