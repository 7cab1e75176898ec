//! Comparing and repairing customer records between two unibill backends,
//! for teams moving from one billing vendor to another or keeping several
//! in step.
//!
//! - [`MatchBy`] pairs the customers of two backends: by your own
//!   reference (the default), by email, or by an explicit [`IdMap`]
//!   (`left_id,right_id`). A key held by several customers on a side is
//!   reported as [`Ambiguous`], never guessed; customers without a
//!   partner are reported as [`Unmatched`].
//! - [`diff`] lists both backends ([`CustomerUpdater::list`]), pairs
//!   them and compares every field both can read, one [`Difference`] per
//!   field that differs (a line of a drift report), with a
//!   [`DiffSummary`].
//! - [`sync`] makes a target agree with a source of truth on the fields
//!   the target can set, through the ordinary update path (dry run by
//!   default), listing what it cannot set. It never creates or deletes
//!   customers.
//! - [`Mirror`] is a [`CustomerUpdater`](unibill_core::CustomerUpdater)
//!   over one primary backend and N secondaries: each update goes to the
//!   primary, then to every secondary, with one result per backend
//!   ([`UpdateOutcome::mirrored`](unibill_core::UpdateOutcome::mirrored)).
//!
//! ```no_run
//! # async fn demo(fusebill: &dyn unibill_core::CustomerUpdater, chartmogul: &dyn unibill_core::CustomerUpdater) -> unibill_core::Result<()> {
//! use unibill_migrate::{diff, DiffOptions, MatchBy};
//! let summary = diff(fusebill, chartmogul, &DiffOptions::new(MatchBy::External), |d| {
//!     println!("{}", serde_json::to_string(d).unwrap());
//! })
//! .await?;
//! println!("{} pairs, {} equal", summary.pairs, summary.equal);
//! # Ok(()) }
//! ```
//!
//! [`CustomerUpdater::list`]: unibill_core::CustomerUpdater::list
#![cfg_attr(docsrs, feature(doc_cfg))]

mod diff;
mod matching;
mod mirror;
mod progress;
mod sync;

pub use diff::{diff, Ambiguous, DiffOptions, DiffSummary, Difference, Unmatched};
pub use matching::{IdMap, MatchBy, Side};
pub use mirror::{Mirror, MirrorPolicy};
pub use progress::{OnProgress, Progress};
pub use sync::{sync, SyncItem, SyncOptions, SyncSummary};
