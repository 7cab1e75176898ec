//! Bulk updates: many `(id, patch)` pairs through one [`CustomerUpdater`],
//! with bounded concurrency, one result per item and a final summary.
//!
//! ```no_run
//! # async fn demo(updater: &dyn unibill_core::CustomerUpdater) {
//! use futures_util::stream;
//! use unibill_core::bulk::{bulk_update_stream, BulkOptions};
//! use unibill_core::{CustomerId, CustomerPatch};
//!
//! // A lazily generated input: nothing is collected, whatever its size.
//! let items = stream::iter(
//!     (1..=10_000u64).map(|n| (CustomerId::from(n), CustomerPatch::new().city("Paris"))),
//! );
//! let options = BulkOptions {
//!     concurrency: 8,
//!     ..BulkOptions::default()
//! };
//! let summary = bulk_update_stream(updater, items, options)
//!     .for_each_result(|item| {
//!         if let Err(e) = &item.result {
//!             eprintln!("#{} {}: {e}", item.index, item.id);
//!         }
//!     })
//!     .await;
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
//!   by reference costs no more requests than alone). Each distinct
//!   reference is looked up once per run: later items naming it reuse the
//!   id found, and only the confirming lookup under the lock is made for
//!   each, so they cost one lookup less than alone (the run remembers up
//!   to 16,384 references, and forgets one whose confirmation named
//!   another customer or whose update failed). Queued items wait
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
//!   ([`BulkStream::summary`], or the return value of
//!   [`BulkStream::for_each_result`]).
//!
//! Rate limiting is the backend's job: its transport holds one limiter
//! shared by every request of that client, so a bulk run goes as fast as
//! the vendor allows and no faster. Bulk only bounds how many updates wait
//! on it at once. Pick a concurrency of roughly *rate limit × latency ×
//! requests per update* (plus a little headroom) to keep the limiter busy.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use futures_util::stream::{self, BoxStream, FusedStream, Stream, StreamExt};
use tokio::sync::oneshot::{self, error::TryRecvError};
use tokio::sync::{OnceCell, Semaphore};

use crate::error::{Error, ErrorKind};
use crate::kind::CustomerId;
use crate::patch::CustomerPatch;
use crate::reference::CustomerRef;
use crate::update::{CheckedPatch, UpdateOptions, UpdateOutcome};
use crate::updater::{update_as, CustomerUpdater};

/// A progress callback: called once per finished item with the running
/// summary (borrowed: nothing is allocated per call).
type ProgressFn = Arc<dyn Fn(&BulkSummary) + Send + Sync>;

/// How to run a bulk update: the defaults, with the fields you need set
/// (`BulkOptions { concurrency: 16, ..BulkOptions::default() }`).
#[derive(Clone)]
pub struct BulkOptions {
    /// How many updates (and lookups of references) may be in flight at
    /// once (default 8; 0 counts as 1).
    pub concurrency: usize,
    /// Yield results in input order instead of completion order (the
    /// default). Ordered output holds finished results back behind a slow
    /// item (still within the items the run pulls ahead), so it can be
    /// slower; unordered results carry their input position in
    /// [`BulkItemResult::index`] anyway.
    pub ordered: bool,
    /// Options applied to every update (e.g. ignoring unsupported fields).
    pub update_options: UpdateOptions,
    /// Called after each finished item with the running summary (the
    /// items finished so far, the retries and the time since the start);
    /// none by default.
    pub progress: Option<ProgressFn>,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
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

/// The result of one item of a bulk run.
#[derive(Debug)]
#[non_exhaustive]
pub struct BulkItemResult {
    /// The item's position in the input, from 0.
    pub index: u64,
    /// The customer the item named (an id, or an email or external
    /// reference as given: see [`crate::CustomerRef`]).
    pub id: CustomerRef,
    /// What the update did ([`UpdateOutcome::changed`]: whether it sent a
    /// write), or why it failed.
    pub result: Result<UpdateOutcome, Error>,
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

/// The results of a bulk run, as a stream: one [`BulkItemResult`] per
/// input item. Nothing runs until it is polled; dropping it cancels the
/// updates still in flight. [`Self::summary`] gives the counts so far, and
/// the final summary once the stream has ended.
#[must_use = "a bulk run does nothing until its stream is polled"]
pub struct BulkStream<'a> {
    inner: BoxStream<'a, BulkItemResult>,
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
    /// `summary` with its elapsed time and retries brought up to now while
    /// the run goes on (before its first poll and once it has ended they
    /// are frozen).
    fn stamped(&self, mut summary: BulkSummary) -> BulkSummary {
        if let (false, Some((at, retries))) = (self.finished, self.started) {
            summary.elapsed = at.elapsed();
            summary.retries = self.updater.retries().saturating_sub(retries);
        }
        summary
    }

