//! One-way repair: making a target backend agree with a source of truth
//! ([`sync`]).

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::Value;
use unibill_core::{
    bulk_update_stream, BulkOptions, CustomerId, CustomerPatch, CustomerUpdater, Error, Field,
    FieldKind, Op, Result, UpdateOptions,
};

use crate::diff::{compared_fields, index, pair_up, same, DiffSummary, Pair};
use crate::matching::{MatchBy, Side};
use crate::progress::{OnProgress, Progress};

/// What to repair, and whether to write.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SyncOptions {
    /// How customers are paired (default: your own reference).
    pub match_by: MatchBy,
    /// Only these fields (default: every field both backends can read).
    pub fields: Option<Vec<Field>>,
    /// Write the repairs (default `false`: a dry run that writes nothing
    /// and reports what it would set).
    pub apply: bool,
    /// Repairs in flight at once when applying (default 8), through
    /// [`bulk_update_stream`]: the target's rate limit, locks and retries.
    pub concurrency: usize,
    /// Match keys of pairs to leave alone: those an earlier, interrupted
    /// run already repaired (a resumed run). Counted in
    /// [`SyncSummary::skipped`], neither compared nor written.
    pub skip_keys: BTreeSet<String>,
    /// Called as each page is listed and each repair finishes (default:
    /// none).
    pub on_progress: Option<OnProgress>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            match_by: MatchBy::default(),
            fields: None,
            apply: false,
            concurrency: 8,
            skip_keys: BTreeSet::new(),
            on_progress: None,
        }
    }
}

impl SyncOptions {
    /// A dry run pairing by `match_by`.
    pub fn new(match_by: MatchBy) -> Self {
        Self {
            match_by,
            ..Self::default()
        }
    }

    /// Writes the repairs instead of only reporting them.
    pub fn apply(mut self, apply: bool) -> Self {
        self.apply = apply;
        self
    }

    /// Repairs only `fields`.
    pub fn fields(mut self, fields: impl IntoIterator<Item = Field>) -> Self {
        self.fields = Some(fields.into_iter().collect());
        self
    }

    /// Repairs in flight at once when applying (at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Leaves alone the pairs with these match keys (see
    /// [`Self::skip_keys`](SyncOptions::skip_keys)).
    pub fn skip_keys(mut self, keys: impl IntoIterator<Item = String>) -> Self {
        self.skip_keys = keys.into_iter().collect();
        self
    }

    /// Reports each listed page and each finished repair to `on_progress`.
    pub fn on_progress(mut self, on_progress: OnProgress) -> Self {
        self.on_progress = Some(on_progress);
        self
    }
}

/// What happened to one pair that differed.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct SyncItem {
    /// The match key of the pair.
    pub key: String,
    /// The customer at the source.
    pub source_id: CustomerId,
    /// The customer at the target.
    pub target_id: CustomerId,
    /// The fields the repair sets or clears at the target.
    pub repaired: Vec<Field>,
    /// The fields that differ but the target cannot set: read only there,
    /// a change it does not offer, or a value it refuses before sending
    /// anything, such as a status ChartMogul does not let a client set.
    /// Listed, never skipped silently.
    pub cannot_set: Vec<Field>,
    /// What the repair did: `Ok(true)` when a write was sent, `Ok(false)`
    /// when none was needed, or in a dry run that the target accepts; the
    /// update's (or dry run's) error otherwise.
    #[serde(serialize_with = "result_text")]
    pub result: std::result::Result<bool, Error>,
}

fn result_text<S: serde::Serializer>(
    r: &std::result::Result<bool, Error>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match r {
        Ok(true) => s.serialize_str("written"),
        Ok(false) => s.serialize_str("not written"),
        Err(e) => s.serialize_str(&format!("failed: {e}")),
    }
}

/// The outcome of a sync: the comparison it started from and what it did.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct SyncSummary {
    /// The comparison of source and target before any repair.
    pub diff: DiffSummary,
    /// Pairs with a repair to make (less those whose every repair the
    /// target refused).
    pub to_repair: u64,
    /// Pairs whose repair sent a write.
    pub written: u64,
    /// Repairs that failed (each reported in its [`SyncItem`]).
    pub failed: u64,
    /// Differences the target cannot set, by field.
    pub cannot_set: BTreeMap<Field, u64>,
    /// Pairs left alone because [`SyncOptions::skip_keys`] names them.
    pub skipped: u64,
}

