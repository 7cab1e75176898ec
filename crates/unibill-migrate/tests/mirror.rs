//! `Mirror`: one update at a primary Fusebill and a secondary Fusebill
//! (a second emulator), the secondary addressed by the customer's own
//! reference or through an id map; a failing secondary under each policy;
//! and concurrent mirrored updates of one customer.

use std::sync::Arc;

use unibill_core::{
    BackendBuilder, CustomerId, CustomerPatch, CustomerRef, CustomerUpdater, Error, Field,
};
use unibill_fusebill::Fusebill;
use unibill_migrate::{diff, DiffOptions, IdMap, MatchBy, Mirror, MirrorPolicy};
use unibill_sandbox::{Fault, Sandbox, FUSEBILL_API_KEY};
use unibill_testkit::fast_settings;

/// A client of the emulator's Fusebill account. Both emulators accept
/// the same key, which Fusebill would issue for one account only, so each
/// client names its account (`account`): two accounts, as two vendors'
/// or two Fusebill accounts' clients would be, each with its own locks.
fn fusebill(sandbox: &Sandbox, account: &str) -> Arc<Fusebill> {
    Arc::new(
        Fusebill::builder()
            .api_key(FUSEBILL_API_KEY)
            .base_url(sandbox.fusebill().base_url())
            .settings(unibill_core::Settings {
                account: Some(account.into()),
                ..fast_settings()
            })
            .build()
            .expect("client builds"),
    )
}

/// Two emulators holding the same customers, each with reference `M-i`.
async fn pair(
    n: usize,
) -> (
    Sandbox,
    Arc<Fusebill>,
    Vec<String>,
    Sandbox,
    Arc<Fusebill>,
    Vec<String>,
) {
    let (ps, ss) = (
        Sandbox::start().await.unwrap(),
        Sandbox::start().await.unwrap(),
    );
    let (p, s) = (fusebill(&ps, "primary"), fusebill(&ss, "secondary"));
    let (pids, sids) = (
        ps.fusebill().add_customers(n),
        ss.fusebill().add_customers(n),
    );
    for i in 0..n {
        let patch = CustomerPatch::new().external_reference(format!("M-{i}"));
        p.update(&CustomerId::from(pids[i].as_str()), &patch)
            .await
            .unwrap();
        s.update(&CustomerId::from(sids[i].as_str()), &patch)
            .await
            .unwrap();
    }
    (ps, p, pids, ss, s, sids)
}

#[tokio::test]
async fn one_update_reaches_both_by_reference_by_id_and_through_a_map() {
    let (_ps, p, pids, _ss, s, sids) = pair(3).await;
    let mirror = Mirror::new(p.clone()).secondary(s.clone());
    // By reference: the secondary is looked up by the same reference.
    let outcome = mirror
        .update_with(
            &CustomerRef::external("M-0"),
            &CustomerPatch::new().company("Both Ltd"),
            &Default::default(),
        )
        .await
        .expect("mirrored");
    assert_eq!(outcome.customer.id.as_str(), pids[0]);
    assert_eq!(outcome.mirrored.len(), 1);
    let at_secondary = outcome.mirrored[0].result.as_ref().expect("secondary ok");
    assert_eq!(at_secondary.customer.id.as_str(), sids[0]);
    assert!(at_secondary.changed());
    // By id: the secondary is found by the customer's own reference.
    mirror
        .update(
            &CustomerId::from(pids[1].as_str()),
            &CustomerPatch::new().first_name("Byid"),
        )
        .await
        .expect("by id");
    let got = s.get(&CustomerId::from(sids[1].as_str())).await.unwrap();
    assert_eq!(got.first_name.as_deref(), Some("Byid"));
    // Through an id map (no lookup at the secondary).
    let map = IdMap::parse(&format!("{},{}\n", pids[2], sids[2])).unwrap();
    let mapped = Mirror::new(p.clone()).secondary_with_map(s.clone(), map);
    mapped
        .update(
            &CustomerId::from(pids[2].as_str()),
            &CustomerPatch::new().first_name("Mapped"),
        )
        .await
        .expect("mapped");
    let got = s.get(&CustomerId::from(sids[2].as_str())).await.unwrap();
    assert_eq!(got.first_name.as_deref(), Some("Mapped"));
    // Both sides now agree.
    let summary = diff(&*p, &*s, &DiffOptions::new(MatchBy::External), |_| {})
        .await
        .unwrap();
    assert_eq!(summary.differences(), 0, "{summary:?}");
}

