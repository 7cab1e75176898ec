//! Comparing the customers of two backends field by field ([`diff`]).

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use serde::Serialize;
use serde_json::Value;
use unibill_core::{
    Customer, CustomerId, CustomerUpdater, Field, FieldKind, FieldValue, ListOptions, Result,
};

use crate::matching::{MatchBy, Side};
use crate::progress::{OnProgress, Progress};

/// What to compare.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct DiffOptions {
    /// How customers are paired (default: your own reference).
    pub match_by: MatchBy,
    /// Only these fields (default: every field both backends can read).
    /// A field one side cannot read is never compared.
    pub fields: Option<Vec<Field>>,
    /// Called as each page is listed (default: none).
    pub on_progress: Option<OnProgress>,
}

impl DiffOptions {
    /// Every field both backends read, paired by `match_by`.
    pub fn new(match_by: MatchBy) -> Self {
        Self {
            match_by,
            ..Self::default()
        }
    }

    /// Reports each listed page to `on_progress`.
    pub fn on_progress(mut self, on_progress: OnProgress) -> Self {
        self.on_progress = Some(on_progress);
        self
    }

    /// Compares only `fields` (those both sides can read).
    pub fn fields(mut self, fields: impl IntoIterator<Item = Field>) -> Self {
        self.fields = Some(fields.into_iter().collect());
        self
    }
}

/// One field on which a pair of customers disagrees: one line of the drift
/// report (`Serialize`s to `{"key", "left_id", "right_id", "field",
/// "left", "right"}`; an absent value is `null`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Difference {
    /// The match key of the pair (the reference, the email in lower case,
    /// or the left id for a map).
    pub key: String,
    /// The customer on the left.
    pub left_id: CustomerId,
    /// The customer on the right.
    pub right_id: CustomerId,
    /// The field.
    pub field: Field,
    /// Its value on the left, as the neutral JSON writes it (trimmed).
    pub left: Value,
    /// Its value on the right.
    pub right: Value,
}

/// A customer that found no partner on the other side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Unmatched {
    /// The customer.
    pub id: CustomerId,
    /// Its match key; `None` when it has no value to match on.
    pub key: Option<String>,
}

/// A key that names several customers on one side or both: reported,
/// never paired by guess.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Ambiguous {
    /// The key.
    pub key: String,
    /// The customers on the left with it.
    pub left: Vec<CustomerId>,
    /// The customers on the right with it.
    pub right: Vec<CustomerId>,
}

/// The outcome of a comparison: counts, and who could not be paired.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DiffSummary {
    /// The fields compared.
    pub fields: Vec<Field>,
    /// Pairs compared.
    pub pairs: u64,
    /// Pairs equal on every field compared.
    pub equal: u64,
    /// Pairs that differ, by field.
    pub differing: BTreeMap<Field, u64>,
    /// Customers on the left without a partner on the right.
    pub unmatched_left: Vec<Unmatched>,
    /// Customers on the right without a partner on the left.
    pub unmatched_right: Vec<Unmatched>,
    /// Keys held by several customers on a side.
    pub ambiguous: Vec<Ambiguous>,
}

impl DiffSummary {
    /// Whether the two sides agree: every customer paired, none
    /// ambiguous, no difference.
    pub fn is_clean(&self) -> bool {
        self.pairs == self.equal
            && self.unmatched_left.is_empty()
            && self.unmatched_right.is_empty()
            && self.ambiguous.is_empty()
    }

    /// Differences in all, over every field.
    pub fn differences(&self) -> u64 {
        self.differing.values().sum()
    }
}

/// A customer reduced to what a comparison needs: its id and, per field
/// compared, its value (trimmed, `None` when absent or blank).
#[derive(Clone, Debug)]
pub(crate) struct Snapshot {
    pub(crate) id: CustomerId,
    pub(crate) values: Vec<Option<Value>>,
}

impl Snapshot {
    fn of(customer: &Customer, fields: &[Field]) -> Self {
        Self {
            id: customer.id.clone(),
            values: fields.iter().map(|f| value_of(customer, *f)).collect(),
        }
    }
}

/// `field` of `customer` as the neutral JSON writes it, text trimmed, the
/// country in upper case; `None` when absent or blank.
pub(crate) fn value_of(customer: &Customer, field: Field) -> Option<Value> {
    match customer.get(field)? {
        FieldValue::Text(text) => {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            Some(Value::String(if field.kind() == FieldKind::Country {
                text.to_ascii_uppercase()
            } else {
                text.to_string()
            }))
        }
        other => Some(other.to_json()),
    }
}

