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
use unibill_core::lock::{AccountId, WriteLocking, DEFAULT_LOCK_WAIT};
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

/// A [`Backend`] that keeps customers in memory, logs every hook call and
/// journals the requests a vendor would have received.
///
/// - Every id exists: an id never stored reads as a blank customer (its
///   `raw` is `null`), and an update stores it; unless the store is
///   [`Self::only_stored`], where such an id is [`Error::NotFound`].
/// - `apply` checks the lock is held, yields to the runtime once, applies the text fields and tag
///   changes of the patch, and reports one write `PATCH memory://{id}`
///   whose body is the change as a JSON merge patch (each text field the
///   patch sets or clears by its neutral name, and the whole `tags` list
///   when it changed), or none when the customer did not change. When the update named the
///   customer by a reference that no longer matches the stored record, it
///   writes nothing and fails with [`Error::Conflict`], as the vendors'
///   backends do.
/// - Lookups by email and external reference search the stored
///   customers, unless answers were scripted ([`Self::with_lookups`]).
/// - Capabilities: [`STORED`] readable, settable and clearable, tags
///   settable, both lookups; replace them with [`Self::with_capabilities`].
/// - [`Self::requests`]: what a vendor's journal would hold, in order: a
///   `GET memory://{id}` per read, a `GET memory://?{lookup}={value}` per
///   lookup and each write as `apply` reported it (a dry run's plan is
///   no request).
#[derive(Debug)]
pub struct InMemory {
    caps: Capabilities,
    locks: CustomerLocks,
    canonical: Option<CanonicalId>,
    customers: Mutex<BTreeMap<CustomerId, Customer>>,
    script: Mutex<VecDeque<Vec<CustomerId>>>,
    log: Mutex<Vec<String>>,
    requests: Mutex<Vec<PlannedRequest>>,
    applied: AtomicUsize,
    retries: AtomicU64,
    keep: bool,
    only_stored: bool,
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
            locks: CustomerLocks::new(
                KIND,
                AccountId::of("memory://", b""),
                &WriteLocking::InProcess,
                DEFAULT_LOCK_WAIT,
            ),
            canonical: None,
            customers: Mutex::new(BTreeMap::new()),
            script: Mutex::new(VecDeque::new()),
            log: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            applied: AtomicUsize::new(0),
            retries: AtomicU64::new(0),
            keep: true,
            only_stored: false,
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

    /// Knows only the customers stored: reading, planning or applying an
    /// update to an id never stored is [`Error::NotFound`] (naming the
    /// capabilities' backend), as at a vendor.
    pub fn only_stored(mut self) -> Self {
        self.only_stored = true;
        self
    }

    /// Keeps nothing: no log, no journal, and updates are not stored (so every update
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

