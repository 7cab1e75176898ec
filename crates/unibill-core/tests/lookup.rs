//! The provided lookup methods (`find`, `resolve`, and `get`/`update`/
//! `dry_run`/bulk by reference) over the in-memory backend with scripted lookups: which hooks run,
//! in which order, and the typed errors.

use unibill_core::bulk::{bulk_update_stream, BulkOptions};
use unibill_core::lock::{AccountId, WriteLocking, DEFAULT_LOCK_WAIT};
use unibill_core::{
    Capabilities, CustomerId, CustomerLocks, CustomerPatch, CustomerRef, CustomerUpdater, Error,
    ErrorKind, Field, FieldCaps, LookupKind, UpdateOptions,
};
use unibill_testkit::memory::{InMemory, KIND};

/// The shared in-memory backend whose lookups answer from a script (one
/// answer per call, the last repeated), whose ids are numbers without
/// leading zeros, and which logs every hook call.
fn scripted(answers: &[&[&str]]) -> InMemory {
    InMemory::new()
        .with_capabilities(
            Capabilities::new(KIND)
                .with(Field::City, FieldCaps::ALL)
                .with_lookup(LookupKind::Email),
        )
        .with_locks(CustomerLocks::new(
            KIND,
            AccountId::of("memory://lookup", b""),
            &WriteLocking::InProcess,
            DEFAULT_LOCK_WAIT,
        ))
        .with_canonical_id(|id| {
            let n: u64 = id
                .as_str()
                .parse()
                .map_err(|_| Error::validation("id", "not a number"))?;
            Ok(CustomerId::from(n))
        })
        .with_lookups(answers)
}

fn city() -> CustomerPatch {
    CustomerPatch::new().city("Oslo")
}

fn email() -> CustomerRef {
    CustomerRef::email("a@b.example")
}

#[tokio::test]
async fn update_by_reference_confirms_the_match_then_writes_it_under_its_lock() {
    let b = scripted(&[&["007"]]);
    let out = b.update(&email(), &city()).await.unwrap();
    assert_eq!(out.id.as_str(), "7");
    assert_eq!(
        b.log(),
        vec![
            "lookup email a@b.example",
            "lookup email a@b.example",
            "apply 7 locked 7"
        ]
    );
}

#[tokio::test]
async fn a_match_that_moves_is_resolved_again_and_the_new_one_written() {
    let b = scripted(&[&["1"], &["2"], &["2"], &["2"]]);
    let out = b.update(&email(), &city()).await.unwrap();
    assert_eq!(out.id.as_str(), "2");
    let log = b.log();
    assert_eq!(log.len(), 5, "{log:?}");
    assert_eq!(log[4], "apply 2 locked 2");
}

#[tokio::test]
async fn a_match_that_keeps_moving_is_a_conflict_with_nothing_written() {
    let b = scripted(&[&["1"], &["2"], &["3"], &["4"], &["5"], &["6"], &["7"]]);
    let e = b.update(&email(), &city()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.to_string().contains("email a@b.example"), "{e}");
    let log = b.log();
    // Three rounds of two lookups, no write.
    assert_eq!(log.len(), 6, "{log:?}");
    assert!(log.iter().all(|l| l.starts_with("lookup")));
}

#[tokio::test]
async fn several_or_no_matches_at_either_lookup_write_nothing() {
    let b = scripted(&[&["1", "01", "2"]]);
    match b.update(&email(), &city()).await.unwrap_err() {
        Error::Ambiguous {
            backend,
            reference,
            matches,
            count,
        } => {
            assert_eq!(backend, KIND);
            assert_eq!(reference, email());
            // Canonical and without duplicates.
            assert_eq!(matches, vec![CustomerId::from("1"), CustomerId::from("2")]);
            assert_eq!(count, 2);
        }
        other => panic!("{other:?}"),
    }
    // Found alone, then several under the lock.
    let b = scripted(&[&["1"], &["1", "2"]]);
    let e = b.update(&email(), &city()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Ambiguous, "{e}");
    assert!(!e.is_retryable());
    assert_eq!(b.log().len(), 2);
    // Found, then gone under the lock.
    let b = scripted(&[&["1"], &[]]);
    match b.update(&email(), &city()).await.unwrap_err() {
        Error::NotFound { id, .. } => assert_eq!(id, "email a@b.example"),
        other => panic!("{other:?}"),
    }
    assert!(b.log().iter().all(|l| !l.starts_with("apply")));
}

