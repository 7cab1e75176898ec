//! The [`CustomerUpdater`] trait and what it returns.

use std::collections::HashSet;
use std::fmt;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

use crate::backend::Backend;
use crate::capability::{Capabilities, Op, Target};
use crate::customer::Customer;
use crate::error::{Error, Result};
use crate::kind::CustomerId;
use crate::patch::CustomerPatch;
use crate::reference::{AsCustomerRef, CustomerRef, LookupKind, ENTRIES_PER_YIELD, MAX_MATCHES};

/// What to do with parts of a patch the backend cannot honour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnsupportedPolicy {
    /// Refuse the whole patch with
    /// [`Error::Unsupported`] (the default).
    #[default]
    Fail,
    /// Drop those parts, apply the rest, and list what was dropped in
    /// [`UpdateOutcome::ignored`].
    Ignore,
}

/// How a backend that reads a customer before writing it guards against an
/// edit made outside unibill (another program, the vendor's own UI)
/// between its read and its write, when the vendor offers no conditional
/// write (no ETag / If-Match). Updates made through unibill in this process
/// are already kept apart by the customer's write lock ([`crate::lock`]);
/// this check is for everyone else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictCheck {
    /// Read the customer again just before the write and compare it, as a
    /// whole, with the record the write was worked out from. When it
    /// changed, work the write out again from the fresh record (patches are
    /// declarative, so this is safe) and check again, for at most
    /// `max_rounds` rounds, then fail with
    /// [`Error::Conflict`] (unless the patch changes
    /// nothing on the last record read: then nothing is written and the
    /// update succeeds). Costs one more `GET` per update that reads and
    /// writes. The default, with 3 rounds.
    Reread {
        /// Rounds before giving up (at least 1).
        max_rounds: u32,
    },
    /// No re-read: read, then write. An edit made by someone else between
    /// the two is overwritten.
    Off,
}

impl Default for ConflictCheck {
    fn default() -> Self {
        ConflictCheck::Reread { max_rounds: 3 }
    }
}

impl ConflictCheck {
    /// The re-read rounds allowed (at least 1), or `None` for
    /// [`ConflictCheck::Off`].
    pub fn reread_rounds(&self) -> Option<u32> {
        match self {
            ConflictCheck::Reread { max_rounds } => Some((*max_rounds).max(1)),
            ConflictCheck::Off => None,
        }
    }
}

/// Options for [`CustomerUpdater::update_with`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateOptions {
    /// What to do with unsupported fields.
    pub unsupported: UnsupportedPolicy,
}

impl UpdateOptions {
    /// Options that ignore unsupported fields instead of failing.
    pub fn ignore_unsupported() -> Self {
        Self {
            unsupported: UnsupportedPolicy::Ignore,
        }
    }
}

/// A change that was left out because the backend cannot do it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Ignored {
    /// The field, or another backend's extension.
    pub field: Target,
    /// Set or clear.
    pub op: Op,
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op, self.field)
    }
}

/// A patch that passed validation and the backend's capability check: the
/// only form a backend's [`Backend::apply`] accepts, so no backend
/// can skip the checks.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedPatch {
    patch: CustomerPatch,
    ignored: Vec<Ignored>,
    resolved_from: Option<CustomerRef>,
}