    /// The requests a vendor would have received so far, in order (see
    /// [`InMemory`]).
    pub fn requests(&self) -> Vec<PlannedRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// The writes among [`Self::requests`], in order.
    pub fn writes(&self) -> Vec<PlannedRequest> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.method != "GET")
            .cloned()
            .collect()
    }

    /// Empties the journal of [`Self::requests`].
    pub fn clear_requests(&self) {
        self.requests.lock().unwrap().clear();
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

    /// Journals `request` (unless the store keeps nothing).
    fn journal(&self, request: impl FnOnce() -> PlannedRequest) {
        if self.keep {
            self.requests.lock().unwrap().push(request());
        }
    }

    /// The stored customer `id`, or a blank one; and whether it is stored.
    /// [`Error::NotFound`] for an id never stored when the store is
    /// [`Self::only_stored`].
    fn read(&self, id: &CustomerId) -> Result<(Customer, bool)> {
        match self.customers.lock().unwrap().get(id) {
            Some(c) => Ok((c.clone(), true)),
            None if self.only_stored => Err(Error::NotFound {
                backend: self.caps.backend(),
                id: id.to_string(),
            }),
            None => Ok((Customer::new(id.clone(), Value::Null), false)),
        }
    }

    /// `customer` with the patch's text fields and tag changes applied,
    /// and the write that makes the change: a JSON merge patch of the text
    /// fields the patch sets or clears, and `tags` (the whole list) when
    /// they changed. `None` when the customer does not change.
    fn patched(customer: &Customer, patch: &CheckedPatch) -> (Customer, Option<Value>) {
        let mut next = customer.clone();
        let mut raw = match &next.raw {
            Value::Object(map) => map.clone(),
            _ => Map::new(),
        };
        let mut body = Map::new();
        for field in Field::ALL {
            let Some(change) = patch.text(*field) else {
                continue;
            };
            let value = match change {
                Change::Keep => continue,
                Change::Set(v) => {
                    raw.insert(field.name().to_owned(), Value::from(v.as_str()));
                    body.insert(field.name().to_owned(), Value::from(v.as_str()));
                    Some(v.clone())
                }
                Change::Clear => {
                    raw.remove(field.name());
                    body.insert(field.name().to_owned(), Value::Null);
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
        if next.tags != customer.tags {
            body.insert(
                Field::Tags.name().to_owned(),
                Value::from(next.tags.clone()),
            );
        }
        if !raw.is_empty() {
            next.raw = Value::Object(raw);
        }
        if next == *customer {
            return (next, None);
        }
        (next, Some(Value::Object(body)))
    }

    /// The write of `body` to customer `id`.
    fn write(id: &CustomerId, body: Value) -> PlannedRequest {
        PlannedRequest::new("PATCH", format!("memory://{id}"), Some(body))
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
        self.journal(|| PlannedRequest::new("GET", format!("memory://{id}"), None));
        Ok(self.read(id)?.0)
    }

    async fn lookup(&self, kind: LookupKind, value: &str) -> Result<Vec<CustomerId>> {
        self.note(|| format!("lookup {kind} {value}"));
        self.journal(|| {
            let query = format!("memory://?{kind}={value}");
            PlannedRequest::new("GET", query, None)
        });
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
        let (before, stored) = self.read(id)?;
        if let Some(reference) = patch.resolved_from() {
            if stored && !matches(&before, reference) {
                return Err(Error::Conflict {
                    backend: KIND,
                    message: format!("{reference} no longer names customer {id}"),
                });
            }
        }
        let (after, body) = Self::patched(&before, patch);
        let Some(body) = body else {
            return Ok(UpdateOutcome::new(after, Vec::new()));
        };
        // A vendor call yields to the runtime at least once.
        tokio::task::yield_now().await;
        let write = Self::write(id, body);
        if self.keep {
            // Stored and journaled together, so the journal's order is
            // the order the writes took effect in.
            let mut customers = self.customers.lock().unwrap();
            customers.insert(after.id.clone(), after.clone());
            self.requests.lock().unwrap().push(write.clone());
        }
        Ok(UpdateOutcome::new(after, vec![write]))
    }

    async fn plan(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
        self.note(|| format!("plan {id}"));
        let (before, _) = self.read(id)?;
        let (_, body) = Self::patched(&before, patch);
        Ok(body.map(|b| Self::write(id, b)).into_iter().collect())
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

    /// The journal holds what a vendor would have received: reads,
    /// lookups and each write with its body, which is the body the dry run
    /// planned; no-op updates and plans are no requests.
    #[tokio::test]
    async fn the_journal_holds_reads_lookups_and_writes_with_their_bodies() {
        let store = InMemory::new().with_customer(ada());
        let one = CustomerId::from("1");
        store.get(&one).await.unwrap();
        store
            .find(&CustomerRef::email("ada@example.com"))
            .await
            .unwrap();
        let patch = CustomerPatch::new()
            .city("Oslo")
            .clear(Field::ExternalReference)
            .add_tag("vip");
        let options = UpdateOptions::default();
        let dry = store.dry_run(&one, &patch, &options).await;
        let out = store.update_with(&one, &patch, &options).await.unwrap();
        let again = store.update_with(&one, &patch, &options).await;
        assert!(!again.unwrap().changed());
        let body = serde_json::json!({"address.city": "Oslo", "external_reference": null, "tags": ["vip"]});
        let write = PlannedRequest::new("PATCH", "memory://1", Some(body));
        assert_eq!(out.writes, std::slice::from_ref(&write));
        assert_eq!(dry.unwrap().writes, out.writes);
        let lines: Vec<String> = store.requests().iter().map(|r| r.to_string()).collect();
        assert_eq!(
            lines[..2],
            ["GET memory://1", "GET memory://?email=ada@example.com"]
        );
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(store.writes(), [write]);
        store.clear_requests();
        assert!(store.requests().is_empty());
        assert_eq!(store.customer("1").unwrap().raw["address.city"], "Oslo");
    }

    /// A store of known ids only answers like a vendor for any other id:
    /// not found, from a read, a dry run and an update, and nothing is
    /// stored or written.
    #[tokio::test]
    async fn an_only_stored_store_does_not_find_an_id_never_stored() {
        let caps = Capabilities::new(BackendKind::new("shop")).with_all(&STORED, FieldCaps::ALL);
        let store = InMemory::new()
            .with_capabilities(caps)
            .only_stored()
            .with_customer(ada());
        let nine = CustomerId::from("9");
        let patch = CustomerPatch::new().city("Oslo");
        let options = UpdateOptions::default();
        let errors = [
            store.get(&nine).await.unwrap_err(),
            store.dry_run(&nine, &patch, &options).await.unwrap_err(),
            store.update(&nine, &patch).await.unwrap_err(),
        ];
        for e in errors {
            assert!(
                matches!(&e, Error::NotFound { backend, id } if backend.as_str() == "shop" && id == "9"),
                "{e:?}"
            );
        }
        assert!(store.customer("9").is_none());
        assert!(store.writes().is_empty());
        assert!(store.update(&CustomerId::from("1"), &patch).await.is_ok());
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
        assert!(store.requests().is_empty());
    }
}
