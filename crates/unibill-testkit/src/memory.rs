//! [`InMemory`]: a [`Backend`] over an in-memory map, so every test (and
//! benchmark) of what callers call — `get`, `update`, `dry_run`, `find`,
//! `resolve`, bulk runs — runs the one caller path of
//! [`CustomerUpdater`](unibill_core::CustomerUpdater) without HTTP.
//! `object_store`'s `InMemory` store is the model.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use unibill_core::{Customer, CustomerPatch, CustomerRef, CustomerUpdater};
//! use unibill_testkit::memory::InMemory;
//!
//! let mut ada = Customer::new("1", serde_json::Value::Null);
//! ada.email = Some("ada@example.com".into());
//! let store = InMemory::new().with_customer(ada);
//! let out = store
//!     .update(&CustomerRef::email("ada@example.com"), &CustomerPatch::new().city("Oslo"))
//!     .await
//!     .unwrap();
//! assert_eq!(out.address.city.as_deref(), Some("Oslo"));
//! assert_eq!(store.applied(), 1);
//! assert_eq!(store.log(), ["lookup email ada@example.com", "lookup email ada@example.com", "apply 1 locked 1"]);
//! # });
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{Map, Value};
use unibill_core::lock::AccountId;
use unibill_core::{
    async_trait, Backend, BackendKind, Capabilities, Change, CheckedPatch, Customer, CustomerId,
    CustomerLocks, CustomerRef, Error, Field, FieldCaps, LockGuard, LookupKind, PlannedRequest,
    Result, UpdateOutcome,
};

/// The backend kind of [`InMemory`].
pub const KIND: BackendKind = BackendKind::new("memory");

/// The text fields [`InMemory`] stores in a [`Customer`]'s typed fields
/// (every text field a patch sets is also kept in [`Customer::raw`] under
/// its neutral name).
pub const STORED: [Field; 6] = [
    Field::DisplayName,
    Field::Company,
    Field::Email,
    Field::Phone,
    Field::City,
    Field::ExternalReference,
];

/// How [`InMemory`] spells ids.
pub type CanonicalId = fn(&CustomerId) -> Result<CustomerId>;

/// A [`Backend`] that keeps customers in memory and logs every hook call.
///
/// - Every id exists: an id never stored reads as a blank customer (its
///   `raw` is `null`), and an update stores it.
/// - `apply` checks the lock is held, yields to the runtime once, applies the text fields and tag
///   changes of the patch, and reports one write `PUT memory://{id}`, or
///   none when the customer did not change. When the update named the
///   customer by a reference that no longer matches the stored record, it
///   writes nothing and fails with [`Error::Conflict`], as the vendors'
///   backends do.
/// - Lookups by email and external reference search the stored
///   customers, unless answers were scripted ([`Self::with_lookups`]).
/// - Capabilities: [`STORED`] readable, settable and clearable, tags
///   settable, both lookups; replace them with [`Self::with_capabilities`].
#[derive(Debug)]
pub struct InMemory {
    caps: Capabilities,
    locks: CustomerLocks,
    canonical: Option<CanonicalId>,
    customers: Mutex<BTreeMap<CustomerId, Customer>>,
    script: Mutex<VecDeque<Vec<CustomerId>>>,
    log: Mutex<Vec<String>>,
    applied: AtomicUsize,
    retries: AtomicU64,
    keep: bool,
}

impl Default for InMemory {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemory {
    /// An empty store with the default capabilities, sharing the
    /// process-wide write locks of account `memory://` (as every client of
    /// one vendor account does).
    pub fn new() -> Self {
        Self {
            caps: Capabilities::new(KIND)
                .with_all(&STORED, FieldCaps::ALL)
                .with(Field::Tags, FieldCaps::ALL)
                .with_lookup(LookupKind::Email)
                .with_lookup(LookupKind::External),
            locks: CustomerLocks::in_process(KIND, AccountId::of("memory://", b"")),
            canonical: None,
            customers: Mutex::new(BTreeMap::new()),
            script: Mutex::new(VecDeque::new()),
            log: Mutex::new(Vec::new()),
            applied: AtomicUsize::new(0),
            retries: AtomicU64::new(0),
            keep: true,
        }
    }

    /// Declares `caps` instead (their backend kind should be [`KIND`]).
    pub fn with_capabilities(mut self, caps: Capabilities) -> Self {
        self.caps = caps;
        self
    }

    /// Uses `locks` as its write locks (e.g. another account's, or a
    /// shared [`WriteLock`](unibill_core::lock::WriteLock)).
    pub fn with_locks(mut self, locks: CustomerLocks) -> Self {
        self.locks = locks;
        self
    }

    /// Spells ids with `canonical` ([`Backend::canonical_id`]).
    pub fn with_canonical_id(mut self, canonical: CanonicalId) -> Self {
        self.canonical = Some(canonical);
        self
    }

