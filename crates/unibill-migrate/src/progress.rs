//! How far a [`diff`](crate::diff) or [`sync`](crate::sync) has come, for
//! a progress display ([`Progress`], [`OnProgress`]).

use std::fmt;
use std::sync::Arc;

use crate::matching::Side;

/// One step of a comparison or a repair, handed to the options'
/// [`OnProgress`] callback as it happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// A page of one side was listed: `customers` listed on that side so
    /// far.
    Listed {
        /// The side listed.
        side: Side,
        /// Customers listed on that side so far.
        customers: u64,
    },
    /// A repair finished (when applying a sync): `done` of `total`.
    Repaired {
        /// Repairs finished so far, failed ones included.
        done: u64,
        /// Repairs to make in this run.
        total: u64,
    },
}

/// A progress callback, cheap to clone (the options holding it are).
///
/// ```
/// use unibill_migrate::{DiffOptions, MatchBy, OnProgress, Progress};
/// let options = DiffOptions::new(MatchBy::External).on_progress(OnProgress::new(|p| {
///     if let Progress::Listed { side, customers } = p {
///         eprintln!("{side:?}: {customers} customers listed");
///     }
/// }));
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct OnProgress(Arc<dyn Fn(Progress) + Send + Sync>);

impl OnProgress {
    /// Calls `f` with each step.
    pub fn new(f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    pub(crate) fn report(this: Option<&Self>, step: Progress) {
        if let Some(on) = this {
            (on.0)(step);
        }
    }
}

impl fmt::Debug for OnProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnProgress(..)")
    }
}