#[tokio::test]
async fn ambiguous_display_lists_matches_capped_and_escaped() {
    let many: Vec<&'static str> = (1..=25u64)
        .map(|n| &*Box::leak(n.to_string().into_boxed_str()))
        .collect();
    let b = scripted(&[&many]);
    let e = b
        .resolve(&CustomerRef::email("a\u{1b}@b.example"))
        .await
        .unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.starts_with("memory: email a\\u{1b}@b.example matches 25 customers: `1`, `2`"),
        "{shown}"
    );
    assert!(shown.ends_with("`10`, … and 15 more"), "{shown}");
}

/// A hook answering more than `MAX_MATCHES` ids (with repeats, in two
/// spellings): `find` keeps the first `MAX_MATCHES` distinct ones and
/// answers `Ambiguous` with the count of distinct matches, never a list
/// silently cut short nor one holding every match.
#[tokio::test]
async fn find_past_the_match_cap_is_ambiguous_with_the_count() {
    use unibill_core::reference::MAX_MATCHES;
    let total = MAX_MATCHES + 500;
    let mut many: Vec<&'static str> = (1..=total)
        .map(|n| &*Box::leak(n.to_string().into_boxed_str()))
        .collect();
    // The same customers again, spelt with a leading zero.
    many.extend((1..=300).map(|n| &*Box::leak(format!("0{n}").into_boxed_str())));
    let b = scripted(&[&many]);
    match b.find(&email()).await.unwrap_err() {
        Error::Ambiguous {
            matches,
            count,
            reference,
            ..
        } => {
            assert_eq!(count, total);
            assert_eq!(matches.len(), MAX_MATCHES);
            assert_eq!(matches[0], CustomerId::from("1"));
            assert_eq!(reference, email());
        }
        other => panic!("{other:?}"),
    }
    let e = b.resolve(&email()).await.unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("matches at least {total} customers")),
        "{e}"
    );
    assert!(!e.is_retryable());
}

