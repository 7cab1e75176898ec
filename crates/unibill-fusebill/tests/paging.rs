//! Fusebill's customer list read by a lookup, against scripted servers on
//! 127.0.0.1 and the sandbox: every page a header promises is read, under
//! either reading of `X-MaxPageIndex`; a page promised but empty is a
//! decode error; `*` is refused before any request; an update by email
//! whose email moves away before the `PUT` writes nothing.

use serde_json::json;
use unibill_core::BackendBuilder;
use unibill_core::Settings;
use unibill_core::{
    ConflictCheck, CustomerId, CustomerPatch, CustomerRef, CustomerUpdater, Error, ErrorKind,
};
use unibill_fusebill::Fusebill;
use unibill_sandbox::fusebill::{LOOKUP_UNIQUE_EMAIL, LOOKUP_UNIQUE_ID, LOOKUP_UNIQUE_REFERENCE};
use unibill_sandbox::{RequestMatcher, Sandbox, FUSEBILL_API_KEY};
use unibill_testkit::fast_settings;
use unibill_testkit::scripted::{param, scripted, Scripted};

fn client(base: &str) -> Fusebill {
    Fusebill::builder()
        .api_key("k")
        .base_url(base)
        .settings(Settings {
            rate_limit: Some(None),
            ..fast_settings()
        })
        .build()
        .unwrap()
}

/// Customers `1..=n`, all with reference `R`, as JSON records.
fn customers(range: std::ops::Range<usize>) -> Vec<u8> {
    let list: Vec<serde_json::Value> = range
        .map(|i| json!({"id": i + 1, "reference": "R", "firstName": "x"}))
        .collect();
    serde_json::to_vec(&list).unwrap()
}

/// How a scripted list says whether more pages follow.
#[derive(Clone, Copy, Debug)]
enum Headers {
    /// `X-MaxPageIndex` as the last page's index (the sandbox's reading).
    LastIndex,
    /// `X-MaxPageIndex` as the total number of pages (the reference's
    /// wording).
    PageCount,
    /// Only `X-Count`.
    CountOnly,
}

/// A list of `total` customers with reference `R`, at most `cap` per page
/// whatever `pageSize` asks (with `X-PageSize: cap`), without
/// `X-NextPage`.
async fn capped_list(total: usize, cap: usize, mode: Headers) -> Scripted {
    scripted(move |target| {
        let page: usize = param(target, "pageNumber").unwrap().parse().unwrap();
        let pages = total.div_ceil(cap).max(1);
        let from = (page * cap).min(total);
        let to = (from + cap).min(total);
        let mut headers = vec![("X-PageSize".to_string(), cap.to_string())];
        match mode {
            Headers::LastIndex => headers.push(("X-MaxPageIndex".into(), (pages - 1).to_string())),
            Headers::PageCount => headers.push(("X-MaxPageIndex".into(), pages.to_string())),
            Headers::CountOnly => headers.push(("X-Count".into(), total.to_string())),
        }
        ("200 OK", headers, customers(from..to))
    })
}

/// Fusebill's "Pagination" page calls `X-MaxPageIndex` the "total number
/// of pages"; the sandbox sends the last page's index. With no
/// `X-NextPage` and a server that lists fewer customers per page than
/// asked (so a short page is not the last), every customer is found under
/// either reading, and under `X-Count`, reading no page twice.
#[tokio::test]
async fn every_page_is_read_under_either_reading_of_max_page_index() {
    for mode in [Headers::LastIndex, Headers::PageCount, Headers::CountOnly] {
        for total in [120usize, 100, 30] {
            let server = capped_list(total, 50, mode).await;
            let f = client(&server.base);
            let found = f.find(&CustomerRef::external("R")).await.unwrap();
            let want: Vec<CustomerId> = (1..=total).map(|i| CustomerId::from(i as u64)).collect();
            assert_eq!(found, want, "{mode:?}, {total} customers");
            let seen = server.seen.lock().unwrap().clone();
            let pages: Vec<String> = seen
                .iter()
                .map(|t| param(t, "pageNumber").unwrap())
                .collect();
            let needed = total.div_ceil(50);
            // At most one more request than pages (an empty page ends the
            // list where the two readings disagree), each page once.
            assert!(
                pages.len() == needed || pages.len() == needed + 1,
                "{mode:?}, {total}: {pages:?}"
            );
            let expected: Vec<String> = (0..pages.len()).map(|p| p.to_string()).collect();
            assert_eq!(pages, expected, "{mode:?}, {total}");
        }
    }
}