impl CheckedPatch {
    /// Checks `patch` against `caps` (refusing or dropping what the
    /// backend cannot do, per `options`), then validates what remains.
    pub fn check(
        caps: &Capabilities,
        patch: &CustomerPatch,
        options: &UpdateOptions,
    ) -> Result<Self> {
        let (mut effective, mut ignored) = match options.unsupported {
            UnsupportedPolicy::Fail => {
                caps.check(patch)?;
                (patch.clone(), Vec::new())
            }
            UnsupportedPolicy::Ignore => {
                // The same rule as the portability check: one list of what
                // this backend refuses (foreign extensions handled below,
                // with the unknown-key check).
                let ignored: Vec<Ignored> = caps
                    .unsupported_in(patch)
                    .into_iter()
                    .filter(|i| i.field != Target::Extensions)
                    .collect();
                let effective = ignored.iter().fold(patch.clone(), |p, i| match i.field {
                    Target::Field(f) => p.without(f, i.op),
                    Target::Extensions => p,
                });
                (effective, ignored)
            }
        };
        let own = caps.backend().as_str();
        let keys: Vec<String> = patch
            .extensions
            .keys()
            .filter(|k| *k != own)
            .map(str::to_owned)
            .collect();
        // Read (under its lock) only when a foreign key needs it; the
        // backend's own key is always known.
        let mut known = Vec::new();
        if !keys.is_empty() {
            known = crate::patch::known_extension_keys();
            if let Err(at) = known.binary_search(&own) {
                known.insert(at, own);
            }
        }
        for key in keys {
            if !known.contains(&key.as_str()) {
                return Err(crate::Error::validation(
                    format!("extensions.{}", crate::error::clip(&key)),
                    format!(
                        "unknown extension `{}`: the known backends are {}",
                        crate::error::clip(&key),
                        known.join(", ")
                    ),
                ));
            }
            match options.unsupported {
                UnsupportedPolicy::Fail => {
                    return Err(crate::Error::Unsupported {
                        backend: caps.backend(),
                        field: Target::Extensions,
                        op: Op::Set,
                    })
                }
                UnsupportedPolicy::Ignore => {
                    effective.extensions.remove(&key);
                    let entry = Ignored {
                        field: Target::Extensions,
                        op: Op::Set,
                    };
                    if !ignored.contains(&entry) {
                        ignored.push(entry);
                    }
                }
            }
        }
        effective.validate()?;
        Ok(Self {
            patch: effective,
            ignored,
            resolved_from: None,
        })
    }

    /// The email or external reference the customer of this update was
    /// looked up by, when it was named so (`None` for an update by id).
    /// A backend whose update reads the customer before writing checks
    /// that the record it last read still matches it, and otherwise writes
    /// nothing and fails with [`Error::Conflict`]: the reference may have
    /// moved to another customer since it was resolved.
    pub fn resolved_from(&self) -> Option<&CustomerRef> {
        self.resolved_from.as_ref()
    }

    /// The same patch, for a customer found by `reference`
    /// ([`Self::resolved_from`]); set only by the caller path.
    pub(crate) fn with_resolved_from(mut self, reference: CustomerRef) -> Self {
        self.resolved_from = Some(reference);
        self
    }

    /// The patch to apply.
    pub fn patch(&self) -> &CustomerPatch {
        &self.patch
    }

    /// What was dropped.
    pub fn ignored(&self) -> &[Ignored] {
        &self.ignored
    }
}

impl std::ops::Deref for CheckedPatch {
    type Target = CustomerPatch;
    fn deref(&self) -> &CustomerPatch {
        &self.patch
    }
}

/// One vendor request, as sent or as a dry run would send it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedRequest {
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// JSON body, if any.
    pub body: Option<Value>,
}

impl PlannedRequest {
    /// A request description.
    pub fn new(method: impl Into<String>, url: impl Into<String>, body: Option<Value>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            body,
        }
    }
}

impl fmt::Display for PlannedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url)?;
        if let Some(b) = &self.body {
            write!(f, " {b}")?;
        }
        Ok(())
    }
}

/// The result of an update.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct UpdateOutcome {
    /// The customer as the vendor holds it afterwards.
    pub customer: Customer,
    /// The write requests that were sent, in order (empty: the patch
    /// changed nothing and no write was sent).
    pub writes: Vec<PlannedRequest>,
    /// Changes left out under [`UnsupportedPolicy::Ignore`].
    pub ignored: Vec<Ignored>,
}

impl UpdateOutcome {
    /// An outcome with no ignored changes.
    pub fn new(customer: Customer, writes: Vec<PlannedRequest>) -> Self {
        Self {
            customer,
            writes,
            ignored: Vec::new(),
        }
    }

    /// Whether any write was sent.
    pub fn changed(&self) -> bool {
        !self.writes.is_empty()
    }
}

/// What an update would send, computed without writing anything.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct DryRun {
    /// The write requests an update would send now, in order.
    pub writes: Vec<PlannedRequest>,
    /// Changes that would be left out under [`UnsupportedPolicy::Ignore`].
    pub ignored: Vec<Ignored>,
}