/// Makes `target` agree with `source` on every field both read and the
/// target can set: lists and pairs both sides as [`crate::diff`] does,
/// and for each pair that differs builds the patch that sets (or clears)
/// each differing field to the source's value, tags added and removed one
/// by one. Fields the target cannot set are listed in the item's
/// [`SyncItem::cannot_set`] and the summary.
///
/// A dry run (the default) writes nothing: each repair goes through the
/// target's own [`CustomerUpdater::dry_run`], so its checks apply and its
/// plan is worked out (with the reads a plan needs, at the target's rate
/// limit). With [`SyncOptions::apply`] every repair goes through
/// [`bulk_update_stream`] by the target's id: the same update path as any
/// other (the customer's write lock, the rate limit, retries, and no write
/// when the target already holds the values), so a second sync after a
/// successful one writes nothing. Either way, a value the target refuses
/// before sending anything (a status ChartMogul does not let a client
/// set, a Fusebill currency, which is fixed once the customer exists)
/// moves its field to [`SyncItem::cannot_set`], and the pair's other
/// repairs go ahead without it.
///
/// Sync never creates or deletes customers: the unmatched and the
/// ambiguous are in [`SyncSummary::diff`]. `on_item` gets each pair that
/// differed, as its repair finishes.
pub async fn sync(
    source: &dyn CustomerUpdater,
    target: &dyn CustomerUpdater,
    options: &SyncOptions,
    mut on_item: impl FnMut(&SyncItem),
) -> Result<SyncSummary> {
    let fields = compared_fields(source, target, options.fields.as_deref());
    let progress = options.on_progress.as_ref();
    let s = index(source, &options.match_by, Side::Left, &fields, progress).await?;
    let t = index(target, &options.match_by, Side::Right, &fields, progress).await?;
    let caps = target.capabilities();
    let mut plans: Vec<Plan> = Vec::new();
    let (mut pairs, mut equal, mut skipped) = (0, 0, 0);
    let mut differing: BTreeMap<Field, u64> = BTreeMap::new();
    let mut diff = pair_up(&s, &t, &fields, |Pair { key, left, right }| {
        if options.skip_keys.contains(key) {
            skipped += 1;
            return;
        }
        pairs += 1;
        let mut values = BTreeMap::new();
        let (mut repaired, mut cannot_set) = (Vec::new(), Vec::new());
        for (i, field) in fields.iter().enumerate() {
            let (from, to) = (left.values[i].as_ref(), right.values[i].as_ref());
            if same(*field, from, to) {
                continue;
            }
            *differing.entry(*field).or_default() += 1;
            if repair(&mut CustomerPatch::new(), *field, from, to, caps) {
                repaired.push(*field);
                values.insert(*field, (from.cloned(), to.cloned()));
            } else {
                cannot_set.push(*field);
            }
        }
        if repaired.is_empty() && cannot_set.is_empty() {
            equal += 1;
            return;
        }
        plans.push(Plan {
            item: SyncItem {
                key: key.to_string(),
                source_id: left.id.clone(),
                target_id: right.id.clone(),
                repaired,
                cannot_set,
                result: Ok(false),
            },
            values,
        });
    });
    diff.pairs = pairs;
    diff.equal = equal;
    diff.differing = differing;
    let mut summary = SyncSummary {
        diff,
        skipped,
        ..SyncSummary::default()
    };
    summary.to_repair = plans.iter().filter(|p| !p.item.repaired.is_empty()).count() as u64;
    // Only pairs with something to set are sent (written, or planned by
    // the target's own dry run); the others are reported as they are.
    let (mut work, rest): (Vec<Plan>, Vec<Plan>) =
        plans.into_iter().partition(|p| !p.item.repaired.is_empty());
    for plan in &rest {
        summary.count_cannot_set(&plan.item);
        on_item(&plan.item);
    }
    // A value the target refuses before sending anything (a status
    // ChartMogul cannot set, say) moves its field to `cannot_set`, and the
    // pair's other repairs go again without it: one refused value never
    // blocks the rest. Each round removes a field, so this ends.
    let total = work.len() as u64;
    let mut finished = 0u64;
    while !work.is_empty() {
        let patches: Vec<(CustomerId, CustomerPatch)> = work
            .iter()
            .map(|p| (p.item.target_id.clone(), p.patch(caps)))
            .collect();
        let mut slots: Vec<Option<Plan>> = work.into_iter().map(Some).collect();
        let mut again = Vec::new();
        let mut finish = |n: usize, result: Result<bool>| {
            let Some(mut plan) = slots.get_mut(n).and_then(Option::take) else {
                return;
            };
            // `refuse` moves the refused field to `cannot_set` (the
            // guard's one side effect); the arms below see the result.
            match result {
                Err(Error::Validation { field, .. })
                    if plan.refuse(&field) && !plan.item.repaired.is_empty() =>
                {
                    // Goes again without the refused field.
                    again.push(plan);
                    return;
                }
                Err(Error::Validation { .. }) if plan.item.repaired.is_empty() => {
                    // Every repair refused: nothing to write after all.
                    summary.to_repair -= 1;
                }
                result => {
                    plan.item.result = result;
                    match &plan.item.result {
                        Ok(true) => summary.written += 1,
                        Ok(false) => {}
                        Err(_) => summary.failed += 1,
                    }
                }
            }
            summary.count_cannot_set(&plan.item);
            on_item(&plan.item);
            finished += 1;
            OnProgress::report(
                progress,
                Progress::Repaired {
                    done: finished,
                    total,
                },
            );
        };
        if options.apply {
            bulk_update_stream(
                target,
                stream::iter(patches),
                BulkOptions {
                    concurrency: options.concurrency,
                    ..BulkOptions::default()
                },
            )
            .for_each_result(|done| {
                finish(
                    done.index as usize,
                    done.result.map(|outcome| outcome.changed()),
                )
            })
            .await;
        } else {
            // The target's own dry run: its checks and its plan (reads
            // where it needs them, never a write).
            let mut planned = stream::iter(patches.into_iter().enumerate())
                .map(|(n, (id, patch))| async move {
                    let plan = target.dry_run(&id, &patch, &UpdateOptions::default()).await;
                    (n, plan.map(|_| false))
                })
                .buffer_unordered(options.concurrency.max(1));
            while let Some((n, result)) = planned.next().await {
                finish(n, result);
            }
        }
        work = again;
    }
    Ok(summary)
}

