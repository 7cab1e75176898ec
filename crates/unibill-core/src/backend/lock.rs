//! Per-customer write locks: how unibill keeps concurrent updates of one
//! customer from losing each other's edits.
//!
//! Fusebill's full-replacement `PUT`, Everlytic's fill-in of `name` and
//! `email`, and ChartMogul's several calls per update all read or write in
//! more than one step. Two updates of the same customer interleaving those
//! steps would each write over the other's edit while both report `Ok`.
//! So every write path holds a lock on the customer from its first read to
//! its last write:
//!
//! - the key is a [`LockKey`]: backend, account ([`AccountId`]: a hash of
//!   what identifies the account at the vendor, never the credentials
//!   themselves; see [`AccountScope`]) and the customer's canonical id.
//!   Different customers never share a lock, so updates to them run fully
//!   in parallel;
//! - the lock is a [`WriteLock`]: by default [`InProcessLock::global`], one
//!   registry for the whole process, so two clients built separately for
//!   the same account serialise too. A lock shared by several processes
//!   (on Redis, say) implements the same trait and is plugged in through
//!   [`WriteLocking::Shared`];
//! - waiting is bounded ([`CustomerLocks::wait`]): a lock that cannot be had
//!   in time is [`Error::Lock`] with [`LockFailure::TimedOut`], never an
//!   unlocked write.
//!
//! ```
//! # async fn demo() -> unibill_core::Result<()> {
//! use std::time::Duration;
//! use unibill_core::lock::{AccountId, CustomerLocks, WriteLocking};
//! use unibill_core::{BackendKind, CustomerId};
//!
//! let locks = CustomerLocks::new(
//!     BackendKind::new("demo"),
//!     AccountId::of("https://api.example.com", b"credentials"),
//!     &WriteLocking::InProcess,
//!     Duration::from_secs(5),
//! );
//! let guard = locks.acquire(&CustomerId::from("42")).await?;
//! guard.ensure_held()?; // before each write
//! guard.release().await; // the next update of customer 42 may start
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Weak};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::OwnedMutexGuard;

use crate::error::{excerpt, Error, Result};
use crate::kind::{BackendKind, CustomerId};

/// How long an update waits for another update of the same customer by
/// default before giving up with [`LockFailure::TimedOut`]: 120 seconds,
/// enough for a queue of updates at the vendors' rate limits.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(120);

/// What identifies the account a client writes to at its vendor, and so
/// which clients share a customer's write lock (and a shared rate budget):
/// the rule a backend declares for its vendor
/// ([`ClientOptions::default_account_scope`](crate::transport::ClientOptions::default_account_scope)).
///
/// Whatever the rule, a caller may name the account instead
/// ([`TransportConfig::account`](crate::transport::TransportConfig::account)):
/// for two keys of one account during a key rotation, or one account
/// reached through a proxy under another host name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AccountScope {
    /// The base URL and the credentials: the safe rule for a vendor the
    /// transport knows nothing about (the default).
    #[default]
    BaseUrlAndCredentials,
    /// The credentials alone: the vendor issues each key for one account,
    /// and answers it at any address it is reached by (ChartMogul,
    /// Fusebill). Two spellings of the host (`127.0.0.1` and `localhost`,
    /// an IP for a name, a proxy) are one account.
    Credentials,
    /// The base URL alone: each install is one account, and every user and
    /// key of it reaches the same customers (Everlytic). Two users, or a
    /// new key, of one install are one account, so their updates of one
    /// customer are serialised.
    BaseUrl,
}

/// Which account a client talks to, without revealing its credentials: the
/// first 128 bits of SHA-256 over what identifies the account at the
/// vendor ([`AccountScope`]), in hex. Stable across processes and
/// machines, so a lock shared between processes keys on it too.
///
/// The base URL that goes into it is normalised first (as
/// [`Transport::new`](crate::transport::Transport::new) does: scheme and
/// host in lower case, no default port, no trailing slash), so spellings
/// of one address are one account. `Display` shows the 32 hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccountId(String);

