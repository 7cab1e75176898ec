//! Listing a backend's customers: what a backend offers
//! ([`Listing`], in [`Capabilities`](crate::Capabilities)), what to list
//! ([`ListOptions`]), and one page of the answer ([`ListPage`]) with the
//! position the next page starts at ([`ListPosition`]), from which a
//! listing can be resumed. Callers list with
//! [`CustomerUpdater::list`](crate::CustomerUpdater::list).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::Customer;

/// How a backend can list its customers. Ordered: each variant can do
/// what the ones before it can (`listing >= Listing::All` lists).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Listing {
    /// It cannot: [`CustomerUpdater::list`](crate::CustomerUpdater::list)
    /// fails with [`Error::UnsupportedListing`](crate::Error::UnsupportedListing)
    /// before any request.
    #[default]
    None,
    /// Every customer, page by page.
    All,
    /// Every customer, and also only those changed since an instant
    /// ([`ListOptions::changed_since`]), filtered by the vendor.
    ChangedSince,
}

/// Where a listing stands: the vendor's cursor or page number, as text.
/// [`ListPage::next`] gives the position of the page after it; listing
/// again with [`ListOptions::from`] set to it resumes there. A position
/// belongs to the backend and the options it was listed with.
///
/// ```
/// use unibill_core::listing::ListPosition;
/// let p = ListPosition::new("2");
/// assert_eq!(p.as_str(), "2");
/// assert_eq!(serde_json::to_string(&p).unwrap(), "\"2\"");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListPosition(String);

impl ListPosition {
    /// A position as the backend writes it.
    pub fn new(position: impl Into<String>) -> Self {
        Self(position.into())
    }

    /// The position as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ListPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What to list: every customer by default.
///
/// ```
/// use unibill_core::listing::{ListOptions, ListPosition};
/// let since = "2026-01-01T00:00:00Z".parse().unwrap();
/// let options = ListOptions::new().changed_since(since).from(ListPosition::new("3"));
/// assert_eq!(options.from.as_ref().map(|p| p.as_str()), Some("3"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListOptions {
    /// Only customers changed at or after this instant; needs
    /// [`Listing::ChangedSince`].
    pub changed_since: Option<DateTime<Utc>>,
    /// Start at this position (a [`ListPage::next`] of an earlier listing
    /// with the same options) instead of the first page.
    pub from: Option<ListPosition>,
}

impl ListOptions {
    /// Every customer, from the first page.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only customers changed at or after `since`.
    pub fn changed_since(mut self, since: DateTime<Utc>) -> Self {
        self.changed_since = Some(since);
        self
    }

    /// Starts at `position` instead of the first page.
    pub fn from(mut self, position: ListPosition) -> Self {
        self.from = Some(position);
        self
    }
}

/// One page of a listing: its customers, in the vendor's order, each with
/// its [`raw`](Customer::raw) record, and where the next page starts.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ListPage {
    /// The customers of this page.
    pub customers: Vec<Customer>,
    /// The position of the next page; `None` on the last.
    pub next: Option<ListPosition>,
}

impl ListPage {
    /// A page of `customers`, followed by the page at `next`.
    pub fn new(customers: Vec<Customer>, next: Option<ListPosition>) -> Self {
        Self { customers, next }
    }
}
