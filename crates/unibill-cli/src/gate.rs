//! Stopping a bulk run cleanly: a [`Control`] shared by the signal
//! handler, the report writer and the result loop, and a [`Gate`] around
//! the updater that lets no update start once the run is stopping, while
//! the ones already started finish and are reported.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use tokio::sync::Notify;
use unibill::async_trait;
use unibill::capability::Capabilities;
use unibill::lock::{CustomerLocks, LockGuard};
use unibill::{
    Backend, BackendKind, CheckedPatch, Customer, CustomerId, CustomerUpdater, LookupKind,
    PlannedRequest, Result, UpdateOutcome,
};

/// Why a bulk run stopped before the end of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// SIGINT (Ctrl-C) or SIGTERM: the exit code to end with (130, 143).
    Signal(u8),
    /// An error that every later row would meet too (the vendor refused
    /// the key, a configuration error): the message to end with.
    Fatal(String),
    /// The report could not be written.
    Report,
}

/// The stop state of one bulk run.
#[derive(Debug, Default)]
pub struct Control {
    stopping: AtomicBool,
    signalled: AtomicBool,
    reason: Mutex<Option<StopReason>>,
    running: AtomicUsize,
    idle: Notify,
}

impl Control {
    /// Stops the run (the first reason given is kept): no row is taken from
    /// the input and no update starts any more.
    pub fn stop(&self, reason: StopReason) {
        if matches!(reason, StopReason::Signal(_)) {
            self.signalled.store(true, Ordering::SeqCst);
        }
        {
            let mut r = self.reason.lock().unwrap_or_else(PoisonError::into_inner);
            if r.is_none() {
                *r = Some(reason);
            }
        }
        self.stopping.store(true, Ordering::SeqCst);
        if self.running.load(Ordering::SeqCst) == 0 {
            self.idle.notify_one();
        }
    }

    /// Whether a signal (SIGINT, SIGTERM) arrived, even after another
    /// reason stopped the run.
    pub fn signalled(&self) -> bool {
        self.signalled.load(Ordering::SeqCst)
    }

    /// Whether the run is stopping.
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Why the run stopped, if it did.
    pub fn reason(&self) -> Option<StopReason> {
        self.reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Resolves once the run is stopping and no request-sending call is
    /// running: what is left waits at the gate, or between two calls, and
    /// sends nothing more.
    pub async fn drained(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.stopping() && self.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    fn leave(&self) {
        if self.running.fetch_sub(1, Ordering::SeqCst) == 1 && self.stopping() {
            self.idle.notify_one();
        }
    }
}

/// Counts one request-sending call for as long as it lives.
struct Running<'a>(&'a Control);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// An updater that sends nothing more once its [`Control`] is stopping:
/// each backend hook that sends requests ([`Backend::fetch`],
/// [`Backend::lookup`], [`Backend::apply`], [`Backend::plan`]) then never
/// resolves, until the run drops it. The caller-facing methods
/// (`update_with`, `resolve`, ...) are [`CustomerUpdater`]'s blanket ones,
/// so they go through these hooks however the library's bulk run calls
/// them; a hook already running finishes.
#[derive(Debug)]
pub struct Gate<'a> {
    inner: &'a dyn CustomerUpdater,
    control: &'a Control,
}

impl<'a> Gate<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a dyn CustomerUpdater, control: &'a Control) -> Self {
        Self { inner, control }
    }

    /// Counts a call in, or holds it forever when the run is stopping.
    /// Counted before the check: a stop that finds nothing running can
    /// then be sure that nothing starts after it.
    async fn enter(&self) -> Running<'a> {
        self.control.running.fetch_add(1, Ordering::SeqCst);
        let running = Running(self.control);
        if self.control.stopping() {
            drop(running);
            return std::future::pending().await;
        }
        running
    }
}

#[async_trait]
impl Backend for Gate<'_> {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    fn locks(&self) -> &CustomerLocks {
        self.inner.locks()
    }

    fn canonical_id(&self, id: &CustomerId) -> Result<CustomerId> {
        self.inner.canonical_id(id)
    }

    async fn fetch(&self, id: &CustomerId) -> Result<Customer> {
        let _running = self.enter().await;
        self.inner.fetch(id).await
    }

    async fn lookup(&self, kind: LookupKind, value: &str) -> Result<Vec<CustomerId>> {
        let _running = self.enter().await;
        self.inner.lookup(kind, value).await
    }

    async fn apply(
        &self,
        id: &CustomerId,
        patch: &CheckedPatch,
        lock: &LockGuard,
    ) -> Result<UpdateOutcome> {
        let _running = self.enter().await;
        self.inner.apply(id, patch, lock).await
    }

    async fn plan(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
        let _running = self.enter().await;
        self.inner.plan(id, patch).await
    }

    fn retries(&self) -> u64 {
        self.inner.retries()
    }
}