/// How many times [`CustomerUpdater::update_with`] looks a reference up
/// again when it no longer names the customer it named before the lock
/// was taken, before failing with [`Error::Conflict`].
pub const MAX_RESOLVE_ROUNDS: u32 = 3;

/// Reads and updates customers at one vendor: what callers call.
///
/// Object safe: hold it as `Box<dyn CustomerUpdater>` or
/// `Arc<dyn CustomerUpdater>` and switch vendors without touching the
/// calling code. [`Backend::kind`] and [`Backend::capabilities`] are
/// callable on the object without importing [`Backend`].
///
/// A backend implements the hooks trait [`Backend`] and never this one:
/// the only implementation is the blanket `impl<T: Backend + ?Sized>`
/// below, so [`Self::get`], [`Self::update`], [`Self::update_with`],
/// [`Self::dry_run`], [`Self::find`] and [`Self::resolve`] (which validate
/// the patch, check it against [`Backend::capabilities`] before any
/// request and hold the write-lock contract) are written once, here, and
/// no backend can override them. This is the split `object_store` makes
/// between `ObjectStore` (what a store implements) and `ObjectStoreExt`
/// (conveniences with a blanket implementation).
///
/// ```
/// use std::sync::Arc;
/// use unibill_core::{CustomerUpdater, Field, Op};
///
/// // Only `CustomerUpdater` is imported: the hooks trait's `kind` and
/// // `capabilities` are still callable on the object.
/// fn describe(updater: &Arc<dyn CustomerUpdater>) -> String {
///     let can = updater.capabilities().allows(Field::City, Op::Set);
///     format!("{}: city {can}", updater.kind())
/// }
/// # let _ = describe;
/// ```
///
/// A backend that tried to write its own caller path does not compile:
///
/// ```compile_fail,E0119
/// use unibill_core::{
///     async_trait, AsCustomerRef, Backend, BackendKind, Capabilities, CheckedPatch, Customer,
///     CustomerId, CustomerLocks, CustomerPatch, CustomerUpdater, DryRun, LockGuard,
///     PlannedRequest, Result, UpdateOptions, UpdateOutcome,
/// };
///
/// #[derive(Debug)]
/// struct Acme(Capabilities, CustomerLocks);
///
/// #[async_trait]
/// impl Backend for Acme {
///     fn kind(&self) -> BackendKind { BackendKind::new("acme") }
///     fn capabilities(&self) -> &Capabilities { &self.0 }
///     fn locks(&self) -> &CustomerLocks { &self.1 }
///     async fn fetch(&self, id: &CustomerId) -> Result<Customer> { unimplemented!() }
///     async fn apply(&self, _: &CustomerId, _: &CheckedPatch, _: &LockGuard) -> Result<UpdateOutcome> { unimplemented!() }
///     async fn plan(&self, _: &CustomerId, _: &CheckedPatch) -> Result<Vec<PlannedRequest>> { unimplemented!() }
/// }
///
/// // Conflicts with the blanket implementation: the lock contract cannot be skipped.
/// #[async_trait]
/// impl CustomerUpdater for Acme {
///     async fn find(&self, _: &dyn AsCustomerRef) -> Result<Vec<CustomerId>> { unimplemented!() }
///     async fn resolve(&self, _: &dyn AsCustomerRef) -> Result<CustomerId> { unimplemented!() }
///     async fn get(&self, _: &dyn AsCustomerRef) -> Result<Customer> { unimplemented!() }
///     async fn update(&self, _: &dyn AsCustomerRef, _: &CustomerPatch) -> Result<Customer> { unimplemented!() }
///     async fn update_with(&self, _: &dyn AsCustomerRef, _: &CustomerPatch, _: &UpdateOptions) -> Result<UpdateOutcome> { unimplemented!() }
///     async fn dry_run(&self, _: &dyn AsCustomerRef, _: &CustomerPatch, _: &UpdateOptions) -> Result<DryRun> { unimplemented!() }
/// }
/// ```
///
/// # Naming the customer
///
/// The customer-taking methods take `&dyn AsCustomerRef`: a
/// [`CustomerId`] (the vendor's id, no lookup) or a [`CustomerRef`] (an
/// email or the caller's own reference, looked up with the vendor's
/// search). A reference must match exactly one customer: several give
/// [`Error::Ambiguous`] listing them, none [`Error::NotFound`]; a lookup
/// the backend cannot do is [`Error::UnsupportedLookup`], before any
/// request.
///
/// # Concurrent updates of one customer
///
/// [`Self::update_with`] (and so [`Self::update`] and bulk runs) holds the
/// customer's write lock ([`Backend::locks`], see [`crate::lock`]) from the
/// backend's first read to its last write. Two updates of the same
/// customer through any clients of the same account in this process
/// therefore run one after the other, in the order they asked, and neither
/// loses the other's edit; updates of different customers run in parallel.
#[async_trait]
pub trait CustomerUpdater: Backend {
    /// Every customer `customer` names, as canonical ids
    /// ([`Backend::canonical_id`]), without duplicates, in the vendor's
    /// order; more than [`MAX_MATCHES`] is [`Error::Ambiguous`] with the
    /// first [`MAX_MATCHES`] and the count.
    /// An id gives itself without any request; an email or external
    /// reference is looked up ([`Backend::lookup`], reading every page of
    /// the vendor's answer), after refusing before any request a blank
    /// value ([`Error::Validation`]) or a lookup the backend does not offer
    /// ([`Error::UnsupportedLookup`]).
    async fn find(&self, customer: &dyn AsCustomerRef) -> Result<Vec<CustomerId>> {
        let reference = customer.customer_ref();
        let (kind, value) = match &*reference {
            CustomerRef::Id(id) => return Ok(vec![self.canonical_id(id)?]),
            CustomerRef::Email(value) => (LookupKind::Email, value),
            CustomerRef::External(value) => (LookupKind::External, value),
        };
        if !self.capabilities().can_lookup(kind) {
            return Err(Error::UnsupportedLookup {
                backend: self.kind(),
                lookup: kind,
            });
        }
        if value.trim().is_empty() {
            return Err(Error::validation(
                kind.field(),
                format!("a customer cannot be looked up by a blank {}", kind.name()),
            ));
        }
        let found = self.lookup(kind, value).await?;
        let mut seen: HashSet<CustomerId> =
            HashSet::with_capacity(found.len().min(MAX_MATCHES + 1));
        let mut ids: Vec<CustomerId> = Vec::new();
        for (n, id) in found.into_iter().enumerate() {
            let id = self.canonical_id(&id)?;
            if seen.insert(id.clone()) && ids.len() < MAX_MATCHES {
                ids.push(id);
            }
            if (n + 1).is_multiple_of(ENTRIES_PER_YIELD) {
                tokio::task::yield_now().await;
            }
        }
        if seen.len() > MAX_MATCHES {
            return Err(Error::Ambiguous {
                backend: self.kind(),
                reference: reference.into_owned(),
                count: seen.len(),
                matches: ids,
            });
        }
        Ok(ids)
    }