    /// Keeps nothing: no log, and updates are not stored (so every update
    /// reports its write). For benchmarks, where the store would
    /// otherwise grow with the run and count as the caller path's memory.
    pub fn forgetful(mut self) -> Self {
        self.keep = false;
        self
    }

    /// Stores `customer` (by its id).
    pub fn with_customer(self, customer: Customer) -> Self {
        self.insert(customer);
        self
    }

    /// Lookups answer from this script instead of the stored customers:
    /// one answer per lookup, the last one repeated.
    pub fn with_lookups(self, answers: &[&[&str]]) -> Self {
        *self.script.lock().unwrap() = answers
            .iter()
            .map(|a| a.iter().map(|id| CustomerId::from(*id)).collect())
            .collect();
        self
    }

    /// Stores `customer`, replacing the one with its id.
    pub fn insert(&self, customer: Customer) {
        self.customers
            .lock()
            .unwrap()
            .insert(customer.id.clone(), customer);
    }

    /// The stored customer `id`, if any.
    pub fn customer(&self, id: &str) -> Option<Customer> {
        self.customers
            .lock()
            .unwrap()
            .get(&CustomerId::from(id))
            .cloned()
    }

    /// Every hook call so far, in order: `fetch {id}`,
    /// `lookup {kind} {value}`, `apply {id} locked {locked id}`,
    /// `plan {id}`.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// How many times `apply` was called.
    pub fn applied(&self) -> usize {
        self.applied.load(Ordering::SeqCst)
    }

    /// Counts `n` more retries ([`Backend::retries`]).
    pub fn add_retries(&self, n: u64) {
        self.retries.fetch_add(n, Ordering::SeqCst);
    }

    fn note(&self, line: impl FnOnce() -> String) {
        if self.keep {
            self.log.lock().unwrap().push(line());
        }
    }

    /// The stored customer `id`, or a blank one; and whether it is stored.
    fn read(&self, id: &CustomerId) -> (Customer, bool) {
        match self.customers.lock().unwrap().get(id) {
            Some(c) => (c.clone(), true),
            None => (Customer::new(id.clone(), Value::Null), false),
        }
    }

