//! Helpers shared by unibill's test suites (a dev-dependency only, never
//! published): retry settings that keep fault-injection tests fast, the
//! requests a sandbox vendor received, in the forms the tests compare, and
//! [`memory::InMemory`], the one in-memory backend that tests and benchmarks
//! of the caller path run on, and [`lookup`], the lookup suite every
//! backend runs on the sandbox.
//!
//! ```
//! let retry = unibill_testkit::fast_retry();
//! assert_eq!(retry.max_attempts, 3);
//! assert_eq!(
//!     unibill_testkit::call("GET", "/v1/customers/cus_1"),
//!     ("GET".to_owned(), "/v1/customers/cus_1".to_owned())
//! );
//! ```
#![deny(missing_docs)]
// `heap` implements `GlobalAlloc`, which needs `unsafe`; nothing else does.
#![deny(unsafe_code)]

pub mod heap;
pub mod lookup;
pub mod memory;
pub mod scripted;

use std::time::Duration;

use unibill_core::transport::RetryConfig;
use unibill_core::Settings;
use unibill_sandbox::{JournalEntry, VendorHandle};

/// Retries for tests against the sandbox: 3 attempts, 10 ms first backoff
/// growing to at most 40 ms, a 20 s deadline, and a `Retry-After` of more
/// than 5 s answered at once. Set `max_attempts` on the result for a test
/// that needs more attempts.
pub fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        deadline: Duration::from_secs(20),
        max_retry_after: Duration::from_secs(5),
    }
}

/// The shared settings of a test client: [`fast_retry`], the rest as
/// default. Change a field for a test that needs another value:
/// `Settings { rate_limit: Some(None), ..fast_settings() }`.
pub fn fast_settings() -> Settings {
    Settings {
        retry: fast_retry(),
        ..Settings::default()
    }
}

/// `(method, path)` of every request `vendor` has received, in order.
pub fn calls(vendor: &VendorHandle) -> Vec<(String, String)> {
    calls_in(&vendor.journal())
}

/// `(method, path)` of every entry of a journal, in order.
pub fn calls_in(journal: &[JournalEntry]) -> Vec<(String, String)> {
    journal
        .iter()
        .map(|e| (e.method.clone(), e.path.clone()))
        .collect()
}

/// `"METHOD path"` of every request `vendor` has received, in order.
pub fn call_lines(vendor: &VendorHandle) -> Vec<String> {
    vendor
        .journal()
        .iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .collect()
}

/// One expected `(method, path)`, as [`calls`] lists them.
pub fn call(method: &str, path: &str) -> (String, String) {
    (method.to_owned(), path.to_owned())
}

/// A [`WriteLock`](unibill_core::lock::WriteLock) whose leases count how
/// they end: released through `Lease::release` (awaited, what a lock shared
/// by several processes needs before a process may exit) or merely dropped.
/// Install it with `.write_locking(WriteLocking::Shared(Arc::new(lock.clone())))`.
#[derive(Clone, Debug, Default)]
pub struct RecordingLock {
    released: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    dropped: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl RecordingLock {
    /// How many leases were released through `Lease::release`.
    pub fn released(&self) -> usize {
        self.released.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many leases were dropped without `Lease::release`.
    pub fn dropped(&self) -> usize {
        self.dropped.load(std::sync::atomic::Ordering::SeqCst)
    }
}

struct RecordingLease {
    lock: RecordingLock,
    released: bool,
}

#[async_trait::async_trait]
impl unibill_core::lock::Lease for RecordingLease {
    fn check(&self) -> Result<(), unibill_core::lock::LockFailure> {
        Ok(())
    }

    async fn release(mut self: Box<Self>) {
        self.released = true;
        self.lock
            .released
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for RecordingLease {
    fn drop(&mut self) {
        if !self.released {
            self.lock
                .dropped
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

#[async_trait::async_trait]
impl unibill_core::lock::WriteLock for RecordingLock {
    async fn acquire(
        &self,
        key: &unibill_core::lock::LockKey,
        _wait: Duration,
    ) -> unibill_core::Result<unibill_core::lock::LockGuard> {
        Ok(unibill_core::lock::LockGuard::new(
            key.clone(),
            Box::new(RecordingLease {
                lock: self.clone(),
                released: false,
            }),
        ))
    }
}