    /// The one customer `customer` names, as a canonical id: like
    /// [`Self::find`], then [`Error::NotFound`] naming the reference when
    /// nothing matches and [`Error::Ambiguous`] listing the matches when
    /// several do (never "the first one").
    async fn resolve(&self, customer: &dyn AsCustomerRef) -> Result<CustomerId> {
        let reference = customer.customer_ref();
        let mut ids = self.find(&*reference).await?;
        match ids.len() {
            1 => Ok(ids.remove(0)),
            0 => Err(Error::NotFound {
                backend: self.kind(),
                id: reference.to_string(),
            }),
            count => Err(Error::Ambiguous {
                backend: self.kind(),
                reference: reference.into_owned(),
                matches: ids,
                count,
            }),
        }
    }

    /// Reads one customer: by id with one read, by email or external
    /// reference after resolving it ([`Self::resolve`]).
    async fn get(&self, customer: &dyn AsCustomerRef) -> Result<Customer> {
        let reference = customer.customer_ref();
        match &*reference {
            CustomerRef::Id(id) => self.fetch(id).await,
            other => {
                let id = self.resolve(other).await?;
                self.fetch(&id).await
            }
        }
    }

    /// Applies a patch; anything the backend cannot do is refused with
    /// [`Error::Unsupported`] before any request.
    async fn update(
        &self,
        customer: &dyn AsCustomerRef,
        patch: &CustomerPatch,
    ) -> Result<Customer> {
        Ok(self
            .update_with(customer, patch, &UpdateOptions::default())
            .await?
            .customer)
    }