    /// `customer` with the patch's text fields and tag changes applied.
    fn patched(customer: &Customer, patch: &CheckedPatch) -> Customer {
        let mut next = customer.clone();
        let mut raw = match &next.raw {
            Value::Object(map) => map.clone(),
            _ => Map::new(),
        };
        for field in Field::ALL {
            let Some(change) = patch.text(*field) else {
                continue;
            };
            let value = match change {
                Change::Keep => continue,
                Change::Set(v) => {
                    raw.insert(field.name().to_owned(), Value::from(v.as_str()));
                    Some(v.clone())
                }
                Change::Clear => {
                    raw.remove(field.name());
                    None
                }
            };
            if let Some(slot) = text_slot(&mut next, *field) {
                *slot = value;
            }
        }
        next.tags.retain(|t| !patch.tags.remove.contains(t));
        for tag in &patch.tags.add {
            if !next.tags.contains(tag) {
                next.tags.push(tag.clone());
            }
        }
        if !raw.is_empty() {
            next.raw = Value::Object(raw);
        }
        next
    }
}

/// The typed field of `customer` holding text field `field`, for
/// [`STORED`].
fn text_slot(customer: &mut Customer, field: Field) -> Option<&mut Option<String>> {
    Some(match field {
        Field::DisplayName => &mut customer.name,
        Field::Company => &mut customer.company,
        Field::Email => &mut customer.email,
        Field::Phone => &mut customer.phone,
        Field::City => &mut customer.address.city,
        Field::ExternalReference => &mut customer.external_reference,
        _ => return None,
    })
}

/// Whether `customer` is named by `reference` (an id always is).
fn matches(customer: &Customer, reference: &CustomerRef) -> bool {
    let stored = match reference.lookup_kind() {
        Some(LookupKind::Email) => &customer.email,
        Some(LookupKind::External) => &customer.external_reference,
        _ => return true,
    };
    stored.as_deref() == Some(reference.as_str())
}

#[async_trait]
impl Backend for InMemory {
    fn kind(&self) -> BackendKind {
        KIND
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn locks(&self) -> &CustomerLocks {
        &self.locks
    }

    fn canonical_id(&self, id: &CustomerId) -> Result<CustomerId> {
        match self.canonical {
            Some(canonical) => canonical(id),
            None => Ok(id.clone()),
        }
    }

    async fn fetch(&self, id: &CustomerId) -> Result<Customer> {
        self.note(|| format!("fetch {id}"));
        Ok(self.read(id).0)
    }

    async fn lookup(&self, kind: LookupKind, value: &str) -> Result<Vec<CustomerId>> {
        self.note(|| format!("lookup {kind} {value}"));
        {
            let mut script = self.script.lock().unwrap();
            if script.len() > 1 {
                return Ok(script.pop_front().unwrap_or_default());
            }
            if let Some(last) = script.front() {
                return Ok(last.clone());
            }
        }
        let reference = kind.reference(value);
        Ok(self
            .customers
            .lock()
            .unwrap()
            .values()
            .filter(|c| matches(c, &reference))
            .map(|c| c.id.clone())
            .collect())
    }

    async fn apply(
        &self,
        id: &CustomerId,
        patch: &CheckedPatch,
        lock: &LockGuard,
    ) -> Result<UpdateOutcome> {
        self.applied.fetch_add(1, Ordering::SeqCst);
        self.note(|| format!("apply {id} locked {}", lock.key().customer()));
        lock.ensure_held()?;
        let (before, stored) = self.read(id);
        if let Some(reference) = patch.resolved_from() {
            if stored && !matches(&before, reference) {
                return Err(Error::Conflict {
                    backend: KIND,
                    message: format!("{reference} no longer names customer {id}"),
                });
            }
        }
        let after = Self::patched(&before, patch);
        if after == before {
            return Ok(UpdateOutcome::new(after, Vec::new()));
        }
        // A vendor call yields to the runtime at least once.
        tokio::task::yield_now().await;
        if self.keep {
            self.insert(after.clone());
        }
        Ok(UpdateOutcome::new(
            after,
            vec![PlannedRequest::new("PUT", format!("memory://{id}"), None)],
        ))
    }

    async fn plan(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
        self.note(|| format!("plan {id}"));
        let (before, _) = self.read(id);
        Ok(if Self::patched(&before, patch) == before {
            Vec::new()
        } else {
            vec![PlannedRequest::new("PUT", format!("memory://{id}"), None)]
        })
    }

    fn retries(&self) -> u64 {
        self.retries.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unibill_core::{CustomerPatch, CustomerUpdater, UpdateOptions};

    fn ada() -> Customer {
        let mut c = Customer::new("1", Value::Null);
        c.email = Some("ada@example.com".into());
        c.external_reference = Some("crm-1".into());
        c
    }

    #[tokio::test]
    async fn lookups_search_the_stored_customers_as_they_are_now() {
        let store = InMemory::new().with_customer(ada());
        let by_ref = store.find(&CustomerRef::external("crm-1")).await.unwrap();
        assert_eq!(by_ref, [CustomerId::from("1")]);
        let patch = CustomerPatch::new().email("ada@new.example").add_tag("vip");
        let out = store
            .update(&CustomerRef::email("ada@example.com"), &patch)
            .await;
        assert_eq!(out.unwrap().tags, ["vip"]);
        let old = store.find(&CustomerRef::email("ada@example.com")).await;
        assert_eq!(old.unwrap(), Vec::<CustomerId>::new());
        let stored = store.customer("1").unwrap();
        assert_eq!(stored.email.as_deref(), Some("ada@new.example"));
        assert_eq!(stored.raw["email"], "ada@new.example");
    }

    #[tokio::test]
    async fn an_unchanged_customer_gets_no_write_and_a_dry_run_plans_none() {
        let store = InMemory::new();
        let id = CustomerId::from("2");
        let city = CustomerPatch::new().city("Oslo");
        let first = store
            .update_with(&id, &city, &UpdateOptions::default())
            .await;
        assert!(first.unwrap().changed());
        let again = store
            .update_with(&id, &city, &UpdateOptions::default())
            .await;
        assert!(!again.unwrap().changed());
        let dry = store.dry_run(&id, &city, &UpdateOptions::default()).await;
        assert!(dry.unwrap().writes.is_empty());
        assert_eq!(store.applied(), 2);
        assert_eq!(
            store.log(),
            ["apply 2 locked 2", "apply 2 locked 2", "plan 2"]
        );
    }

    /// The lookup (scripted) names customer 1, whose stored record does
    /// not have the email: the update writes nothing and fails.
    #[tokio::test]
    async fn a_reference_the_record_no_longer_has_is_a_conflict_with_nothing_written() {
        let store = InMemory::new().with_customer(ada()).with_lookups(&[&["1"]]);
        let e = store
            .update(
                &CustomerRef::email("someone@else.example"),
                &CustomerPatch::new().city("Oslo"),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Conflict { .. }), "{e:?}");
        assert_eq!(store.applied(), 1);
        assert_eq!(store.customer("1").unwrap().address.city, None);
    }

    #[tokio::test]
    async fn a_forgetful_store_keeps_nothing() {
        let store = InMemory::new().forgetful();
        let id = CustomerId::from("3");
        let city = CustomerPatch::new().city("Oslo");
        for _ in 0..2 {
            let out = store
                .update_with(&id, &city, &UpdateOptions::default())
                .await;
            assert!(out.unwrap().changed());
        }
        assert!(store.log().is_empty());
        assert!(store.customer("3").is_none());
    }
}