impl AccountId {
    /// The id of the account reached at `base_url` with `credentials` (any
    /// bytes that identify the account, such as the `Authorization`
    /// header, or the user name). Either part may be empty when the
    /// account's [`AccountScope`] leaves it out.
    ///
    /// ```
    /// use unibill_core::lock::AccountId;
    /// let a = AccountId::of("https://x.example", b"Basic a2V5Og==");
    /// assert_eq!(a, AccountId::of("https://x.example", b"Basic a2V5Og=="));
    /// assert_ne!(a, AccountId::of("https://y.example", b"Basic a2V5Og=="));
    /// assert_eq!(a.to_string().len(), 32);
    /// assert!(!a.to_string().contains("a2V5"));
    /// ```
    pub fn of(base_url: &str, credentials: &[u8]) -> Self {
        Self::digest(&[
            b"unibill-account-v1\0",
            base_url.as_bytes(),
            b"\0",
            credentials,
        ])
    }

    /// The id of an account the caller named (the `account` setting):
    /// every client of one backend given the same name shares the
    /// account's locks and budget, whatever its base URL or credentials.
    /// Surrounding white space is ignored.
    ///
    /// ```
    /// use unibill_core::lock::AccountId;
    /// let a = AccountId::named("acme-billing");
    /// assert_eq!(a, AccountId::named(" acme-billing "));
    /// assert_ne!(a, AccountId::named("acme-staging"));
    /// assert_ne!(a, AccountId::of("acme-billing", b""));
    /// ```
    pub fn named(name: &str) -> Self {
        Self::digest(&[b"unibill-account-name-v1\0", name.trim().as_bytes()])
    }

    fn digest(parts: &[&[u8]]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, &parts.concat());
        let hex = digest.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self(hex)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The key of one customer's write lock: `{backend}:{account}:{customer}`.
///
/// ```
/// use unibill_core::lock::{AccountId, LockKey};
/// use unibill_core::{BackendKind, CustomerId};
/// let account = AccountId::of("https://x.example", b"k");
/// let key = LockKey::new(BackendKind::new("demo"), &account, &CustomerId::from("42"));
/// assert_eq!(key.as_str(), format!("demo:{account}:42"));
/// assert_eq!(key.customer(), "42");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LockKey {
    text: String,
    customer_at: usize,
    backend: BackendKind,
}

impl LockKey {
    /// The key of `customer` (its canonical id) at `backend`'s `account`.
    pub fn new(backend: BackendKind, account: &AccountId, customer: &CustomerId) -> Self {
        let prefix = format!("{backend}:{account}:");
        let customer_at = prefix.len();
        Self {
            text: prefix + customer.as_str(),
            customer_at,
            backend,
        }
    }

    /// The whole key.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The customer part.
    pub fn customer(&self) -> &str {
        &self.text[self.customer_at..]
    }

    /// The error for a lock on this key that could not be had or kept.
    pub fn error(&self, reason: LockFailure) -> Error {
        Error::Lock {
            backend: self.backend,
            customer: excerpt(self.customer()).unwrap_or_default(),
            reason,
        }
    }
}

/// Why a customer's write lock could not be had or was lost; the reason of
/// [`Error::Lock`]. Every case is retryable and in every case nothing was
/// written after the failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockFailure {
    /// Other updates of the customer held the lock for longer than the
    /// wait allowed.
    #[error("another update of this customer held its write lock for the whole {:.3}s wait", .0.as_secs_f64())]
    TimedOut(Duration),
    /// The lock service could not be reached (a shared lock only).
    #[error("the lock service is unavailable: {0}")]
    Unavailable(String),
    /// The lease ran out or was taken over before the write (a shared lock
    /// only); the write was not sent.
    #[error("the lock's lease was lost before the write; nothing more was sent")]
    Lost,
}

