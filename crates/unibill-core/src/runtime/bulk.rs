//! Bulk updates: many `(id, patch)` pairs through one [`CustomerUpdater`],
//! with bounded concurrency, one result per item and a final summary.
//!
//! ```no_run
//! # async fn demo(updater: &dyn unibill_core::CustomerUpdater) {
//! use unibill_core::bulk::{run_bulk, BulkOptions};
//! use unibill_core::{CustomerId, CustomerPatch};
//!
//! // A lazily generated input: nothing is collected, whatever its size.
//! let items = (1..=10_000u64)
//!     .map(|n| (CustomerId::from(n), CustomerPatch::new().city("Paris")));
//! let summary = run_bulk(updater, items, BulkOptions::new().concurrency(8), |item| {
//!     if let Err(e) = &item.result {
//!         eprintln!("#{} {}: {e}", item.index, item.id);
//!     }
//! })
//! .await;
//! println!("{summary}");
//! # }
//! ```
//!
//! What it guarantees:
//!
//! - **Bounded concurrency**: at most [`BulkOptions::concurrency`] updates
//!   (and lookups of references) are in flight, and the input is pulled at most four times that many
//!   items ahead of the results, so memory stays flat for any batch size:
//!   neither the input nor the output is ever collected.
//! - **One customer at a time, in input order**: items naming the same
//!   customer never run at once; each starts after the one before it in
//!   the input has finished, so the last one in the input wins, however
//!   the items name the customer (by id, by email, by external
//!   reference): an item naming it by email or reference is looked up as
//!   it arrives ([`CustomerUpdater::resolve`]) and queued by the id found,
//!   in input order (later items wait for that lookup to be ordered; the
//!   lookup stands in for the first of the update's own two, so an item
//!   by reference costs no more requests than alone). Queued items wait
//!   beside the in-flight updates, not in their slots, so the other
//!   customers' items keep going. (Every update also holds the customer's
//!   write lock, see [`crate::lock`], which keeps a bulk run and any other
//!   caller apart.)
//! - **One failure never stops the batch**: each item yields its own
//!   `Result`, tagged with its position in the input ([`BulkItemResult::index`]).
//!   Results come in completion order by default, or in input order with
//!   [`BulkOptions::ordered`].
//! - **A summary**: applied, unchanged (no write was needed), failed by
//!   [`ErrorKind`], the transport retries spent and the elapsed time
//!   ([`BulkStream::summary`], or the return value of [`run_bulk`]).
//!
//! Rate limiting is the backend's job: its transport holds one limiter
//! shared by every request of that client, so a bulk run goes as fast as
//! the vendor allows and no faster. Bulk only bounds how many updates wait
//! on it at once. Pick a concurrency of roughly *rate limit × latency ×
//! requests per update* (plus a little headroom) to keep the limiter busy.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::stream::{self, FusedStream, FuturesUnordered, Stream, StreamExt};

use crate::error::{Error, ErrorKind};
use crate::kind::CustomerId;
use crate::patch::CustomerPatch;
use crate::reference::CustomerRef;
use crate::update::{CheckedPatch, UpdateOptions, UpdateOutcome};
use crate::updater::{update_as, CustomerUpdater};

/// The default number of updates in flight at once.
const DEFAULT_CONCURRENCY: usize = 8;

/// A progress callback: called once per finished item with the running
/// summary (borrowed: nothing is allocated per call).
type ProgressFn = Arc<dyn Fn(&BulkSummary) + Send + Sync>;

/// How to run a bulk update.
#[derive(Clone)]
#[non_exhaustive]
pub struct BulkOptions {
    /// How many updates may be in flight at once (at least 1; default 8).
    pub concurrency: usize,
    /// Yield results in input order instead of completion order. Ordered
    /// output holds finished results back behind a slow item (still at most
    /// `concurrency` of them), so it can be slower; unordered results
    /// carry their input position in [`BulkItemResult::index`] anyway.
    pub ordered: bool,
    /// Options applied to every update (e.g. ignoring unsupported fields).
    pub update_options: UpdateOptions,
    /// Called after each item with the running summary.
    pub progress: Option<ProgressFn>,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            ordered: false,
            update_options: UpdateOptions::default(),
            progress: None,
        }
    }
}

impl fmt::Debug for BulkOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkOptions")
            .field("concurrency", &self.concurrency)
            .field("ordered", &self.ordered)
            .field("update_options", &self.update_options)
            .field(
                "progress",
                &self.progress.as_ref().map(|_| "Fn(&BulkSummary)"),
            )
            .finish()
    }
}

