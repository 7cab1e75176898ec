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
    AsCustomerRef, BackendKind, CheckedPatch, Customer, CustomerId, CustomerPatch, CustomerUpdater,
    DryRun, LookupKind, PlannedRequest, Result, UpdateOptions, UpdateOutcome,
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
    reason: Mutex<Option<StopReason>>,
    running: AtomicUsize,
    idle: Notify,
}

impl Control {
    /// Stops the run (the first reason given is kept): no row is taken from
    /// the input and no update starts any more.
    pub fn stop(&self, reason: StopReason) {
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

    /// Resolves once the run is stopping and no update is running: what is
    /// left waits at the gate and was never sent.
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

/// Counts one running update for as long as it lives.
struct Running<'a>(&'a Control);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// An updater that starts no update once its [`Control`] is stopping:
/// such an update never resolves (and so sends nothing) until the run
/// drops it.
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
}

#[async_trait]
impl CustomerUpdater for Gate<'_> {
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
        self.inner.fetch(id).await
    }

    async fn lookup(&self, kind: LookupKind, value: &str) -> Result<Vec<CustomerId>> {
        self.inner.lookup(kind, value).await
    }

    async fn apply(
        &self,
        id: &CustomerId,
        patch: &CheckedPatch,
        lock: &LockGuard,
    ) -> Result<UpdateOutcome> {
        self.inner.apply(id, patch, lock).await
    }

    async fn plan(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
        self.inner.plan(id, patch).await
    }

    fn retries(&self) -> u64 {
        self.inner.retries()
    }

    async fn find(&self, customer: &dyn AsCustomerRef) -> Result<Vec<CustomerId>> {
        self.inner.find(customer).await
    }

    async fn resolve(&self, customer: &dyn AsCustomerRef) -> Result<CustomerId> {
        self.inner.resolve(customer).await
    }

    async fn get(&self, customer: &dyn AsCustomerRef) -> Result<Customer> {
        self.inner.get(customer).await
    }

    async fn update_with(
        &self,
        customer: &dyn AsCustomerRef,
        patch: &CustomerPatch,
        options: &UpdateOptions,
    ) -> Result<UpdateOutcome> {
        // Counted before the check: a stop that finds nothing running can
        // then be sure that nothing starts after it.
        self.control.running.fetch_add(1, Ordering::SeqCst);
        let running = Running(self.control);
        if self.control.stopping() {
            drop(running);
            return std::future::pending().await;
        }
        let result = self.inner.update_with(customer, patch, options).await;
        drop(running);
        result
    }

    async fn dry_run(
        &self,
        customer: &dyn AsCustomerRef,
        patch: &CustomerPatch,
        options: &UpdateOptions,
    ) -> Result<DryRun> {
        self.inner.dry_run(customer, patch, options).await
    }
}
