//! `diff` between two Fusebill emulators holding the same customers, with
//! drift, customers on one side only, a key held twice and a customer
//! without a key made through the public update path; and between
//! Fusebill and ChartMogul, which compares only the fields both read.

use unibill_core::{BackendBuilder, CustomerId, CustomerPatch, CustomerUpdater, Field};
use unibill_fusebill::Fusebill;
use unibill_migrate::{diff, DiffOptions, Difference, IdMap, MatchBy};
use unibill_sandbox::{Sandbox, FUSEBILL_API_KEY};
use unibill_testkit::fast_settings;

fn fusebill(sandbox: &Sandbox) -> Fusebill {
    Fusebill::builder()
        .api_key(FUSEBILL_API_KEY)
        .base_url(sandbox.fusebill().base_url())
        .settings(fast_settings())
        .build()
        .expect("client builds")
}

async fn set(updater: &Fusebill, id: &str, patch: CustomerPatch) {
    updater
        .update(&CustomerId::from(id), &patch)
        .await
        .unwrap_or_else(|e| panic!("{id}: {e}"));
}

/// 30 copies on each side; the references say who pairs with whom.
async fn two_sides() -> (
    Sandbox,
    Fusebill,
    Vec<String>,
    Sandbox,
    Fusebill,
    Vec<String>,
) {
    let (ls, rs) = (
        Sandbox::start().await.unwrap(),
        Sandbox::start().await.unwrap(),
    );
    let (l, r) = (fusebill(&ls), fusebill(&rs));
    let (lids, rids) = (
        ls.fusebill().add_customers(30),
        rs.fusebill().add_customers(30),
    );
    for i in 0..30 {
        let left = match i {
            26 | 27 => "DUP".to_string(),
            28 => "ONLY-L".to_string(),
            _ => format!("M-{i}"),
        };
        let right = match i {
            27 => "ONLY-R".to_string(),
            28 => "ONLY-R2".to_string(),
            29 => "ONLY-R3".to_string(),
            26 => "DUP".to_string(),
            _ => format!("M-{i}"),
        };
        let left = if i == 29 {
            CustomerPatch::new().clear_external_reference()
        } else {
            CustomerPatch::new().external_reference(left)
        };
        set(&l, &lids[i], left).await;
        set(&r, &rids[i], CustomerPatch::new().external_reference(right)).await;
    }
    (ls, l, lids, rs, r, rids)
}

/// Drift on the right: a first name (M-3), a company (M-5), an email (M-9).
async fn drift(r: &Fusebill, rids: &[String]) {
    set(r, &rids[3], CustomerPatch::new().first_name("Drifted")).await;
    set(r, &rids[5], CustomerPatch::new().company("Elsewhere Ltd")).await;
    set(
        r,
        &rids[9],
        CustomerPatch::new().email("someone.else@example.com"),
    )
    .await;
}