/// A pair that differs: its item, and the source's and target's values
/// of each field to repair.
struct Plan {
    item: SyncItem,
    values: BTreeMap<Field, (Option<Value>, Option<Value>)>,
}

impl Plan {
    /// The patch that repairs the fields still in `repaired`.
    fn patch(&self, caps: &unibill_core::Capabilities) -> CustomerPatch {
        let mut patch = CustomerPatch::new();
        for field in &self.item.repaired {
            if let Some((from, to)) = self.values.get(field) {
                repair(&mut patch, *field, from.as_ref(), to.as_ref(), caps);
            }
        }
        patch
    }

    /// Moves the repaired field named `name` to `cannot_set`; `false` when
    /// no repaired field has that name (the refusal is then the update's
    /// error).
    fn refuse(&mut self, name: &str) -> bool {
        let Some(at) = self.item.repaired.iter().position(|f| f.name() == name) else {
            return false;
        };
        let field = self.item.repaired.remove(at);
        self.item.cannot_set.push(field);
        self.item.cannot_set.sort();
        true
    }
}

impl SyncSummary {
    fn count_cannot_set(&mut self, item: &SyncItem) {
        for f in &item.cannot_set {
            *self.cannot_set.entry(*f).or_default() += 1;
        }
    }
}

/// Adds to `patch` the change that sets `field` to the source's value
/// `from` (a clear when the source has none; tags added and removed to
/// match `to`'s set); `false`, with `patch` unchanged, when the target
/// cannot make that change.
fn repair(
    patch: &mut CustomerPatch,
    field: Field,
    from: Option<&Value>,
    to: Option<&Value>,
    caps: &unibill_core::Capabilities,
) -> bool {
    if !field.is_writable() {
        return false;
    }
    let mut edit = |f: &dyn Fn(CustomerPatch) -> CustomerPatch| {
        *patch = f(std::mem::take(patch));
        true
    };
    match field.kind() {
        FieldKind::Tags => {
            let tags = |v: Option<&Value>| -> BTreeSet<String> {
                v.and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            };
            let lower = |set: &BTreeSet<String>| -> BTreeSet<String> {
                set.iter().map(|t| t.to_ascii_lowercase()).collect()
            };
            let (want, have) = (tags(from), tags(to));
            let (want_l, have_l) = (lower(&want), lower(&have));
            let add: Vec<String> = want
                .iter()
                .filter(|t| !have_l.contains(&t.to_ascii_lowercase()))
                .cloned()
                .collect();
            let remove: Vec<String> = have
                .iter()
                .filter(|t| !want_l.contains(&t.to_ascii_lowercase()))
                .cloned()
                .collect();
            if (!add.is_empty() && !caps.allows(field, Op::Set))
                || (!remove.is_empty() && !caps.allows(field, Op::Clear))
            {
                return false;
            }
            edit(&|p| {
                let p = add.iter().fold(p, |p, t| p.add_tag(t.clone()));
                remove.iter().fold(p, |p, t| p.remove_tag(t.clone()))
            })
        }
        // Typed values by key: not repaired field by field here.
        FieldKind::CustomAttributes | FieldKind::Money => false,
        _ => match from {
            Some(value) if caps.allows(field, Op::Set) => {
                let text = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                edit(&|p| p.set_text(field, &text))
            }
            None if caps.allows(field, Op::Clear) => edit(&|p| p.clear(field)),
            _ => false,
        },
    }
}