/// A held lease on one customer's lock.
///
/// [`Self::release`] gives it back and returns once the lock service has
/// it back; dropping the lease without it must release it too, as a
/// fallback (a cancelled task), though perhaps later: a lock shared
/// between processes cannot await its service in `drop`, and a process
/// that ends right after its update may never get to send the release.
#[async_trait]
pub trait Lease: Send + Sync {
    /// `Ok` while the lease is still held; [`LockFailure::Lost`] (or another
    /// failure) once it is not. Checked before every write.
    fn check(&self) -> std::result::Result<(), LockFailure>;

    /// Releases the lock and returns once it is released (or, for a
    /// shared lock whose service cannot be reached, once trying failed: its
    /// lease then runs out on its own). The default drops the lease, for
    /// locks whose drop releases at once.
    async fn release(self: Box<Self>) {
        drop(self);
    }
}

/// A held customer lock. [`Self::release`] releases it and waits until it
/// is released (what the update path does); dropping the guard releases
/// it too, in the background for a lock shared between processes.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard {
    key: LockKey,
    lease: Option<Box<dyn Lease>>,
}

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("key", &self.key)
            .field("locked", &self.lease.is_some())
            .finish()
    }
}

impl LockGuard {
    /// A guard over `lease` for `key` (for [`WriteLock`] implementations).
    pub fn new(key: LockKey, lease: Box<dyn Lease>) -> Self {
        Self {
            key,
            lease: Some(lease),
        }
    }

    /// A guard that holds nothing: what [`WriteLocking::Off`] hands out.
    pub(crate) fn unlocked(key: LockKey) -> Self {
        Self { key, lease: None }
    }

    /// The key this guard is for.
    pub fn key(&self) -> &LockKey {
        &self.key
    }

    /// `Ok` while the lock is still held: a backend calls it before every
    /// write and sends nothing more once it fails.
    pub fn ensure_held(&self) -> Result<()> {
        match &self.lease {
            Some(lease) => lease.check().map_err(|reason| self.key.error(reason)),
            None => Ok(()),
        }
    }
    /// Releases the lock and waits until the lock service has it back, so
    /// the next update of the customer, in this process or another, finds
    /// it free. A process may end right after this returns.
    pub async fn release(mut self) {
        if let Some(lease) = self.lease.take() {
            lease.release().await;
        }
    }
}

/// A lock service: hands out one [`LockGuard`] per key at a time.
///
/// Implementations must be fair enough that waiting updates of one
/// customer are served roughly in arrival order, bound every wait by
/// `wait` ([`LockFailure::TimedOut`] after it), and make sure a holder that
/// disappears (a dropped task, a dead process) does not block the key
/// forever: dropping the guard releases it, and a lock shared between
/// processes must expire a lease whose holder stopped renewing it.
#[async_trait]
pub trait WriteLock: Send + Sync + fmt::Debug {
    /// Waits at most `wait` for the lock on `key`.
    async fn acquire(&self, key: &LockKey, wait: Duration) -> Result<LockGuard>;
}

/// Which lock serialises the writes of a client.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum WriteLocking {
    /// The process-wide [`InProcessLock::global`] (the default): every
    /// client of this process shares it, however it was built.
    #[default]
    InProcess,
    /// A lock of the caller's choosing, e.g. one shared by several
    /// processes.
    Shared(Arc<dyn WriteLock>),
    /// No lock at all. Only for callers that already make sure no two
    /// updates of one customer run at once (e.g. one worker per customer
    /// partition), and for measuring the lock's cost: concurrent updates of
    /// one customer may then lose edits.
    Off,
}

/// The write locks of one client: which lock, for which backend and
/// account, and how long to wait. Every backend holds one (built with its
/// transport) and [`CustomerUpdater::update_with`] takes the customer's
/// lock from it around the backend's read-modify-write.
///
/// [`CustomerUpdater::update_with`]: crate::CustomerUpdater::update_with
#[derive(Clone, Debug)]
pub struct CustomerLocks {
    backend: BackendKind,
    account: AccountId,
    lock: Option<Arc<dyn WriteLock>>,
    wait: Duration,
}