/// `X-NextPage` promising a page after an empty one: the list is cut
/// short, so the lookup fails naming the header instead of answering with
/// the customers read so far (before, `resolve` answered `Ok` with the
/// first of what may be several matches).
#[tokio::test]
async fn a_next_page_promised_after_an_empty_page_is_a_decode_error() {
    let server = scripted(|target| {
        let page: usize = param(target, "pageNumber").unwrap().parse().unwrap();
        let (body, next) = match page {
            0 => (customers(0..1), "1"),
            _ => (customers(0..0), "2"),
        };
        ("200 OK", vec![("X-NextPage".into(), next.into())], body)
    });
    let f = client(&server.base);
    let e = f.resolve(&CustomerRef::external("R")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    let shown = e.to_string();
    assert!(shown.contains("X-NextPage: 2"), "{shown}");
    assert!(shown.contains("no customers"), "{shown}");
    // A next page that does not move forward is refused the same way.
    let server = scripted(|_| {
        (
            "200 OK",
            vec![("X-NextPage".into(), "0".into())],
            customers(0..1),
        )
    });
    let e = client(&server.base)
        .find(&CustomerRef::external("R"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert_eq!(server.seen.lock().unwrap().len(), 1);
}

/// `*` is a wildcard in Fusebill's filter with no documented escape:
/// refused before any request, by email and by reference, saying why.
#[tokio::test]
async fn a_wildcard_in_a_lookup_value_is_refused_before_any_request() {
    let server = scripted(|_| ("200 OK", vec![], customers(0..1)));
    let f = client(&server.base);
    for r in [
        CustomerRef::external("*"),
        CustomerRef::external("R*"),
        CustomerRef::email("*@*.*"),
    ] {
        let e = f
            .update(&r, &CustomerPatch::new().first_name("x"))
            .await
            .unwrap_err();
        match &e {
            Error::Validation { reason, .. } => assert!(reason.contains("wildcard"), "{e}"),
            other => panic!("{other:?}"),
        }
    }
    assert!(server.seen.lock().unwrap().is_empty());
}

/// The email (or reference) an update was resolved by moves to another
/// value between the confirming lookup and the `PUT`: the re-read right
/// before the write (a zero `max_read_age`: always) shows it, nothing is
/// written, and the update ends in `Conflict`. With the re-read off, the one read is checked the same way.
#[tokio::test]
async fn an_update_by_reference_whose_reference_moves_away_writes_nothing() {
    for (reference, conflict) in [
        (
            CustomerRef::email(LOOKUP_UNIQUE_EMAIL),
            ConflictCheck::default(),
        ),
        (
            CustomerRef::external(LOOKUP_UNIQUE_REFERENCE),
            ConflictCheck::default(),
        ),
        (CustomerRef::email(LOOKUP_UNIQUE_EMAIL), ConflictCheck::Off),
    ] {
        let sb = Sandbox::start().await.unwrap();
        sb.fusebill().add_lookup_seeds();
        let h = sb.fusebill();
        let f = Fusebill::builder()
            .api_key(FUSEBILL_API_KEY)
            .base_url(h.base_url())
            .settings(Settings {
                // Re-read before every write, so the one before the `PUT`
                // sees the move.
                max_read_age: std::time::Duration::ZERO,
                ..fast_settings()
            })
            .conflict_check(conflict)
            .build()
            .unwrap();
        let before = h.customer(LOOKUP_UNIQUE_ID).unwrap();
        // Another user edits the customer right after a request has been
        // answered: with the re-read, after the first read by id; without
        // it, after the confirming lookup.
        let matcher = match conflict {
            ConflictCheck::Off => RequestMatcher::new("GET", "/v1/customers?"),
            _ => RequestMatcher::new("GET", &format!("/v1/customers/{LOOKUP_UNIQUE_ID}")),
        };
        let moved = reference.clone();
        let arm = move |h: &unibill_sandbox::VendorHandle| {
            h.update_customer(LOOKUP_UNIQUE_ID, |c| match &moved {
                CustomerRef::Email(_) => c["primaryEmail"] = json!("moved@elsewhere.example"),
                _ => c["reference"] = json!("MOVED-1"),
            });
        };
        match conflict {
            // The first list request is the lookup; the hook must follow
            // the second (the confirming lookup under the lock).
            ConflictCheck::Off => {
                let h2 = h.clone();
                h.on_next_request(matcher.clone(), move |_| {
                    h2.on_next_request(matcher, arm);
                });
            }
            _ => h.on_next_request(matcher, arm),
        }
        let e = f
            .update(&reference, &CustomerPatch::new().first_name("Written"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict, "{reference}: {e}");
        assert!(e.to_string().contains("nothing was written"), "{e}");
        assert!(
            h.journal().iter().all(|j| !j.is_write()),
            "{reference}: a write was sent"
        );
        let after = h.customer(LOOKUP_UNIQUE_ID).unwrap();
        assert_eq!(after["firstName"], before["firstName"], "{reference}");
    }
}