impl BulkOptions {
    /// The defaults: 8 in flight, completion order, no progress callback.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how many updates may be in flight at once (0 counts as 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Yields results in input order.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// Options for every update of the run.
    pub fn update_options(mut self, options: UpdateOptions) -> Self {
        self.update_options = options;
        self
    }

    /// Calls `f` after each finished item with the running summary (the
    /// items finished so far, the retries and the time since the start).
    pub fn on_progress(mut self, f: impl Fn(&BulkSummary) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
}

/// The result of one item of a bulk run.
#[derive(Debug)]
#[non_exhaustive]
pub struct BulkItemResult {
    /// The item's position in the input, from 0.
    pub index: u64,
    /// The customer the item named (an id, or an email or external
    /// reference as given: see [`crate::CustomerRef`]).
    pub id: CustomerRef,
    /// What the update did, or why it failed.
    pub result: Result<UpdateOutcome, Error>,
}

impl BulkItemResult {
    /// Whether the update sent at least one write.
    pub fn applied(&self) -> bool {
        matches!(&self.result, Ok(o) if o.changed())
    }

    /// Whether the update succeeded without needing any write.
    pub fn unchanged(&self) -> bool {
        matches!(&self.result, Ok(o) if !o.changed())
    }
}

/// The outcome of a whole bulk run, or of the part of it finished so far
/// (what the progress callback and [`BulkStream::summary`] give while it
/// runs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkSummary {
    /// Items processed (applied + unchanged + failed).
    pub total: u64,
    /// Items that sent at least one write.
    pub applied: u64,
    /// Items that succeeded without a write.
    pub unchanged: u64,
    /// Items that failed, by kind of error.
    pub failed_by_kind: BTreeMap<ErrorKind, u64>,
    /// Transport retries spent during the run, as reported by
    /// [`Backend::retries`](crate::Backend::retries). The counter belongs to the client, so
    /// other work sharing that client at the same time is counted too.
    pub retries: u64,
    /// Wall time from the first poll to the last result.
    pub elapsed: Duration,
}

impl BulkSummary {
    /// Items that failed, all kinds together.
    pub fn failed(&self) -> u64 {
        self.failed_by_kind.values().sum()
    }

    /// Items that failed with this kind of error.
    pub fn failed_with(&self, kind: ErrorKind) -> u64 {
        self.failed_by_kind.get(&kind).copied().unwrap_or(0)
    }
}

impl fmt::Display for BulkSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} item(s) in {:.3}s: {} applied, {} unchanged, {} failed",
            self.total,
            self.elapsed.as_secs_f64(),
            self.applied,
            self.unchanged,
            self.failed()
        )?;
        if !self.failed_by_kind.is_empty() {
            let kinds: Vec<String> = self
                .failed_by_kind
                .iter()
                .map(|(k, n)| format!("{k:?}: {n}"))
                .collect();
            write!(f, " ({})", kinds.join(", "))?;
        }
        write!(f, ", {} retries", self.retries)
    }
}

type ResultStream<'a> = Pin<Box<dyn Stream<Item = BulkItemResult> + Send + 'a>>;

/// The results of a bulk run, as a stream: one [`BulkItemResult`] per
/// input item. Nothing runs until it is polled; dropping it cancels the
/// updates still in flight. [`Self::summary`] gives the counts so far, and
/// the final summary once the stream has ended.
#[must_use = "a bulk run does nothing until its stream is polled"]
pub struct BulkStream<'a> {
    inner: ResultStream<'a>,
    updater: &'a dyn CustomerUpdater,
    progress_fn: Option<ProgressFn>,
    started: Option<(Instant, u64)>,
    /// Whether the run has ended (its summary's time and retries are then
    /// frozen).
    finished: bool,
    /// The counts so far; `retries` and `elapsed` are brought up to date
    /// when read.
    summary: BulkSummary,
}