/// A lookup past its overall deadline stops, with a retryable error naming
/// the pages read.
#[tokio::test]
async fn a_lookup_past_its_deadline_names_the_pages_read() {
    use std::time::Duration;
    use unibill_core::lookup::LookupPages;
    use unibill_core::transport::{Auth, Transport, TransportConfig};
    let config = TransportConfig {
        lookup_deadline: Some(Duration::from_millis(200)),
        ..TransportConfig::default()
    };
    let t = Transport::new(KIND, "http://127.0.0.1:9", Auth::None, config, None).unwrap();
    assert_eq!(t.lookup_deadline(), Duration::from_millis(200));
    let mut pages = LookupPages::new(&t, LookupKind::Email, "a@b.example");
    for _ in 0..2 {
        pages.page(async { Ok(()) }).await.unwrap();
    }
    let slow = pages
        .page(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        })
        .await;
    match slow.unwrap_err() {
        e @ Error::LookupTimeout { pages: 2, .. } => {
            assert!(e.is_retryable());
            let shown = e.to_string();
            assert!(shown.contains("2 page(s) read"), "{shown}");
            assert!(shown.contains("email a@b.example"), "{shown}");
        }
        other => panic!("{other:?}"),
    }
    // The default: five retry deadlines.
    let t = Transport::new(
        KIND,
        "http://127.0.0.1:9",
        Auth::None,
        TransportConfig::default(),
        None,
    )
    .unwrap();
    assert_eq!(t.lookup_deadline(), Duration::from_secs(300));
    let zero = TransportConfig {
        lookup_deadline: Some(Duration::ZERO),
        ..TransportConfig::default()
    };
    match Transport::new(KIND, "http://127.0.0.1:9", Auth::None, zero, None).unwrap_err() {
        Error::Config { field, .. } => assert_eq!(field, "lookup_deadline"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn refused_lookups_call_no_hook() {
    let b = scripted(&[&["1"]]);
    let e = b
        .update(&CustomerRef::external("X-1"), &city())
        .await
        .unwrap_err();
    match &e {
        Error::UnsupportedLookup { backend, lookup } => {
            assert_eq!((*backend, *lookup), (KIND, LookupKind::External))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(
        e.to_string(),
        "memory cannot look up customers by external reference"
    );
    let e = b.find(&CustomerRef::email(" ")).await.unwrap_err();
    assert!(
        matches!(&e, Error::Validation { field, .. } if field == "email"),
        "{e}"
    );
    // A bad patch is refused before the lookup.
    let e = b
        .update(&email(), &CustomerPatch::new().add_tag("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(b.log().is_empty(), "{:?}", b.log());
}

#[tokio::test]
async fn ids_need_no_lookup_and_get_and_dry_run_resolve_once() {
    let b = scripted(&[&["3"]]);
    assert_eq!(
        b.find(&CustomerId::from("0042")).await.unwrap(),
        vec![CustomerId::from("42")]
    );
    b.get(&CustomerId::from("9")).await.unwrap();
    assert_eq!(b.log(), vec!["fetch 9"]);
    b.get(&email()).await.unwrap();
    b.dry_run(&email(), &city(), &UpdateOptions::default())
        .await
        .unwrap();
    assert_eq!(
        b.log()[1..],
        [
            "lookup email a@b.example",
            "fetch 3",
            "lookup email a@b.example",
            "plan 3"
        ]
    );
}

#[tokio::test]
async fn bulk_items_may_be_references_or_ids() {
    let b = scripted(&[&["5"]]);
    let items = vec![
        (email(), city()),
        (CustomerRef::id("6"), city()),
        (CustomerRef::external("X"), city()),
    ];
    let mut results = Vec::new();
    let summary = bulk_update_stream(
        &b,
        futures_util::stream::iter(items),
        BulkOptions {
            ordered: true,
            ..BulkOptions::default()
        },
    )
    .for_each_result(|r| results.push(r))
    .await;
    assert_eq!(summary.applied, 2);
    assert_eq!(summary.failed_with(ErrorKind::Unsupported), 1);
    assert_eq!(results[0].id, email());
    assert_eq!(
        results[0].result.as_ref().unwrap().customer.id.as_str(),
        "5"
    );
    assert_eq!(results[1].id, CustomerId::from("6"));
    assert_eq!(results[1].id.as_str(), "6");
    // Items given as plain ids still work.
    let ids = vec![(CustomerId::from("8"), city())];
    let summary = bulk_update_stream(&b, futures_util::stream::iter(ids), BulkOptions::default())
        .for_each_result(|_| {})
        .await;
    assert_eq!(summary.applied, 1);
}

/// One customer's items named by id and by email, with ordered output and
/// one or two slots: every item yields once, in input order, and the last
/// edit of each customer in the input wins (queued items give their slot
/// back while lookups keep theirs, and neither stalls the run).
#[tokio::test]
async fn bulk_orders_a_customers_items_by_id_and_by_email_with_few_slots() {
    for concurrency in [1, 2] {
        let b = scripted(&[&["5"]]);
        let mut five = unibill_core::Customer::new("5", serde_json::Value::Null);
        five.email = Some("a@b.example".into());
        b.insert(five);
        let items: Vec<(CustomerRef, CustomerPatch)> = (0..40u64)
            .map(|n| {
                let customer = match (n % 3, n % 2) {
                    (0, _) => email(),
                    (_, 0) => CustomerRef::id("5"),
                    _ => CustomerRef::id("6"),
                };
                (customer, CustomerPatch::new().city(format!("City {n}")))
            })
            .collect();
        let options = BulkOptions {
            concurrency,
            ordered: true,
            ..BulkOptions::default()
        };
        let mut indexes = Vec::new();
        let summary = bulk_update_stream(&b, futures_util::stream::iter(items), options)
            .for_each_result(|item| indexes.push(item.index))
            .await;
        assert_eq!(indexes, (0..40).collect::<Vec<u64>>(), "{concurrency}");
        assert_eq!(summary.applied, 40, "{summary}");
        let city = |id: &str| b.customer(id).and_then(|c| c.address.city);
        assert_eq!(city("5").as_deref(), Some("City 39"));
        assert_eq!(city("6").as_deref(), Some("City 37"));
    }
}