#[tokio::test]
async fn a_failing_secondary_is_drift_under_primary_decides_and_an_error_under_all_must_succeed() {
    let (_ps, p, pids, ss, s, sids) = pair(2).await;
    // Every request to the secondary answers 503, past the retries.
    ss.fusebill().inject(Fault::status(503).times(1000));
    let mirror = Mirror::new(p.clone()).secondary(s.clone());
    let outcome = mirror
        .update_with(
            &CustomerRef::external("M-0"),
            &CustomerPatch::new().company("Only Primary Ltd"),
            &Default::default(),
        )
        .await;
    let outcome = outcome.expect("the primary decides");
    let err = outcome.mirrored[0]
        .result
        .as_ref()
        .expect_err("the secondary failed");
    assert!(err.is_retryable(), "{err}");
    ss.fusebill().clear_faults();
    // A later diff finds exactly that drift.
    let mut found = Vec::new();
    diff(&*p, &*s, &DiffOptions::new(MatchBy::External), |d| {
        found.push((
            d.key.clone(),
            d.field,
            d.left_id.to_string(),
            d.right_id.to_string(),
        ))
    })
    .await
    .unwrap();
    assert_eq!(
        found,
        [(
            "M-0".to_string(),
            Field::Company,
            pids[0].clone(),
            sids[0].clone()
        )]
    );

    // All must succeed: the same failure is an error naming what applied.
    ss.fusebill().inject(Fault::status(503).times(1000));
    let strict = Mirror::new(p.clone())
        .secondary(s.clone())
        .policy(MirrorPolicy::AllMustSucceed);
    match strict
        .update(
            &CustomerRef::external("M-1"),
            &CustomerPatch::new().company("Strict Ltd"),
        )
        .await
    {
        Err(Error::PartialUpdate {
            applied, failed, ..
        }) => {
            assert_eq!(applied.len(), 1, "{applied:?}");
            assert!(applied[0].starts_with("fusebill: PUT"), "{applied:?}");
            assert!(failed.contains("fusebill"), "{failed}");
        }
        other => panic!("{other:?}"),
    }
}

/// 200 updates of one customer at once, alternating two fields: the
/// primary's write lock orders them, each secondary write follows its
/// primary write under that lock, and both backends end with the same
/// values, neither field back at what it was before.
#[tokio::test]
async fn concurrent_mirrored_updates_of_one_customer_lose_no_edit() {
    let (_ps, p, pids, _ss, s, sids) = pair(1).await;
    let mirror = Arc::new(Mirror::new(p.clone()).secondary(s.clone()));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let mirror = mirror.clone();
        tasks.push(tokio::spawn(async move {
            let patch = if i % 2 == 0 {
                CustomerPatch::new().first_name(format!("F{i}"))
            } else {
                CustomerPatch::new().company(format!("C{i}"))
            };
            let outcome = mirror
                .update_with(&CustomerRef::external("M-0"), &patch, &Default::default())
                .await
                .expect("primary");
            assert!(outcome.mirrored[0].result.is_ok(), "secondary {i}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let a = p.get(&CustomerId::from(pids[0].as_str())).await.unwrap();
    let b = s.get(&CustomerId::from(sids[0].as_str())).await.unwrap();
    assert_eq!((&a.first_name, &a.company), (&b.first_name, &b.company));
    assert!(
        a.first_name.as_deref().is_some_and(|f| f.starts_with('F')),
        "{a:?}"
    );
    assert!(
        a.company.as_deref().is_some_and(|c| c.starts_with('C')),
        "{a:?}"
    );
}
