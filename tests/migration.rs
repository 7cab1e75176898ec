//! The migration rehearsal on the emulators, for every ordered pair of
//! backends: 1,000 customers held by both (paired by own reference, the
//! lookup key all share), 10% of them drifting across every field
//! both read, 20 on one side only each, 3 ambiguous references.
//!
//! - `diff` reports exactly the seeded truth, field by field;
//! - `sync --apply` leaves differences only on fields it listed as unable
//!   to set;
//! - a second `sync --apply` sends no write, counted in the journal.
#![cfg(feature = "migrate")]
// With only some backends compiled in, helpers for the others go unused.
#![cfg_attr(
    not(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic")),
    allow(dead_code, unused_imports)
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use futures_util::TryStreamExt;
use serde_json::Value;
use unibill::migrate::{diff, sync, DiffOptions, MatchBy, SyncOptions};
use unibill::{CustomerUpdater, Field, ListOptions};
use unibill_sandbox::{MigrationScenario, Sandbox, Vendor};

fn vendor_of(backend: &str) -> Vendor {
    Vendor::from_name(backend).expect("a sandbox vendor")
}

/// The ids a backend lists.
async fn listed(updater: &dyn CustomerUpdater) -> BTreeSet<String> {
    let pages: Vec<_> = updater
        .list(ListOptions::new())
        .try_collect()
        .await
        .expect("lists");
    pages
        .iter()
        .flat_map(|p| p.customers.iter().map(|c| c.id.to_string()))
        .collect()
}

/// Writes (anything but a `GET`) in a vendor's journal.
fn writes(sandbox: &Sandbox, vendor: Vendor) -> usize {
    sandbox
        .vendor(vendor)
        .journal()
        .iter()
        .filter(|e| e.method != "GET")
        .count()
}

type Row = (String, String, String, Field, Value, Value);

async fn rehearse(left: &'static str, right: &'static str) {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let l = common::config(&sandbox, left).build().expect("builds");
    let r = common::config(&sandbox, right).build().expect("builds");
    let (before_l, before_r) = (listed(&*l).await, listed(&*r).await);
    let truth = sandbox.seed_migration(
        vendor_of(left),
        vendor_of(right),
        &MigrationScenario::default(),
    );
    let pair = format!("{left} -> {right}");

    // The seeding drifts exactly the fields both backends read, but the
    // own reference the pairs match by.
    let both_read: Vec<Field> = Field::ALL
        .iter()
        .copied()
        .filter(|f| l.capabilities().get(*f).read && r.capabilities().get(*f).read)
        .filter(|f| *f != Field::ExternalReference)
        .collect();
    assert_eq!(truth.fields, both_read, "{pair}");
    let drifted: BTreeSet<Field> = truth.differences.iter().map(|d| d.field).collect();
    assert_eq!(
        drifted,
        both_read.iter().copied().collect(),
        "{pair}: every field both read drifts somewhere"
    );

    // Diff: exactly the truth.
    let mut found: Vec<Row> = Vec::new();
    let summary = diff(&*l, &*r, &DiffOptions::new(MatchBy::External), |d| {
        found.push((
            d.key.clone(),
            d.left_id.to_string(),
            d.right_id.to_string(),
            d.field,
            d.left.clone(),
            d.right.clone(),
        ))
    })
    .await
    .unwrap_or_else(|e| panic!("{pair}: {e}"));
    let expected: Vec<Row> = truth
        .differences
        .iter()
        .map(|d| {
            (
                d.key.clone(),
                d.left_id.clone(),
                d.right_id.clone(),
                d.field,
                d.left.clone(),
                d.right.clone(),
            )
        })
        .collect();
    assert_eq!(found.len(), expected.len(), "{pair}");
    for (f, e) in found.iter().zip(&expected) {
        assert_eq!(f, e, "{pair}");
    }
    assert_eq!(summary.pairs, 1_000, "{pair}");
    let drifted_pairs: BTreeSet<&str> = expected.iter().map(|d| d.0.as_str()).collect();
    assert_eq!(drifted_pairs.len(), 100, "{pair}: 10% drift");
    assert_eq!(summary.equal, 900, "{pair}");
    let ambiguous: Vec<&str> = summary.ambiguous.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(ambiguous, truth.ambiguous, "{pair}");
    for a in &summary.ambiguous {
        assert_eq!((a.left.len(), a.right.len()), (2, 1), "{pair}: {a:?}");
    }
    // Unmatched: the seeded ones, and the customers the emulators held
    // before (their own references pair with nothing).
    let side = |u: &[unibill::migrate::Unmatched]| -> BTreeSet<String> {
        u.iter().map(|u| u.id.to_string()).collect()
    };
    let seeded_l: BTreeSet<String> = truth.unmatched_left.iter().cloned().collect();
    let seeded_r: BTreeSet<String> = truth.unmatched_right.iter().cloned().collect();
    assert_eq!(seeded_l.len(), 20);
    assert_eq!(
        side(&summary.unmatched_left),
        &seeded_l | &before_l,
        "{pair}"
    );
    assert_eq!(
        side(&summary.unmatched_right),
        &seeded_r | &before_r,
        "{pair}"
    );

    // Sync: left is the source of truth.
    let options = SyncOptions::new(MatchBy::External).apply(true);
    let (rv, lv) = (vendor_of(right), vendor_of(left));
    sandbox.vendor(rv).clear_journal();
    let mut cannot: BTreeMap<String, BTreeSet<Field>> = BTreeMap::new();
    let synced = sync(&*l, &*r, &options, |item| {
        assert!(
            item.result.is_ok(),
            "{pair} {}: {:?}",
            item.key,
            item.result
        );
        cannot
            .entry(item.key.clone())
            .or_default()
            .extend(item.cannot_set.iter().copied());
    })
    .await
    .unwrap_or_else(|e| panic!("{pair}: {e}"));
    assert_eq!(synced.failed, 0, "{pair}");
    assert_eq!(synced.written, synced.to_repair, "{pair}");
    assert_eq!(writes(&sandbox, lv), 0, "{pair}: the source is only read");

    // After: only what the target was listed as unable to set differs.
    let mut left_over: BTreeMap<String, BTreeSet<Field>> = BTreeMap::new();
    let after = diff(&*l, &*r, &DiffOptions::new(MatchBy::External), |d| {
        left_over.entry(d.key.clone()).or_default().insert(d.field);
    })
    .await
    .unwrap();
    let listed_cannot: BTreeMap<String, BTreeSet<Field>> =
        cannot.into_iter().filter(|(_, f)| !f.is_empty()).collect();
    assert_eq!(left_over, listed_cannot, "{pair}");
    assert_eq!(after.pairs, 1_000, "{pair}");

    // A second sync writes nothing.
    sandbox.vendor(rv).clear_journal();
    let again = sync(&*l, &*r, &options, |_| {}).await.unwrap();
    assert_eq!((again.to_repair, again.written), (0, 0), "{pair}");
    assert_eq!(writes(&sandbox, rv), 0, "{pair}");
    sandbox.shutdown().await;
}

macro_rules! pairs {
    ($($name:ident: $left:literal => $right:literal, [$($feature:literal),*];)*) => {$(
        #[tokio::test]
        #[cfg(all($(feature = $feature),*))]
        async fn $name() {
            rehearse($left, $right).await;
        }
    )*};
}

pairs! {
    fusebill_to_chartmogul: "fusebill" => "chartmogul", ["fusebill", "chartmogul"];
    chartmogul_to_fusebill: "chartmogul" => "fusebill", ["fusebill", "chartmogul"];
    fusebill_to_everlytic: "fusebill" => "everlytic", ["fusebill", "everlytic"];
    everlytic_to_fusebill: "everlytic" => "fusebill", ["fusebill", "everlytic"];
    chartmogul_to_everlytic: "chartmogul" => "everlytic", ["chartmogul", "everlytic"];
    everlytic_to_chartmogul: "everlytic" => "chartmogul", ["chartmogul", "everlytic"];
    stripe_to_chartmogul: "stripe" => "chartmogul", ["stripe", "chartmogul"];
    chartmogul_to_stripe: "chartmogul" => "stripe", ["stripe", "chartmogul"];
    stripe_to_fusebill: "stripe" => "fusebill", ["stripe", "fusebill"];
    fusebill_to_stripe: "fusebill" => "stripe", ["stripe", "fusebill"];
    stripe_to_everlytic: "stripe" => "everlytic", ["stripe", "everlytic"];
    everlytic_to_stripe: "everlytic" => "stripe", ["stripe", "everlytic"];
}