impl fmt::Debug for BulkStream<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkStream")
            .field("backend", &self.updater.kind())
            .field("summary", &self.summary())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<'a> BulkStream<'a> {
    /// The elapsed time and retries now, while the run goes on (`None`
    /// before its first poll and once it has ended: they are then frozen).
    fn live(&self) -> Option<(Duration, u64)> {
        match (self.finished, self.started) {
            (false, Some((at, retries))) => {
                Some((at.elapsed(), self.updater.retries().saturating_sub(retries)))
            }
            _ => None,
        }
    }

    /// Brings the summary's elapsed time and retries up to now.
    fn refresh(&mut self) {
        if let Some((elapsed, retries)) = self.live() {
            (self.summary.elapsed, self.summary.retries) = (elapsed, retries);
        }
    }

    /// The summary of the items yielded so far (the whole run once the
    /// stream has ended).
    pub fn summary(&self) -> BulkSummary {
        let mut summary = self.summary.clone();
        if let Some((elapsed, retries)) = self.live() {
            (summary.elapsed, summary.retries) = (elapsed, retries);
        }
        summary
    }

    /// Drains the stream, handing each result to `on_item`, and returns
    /// the summary.
    pub async fn for_each_result(mut self, mut on_item: impl FnMut(BulkItemResult)) -> BulkSummary {
        while let Some(item) = self.next().await {
            on_item(item);
        }
        self.summary()
    }

    fn record(&mut self, item: &BulkItemResult) {
        let summary = &mut self.summary;
        summary.total += 1;
        match &item.result {
            Ok(o) if o.changed() => summary.applied += 1,
            Ok(_) => summary.unchanged += 1,
            Err(e) => *summary.failed_by_kind.entry(e.kind()).or_insert(0) += 1,
        }
        if self.progress_fn.is_some() {
            self.refresh();
        }
        if let Some(f) = &self.progress_fn {
            f(&self.summary);
        }
    }
}

/// [`FusedStream::is_terminated`] says whether every item has been yielded.
impl FusedStream for BulkStream<'_> {
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl Stream for BulkStream<'_> {
    type Item = BulkItemResult;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<BulkItemResult>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        if this.started.is_none() {
            this.started = Some((Instant::now(), this.updater.retries()));
        }
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => {
                this.record(&item);
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                this.refresh();
                this.finished = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.finished {
            (0, Some(0))
        } else {
            self.inner.size_hint()
        }
    }
}

/// How many input items a run may hold beyond those in flight, per unit of
/// concurrency: room to queue later updates of a customer that is being
/// updated without holding up the other customers.
const LOOKAHEAD_PER_SLOT: usize = 4;

/// One input item, numbered, not started yet.
struct Pending {
    index: u64,
    id: CustomerRef,
    /// The customer an email or external reference was found to name when
    /// the item arrived (`None` for an id).
    resolved: Option<CustomerId>,
    patch: CustomerPatch,
}

/// What an item pulled from the input is waiting for before it can be
/// ordered among its customer's items.
enum Key {
    /// Its customer is known: the key of the customer's queue.
    Known(String),
    /// Its reference is being looked up.
    Resolving,
    /// It cannot run: the error is its result.
    Failed(Error),
}

/// An item pulled from the input and not yet ordered. Items are ordered
/// (queued behind their customer's earlier items) strictly in input
/// order, each once its customer is known.
struct Arrival {
    item: Pending,
    key: Key,
}

/// What a future of [`Scheduler::running`] ends with. Never stored: it
/// is moved out of the finished future once, so the size difference of
/// its variants costs nothing (boxing the result would cost an allocation
/// per item).
#[allow(clippy::large_enum_variant)]
enum Done {
    /// An update finished: its customer's key and its result.
    Updated(String, BulkItemResult),
    /// The lookup of item `.0`'s reference finished.
    Resolved(u64, Result<CustomerId, Error>),
}

type Running<'a> = Pin<Box<dyn std::future::Future<Output = Done> + Send + 'a>>;

/// The scheduler behind [`bulk_update_stream`]: at most `concurrency`
/// updates and lookups in flight, never two updates of the same customer,
/// and the updates of one customer started in input order, however the
/// items name it.
struct Scheduler<'a, S> {
    updater: &'a dyn CustomerUpdater,
    options: UpdateOptions,
    input: Pin<Box<S>>,
    input_done: bool,
    concurrency: usize,
    /// Most items pulled from the input and not yet yielded.
    window: usize,
    /// Items pulled from the input and not yet yielded.
    outstanding: usize,
    next_index: u64,
    running: FuturesUnordered<Running<'a>>,
    /// Items pulled but not yet ordered, in input order.
    arrivals: VecDeque<Arrival>,
    /// Customers with an update running or about to start, each with the
    /// later items for it, in input order.
    busy: HashMap<String, VecDeque<Pending>>,
    /// Items whose customer is free (its previous update finished, or it
    /// had none): they start before any new input.
    ready: VecDeque<(String, Pending)>,
    /// Results of items that never ran (their reference could not be
    /// resolved, or their patch was refused before any request).
    failed: VecDeque<BulkItemResult>,
    /// Input order: finished results held until every earlier one is out.
    ordered: Option<(u64, BTreeMap<u64, BulkItemResult>)>,
}