/// Whether two values of `field` are the same, by the comparison rules:
/// emails ignore ASCII case; timestamps compare the instant (any offset);
/// tags compare as sets, trimmed, ASCII case ignored; everything else
/// compares exactly (after the trimming of [`value_of`]).
pub(crate) fn same(field: Field, a: Option<&Value>, b: Option<&Value>) -> bool {
    let (a, b) = match (a, b) {
        (None, None) => return true,
        (Some(a), Some(b)) => (a, b),
        _ => return false,
    };
    match field.kind() {
        FieldKind::Text if matches!(field, Field::Email | Field::SecondaryEmail) => {
            match (a.as_str(), b.as_str()) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => a == b,
            }
        }
        FieldKind::Timestamp => match (instant(a), instant(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        FieldKind::Tags => tag_set(a) == tag_set(b),
        _ => a == b,
    }
}

/// A timestamp's instant, from its RFC 3339 text.
fn instant(v: &Value) -> Option<(i64, u32)> {
    let t = unibill_core::attribute::parse_timestamp(v.as_str()?)?;
    Some((t.timestamp(), t.timestamp_subsec_nanos()))
}

fn tag_set(v: &Value) -> std::collections::BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The fields compared: those both sides can read, of `wanted` when given,
/// in [`Field::ALL`] order.
pub(crate) fn compared_fields(
    left: &dyn CustomerUpdater,
    right: &dyn CustomerUpdater,
    wanted: Option<&[Field]>,
) -> Vec<Field> {
    Field::ALL
        .iter()
        .copied()
        .filter(|f| wanted.is_none_or(|w| w.contains(f)))
        .filter(|f| left.capabilities().get(*f).read && right.capabilities().get(*f).read)
        .collect()
}

/// The customers of one side, by match key (those without one apart).
#[derive(Default)]
pub(crate) struct Indexed {
    pub(crate) by_key: BTreeMap<String, Vec<Snapshot>>,
    pub(crate) keyless: Vec<Snapshot>,
}

/// Lists every customer of `updater` and indexes it by `match_by`.
pub(crate) async fn index(
    updater: &dyn CustomerUpdater,
    match_by: &MatchBy,
    side: Side,
    fields: &[Field],
    on_progress: Option<&OnProgress>,
) -> Result<Indexed> {
    let mut out = Indexed::default();
    let mut customers = 0u64;
    let mut pages = updater.list(ListOptions::new());
    while let Some(page) = pages.try_next().await? {
        customers += page.customers.len() as u64;
        OnProgress::report(on_progress, Progress::Listed { side, customers });
        for customer in &page.customers {
            let snapshot = Snapshot::of(customer, fields);
            let keys = match_by.keys(customer, side);
            if keys.is_empty() {
                out.keyless.push(snapshot);
                continue;
            }
            for key in keys {
                out.by_key.entry(key).or_default().push(snapshot.clone());
            }
        }
    }
    Ok(out)
}

/// A pair of customers to compare, and its key.
pub(crate) struct Pair<'a> {
    pub(crate) key: &'a str,
    pub(crate) left: &'a Snapshot,
    pub(crate) right: &'a Snapshot,
}

/// Pairs the two indexes: calls `on_pair` for each key held once on each
/// side, and returns the summary with the unmatched and ambiguous (its
/// counts of pairs are left for the caller).
pub(crate) fn pair_up<'a>(
    left: &'a Indexed,
    right: &'a Indexed,
    fields: &[Field],
    mut on_pair: impl FnMut(Pair<'a>),
) -> DiffSummary {
    let mut summary = DiffSummary {
        fields: fields.to_vec(),
        ..DiffSummary::default()
    };
    let unmatched = |s: &Snapshot, key: Option<&str>| Unmatched {
        id: s.id.clone(),
        key: key.map(str::to_string),
    };
    summary
        .unmatched_left
        .extend(left.keyless.iter().map(|s| unmatched(s, None)));
    summary
        .unmatched_right
        .extend(right.keyless.iter().map(|s| unmatched(s, None)));
    // A customer filed under several keys (an id map that names it more
    // than once) pairs ambiguously under each of them.
    let multi = |side: &Indexed| {
        let mut seen = std::collections::HashMap::<&CustomerId, usize>::new();
        for s in side.by_key.values().flatten() {
            *seen.entry(&s.id).or_default() += 1;
        }
        seen.into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(id, _)| id.clone())
            .collect::<std::collections::HashSet<CustomerId>>()
    };
    let (multi_left, multi_right) = (multi(left), multi(right));
    let mut keys: Vec<&String> = left.by_key.keys().chain(right.by_key.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let l: &'a [Snapshot] = left.by_key.get(key).map_or(&[], Vec::as_slice);
        let r: &'a [Snapshot] = right.by_key.get(key).map_or(&[], Vec::as_slice);
        let shared = l.iter().any(|s| multi_left.contains(&s.id))
            || r.iter().any(|s| multi_right.contains(&s.id));
        match (l, r) {
            ([one], [other]) if !shared => on_pair(Pair {
                key,
                left: one,
                right: other,
            }),
            ([one], []) if !shared => summary.unmatched_left.push(unmatched(one, Some(key))),
            ([], [one]) if !shared => summary.unmatched_right.push(unmatched(one, Some(key))),
            (l, r) => summary.ambiguous.push(Ambiguous {
                key: key.clone(),
                left: l.iter().map(|s| s.id.clone()).collect(),
                right: r.iter().map(|s| s.id.clone()).collect(),
            }),
        }
    }
    summary
}