impl CustomerLocks {
    /// The locks of a client of `backend` on `account`, per `locking`
    /// (what a client gets unless configured otherwise:
    /// [`WriteLocking::InProcess`] and [`DEFAULT_LOCK_WAIT`]).
    pub fn new(
        backend: BackendKind,
        account: AccountId,
        locking: &WriteLocking,
        wait: Duration,
    ) -> Self {
        let lock = match locking {
            WriteLocking::InProcess => {
                Some(Arc::new(InProcessLock::global()) as Arc<dyn WriteLock>)
            }
            WriteLocking::Shared(lock) => Some(Arc::clone(lock)),
            WriteLocking::Off => None,
        };
        Self {
            backend,
            account,
            lock,
            wait,
        }
    }

    /// The account the locks are scoped to.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// How long [`Self::acquire`] waits.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// Takes `customer`'s lock (keyed by its canonical id), waiting at
    /// most [`Self::wait`].
    pub async fn acquire(&self, customer: &CustomerId) -> Result<LockGuard> {
        let key = LockKey::new(self.backend, &self.account, customer);
        match &self.lock {
            Some(lock) => lock.acquire(&key, self.wait).await,
            None => Ok(LockGuard::unlocked(key)),
        }
    }
}

/// The mutex of one key, shared by its holder and its waiters.
type Slot = Arc<tokio::sync::Mutex<()>>;

/// The in-process [`WriteLock`]: one fair (first come, first served) async
/// mutex per key, kept in a map only while some update holds or waits for
/// it, so memory stays flat however many customers are updated. Clones
/// share the map.
///
/// A holder cannot disappear without dropping its guard (a cancelled or
/// panicking task drops it), so no lease is needed in one process.
#[derive(Clone, Default)]
pub struct InProcessLock {
    slots: Arc<Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>>,
}

impl fmt::Debug for InProcessLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcessLock")
            .field("keys", &self.len())
            .finish()
    }
}

static GLOBAL: LazyLock<InProcessLock> = LazyLock::new(InProcessLock::new);

impl InProcessLock {
    /// A registry of its own (two of them do not exclude each other: use
    /// [`Self::global`] unless you mean to keep a set of clients apart).
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry every client of this process uses by default.
    pub fn global() -> InProcessLock {
        GLOBAL.clone()
    }