    /// Applies a patch with options, returning the full outcome.
    ///
    /// By id: checks the patch, takes the customer's write lock, applies.
    ///
    /// By email or external reference: checks the patch, resolves the
    /// reference ([`Self::resolve`]: one lookup, which reads every page of
    /// the vendor's answer), takes the write lock of the customer found,
    /// then looks the reference up again under the lock to confirm it
    /// still names that customer (an update that changed its email in
    /// between would otherwise make us write a customer that no longer
    /// matches). When it names another one, the lock is released and the
    /// whole resolution starts again, at most [`MAX_RESOLVE_ROUNDS`]
    /// rounds, then [`Error::Conflict`]. An update by reference therefore
    /// costs two lookups more than the same update by id. Ambiguous and
    /// missing matches (at either lookup) fail with nothing written.
    async fn update_with(
        &self,
        customer: &dyn AsCustomerRef,
        patch: &CustomerPatch,
        options: &UpdateOptions,
    ) -> Result<UpdateOutcome> {
        update_as(self, &customer.customer_ref(), None, patch, options).await
    }

    /// Lists the writes an update would send, without writing. A
    /// reference is resolved first ([`Self::resolve`]), without the lock.
    async fn dry_run(
        &self,
        customer: &dyn AsCustomerRef,
        patch: &CustomerPatch,
        options: &UpdateOptions,
    ) -> Result<DryRun> {
        let checked = CheckedPatch::check(self.capabilities(), patch, options)?;
        let reference = customer.customer_ref();
        let id = match &*reference {
            CustomerRef::Id(id) => id.clone(),
            other => self.resolve(other).await?,
        };
        let writes = self.plan(&id, &checked).await?;
        Ok(DryRun {
            writes,
            ignored: checked.ignored().to_vec(),
        })
    }
}

/// The only implementation: every [`Backend`] is a [`CustomerUpdater`],
/// with the methods above, which it cannot override.
impl<T: Backend + ?Sized> CustomerUpdater for T {}

/// [`CustomerUpdater::update_with`], for a reference already resolved once
/// to `resolved` (bulk runs resolve before ordering their items): that
/// first resolution stands in for the first lookup, and the confirming
/// lookup under the lock is made as always. `None` resolves first.
pub(crate) async fn update_as<U: Backend + ?Sized>(
    updater: &U,
    reference: &CustomerRef,
    mut resolved: Option<CustomerId>,
    patch: &CustomerPatch,
    options: &UpdateOptions,
) -> Result<UpdateOutcome> {
    let mut checked = CheckedPatch::check(updater.capabilities(), patch, options)?;
    let (id, lock) = match reference {
        CustomerRef::Id(id) => {
            let canonical = updater.canonical_id(id)?;
            let lock = updater.locks().acquire(&canonical).await?;
            (id.clone(), lock)
        }
        other => {
            let mut found = None;
            for _ in 0..MAX_RESOLVE_ROUNDS {
                let id = match resolved.take() {
                    Some(id) => id,
                    None => updater.resolve(other).await?,
                };
                let lock = updater.locks().acquire(&id).await?;
                let again = updater.resolve(other).await?;
                if again == id {
                    found = Some((id, lock));
                    break;
                }
                lock.release().await;
            }
            checked = checked.with_resolved_from(other.clone());
            match found {
                Some(found) => found,
                None => {
                    return Err(Error::Conflict {
                        backend: updater.kind(),
                        message: format!(
                            "{other} named another customer at each of {MAX_RESOLVE_ROUNDS} lookups; nothing was written"
                        ),
                    })
                }
            }
        }
    };
    let applied = updater.apply(&id, &checked, &lock).await;
    // Released and awaited before returning, failed or not: a process
    // that ends right after its update leaves the customer free.
    lock.release().await;
    let mut outcome = applied?;
    outcome.ignored = checked.ignored().to_vec();
    Ok(outcome)
}