/// Compares every customer of `left` with its partner on `right`: lists
/// both sides (each page through its client, at its rate limit), pairs
/// them by [`DiffOptions::match_by`], and compares each pair on every
/// field both backends can read. Each difference is handed to
/// `on_difference` (write it as a JSONL line, say) as pairs are compared,
/// in key order; the summary counts pairs, equal pairs and differences
/// per field, and lists the unmatched and the ambiguous.
///
/// The comparison rules: text is trimmed and blank counts as absent;
/// emails ignore ASCII case; countries compare in upper case; timestamps
/// compare the instant, whatever the offset; tags compare as sets, ASCII
/// case ignored; statuses, currencies, amounts and custom attributes
/// compare exactly.
///
/// Memory: both sides are held as snapshots of the compared fields (one
/// per customer), so it grows with the number of customers. A backend
/// that cannot list ([`unibill_core::Listing::None`]) fails with
/// [`unibill_core::Error::UnsupportedListing`] before any request.
pub async fn diff(
    left: &dyn CustomerUpdater,
    right: &dyn CustomerUpdater,
    options: &DiffOptions,
    mut on_difference: impl FnMut(&Difference),
) -> Result<DiffSummary> {
    let fields = compared_fields(left, right, options.fields.as_deref());
    let progress = options.on_progress.as_ref();
    let l = index(left, &options.match_by, Side::Left, &fields, progress).await?;
    let r = index(right, &options.match_by, Side::Right, &fields, progress).await?;
    let (mut pairs, mut equal) = (0, 0);
    let mut differing: BTreeMap<Field, u64> = BTreeMap::new();
    let mut summary = pair_up(&l, &r, &fields, |pair| {
        pairs += 1;
        let mut clean = true;
        for (i, field) in fields.iter().enumerate() {
            let (a, b) = (pair.left.values[i].as_ref(), pair.right.values[i].as_ref());
            if same(*field, a, b) {
                continue;
            }
            clean = false;
            *differing.entry(*field).or_default() += 1;
            on_difference(&Difference {
                key: pair.key.to_string(),
                left_id: pair.left.id.clone(),
                right_id: pair.right.id.clone(),
                field: *field,
                left: a.cloned().unwrap_or(Value::Null),
                right: b.cloned().unwrap_or(Value::Null),
            });
        }
        if clean {
            equal += 1;
        }
    });
    summary.pairs = pairs;
    summary.equal = equal;
    summary.differing = differing;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comparison_rules() {
        let s = |v: &str| Some(json!(v));
        assert!(same(
            Field::Email,
            s("Ann@X.com").as_ref(),
            s("ann@x.COM").as_ref()
        ));
        assert!(!same(
            Field::City,
            s("Lisbon").as_ref(),
            s("lisbon").as_ref()
        ));
        assert!(same(
            Field::CustomerSince,
            s("2024-01-01T10:00:00+02:00").as_ref(),
            s("2024-01-01T08:00:00Z").as_ref()
        ));
        assert!(same(
            Field::Tags,
            Some(json!(["VIP", " b "])).as_ref(),
            Some(json!(["b", "vip"])).as_ref()
        ));
        assert!(!same(
            Field::Tags,
            Some(json!(["a"])).as_ref(),
            Some(json!(["a", "b"])).as_ref()
        ));
        assert!(!same(Field::City, s("x").as_ref(), None));
        assert!(same(Field::City, None, None));
    }

    #[test]
    fn values_are_trimmed_and_blank_is_absent() {
        let mut c = Customer::new("1", Value::Null);
        c.address.city = Some("  Porto ".into());
        c.address.country = Some("pt".into());
        c.company = Some("   ".into());
        assert_eq!(value_of(&c, Field::City), Some(json!("Porto")));
        assert_eq!(value_of(&c, Field::Country), Some(json!("PT")));
        assert_eq!(value_of(&c, Field::Company), None);
        assert_eq!(value_of(&c, Field::Email), None);
    }
}
