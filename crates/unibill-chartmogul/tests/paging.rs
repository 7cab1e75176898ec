//! ChartMogul's customer lists read by a lookup, against scripted servers
//! on 127.0.0.1: a page that promises more but lists nothing is a decode
//! error, a lookup past the match cap is `Ambiguous` with the count, and a
//! lookup past its overall deadline stops naming the pages read.

use std::time::Duration;

use serde_json::json;
use unibill_chartmogul::ChartMogul;
use unibill_core::reference::MAX_MATCHES;
use unibill_core::BackendBuilder;
use unibill_core::Settings;
use unibill_core::{CustomerRef, CustomerUpdater, Error, ErrorKind};
use unibill_testkit::fast_settings;
use unibill_testkit::scripted::{param, scripted};

const EMAIL: &str = "shared@example.com";

fn client(base: &str) -> ChartMogul {
    ChartMogul::builder()
        .api_key("k")
        .base_url(base)
        .settings(Settings {
            rate_limit: Some(None),
            ..fast_settings()
        })
        .build()
        .unwrap()
}

/// A search page: customers `from..to` with `EMAIL`.
fn page(from: usize, to: usize, has_more: bool, cursor: Option<&str>) -> Vec<u8> {
    let entries: Vec<serde_json::Value> = (from..to)
        .map(|i| json!({"uuid": format!("cus_{i}"), "email": EMAIL, "name": "x"}))
        .collect();
    serde_json::to_vec(&json!({"entries": entries, "has_more": has_more, "cursor": cursor}))
        .unwrap()
}

/// `has_more: true` with an empty page: the list is cut short, so the
/// lookup fails naming the vendor's answer instead of resolving to the one
/// customer read so far.
#[tokio::test]
async fn has_more_with_an_empty_page_is_a_decode_error() {
    let server = scripted(|target| match param(target, "cursor") {
        None => ("200 OK", vec![], page(0, 1, true, Some("c1"))),
        Some(_) => ("200 OK", vec![], page(0, 0, true, Some("c2"))),
    });
    let cm = client(&server.base);
    let e = cm.resolve(&CustomerRef::email(EMAIL)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert!(e.to_string().contains("`has_more: true`"), "{e}");
    assert_eq!(server.seen.lock().unwrap().len(), 2);
}

/// More matches than `MAX_MATCHES` on the first page, and more pages
/// promised: `Ambiguous` with the count and the first `MAX_MATCHES` ids,
/// and no further page read.
#[tokio::test]
async fn past_the_match_cap_is_ambiguous_with_the_count_and_stops_paging() {
    let total = MAX_MATCHES + 200;
    let server = scripted(move |_| ("200 OK", vec![], page(0, total, true, Some("c1"))));
    let cm = client(&server.base);
    match cm.find(&CustomerRef::email(EMAIL)).await.unwrap_err() {
        e @ Error::Ambiguous { .. } => {
            let shown = e.to_string();
            let Error::Ambiguous { matches, count, .. } = e else {
                unreachable!()
            };
            assert_eq!(count, total);
            assert_eq!(matches.len(), MAX_MATCHES);
            assert_eq!(matches[0].as_str(), "cus_0");
            assert!(shown.contains(&format!("at least {total}")), "{shown}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.seen.lock().unwrap().len(), 1);
}

/// A vendor that answers the second page slowly: the lookup stops at its
/// overall deadline with a retryable error naming the pages read.
#[tokio::test]
async fn a_lookup_stops_at_its_deadline_naming_the_pages_read() {
    let server = scripted(move |target| match param(target, "cursor") {
        None => ("200 OK", vec![], page(0, 1, true, Some("c1"))),
        Some(_) => (
            "200 OK",
            vec![("X-Test-Delay-Ms".into(), "20000".into())],
            page(1, 2, false, None),
        ),
    });
    let cm = ChartMogul::builder()
        .api_key("k")
        .base_url(&server.base)
        .settings(Settings {
            rate_limit: Some(None),
            lookup_deadline: Some(Duration::from_millis(500)),
            ..fast_settings()
        })
        .build()
        .unwrap();
    let e = cm.find(&CustomerRef::email(EMAIL)).await.unwrap_err();
    match &e {
        Error::LookupTimeout { pages, .. } => assert_eq!(*pages, 1),
        other => panic!("{other:?}"),
    }
    assert!(e.is_retryable());
    assert!(e.to_string().contains("1 page(s) read"), "{e}");
}

/// A listing whose cursors go round (`c1`, `c2`, `c1`, ...): the page that
/// names a position already read ends the stream with a decode error
/// instead of reading forever; the pages before it were yielded.
#[tokio::test]
async fn a_listing_whose_cursors_go_round_ends_with_a_decode_error() {
    use futures_util::StreamExt;
    let server = scripted(|target| match param(target, "cursor").as_deref() {
        None => ("200 OK", vec![], page(0, 2, true, Some("c1"))),
        Some("c1") => ("200 OK", vec![], page(2, 4, true, Some("c2"))),
        Some(_) => ("200 OK", vec![], page(4, 6, true, Some("c1"))),
    });
    let cm = client(&server.base);
    let results: Vec<_> = cm.list(unibill_core::ListOptions::new()).collect().await;
    assert_eq!(results.len(), 3, "{results:?}");
    assert!(results[..2].iter().all(Result::is_ok));
    let e = results[2].as_ref().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert!(e.to_string().contains("`c1` again"), "{e}");
    assert_eq!(server.seen().len(), 3);
    // A page that promises more but lists nobody is cut short, as in a
    // lookup.
    let server = scripted(|_| ("200 OK", vec![], page(0, 0, true, Some("c9"))));
    let results: Vec<_> = client(&server.base)
        .list(unibill_core::ListOptions::new())
        .collect()
        .await;
    assert_eq!(results.len(), 1);
    assert!(results[0]
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("`has_more: true`"));
}
