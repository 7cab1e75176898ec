//! The [`CustomerUpdater`] trait: the calls a caller makes (get, update,
//! dry run, find, resolve), with the write-lock contract, over any
//! [`Backend`].

use std::collections::HashSet;

use async_trait::async_trait;
use futures_util::future;
use futures_util::stream::{self, BoxStream, StreamExt};

use crate::backend::Backend;
use crate::customer::Customer;
use crate::error::{Error, Result};
use crate::kind::CustomerId;
use crate::listing::{ListOptions, ListPage, Listing};
use crate::lookup::{Matches, ENTRIES_PER_YIELD};
use crate::patch::CustomerPatch;
use crate::reference::{AsCustomerRef, CustomerRef, LookupKind};
use crate::update::{CheckedPatch, DryRun, UpdateOptions, UpdateOutcome};

/// How many times [`CustomerUpdater::update_with`] looks a reference up
/// again when it no longer names the customer it named before the lock
/// was taken, before failing with [`Error::Conflict`].
const MAX_RESOLVE_ROUNDS: u32 = 3;

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
    ///
    /// [`MAX_MATCHES`]: crate::reference::MAX_MATCHES
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
                format!("a customer cannot be looked up by a blank {kind}"),
            ));
        }
        let mut matches = Matches::default();
        for (n, id) in self.lookup(kind, value).await?.iter().enumerate() {
            matches.add(self.canonical_id(id)?);
            if (n + 1).is_multiple_of(ENTRIES_PER_YIELD) {
                tokio::task::yield_now().await;
            }
        }
        matches.finish(self.kind(), reference.into_owned())
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

    /// Lists the backend's customers, one [`ListPage`] at a time, as a
    /// stream: each page is read when the stream is polled for it, so
    /// memory holds one page whatever the number of customers, and each
    /// read goes through the client's transport (rate limit, retries).
    /// A page's [`ListPage::next`] resumes the listing there
    /// ([`ListOptions::from`]): a listing cut short by an error (the
    /// stream's last item) can go on from the last page received.
    ///
    /// A listing the backend does not offer ([`Capabilities::listing`](crate::Capabilities::listing):
    /// any, or one filtered by [`ListOptions::changed_since`]) is one
    /// [`Error::UnsupportedListing`], before any request. A vendor that
    /// answers the same position twice is [`Error::Decode`] (a list that
    /// would never end). Pages are read by position (a cursor or a page
    /// number), so customers added or removed while a long listing runs
    /// may be missed or listed twice, as with the vendor's own paging.
    ///
    /// ```no_run
    /// # async fn demo(updater: &dyn unibill_core::CustomerUpdater) -> unibill_core::Result<()> {
    /// use futures_util::TryStreamExt;
    /// use unibill_core::ListOptions;
    /// let mut pages = updater.list(ListOptions::new());
    /// while let Some(page) = pages.try_next().await? {
    ///     for customer in &page.customers {
    ///         println!("{} {:?}", customer.id, customer.email);
    ///     }
    ///     // Save `page.next` to resume from here later.
    /// }
    /// # Ok(()) }
    /// ```
    fn list(&self, options: ListOptions) -> BoxStream<'_, Result<ListPage>> {
        let listing = self.capabilities().listing();
        let refused = match listing {
            Listing::None => true,
            Listing::All => options.changed_since.is_some(),
            _ => false,
        };
        if refused {
            return stream::once(future::ready(Err(Error::UnsupportedListing {
                backend: self.kind(),
                changed_since: options.changed_since.is_some(),
            })))
            .boxed();
        }
        // (options of the next page, positions already read); `None` once
        // the last page or an error was yielded.
        let start = (Some(options), HashSet::new());
        stream::unfold(start, move |(options, mut seen)| async move {
            let mut options = options?;
            let page = match self.list_page(&options).await {
                Ok(page) => page,
                Err(e) => return Some((Err(e), (None, seen))),
            };
            if let Some(from) = options.from.take() {
                seen.insert(from);
            }
            let next = match page.next.clone() {
                Some(next) if seen.contains(&next) => {
                    let e = Error::decode(
                        self.kind(),
                        "customer list",
                        format!(
                            "the vendor named page `{}` again: the list would never end",
                            crate::error::clip(next.as_str())
                        ),
                    );
                    return Some((Err(e), (None, seen)));
                }
                Some(next) => Some(options.from(next)),
                None => None,
            };
            Some((Ok(page), (next, seen)))
        })
        .boxed()
    }

    /// Reads one customer: by id with one read, by email or external
    /// reference after resolving it ([`Self::resolve`]).
    async fn get(&self, customer: &dyn AsCustomerRef) -> Result<Customer> {
        let reference = customer.customer_ref();
        match &*reference {
            CustomerRef::Id(id) => self.fetch(id).await,
            other => self.fetch(&self.resolve(other).await?).await,
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
    /// whole resolution starts again, at most three rounds, then
    /// [`Error::Conflict`]. An update by reference therefore
    /// costs two lookups more than the same update by id. Ambiguous and
    /// missing matches (at either lookup) fail with nothing written.
    async fn update_with(
        &self,
        customer: &dyn AsCustomerRef,
        patch: &CustomerPatch,
        options: &UpdateOptions,
    ) -> Result<UpdateOutcome> {
        let checked = CheckedPatch::check(self.capabilities(), patch, options)?;
        update_as(self, &customer.customer_ref(), None, checked).await
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

/// [`CustomerUpdater::update_with`] of a patch already checked, for a
/// reference already resolved once to `resolved` (bulk runs check and
/// resolve before ordering their items): that first resolution stands in
/// for the first lookup, and the confirming lookup under the lock is made
/// as always. `None` resolves first; for an id, `resolved` is not read.
pub(crate) async fn update_as<U: Backend + ?Sized>(
    updater: &U,
    reference: &CustomerRef,
    mut resolved: Option<CustomerId>,
    mut checked: CheckedPatch,
) -> Result<UpdateOutcome> {
    let (id, lock) = match reference {
        CustomerRef::Id(id) => {
            let canonical = updater.canonical_id(id)?;
            let lock = updater.locks().acquire(&canonical).await?;
            (id.clone(), lock)
        }
        other => {
            checked = checked.with_resolved_from(other.clone());
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
            found.ok_or_else(|| Error::Conflict {
                backend: updater.kind(),
                message: format!(
                    "{other} named another customer at each of {MAX_RESOLVE_ROUNDS} lookups; nothing was written"
                ),
            })?
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
