//! Listing a backend's customers (`CustomerUpdater::list`) on each
//! emulator: every customer once, in the vendor's order, as `get` reads it
//! (`raw` included); one request per page, counted in the journal;
//! resuming from a page's position; "changed since" where the vendor
//! filters by modification time (Fusebill) and a typed refusal, before any
//! request, where it does not.

// With only some backends compiled in, helpers for the others go unused.
#![cfg_attr(
    not(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic")),
    allow(dead_code, unused_imports)
)]

mod common;

use futures_util::TryStreamExt;
use unibill::{CustomerPatch, CustomerUpdater, Error, ListOptions, ListPage, Listing};
use unibill_sandbox::Sandbox;

/// Every page of a listing, in order.
async fn pages(
    updater: &dyn CustomerUpdater,
    options: ListOptions,
) -> Result<Vec<ListPage>, Error> {
    updater.list(options).try_collect().await
}

/// Customers per page each backend asks for.
fn page_size(backend: &str) -> usize {
    match backend {
        "chartmogul" => 200,
        _ => 100,
    }
}

#[tokio::test]
async fn every_customer_once_in_pages_as_get_reads_it_and_resumable() {
    for backend in common::ENABLED {
        let sandbox = Sandbox::start().await.expect("sandbox starts");
        let vendor = common::vendor(&sandbox, backend);
        let added = vendor.add_customers(2 * page_size(backend) + 37);
        let updater = common::config(&sandbox, backend).build().expect("builds");
        vendor.clear_journal();
        let listed = pages(&*updater, ListOptions::new())
            .await
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        // One GET per page, nothing else.
        let journal = vendor.journal();
        assert_eq!(journal.len(), listed.len(), "{backend}");
        assert!(journal.iter().all(|e| e.method == "GET"), "{backend}");
        assert_eq!(listed.len(), 3, "{backend}: three pages");
        assert!(listed.last().unwrap().next.is_none(), "{backend}");
        let customers: Vec<_> = listed.iter().flat_map(|p| p.customers.iter()).collect();
        let ids: Vec<&str> = customers.iter().map(|c| c.id.as_str()).collect();
        let distinct: std::collections::HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), ids.len(), "{backend}: every customer once");
        for id in added.iter().chain(
            common::ids(backend)
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .iter(),
        ) {
            assert!(distinct.contains(id.as_str()), "{backend}: {id} listed");
        }
        // Each listed customer is what `get` reads, field by field; `raw`
        // is the listed record (Everlytic's `get` keeps its `item`
        // envelope, which a collection entry does not have).
        for listed in [
            customers[0],
            customers[customers.len() / 2],
            customers[customers.len() - 1],
        ] {
            let got = updater.get(&listed.id).await.expect("get");
            let record = got.raw.get("item").unwrap_or(&got.raw);
            assert_eq!(&listed.raw, record, "{backend}: {}", listed.id);
            let (mut a, mut b) = (listed.clone(), got.clone());
            (a.raw, b.raw) = (Default::default(), Default::default());
            assert_eq!(a, b, "{backend}: {}", listed.id);
        }
        // Resumed from the second page's position: the rest, the same.
        let from = listed[0].next.clone().expect("a second page");
        let rest = pages(&*updater, ListOptions::new().from(from))
            .await
            .expect("resumed");
        assert_eq!(rest, listed[1..], "{backend}");
        sandbox.shutdown().await;
    }
}

#[cfg(feature = "fusebill")]
#[tokio::test]
async fn fusebill_lists_the_customers_changed_since_a_time() {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let vendor = sandbox.fusebill();
    let added = vendor.add_customers(150);
    let updater = common::config(&sandbox, "fusebill")
        .build()
        .expect("builds");
    assert_eq!(updater.capabilities().listing(), Listing::ChangedSince);
    // Copies carry the seed's old modification time; these three change now.
    let since = chrono::Utc::now();
    let changed = [&added[3], &added[77], &added[140]];
    for id in changed {
        updater
            .update(
                &unibill::CustomerId::from(id.as_str()),
                &CustomerPatch::new().first_name("Changed"),
            )
            .await
            .expect("update");
    }
    vendor.clear_journal();
    let listed = pages(&*updater, ListOptions::new().changed_since(since))
        .await
        .expect("listed");
    let ids: Vec<&str> = listed
        .iter()
        .flat_map(|p| p.customers.iter().map(|c| c.id.as_str()))
        .collect();
    assert_eq!(ids, changed.map(|s| s.as_str()));
    let journal = vendor.journal();
    assert_eq!(journal.len(), 1);
    let query = journal[0].path.split_once("query=").expect("a filter").1;
    assert!(
        query.starts_with("modifiedTimestamp%3A") && query.ends_with("%7C"),
        "{}",
        journal[0].path
    );
    // A position that is not a page number: refused before any request.
    vendor.clear_journal();
    let bad = ListOptions::new().from(unibill::ListPosition::new("two"));
    match pages(&*updater, bad).await {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "from"),
        other => panic!("{other:?}"),
    }
    assert!(vendor.journal().is_empty());
    sandbox.shutdown().await;
}

/// ChartMogul and Everlytic document no filter by modification time: a
/// listing "changed since" is refused, typed, before any request.
#[tokio::test]
async fn changed_since_is_refused_where_the_vendor_cannot_filter() {
    for backend in common::ENABLED {
        let sandbox = Sandbox::start().await.expect("sandbox starts");
        let vendor = common::vendor(&sandbox, backend);
        let updater = common::config(&sandbox, backend).build().expect("builds");
        let listing = updater.capabilities().listing();
        vendor.clear_journal();
        let result = pages(
            &*updater,
            ListOptions::new().changed_since(chrono::Utc::now()),
        )
        .await;
        match (listing, result) {
            (Listing::ChangedSince, Ok(_)) => {}
            (Listing::All, Err(Error::UnsupportedListing { changed_since, .. })) => {
                assert!(changed_since, "{backend}");
                assert!(vendor.journal().is_empty(), "{backend}: no request");
            }
            (listing, other) => panic!("{backend} {listing:?}: {other:?}"),
        }
        sandbox.shutdown().await;
    }
}