#[tokio::test]
async fn diff_reports_exactly_the_drift_the_unmatched_and_the_ambiguous() {
    let (_ls, l, lids, _rs, r, rids) = two_sides().await;
    // Drift on the right, and one change the rules call equal.
    drift(&r, &rids).await;
    let left_email = l
        .get(&CustomerId::from(lids[7].as_str()))
        .await
        .unwrap()
        .email
        .unwrap();
    set(
        &r,
        &rids[7],
        CustomerPatch::new().email(left_email.to_ascii_uppercase()),
    )
    .await;

    let mut found: Vec<Difference> = Vec::new();
    let summary = diff(&l, &r, &DiffOptions::new(MatchBy::External), |d| {
        found.push(d.clone())
    })
    .await
    .expect("diff");
    let got: Vec<(&str, Field, &str, &str)> = found
        .iter()
        .map(|d| {
            (
                d.key.as_str(),
                d.field,
                d.left_id.as_str(),
                d.right_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("M-3", Field::FirstName, lids[3].as_str(), rids[3].as_str()),
            ("M-5", Field::Company, lids[5].as_str(), rids[5].as_str()),
            ("M-9", Field::Email, lids[9].as_str(), rids[9].as_str()),
        ]
    );
    assert_eq!(found[0].right, serde_json::json!("Drifted"));
    assert_eq!(found[1].right, serde_json::json!("Elsewhere Ltd"));
    // 26 pairs of copies and the emulator's own seeded customers, which
    // are the same on both sides.
    let seeded = summary.pairs - 26;
    assert!(seeded >= 1, "{summary:?}");
    assert_eq!(summary.equal, summary.pairs - 3);
    assert_eq!(summary.differences(), 3);
    assert_eq!(summary.differing.get(&Field::Company), Some(&1));
    let ambiguous: Vec<(&str, usize, usize)> = summary
        .ambiguous
        .iter()
        .map(|a| (a.key.as_str(), a.left.len(), a.right.len()))
        .collect();
    assert_eq!(ambiguous, [("DUP", 2, 1)]);
    let left_only: Vec<(&str, Option<&str>)> = summary
        .unmatched_left
        .iter()
        .map(|u| (u.id.as_str(), u.key.as_deref()))
        .collect();
    assert_eq!(
        left_only,
        [
            (lids[29].as_str(), None),
            (lids[28].as_str(), Some("ONLY-L"))
        ]
    );
    let right_only: Vec<&str> = summary
        .unmatched_right
        .iter()
        .map(|u| u.id.as_str())
        .collect();
    assert_eq!(
        right_only,
        [&rids[27], &rids[28], &rids[29]].map(|s| s.as_str())
    );
    assert!(!summary.is_clean());
    // Only the fields asked for, when asked.
    let mut only_company = Vec::new();
    diff(
        &l,
        &r,
        &DiffOptions::new(MatchBy::External).fields([Field::Company]),
        |d| only_company.push(d.field),
    )
    .await
    .unwrap();
    assert_eq!(only_company, [Field::Company]);
}

#[tokio::test]
async fn an_id_map_pairs_by_id_and_reports_a_right_id_mapped_twice() {
    let (ls, rs) = (
        Sandbox::start().await.unwrap(),
        Sandbox::start().await.unwrap(),
    );
    let (l, r) = (fusebill(&ls), fusebill(&rs));
    let (lids, rids) = (
        ls.fusebill().add_customers(3),
        rs.fusebill().add_customers(3),
    );
    set(&r, &rids[1], CustomerPatch::new().company("Mapped Ltd")).await;
    // lids[0] → rids[1] (drift: company), lids[1] and lids[2] → rids[2].
    let map = IdMap::parse(&format!(
        "left_id,right_id\n{},{}\n{},{}\n{},{}\n",
        lids[0], rids[1], lids[1], rids[2], lids[2], rids[2]
    ))
    .unwrap();
    let mut found = Vec::new();
    let summary = diff(&l, &r, &DiffOptions::new(MatchBy::Map(map)), |d| {
        found.push(d.clone())
    })
    .await
    .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].field, found[0].left_id.as_str()),
        (Field::Company, lids[0].as_str())
    );
    assert_eq!(summary.pairs, 1);
    // lids[1] and lids[2] both map to rids[2]: ambiguous under each key,
    // never paired.
    let ambiguous: Vec<(&str, Vec<&str>)> = summary
        .ambiguous
        .iter()
        .map(|a| {
            (
                a.key.as_str(),
                a.right.iter().map(|id| id.as_str()).collect(),
            )
        })
        .collect();
    let mut want = vec![
        (lids[1].as_str(), vec![rids[2].as_str()]),
        (lids[2].as_str(), vec![rids[2].as_str()]),
    ];
    want.sort();
    assert_eq!(ambiguous, want);
}

/// Writes the target received (its `PUT`s), counted in its journal.
fn puts(sandbox: &Sandbox) -> usize {
    sandbox
        .fusebill()
        .journal()
        .iter()
        .filter(|e| e.method == "PUT")
        .count()
}

#[tokio::test]
async fn sync_repairs_what_the_target_can_set_lists_the_rest_and_then_writes_nothing() {
    use unibill_migrate::{sync, SyncOptions};
    let (_ls, l, _lids, rs, r, rids) = two_sides().await;
    drift(&r, &rids).await;
    // A difference no patch can repair: the MRR is read only.
    rs.fusebill().update_customer(&rids[11], |c| {
        c["monthlyRecurringRevenue"] = serde_json::json!(12345.5);
    });

    // Dry run: nothing written, three repairs planned, the MRR listed.
    rs.fusebill().clear_journal();
    let mut planned = Vec::new();
    let dry = sync(&l, &r, &SyncOptions::new(MatchBy::External), |item| {
        planned.push((
            item.key.clone(),
            item.repaired.clone(),
            item.cannot_set.clone(),
        ))
    })
    .await
    .expect("dry run");
    assert_eq!(puts(&rs), 0, "a dry run writes nothing");
    assert_eq!(
        planned,
        [
            ("M-11".to_string(), vec![], vec![Field::Mrr]),
            ("M-3".to_string(), vec![Field::FirstName], vec![]),
            ("M-5".to_string(), vec![Field::Company], vec![]),
            ("M-9".to_string(), vec![Field::Email], vec![]),
        ]
    );
    assert_eq!((dry.to_repair, dry.written, dry.failed), (3, 0, 0));
    assert_eq!(dry.cannot_set.get(&Field::Mrr), Some(&1));

    // Applied: three writes, through the update path.
    rs.fusebill().clear_journal();
    let applied = sync(
        &l,
        &r,
        &SyncOptions::new(MatchBy::External).apply(true),
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(
        (applied.to_repair, applied.written, applied.failed),
        (3, 3, 0)
    );
    assert_eq!(puts(&rs), 3);

    // Then only what the target cannot set still differs.
    let mut left_over = Vec::new();
    diff(&l, &r, &DiffOptions::new(MatchBy::External), |d| {
        left_over.push((d.key.clone(), d.field))
    })
    .await
    .unwrap();
    assert_eq!(left_over, [("M-11".to_string(), Field::Mrr)]);

    // A second sync writes nothing.
    rs.fusebill().clear_journal();
    let again = sync(
        &l,
        &r,
        &SyncOptions::new(MatchBy::External).apply(true),
        |_| {},
    )
    .await
    .expect("sync again");
    assert_eq!((again.to_repair, again.written), (0, 0));
    assert_eq!(puts(&rs), 0, "nothing left to write");
}