impl<'a, S, R> Scheduler<'a, S>
where
    S: Stream<Item = (R, CustomerPatch)> + Send + 'a,
    R: Into<CustomerRef>,
{
    /// The key that keeps the updates of one customer apart: its canonical
    /// id (an id the backend refuses fails in its update anyway). An email
    /// or external reference is looked up first ([`CustomerUpdater::resolve`])
    /// and keyed by the id it names, so items naming one customer by id,
    /// by email and by reference share one queue, in input order.
    fn id_key(&self, id: &CustomerId) -> String {
        match self.updater.canonical_id(id) {
            Ok(c) => format!("id:{c}"),
            Err(_) => format!("id:{id}"),
        }
    }

    fn start(&mut self, key: String, item: Pending) {
        let updater = self.updater;
        let options = self.options.clone();
        self.running.push(Box::pin(async move {
            let result = update_as(
                updater,
                &item.id,
                item.resolved.clone(),
                &item.patch,
                &options,
            )
            .await;
            Done::Updated(
                key,
                BulkItemResult {
                    index: item.index,
                    id: item.id,
                    result,
                },
            )
        }));
    }

    /// A new item from the input: keyed at once when it names an id,
    /// otherwise looked up (after checking its patch, so that a patch the
    /// backend refuses costs no request, as with
    /// [`CustomerUpdater::update_with`]).
    fn arrive(&mut self, item: Pending) {
        let key = match &item.id {
            CustomerRef::Id(id) => Key::Known(self.id_key(id)),
            reference => {
                match CheckedPatch::check(self.updater.capabilities(), &item.patch, &self.options) {
                    Err(e) => Key::Failed(e),
                    Ok(_) => {
                        let (updater, index, reference) =
                            (self.updater, item.index, reference.clone());
                        self.running.push(Box::pin(async move {
                            Done::Resolved(index, updater.resolve(&reference).await)
                        }));
                        Key::Resolving
                    }
                }
            }
        };
        self.arrivals.push_back(Arrival { item, key });
    }

    /// The lookup of item `index` finished.
    fn resolved(&mut self, index: u64, result: Result<CustomerId, Error>) {
        let result = result.map(|id| (self.id_key(&id), id));
        let first = self.arrivals.front().map_or(index, |a| a.item.index);
        let Some(arrival) = index
            .checked_sub(first)
            .and_then(|at| usize::try_from(at).ok())
            .and_then(|at| self.arrivals.get_mut(at))
        else {
            return;
        };
        arrival.key = match result {
            Ok((key, id)) => {
                arrival.item.resolved = Some(id);
                Key::Known(key)
            }
            Err(e) => Key::Failed(e),
        };
    }

    /// Orders the arrivals whose customer is known, up to the first one
    /// still being looked up: each joins its customer's queue, or starts
    /// it.
    fn order(&mut self) {
        while self
            .arrivals
            .front()
            .is_some_and(|a| !matches!(a.key, Key::Resolving))
        {
            let Some(Arrival { item, key }) = self.arrivals.pop_front() else {
                return;
            };
            match key {
                Key::Known(key) => match self.busy.get_mut(&key) {
                    Some(queue) => queue.push_back(item),
                    None => {
                        self.busy.insert(key.clone(), VecDeque::new());
                        self.ready.push_back((key, item));
                    }
                },
                Key::Failed(error) => self.failed.push_back(BulkItemResult {
                    index: item.index,
                    id: item.id,
                    result: Err(error),
                }),
                Key::Resolving => {}
            }
        }
    }

    /// Starts what may start: items whose customer is free first, then new
    /// input.
    fn fill(&mut self, cx: &mut Context<'_>) {
        loop {
            self.order();
            if self.running.len() >= self.concurrency {
                return;
            }
            if let Some((key, item)) = self.ready.pop_front() {
                self.start(key, item);
                continue;
            }
            if self.input_done || self.outstanding >= self.window {
                return;
            }
            match self.input.as_mut().poll_next(cx) {
                Poll::Ready(Some((id, patch))) => {
                    let item = Pending {
                        index: self.next_index,
                        id: id.into(),
                        resolved: None,
                        patch,
                    };
                    self.next_index += 1;
                    self.outstanding += 1;
                    self.arrive(item);
                }
                Poll::Ready(None) => self.input_done = true,
                Poll::Pending => return,
            }
        }
    }

    /// A customer's update finished: its next item (if any) may start.
    fn finished(&mut self, key: String) {
        let next = self.busy.get_mut(&key).and_then(VecDeque::pop_front);
        match next {
            Some(item) => self.ready.push_back((key, item)),
            None => {
                self.busy.remove(&key);
            }
        }
    }

    /// A finished item: yielded now (`Some`), or held for input order.
    fn out(&mut self, item: BulkItemResult) -> Option<BulkItemResult> {
        match &mut self.ordered {
            Some((_, held)) => {
                held.insert(item.index, item);
                None
            }
            None => {
                self.outstanding -= 1;
                Some(item)
            }
        }
    }
}

