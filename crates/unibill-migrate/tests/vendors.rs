//! `diff` and `sync` across two vendors: Fusebill as the source of truth,
//! ChartMogul as the target, paired by own reference (Fusebill's
//! `reference`, ChartMogul's `external_id`). The two emulators seed
//! different people, so every pair differs on some fields; a sync repairs
//! what ChartMogul can set, lists the rest, and a second sync writes
//! nothing.

use unibill_chartmogul::ChartMogul;
use unibill_core::{Backend, BackendBuilder, Field};
use unibill_fusebill::Fusebill;
use unibill_migrate::{diff, sync, DiffOptions, MatchBy, SyncOptions};
use unibill_sandbox::{Sandbox, CHARTMOGUL_API_KEY, FUSEBILL_API_KEY};
use unibill_testkit::fast_settings;

/// ChartMogul's writes (anything but a `GET`), counted in its journal.
fn writes(sandbox: &Sandbox) -> usize {
    sandbox
        .chartmogul()
        .journal()
        .iter()
        .filter(|e| e.method != "GET")
        .count()
}

/// Clients of the sandbox's Fusebill and ChartMogul.
fn clients(sandbox: &Sandbox) -> (Fusebill, ChartMogul) {
    let fb = Fusebill::builder()
        .api_key(FUSEBILL_API_KEY)
        .base_url(sandbox.fusebill().base_url())
        .settings(fast_settings())
        .build()
        .unwrap();
    let cm = ChartMogul::builder()
        .api_key(CHARTMOGUL_API_KEY)
        .base_url(sandbox.chartmogul().base_url())
        .settings(fast_settings())
        .build()
        .unwrap();
    (fb, cm)
}

#[tokio::test]
async fn fusebill_to_chartmogul_sync_repairs_what_chartmogul_can_set_then_writes_nothing() {
    let sandbox = Sandbox::start().await.unwrap();
    let (fb, cm) = clients(&sandbox);
    let n = 12;
    let (fids, cids) = (
        sandbox.fusebill().add_customers(n),
        sandbox.chartmogul().add_customers(n),
    );
    for i in 0..n {
        let reference = format!("MOVE-{i}");
        let r = reference.clone();
        sandbox
            .fusebill()
            .update_customer(&fids[i], move |c| c["reference"] = r.into());
        sandbox.chartmogul().update_customer(&cids[i], move |c| {
            c["external_id"] = reference.clone().into();
            c["external_ids"] = serde_json::json!([reference]);
        });
    }

    // Compared: what both read. Paired: the twelve copies (the seeded
    // customers' references differ between the emulators).
    let mut before = Vec::new();
    let first = diff(&fb, &cm, &DiffOptions::new(MatchBy::External), |d| {
        before.push(d.clone())
    })
    .await
    .unwrap();
    let both_read: Vec<Field> = Field::ALL
        .iter()
        .copied()
        .filter(|f| fb.capabilities().get(*f).read && cm.capabilities().get(*f).read)
        .collect();
    assert_eq!(first.fields, both_read);
    let paired: Vec<&str> = before.iter().map(|d| d.key.as_str()).collect();
    assert!(paired.iter().all(|k| k.starts_with("MOVE-")), "{paired:?}");
    assert_eq!(first.pairs, n as u64, "{first:?}");
    assert!(first.differences() > 0);

    // Sync: every pair repaired on what ChartMogul can set.
    sandbox.chartmogul().clear_journal();
    let mut cannot = std::collections::BTreeSet::new();
    let synced = sync(
        &fb,
        &cm,
        &SyncOptions::new(MatchBy::External).apply(true),
        |item| {
            assert!(item.result.is_ok(), "{}: {:?}", item.key, item.result);
            cannot.extend(item.cannot_set.iter().copied());
        },
    )
    .await
    .unwrap();
    assert_eq!(synced.failed, 0);
    assert_eq!(synced.written, synced.to_repair);
    assert!(writes(&sandbox) > 0);

    // Then only fields ChartMogul cannot set still differ.
    let mut after = Vec::new();
    diff(&fb, &cm, &DiffOptions::new(MatchBy::External), |d| {
        after.push(d.field)
    })
    .await
    .unwrap();
    for field in &after {
        assert!(
            cannot.contains(field),
            "{field} still differs but was not listed as unsettable"
        );
        assert!(
            !cm.capabilities().allows(*field, unibill_core::Op::Set)
                || !cm.capabilities().allows(*field, unibill_core::Op::Clear)
                || !field.is_writable(),
            "{field}"
        );
    }

    // A second sync sends no write.
    sandbox.chartmogul().clear_journal();
    let again = sync(
        &fb,
        &cm,
        &SyncOptions::new(MatchBy::External).apply(true),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!((again.to_repair, again.written), (0, 0));
    assert_eq!(writes(&sandbox), 0);
}

/// A resumed sync leaves alone the pairs named in `skip_keys`, and the
/// progress callback sees every page listed and every repair finish.
#[tokio::test]
async fn skip_keys_leave_pairs_alone_and_progress_counts_pages_and_repairs() {
    use std::sync::{Arc, Mutex};
    use unibill_migrate::{OnProgress, Progress, Side};
    use unibill_sandbox::{MigrationScenario, Vendor};

    let sandbox = Sandbox::start().await.unwrap();
    let truth = sandbox.seed_migration(
        Vendor::Fusebill,
        Vendor::ChartMogul,
        &MigrationScenario {
            matched: 250,
            ..MigrationScenario::default()
        },
    );
    let (fb, cm) = clients(&sandbox);
    let drifted: std::collections::BTreeSet<String> =
        truth.differences.iter().map(|d| d.key.clone()).collect();
    assert_eq!(drifted.len(), 25);
    let skip: Vec<String> = drifted.iter().take(10).cloned().collect();
    let steps = Arc::new(Mutex::new(Vec::new()));
    let seen = steps.clone();
    let options = SyncOptions::new(MatchBy::External)
        .apply(true)
        .skip_keys(skip.clone())
        .on_progress(OnProgress::new(move |p| seen.lock().unwrap().push(p)));
    let mut repaired = Vec::new();
    let summary = sync(&fb, &cm, &options, |item| repaired.push(item.key.clone()))
        .await
        .unwrap();
    assert_eq!(summary.skipped, 10);
    assert_eq!(summary.diff.pairs, 240);
    assert_eq!(repaired.len(), 15);
    assert!(repaired.iter().all(|k| !skip.contains(k)), "{repaired:?}");

    let steps = steps.lock().unwrap().clone();
    let last_listed = |want: Side| {
        steps.iter().rev().find_map(|p| match p {
            Progress::Listed { side, customers } if *side == want => Some(*customers),
            _ => None,
        })
    };
    // Seeded on each side, plus the vendor's example customers.
    assert!(last_listed(Side::Left).unwrap() >= 250 + 20 + 6);
    assert!(last_listed(Side::Right).unwrap() >= 250 + 20 + 3);
    let repairs: Vec<(u64, u64)> = steps
        .iter()
        .filter_map(|p| match p {
            Progress::Repaired { done, total } => Some((*done, *total)),
            _ => None,
        })
        .collect();
    let total = repairs.first().map(|r| r.1).unwrap();
    assert_eq!(repairs.len() as u64, total);
    assert_eq!(repairs.last(), Some(&(total, total)));
}
