//! Dual writes: one primary backend and N secondaries behind one
//! [`CustomerUpdater`] ([`Mirror`]).

use std::sync::Arc;

use unibill_core::{
    async_trait, Backend, BackendKind, Capabilities, CheckedPatch, Customer, CustomerId,
    CustomerLocks, CustomerRef, CustomerUpdater, Error, ListOptions, ListPage, LockGuard,
    LookupKind, Mirrored, PlannedRequest, Result, UpdateOptions, UpdateOutcome,
};

use crate::matching::IdMap;

/// What `Ok` means for a mirrored update.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MirrorPolicy {
    /// The primary's result is the update's (the default): a secondary
    /// that fails is reported in [`UpdateOutcome::mirrored`], drift to
    /// repair with `sync`, never lost.
    #[default]
    PrimaryDecides,
    /// Every backend must succeed: a secondary that fails makes the update
    /// [`Error::PartialUpdate`] (the primary's write, and the secondaries'
    /// before it, stand; the error names them).
    AllMustSucceed,
}

/// One secondary backend, and how it is addressed.
struct Secondary {
    updater: Arc<dyn CustomerUpdater>,
    /// Primary id → this backend's id, for a backend that cannot look a
    /// reference up (Everlytic).
    map: Option<IdMap>,
}

/// A [`CustomerUpdater`] over one primary backend and any number of
/// secondaries: reads, lookups and listings are the primary's; an update
/// is applied at the primary (under its write lock, as any update), then
/// the same patch goes to each secondary in turn, each skipping what it
/// cannot do ([`UpdateOptions::ignore_unsupported`], listed in its
/// outcome's `ignored`). The outcome is the primary's, with one
/// [`Mirrored`] result per secondary in [`UpdateOutcome::mirrored`].
///
/// Ids differ per vendor, so a secondary is addressed by the reference
/// the update named the customer by (an email or your own reference),
/// else, for an update by id, by the customer's own reference as the
/// primary holds it after the update. A secondary that cannot look
/// customers up (Everlytic has no search) is addressed through an
/// [`IdMap`] of primary ids to its ids ([`Mirror::secondary_with_map`]);
/// one built from a `diff` by reference or email fills it.
///
/// The secondary's update runs while the primary's write lock is held, so
/// every backend applies a customer's updates in the same order. A
/// secondary must therefore be another account than the primary: one of
/// the same account (the same key, or the same `account` setting) would
/// wait for the lock its own primary holds, and fail with
/// [`Error::Lock`] after `lock_wait`.
///
/// ```no_run
/// # fn demo(fusebill: std::sync::Arc<dyn unibill_core::CustomerUpdater>, chartmogul: std::sync::Arc<dyn unibill_core::CustomerUpdater>) {
/// use unibill_migrate::{Mirror, MirrorPolicy};
/// let both = Mirror::new(fusebill).secondary(chartmogul).policy(MirrorPolicy::PrimaryDecides);
/// // `both` is a CustomerUpdater: update, get, list, bulk work as with one backend.
/// # }
/// ```
pub struct Mirror {
    primary: Arc<dyn CustomerUpdater>,
    secondaries: Vec<Secondary>,
    policy: MirrorPolicy,
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror")
            .field("primary", &self.primary.kind())
            .field(
                "secondaries",
                &self
                    .secondaries
                    .iter()
                    .map(|s| s.updater.kind())
                    .collect::<Vec<_>>(),
            )
            .field("policy", &self.policy)
            .finish()
    }
}

impl Mirror {
    /// A mirror of `primary` with no secondary yet, primary decides.
    pub fn new(primary: Arc<dyn CustomerUpdater>) -> Self {
        Self {
            primary,
            secondaries: Vec::new(),
            policy: MirrorPolicy::default(),
        }
    }

    /// Adds a secondary addressed by reference or email.
    pub fn secondary(mut self, updater: Arc<dyn CustomerUpdater>) -> Self {
        self.secondaries.push(Secondary { updater, map: None });
        self
    }