    /// Brings the summary's elapsed time and retries up to now.
    fn refresh(&mut self) {
        let summary = std::mem::take(&mut self.summary);
        self.summary = self.stamped(summary);
    }

    /// The summary of the items yielded so far (the whole run once the
    /// stream has ended).
    pub fn summary(&self) -> BulkSummary {
        self.stamped(self.summary.clone())
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
        if let Some(f) = self.progress_fn.clone() {
            self.refresh();
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
        this.started
            .get_or_insert_with(|| (Instant::now(), this.updater.retries()));
        let item = ready!(this.inner.as_mut().poll_next(cx));
        match &item {
            Some(item) => this.record(item),
            None => {
                this.refresh();
                this.finished = true;
            }
        }
        Poll::Ready(item)
    }
}

/// How many input items a run may hold (in flight, queued behind their
/// customer's earlier items, or held back for input order), per unit of
/// concurrency: room to queue later updates of a customer that is being
/// updated without holding up the other customers.
const LOOKAHEAD_PER_SLOT: usize = 4;

/// The customers with an item queued or running, each with the last such
/// item's index and the signal the customer's next item waits for (its
/// sender is dropped when that item finishes). An entry goes when its
/// item finishes with no later one queued, so memory stays flat.
type Turns = Mutex<HashMap<CustomerId, (u64, oneshot::Receiver<()>)>>;

/// How many distinct references a run remembers the resolution of. Past
/// this the memory is cleared and later items look their reference up
/// again, so memory stays bounded (an entry is a reference and an id).
const RESOLVED_CAPACITY: usize = 16_384;

/// The references of this run resolved so far, each looked up once
/// however many items name it (items arriving while its lookup is in
/// flight wait for that lookup). Only successful lookups are kept; the
/// confirming lookup under the lock still runs for every item, and an
/// entry it contradicts is forgotten.
#[derive(Default)]
struct Resolved(Mutex<HashMap<CustomerRef, Arc<OnceCell<CustomerId>>>>);

impl Resolved {
    /// The id `reference` resolved to in this run, or one lookup.
    async fn resolve(
        &self,
        updater: &dyn CustomerUpdater,
        reference: &CustomerRef,
    ) -> Result<CustomerId, Error> {
        let cell = {
            let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            if map.len() >= RESOLVED_CAPACITY && !map.contains_key(reference) {
                map.clear();
            }
            Arc::clone(map.entry(reference.clone()).or_default())
        };
        cell.get_or_try_init(|| updater.resolve(reference))
            .await
            .cloned()
    }