impl<'a, S, R> Stream for Scheduler<'a, S>
where
    S: Stream<Item = (R, CustomerPatch)> + Send + 'a,
    R: Into<CustomerRef>,
{
    type Item = BulkItemResult;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<BulkItemResult>> {
        let this = &mut *self;
        loop {
            if let Some((next, held)) = &mut this.ordered {
                if let Some(item) = held.remove(next) {
                    *next += 1;
                    this.outstanding -= 1;
                    return Poll::Ready(Some(item));
                }
            }
            if let Some(item) = this.failed.pop_front() {
                match this.out(item) {
                    Some(item) => return Poll::Ready(Some(item)),
                    None => continue,
                }
            }
            this.fill(cx);
            if !this.failed.is_empty() {
                continue;
            }
            match Pin::new(&mut this.running).poll_next(cx) {
                Poll::Ready(Some(Done::Updated(key, item))) => {
                    this.finished(key);
                    if let Some(item) = this.out(item) {
                        return Poll::Ready(Some(item));
                    }
                }
                Poll::Ready(Some(Done::Resolved(index, result))) => this.resolved(index, result),
                // Nothing running: either everything is out, or the input
                // has nothing yet (it will wake us).
                Poll::Ready(None) if this.ready.is_empty() && this.arrivals.is_empty() => {
                    let held = this.ordered.as_ref().is_some_and(|(_, h)| !h.is_empty());
                    if this.input_done && !held {
                        return Poll::Ready(None);
                    }
                    if !held {
                        return Poll::Pending;
                    }
                }
                Poll::Ready(None) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Runs one update per item of `items` (a [`Stream`]) through `updater`,
/// at most `options.concurrency` at a time, and yields one result per
/// item. Items naming the same customer (by the backend's
/// [`canonical_id`](crate::Backend::canonical_id), references resolved
/// first) run one after the other in input order, while other customers'
/// items go on. See the [module docs](self).
pub fn bulk_update_stream<'a, S, R>(
    updater: &'a dyn CustomerUpdater,
    items: S,
    options: BulkOptions,
) -> BulkStream<'a>
where
    S: Stream<Item = (R, CustomerPatch)> + Send + 'a,
    R: Into<CustomerRef>,
{
    let BulkOptions {
        concurrency,
        ordered,
        update_options,
        progress,
    } = options;
    let concurrency = concurrency.max(1);
    let inner: ResultStream<'a> = Box::pin(Scheduler {
        updater,
        options: update_options,
        input: Box::pin(items),
        input_done: false,
        concurrency,
        window: concurrency.saturating_mul(LOOKAHEAD_PER_SLOT),
        outstanding: 0,
        next_index: 0,
        running: FuturesUnordered::new(),
        arrivals: VecDeque::new(),
        busy: HashMap::new(),
        ready: VecDeque::new(),
        failed: VecDeque::new(),
        ordered: ordered.then(|| (0, BTreeMap::new())),
    });
    BulkStream {
        inner,
        updater,
        progress_fn: progress,
        started: None,
        finished: false,
        summary: BulkSummary::default(),
    }
}

/// Runs a whole bulk update over an iterator, hands each result to
/// `on_item` as it arrives, and returns the summary.
pub async fn run_bulk<'a, I, R>(
    updater: &'a dyn CustomerUpdater,
    items: I,
    options: BulkOptions,
    on_item: impl FnMut(BulkItemResult),
) -> BulkSummary
where
    I: IntoIterator<Item = (R, CustomerPatch)>,
    R: Into<CustomerRef>,
    I::IntoIter: Send + 'a,
{
    bulk_update_stream(updater, stream::iter(items), options)
        .for_each_result(on_item)
        .await
}