    /// Adds a secondary addressed through `map` (left: the primary's ids,
    /// right: this secondary's).
    pub fn secondary_with_map(mut self, updater: Arc<dyn CustomerUpdater>, map: IdMap) -> Self {
        self.secondaries.push(Secondary {
            updater,
            map: Some(map),
        });
        self
    }

    /// Sets what `Ok` means.
    pub fn policy(mut self, policy: MirrorPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Who the secondary `s` knows the customer `id` of the primary as.
    fn address(
        &self,
        s: &Secondary,
        id: &CustomerId,
        patch: &CheckedPatch,
        after: &Customer,
    ) -> Result<CustomerRef> {
        if let Some(map) = &s.map {
            return map
                .right_of(id)
                .map(|r| CustomerRef::Id(r.clone()))
                .ok_or_else(|| Error::NotFound {
                    backend: s.updater.kind(),
                    id: format!(
                        "the customer mapped from {id} (the id map names none, or several)"
                    ),
                });
        }
        if let Some(reference) = patch.resolved_from() {
            return Ok(reference.clone());
        }
        match after.external_reference.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => Ok(CustomerRef::external(r)),
            _ => Err(Error::NotFound {
                backend: s.updater.kind(),
                id: format!(
                    "the customer {id} of {} (it has no own reference to find it by, and no id map was given)",
                    self.primary.kind()
                ),
            }),
        }
    }
}

#[async_trait]
impl Backend for Mirror {
    fn kind(&self) -> BackendKind {
        self.primary.kind()
    }

    fn capabilities(&self) -> &Capabilities {
        self.primary.capabilities()
    }

    fn locks(&self) -> &CustomerLocks {
        self.primary.locks()
    }

    fn canonical_id(&self, id: &CustomerId) -> Result<CustomerId> {
        self.primary.canonical_id(id)
    }

    async fn fetch(&self, id: &CustomerId) -> Result<Customer> {
        self.primary.fetch(id).await
    }

    async fn lookup(&self, kind: LookupKind, value: &str) -> Result<Vec<CustomerId>> {
        self.primary.lookup(kind, value).await
    }

    async fn list_page(&self, options: &ListOptions) -> Result<ListPage> {
        self.primary.list_page(options).await
    }

    async fn apply(
        &self,
        id: &CustomerId,
        patch: &CheckedPatch,
        lock: &LockGuard,
    ) -> Result<UpdateOutcome> {
        let mut outcome = self.primary.apply(id, patch, lock).await?;
        let options = UpdateOptions::ignore_unsupported();
        for s in &self.secondaries {
            let result = match self.address(s, id, patch, &outcome.customer) {
                Ok(reference) => s.updater.update_with(&reference, patch, &options).await,
                Err(e) => Err(e),
            };
            match result {
                Err(e) if self.policy == MirrorPolicy::AllMustSucceed => {
                    return Err(partial(self.primary.kind(), &outcome, s.updater.kind(), e));
                }
                result => outcome
                    .mirrored
                    .push(Mirrored::new(s.updater.kind(), result)),
            }
        }
        Ok(outcome)
    }

    async fn plan(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
        self.primary.plan(id, patch).await
    }

    fn retries(&self) -> u64 {
        self.primary.retries()
            + self
                .secondaries
                .iter()
                .map(|s| s.updater.retries())
                .sum::<u64>()
    }
}

/// The error of a mirrored update whose secondary `failed` could not
/// apply it: what took effect before (the primary's writes, the earlier
/// secondaries') and why it failed.
fn partial(
    primary: BackendKind,
    outcome: &UpdateOutcome,
    failed: BackendKind,
    source: Error,
) -> Error {
    let mut applied: Vec<String> = outcome
        .writes
        .iter()
        .map(|w| format!("{primary}: {} {}", w.method, w.url))
        .collect();
    for m in &outcome.mirrored {
        if let Ok(o) = &m.result {
            applied.extend(
                o.writes
                    .iter()
                    .map(|w| format!("{}: {} {}", m.backend, w.method, w.url)),
            );
        }
    }
    Error::PartialUpdate {
        backend: primary,
        applied,
        failed: format!("the same update at {failed}"),
        source: Box::new(source),
    }
}