    /// Forgets `reference` unless its update confirmed `id` (the update
    /// failed, or the reference now names another customer).
    fn keep_if(
        &self,
        reference: &CustomerRef,
        id: &CustomerId,
        result: &Result<UpdateOutcome, Error>,
    ) {
        if !matches!(result, Ok(outcome) if &outcome.customer.id == id) {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(reference);
        }
    }
}

/// Runs one update per item of `items` (a [`Stream`]; an iterator through
/// [`futures_util::stream::iter`]) through `updater`, at most
/// `options.concurrency` at a time, and yields one result per item. Items
/// naming the same customer (by the backend's
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
    // 0 counts as 1; past what a semaphore can count, the bound is moot.
    let concurrency = options
        .concurrency
        .clamp(1, Semaphore::MAX_PERMITS / LOOKAHEAD_PER_SLOT);
    let update_options = Arc::new(options.update_options);
    // A slot is one update or lookup in flight. An item takes one before it
    // is pulled from the input (so the input is pulled only when something
    // can start) and gives it back while it waits for its customer's turn.
    let slots = Arc::new(Semaphore::new(concurrency));
    // Room for one item pulled from the input and not yet yielded.
    let room = Arc::new(Semaphore::new(concurrency * LOOKAHEAD_PER_SLOT));
    let turns = Arc::new(Turns::default());
    let resolved = Arc::new(Resolved::default());
    let gate = (Box::pin(items), Arc::clone(&slots), room);
    let pulled = stream::unfold(gate, |(mut items, slots, room)| async move {
        let held = Arc::clone(&room).acquire_owned().await.ok()?;
        let slot = Arc::clone(&slots).acquire_owned().await.ok()?;
        let (id, patch) = items.next().await?;
        let id: CustomerRef = id.into();
        Some(((id, patch, held, slot), (items, slots, room)))
    });
    // Checked, then (for an email or external reference) looked up in the
    // item's slot, and yielded in input order: a patch the backend refuses
    // costs no request, as with `update_with`, and later items wait for an
    // earlier item's lookup before they are ordered.
    let resolving = Arc::clone(&resolved);
    let prepared = pulled
        .zip(stream::iter(0u64..))
        .map(move |((id, patch, held, slot), index)| {
            let options = Arc::clone(&update_options);
            let resolved = Arc::clone(&resolving);
            async move {
                let ready = async {
                    let checked = CheckedPatch::check(updater.capabilities(), &patch, &options)?;
                    // The key of the customer's turns: its canonical id (an
                    // id the backend refuses fails in its update anyway), or
                    // the id a reference was resolved to.
                    let key = match &id {
                        CustomerRef::Id(raw) => {
                            updater.canonical_id(raw).unwrap_or_else(|_| raw.clone())
                        }
                        reference => resolved.resolve(updater, reference).await?,
                    };
                    Ok::<_, Error>((checked, key))
                }
                .await;
                (index, id, ready, held, slot)
            }
        })
        .buffered(usize::MAX);
    // Each item takes its turn among its customer's items here, in input
    // order, then waits (outside any slot) until the one before it has
    // finished.
    let updates = prepared.map(move |(index, id, ready, held, slot)| {
        let (slots, turns) = (Arc::clone(&slots), Arc::clone(&turns));
        let resolved = Arc::clone(&resolved);
        let turn = ready.map(|(checked, key)| {
            let (done, next) = oneshot::channel::<()>();
            let before = turns
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(key.clone(), (index, next));
            (checked, key, done, before)
        });
        async move {
            let result = match turn {
                Err(e) => Err(e),
                Ok((checked, key, done, before)) => {
                    // Still running (or queued) before this one: its slot
                    // goes to other customers' items meanwhile.
                    let mut slot = Some(slot);
                    if let Some((_, mut before)) = before {
                        if matches!(before.try_recv(), Err(TryRecvError::Empty)) {
                            drop(slot.take());
                            let _finished = before.await;
                            slot = slots.acquire_owned().await.ok();
                        }
                    }
                    let result = update_as(updater, &id, Some(key.clone()), checked).await;
                    if !matches!(id, CustomerRef::Id(_)) {
                        resolved.keep_if(&id, &key, &result);
                    }
                    drop((slot, done));
                    // A panicking update cannot leave the map half changed (each
                    // change is one insert or remove): poisoning is ignored.
                    let mut turns = turns.lock().unwrap_or_else(PoisonError::into_inner);
                    if turns.get(&key).is_some_and(|(last, _)| *last == index) {
                        turns.remove(&key);
                    }
                    result
                }
            };
            (BulkItemResult { index, id, result }, held)
        }
    });
    let results = if options.ordered {
        updates.buffered(usize::MAX).boxed()
    } else {
        updates.buffer_unordered(usize::MAX).boxed()
    };
    BulkStream {
        // The item's room is given back as it is yielded.
        inner: results.map(|(item, _room)| item).boxed(),
        updater,
        progress_fn: options.progress,
        started: None,
        finished: false,
        summary: BulkSummary::default(),
    }
}