    /// How many keys are held or waited for right now.
    pub(crate) fn len(&self) -> usize {
        self.slots().len()
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<String, Weak<tokio::sync::Mutex<()>>>> {
        // A panic while holding the map cannot leave it inconsistent (each
        // operation is one insert or remove), so poisoning is ignored.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The mutex of `key`, created if nobody holds or waits for it.
    fn slot(&self, key: &str) -> Slot {
        let mut slots = self.slots();
        if let Some(live) = slots.get(key).and_then(Weak::upgrade) {
            return live;
        }
        let slot = Slot::default();
        slots.insert(key.to_owned(), Arc::downgrade(&slot));
        slot
    }
}

/// The lease of an in-process lock: the key's mutex guard once it is had.
/// Dropping it, or a wait for it that timed out or was cancelled, forgets
/// the key when nobody holds or waits for it any more (the wait's own
/// reference to the mutex is gone by then).
struct InProcessLease {
    lock: InProcessLock,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for InProcessLease {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut slots = self.lock.slots();
        if slots.get(&self.key).is_some_and(|w| w.strong_count() == 0) {
            slots.remove(&self.key);
        }
    }
}

impl Lease for InProcessLease {
    fn check(&self) -> std::result::Result<(), LockFailure> {
        Ok(())
    }
}

#[async_trait]
impl WriteLock for InProcessLock {
    async fn acquire(&self, key: &LockKey, wait: Duration) -> Result<LockGuard> {
        let slot = self.slot(key.as_str());
        let mut lease = InProcessLease {
            lock: self.clone(),
            key: key.as_str().to_owned(),
            guard: None,
        };
        let locked = tokio::time::timeout(wait, slot.lock_owned()).await;
        match locked {
            Ok(guard) => {
                lease.guard = Some(guard);
                Ok(LockGuard::new(key.clone(), Box::new(lease)))
            }
            Err(_) => Err(key.error(LockFailure::TimedOut(wait))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn locks(registry: &InProcessLock, wait: Duration) -> CustomerLocks {
        CustomerLocks::new(
            BackendKind::new("demo"),
            AccountId::of("https://x.example", b"k"),
            &WriteLocking::Shared(Arc::new(registry.clone())),
            wait,
        )
    }

    #[tokio::test]
    async fn one_holder_per_key_and_keys_are_independent() {
        let registry = InProcessLock::new();
        let l = locks(&registry, Duration::from_millis(50));
        let a = l.acquire(&"a".into()).await.unwrap();
        // A second holder of "a" times out with a typed, retryable error...
        let e = l.acquire(&"a".into()).await.unwrap_err();
        assert!(
            matches!(&e, Error::Lock { reason: LockFailure::TimedOut(_), customer, .. } if customer == "a"),
            "{e:?}"
        );
        assert!(e.is_retryable());
        // ...while "b" is free.
        let b = l.acquire(&"b".into()).await.unwrap();
        assert_eq!(registry.len(), 2);
        drop(a);
        let a2 = l.acquire(&"a".into()).await.unwrap();
        drop((a2, b));
        assert_eq!(registry.len(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn holders_never_overlap_and_entries_are_freed() {
        let registry = InProcessLock::new();
        let l = locks(&registry, Duration::from_secs(30));
        let inside = Arc::new(AtomicUsize::new(0));
        let max_inside = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for n in 0..200u32 {
            let (l, inside, max_inside) = (l.clone(), inside.clone(), max_inside.clone());
            tasks.push(tokio::spawn(async move {
                let id = CustomerId::from(format!("c{}", n % 4));
                let g = l.acquire(&id).await.unwrap();
                if id.as_str() == "c0" {
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    max_inside.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
                drop(g);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(max_inside.load(Ordering::SeqCst), 1);
        assert_eq!(registry.len(), 0, "{registry:?}");
    }

    #[tokio::test]
    async fn a_cancelled_waiter_leaves_no_entry_behind() {
        let registry = InProcessLock::new();
        let l = locks(&registry, Duration::from_secs(30));
        let held = l.acquire(&"x".into()).await.unwrap();
        let waiter = {
            let l = l.clone();
            tokio::spawn(async move { l.acquire(&"x".into()).await.map(drop) })
        };
        tokio::task::yield_now().await;
        waiter.abort();
        let _ = waiter.await;
        drop(held);
        assert_eq!(registry.len(), 0, "{registry:?}");
    }

    #[tokio::test]
    async fn waiters_are_served_in_arrival_order() {
        let registry = InProcessLock::new();
        let l = locks(&registry, Duration::from_secs(30));
        let held = l.acquire(&"x".into()).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for n in 0..8 {
            let (l, order) = (l.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _g = l.acquire(&"x".into()).await.unwrap();
                order.lock().unwrap().push(n);
            }));
            // Let task n queue up before task n + 1 starts.
            for _ in 0..4 {
                tokio::task::yield_now().await;
            }
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..8).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn off_hands_out_guards_that_hold_nothing() {
        let l = CustomerLocks::new(
            BackendKind::new("demo"),
            AccountId::of("https://x.example", b"k"),
            &WriteLocking::Off,
            Duration::from_millis(1),
        );
        assert!(l.lock.is_none());
        let a = l.acquire(&"a".into()).await.unwrap();
        let b = l.acquire(&"a".into()).await.unwrap();
        assert!(a.ensure_held().is_ok() && b.ensure_held().is_ok());
    }

    #[test]
    fn keys_scope_backend_account_and_customer() {
        let acc = AccountId::of("https://x.example", b"secret-key");
        let k = LockKey::new(BackendKind::new("demo"), &acc, &"7".into());
        assert_eq!(k.backend, BackendKind::new("demo"));
        assert!(!k.as_str().contains("secret"));
        assert_ne!(
            k,
            LockKey::new(
                BackendKind::new("demo"),
                &AccountId::of("https://x.example", b"other-key"),
                &"7".into()
            )
        );
    }
}
