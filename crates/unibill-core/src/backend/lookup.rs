//! Paging through a vendor's lookup answers: [`LookupPages`], which a
//! backend's `lookup` hook uses to collect the ids matching an email or a
//! reference within the lookup deadline and the match cap
//! ([`MAX_MATCHES`]).

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::kind::{BackendKind, CustomerId};
use crate::reference::{CustomerRef, LookupKind, MAX_MATCHES};
use crate::transport::Transport;

/// Entries a lookup compares between two yields to the executor, so that
/// a page of many thousand customers never holds an executor thread for
/// long.
pub(crate) const ENTRIES_PER_YIELD: usize = 1024;

/// The bookkeeping of one paged lookup, for a backend's
/// [`lookup`](crate::Backend::lookup) hook: the overall deadline,
/// the pages read, and the matches (deduplicated with a hash set, at most
/// [`MAX_MATCHES`] kept).
///
/// A backend reads each page through [`Self::page`] (decoding it with
/// [`crate::backend::decode`], which parses a large page off the executor
/// thread), records each match
/// with [`Self::add`] (yielding with [`Self::tick`] while it walks a long
/// page), stops paging when [`Self::is_full`], and ends with
/// [`Self::finish`].
///
/// ```
/// # async fn demo(transport: &unibill_core::Transport) -> unibill_core::Result<()> {
/// use unibill_core::lookup::LookupPages;
/// use unibill_core::{CustomerId, LookupKind};
/// let mut lookup = LookupPages::new(transport, LookupKind::Email, "a@b.example");
/// let page: Vec<String> = lookup.page(async { Ok(vec!["cus_1".to_string()]) }).await?;
/// for id in page {
///     lookup.add(CustomerId::new(id));
///     lookup.tick().await;
/// }
/// assert_eq!(lookup.finish()?, vec![CustomerId::new("cus_1")]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LookupPages {
    backend: BackendKind,
    reference: CustomerRef,
    limit: Duration,
    deadline: Option<Instant>,
    pages: usize,
    walked: usize,
    matches: Matches,
}

impl LookupPages {
    /// A lookup of `value` by `kind` through `transport`, with the
    /// transport's [`lookup deadline`](Transport::lookup_deadline) counted
    /// from now.
    pub fn new(transport: &Transport, kind: LookupKind, value: &str) -> Self {
        let limit = transport.lookup_deadline();
        Self {
            backend: transport.backend(),
            reference: kind.reference(value),
            limit,
            deadline: Instant::now().checked_add(limit),
            pages: 0,
            walked: 0,
            matches: Matches::default(),
        }
    }

    /// Reads one page with `read` (the page's request and decoding): after
    /// yielding to the executor (from the second page on), within what is
    /// left of the deadline. Past the deadline the read is dropped (a
    /// lookup only reads) and [`Error::LookupTimeout`] names the pages read
    /// so far.
    pub async fn page<T>(&mut self, read: impl Future<Output = Result<T>>) -> Result<T> {
        if self.pages > 0 {
            tokio::task::yield_now().await;
        }
        let answer = match self.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, read)
                .await
                .map_err(|_| self.timeout())?,
            None => read.await,
        }?;
        self.pages += 1;
        Ok(answer)
    }

    /// The error of a lookup past its deadline.
    fn timeout(&self) -> Error {
        Error::LookupTimeout {
            backend: self.backend,
            reference: self.reference.clone(),
            pages: self.pages,
            deadline: self.limit,
        }
    }

    /// Counts one entry walked, and yields to the executor after every
    /// 1,024 of them: call it once per entry of a page.
    pub async fn tick(&mut self) {
        self.walked += 1;
        if self.walked.is_multiple_of(ENTRIES_PER_YIELD) {
            tokio::task::yield_now().await;
        }
    }

    /// Records a match (a repeated id is counted once); only the first
    /// [`MAX_MATCHES`] distinct ones are kept.
    pub fn add(&mut self, id: CustomerId) {
        self.matches.add(id);
    }

    /// Whether more than [`MAX_MATCHES`] customers matched: reading
    /// further pages cannot change the answer ([`Error::Ambiguous`]).
    pub fn is_full(&self) -> bool {
        self.matches.is_full()
    }

    /// The matches, in the vendor's order; [`Error::Ambiguous`] with the
    /// first [`MAX_MATCHES`] and the count when more matched.
    pub fn finish(self) -> Result<Vec<CustomerId>> {
        self.matches.finish(self.backend, self.reference)
    }
}

/// The distinct matches of a lookup, in the order met: every one counted,
/// the first [`MAX_MATCHES`] kept. Shared by [`LookupPages`] (the vendor's
/// ids) and [`CustomerUpdater::find`](crate::CustomerUpdater::find) (the
/// canonical ids).
#[derive(Debug, Default)]
pub(crate) struct Matches {
    seen: HashSet<CustomerId>,
    kept: Vec<CustomerId>,
}

impl Matches {
    /// Records a match (a repeated id is counted once).
    pub(crate) fn add(&mut self, id: CustomerId) {
        if self.seen.insert(id.clone()) && self.kept.len() < MAX_MATCHES {
            self.kept.push(id);
        }
    }

    /// Whether more than [`MAX_MATCHES`] customers matched.
    pub(crate) fn is_full(&self) -> bool {
        self.seen.len() > MAX_MATCHES
    }

    /// The matches kept; [`Error::Ambiguous`] for `reference` at `backend`,
    /// with the first [`MAX_MATCHES`] and the count, when more matched.
    pub(crate) fn finish(
        self,
        backend: BackendKind,
        reference: CustomerRef,
    ) -> Result<Vec<CustomerId>> {
        if self.is_full() {
            return Err(Error::Ambiguous {
                backend,
                reference,
                count: self.seen.len(),
                matches: self.kept,
            });
        }
        Ok(self.kept)
    }
}
