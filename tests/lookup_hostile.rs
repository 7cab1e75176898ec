//! Lookups by email and external reference against hostile servers on
//! 127.0.0.1, through the facade's configuration, for ChartMogul and
//! Fusebill (Everlytic has no lookup):
//!
//! - one page of 80,000 or 100,000 matching customers: `Ambiguous` with the
//!   count and the first `MAX_MATCHES` ids, in bounded memory, without
//!   holding the executor thread (the time, the heap growth and the
//!   longest stall of a ticker task on the same thread are printed, not
//!   asserted: run with `--nocapture` to see them);
//! - matches spread over many pages: paging stops past the cap;
//! - pages of one huge matching record each: only ids are kept;
//! - a page promising more but listing nothing: a decode error, nothing
//!   written;
//! - a server that answers slowly: the lookup stops at its overall
//!   deadline (`lookup_deadline_secs`) naming the pages read, nothing
//!   written.
//!
//! The tests run one at a time (a lock) so that the heap counter sees one
//! lookup; the servers' own threads are not counted.
#![cfg(all(feature = "chartmogul", feature = "fusebill"))]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::json;
use unibill::reference::MAX_MATCHES;
use unibill::{Config, CustomerPatch, CustomerRef, CustomerUpdater, Error, ErrorKind};
use unibill_testkit::heap;
use unibill_testkit::scripted::{param, scripted, Scripted};

// ---------------------------------------------------------------------
// Heap accounting: every thread but the servers'.

#[global_allocator]
static ALLOCATOR: heap::CountingAllocator = heap::CountingAllocator;

/// One test at a time, so the heap counter sees one lookup.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const MIB: f64 = 1024.0 * 1024.0;

/// What running a lookup cost.
struct Measured<T> {
    out: T,
    elapsed: Duration,
    /// Highest heap level above the level at the start, bytes.
    peak_growth: isize,
    /// The longest a ticker task on the same (single) executor thread
    /// waited past its 1 ms sleep.
    max_stall: Duration,
}

type Boxed<T> = Pin<Box<dyn Future<Output = T>>>;

/// Runs `make()` on a single-threaded runtime of its own (so that a stall
/// of its one executor thread shows in the ticker), measuring time, heap
/// growth and the longest stall.
fn measured<T: Send + 'static>(make: impl FnOnce() -> Boxed<T> + Send + 'static) -> Measured<T> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let done = Arc::new(AtomicBool::new(false));
            let stop = done.clone();
            let ticker = tokio::spawn(async move {
                let mut worst = Duration::ZERO;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    worst = worst.max(t.elapsed().saturating_sub(Duration::from_millis(1)));
                }
                worst
            });
            tokio::task::yield_now().await;
            let future = make();
            let start = heap::reset_peak();
            let t = Instant::now();
            let out = future.await;
            let elapsed = t.elapsed();
            let peak_growth = heap::peak() - start;
            done.store(true, Ordering::Relaxed);
            let max_stall = ticker.await.unwrap();
            Measured {
                out,
                elapsed,
                peak_growth,
                max_stall,
            }
        })
    })
    .join()
    .unwrap()
}

const EMAIL: &str = "shared@example.com";

/// A ChartMogul search page of customers `from..to`, all with `EMAIL`.
fn chartmogul_page(from: usize, to: usize, has_more: bool, cursor: Option<&str>) -> Arc<[u8]> {
    let entries: Vec<serde_json::Value> = (from..to)
        .map(|i| json!({"uuid": format!("cus_{i:06}"), "email": EMAIL}))
        .collect();
    Arc::from(
        serde_json::to_vec(&json!({"entries": entries, "has_more": has_more, "cursor": cursor}))
            .unwrap(),
    )
}

/// A Fusebill list page of customers `from..to`, all with `EMAIL` and
/// reference `R`, each with a `notes` property of `pad` bytes.
fn fusebill_page(from: usize, to: usize, pad: usize) -> Arc<[u8]> {
    let notes = "n".repeat(pad);
    let list: Vec<serde_json::Value> = (from..to)
        .map(|i| json!({"id": i + 1, "primaryEmail": EMAIL, "reference": "R", "notes": notes}))
        .collect();
    Arc::from(serde_json::to_vec(&list).unwrap())
}

/// The backend on `base`, through the facade's configuration: no retries
/// to speak of, no rate limit, `extra` settings merged in.
fn updater(backend: &str, base: &str, extra: serde_json::Value) -> Arc<dyn CustomerUpdater> {
    let mut settings = json!({"initial_backoff": "1ms", "max_attempts": 2, "rate_limit": "off"});
    if let (Some(s), Some(e)) = (settings.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    let config = match backend {
        "chartmogul" => Config::chartmogul("k"),
        _ => Config::fusebill("k"),
    };
    config
        .with_base_url(base)
        .with_settings(serde_json::from_value(settings).unwrap())
        .build()
        .unwrap()
}

/// The same, with a response cap large enough for one page of 100,000
/// customers (`max_response_bytes` of the settings).
fn big_page_updater(backend: &str, base: &str) -> Arc<dyn CustomerUpdater> {
    updater(backend, base, json!({ "max_response_bytes": 256 << 20 }))
}

/// A server listing `n` customers sharing `EMAIL` on one page.
fn one_page_of(backend: &str, n: usize) -> Scripted {
    let body = match backend {
        "chartmogul" => chartmogul_page(0, n, false, None),
        _ => fusebill_page(0, n, 0),
    };
    scripted(move |_| {
        let headers = vec![("X-NextPage".to_string(), "-1".to_string())];
        ("200 OK", headers, body.clone())
    })
}

/// The count and listed matches of an `Ambiguous`, or a panic.
fn ambiguous(backend: &str, e: Error) -> (usize, usize) {
    match e {
        Error::Ambiguous { count, matches, .. } => (count, matches.len()),
        other => panic!("{backend}: {other:?}"),
    }
}

// ---------------------------------------------------------------------

/// One page of 80,000 customers sharing an email: answered `Ambiguous`
/// with the count (before, each match was compared with every earlier
/// one: about a minute, with the executor thread held throughout).
#[test]
fn eighty_thousand_matches_on_one_page_are_counted() {
    let _serial = serial();
    for backend in ["chartmogul", "fusebill"] {
        let server = one_page_of(backend, 80_000);
        let u = big_page_updater(backend, &server.base);
        let m = measured(move || Box::pin(async move { u.find(&CustomerRef::email(EMAIL)).await }));
        let (count, listed) = ambiguous(backend, m.out.unwrap_err());
        assert_eq!((count, listed), (80_000, MAX_MATCHES), "{backend}");
        eprintln!(
            "{backend}: 80,000 matches on one page: {:.0} ms, heap +{:.1} MiB, longest executor stall {:.1} ms",
            m.elapsed.as_secs_f64() * 1e3,
            m.peak_growth as f64 / MIB,
            m.max_stall.as_secs_f64() * 1e3
        );
    }
}

/// One page of 100,000 matches: `Ambiguous` with the count, the heap
/// growing by less than 50 MB; and matches spread over pages: paging stops
/// after the page that passes the cap, its count a lower bound.
#[test]
fn a_hundred_thousand_matches_are_ambiguous_in_bounded_memory() {
    let _serial = serial();
    for backend in ["chartmogul", "fusebill"] {
        let server = one_page_of(backend, 100_000);
        let u = big_page_updater(backend, &server.base);
        let m = measured(move || {
            Box::pin(async move {
                u.update(
                    &CustomerRef::email(EMAIL),
                    &CustomerPatch::new().company("x"),
                )
                .await
                .map(|_| ())
            })
        });
        let e = m.out.unwrap_err();
        assert!(
            e.to_string().contains("at least 100000") || e.to_string().contains("100000 customers"),
            "{e}"
        );
        let (count, listed) = ambiguous(backend, e);
        assert_eq!((count, listed), (100_000, MAX_MATCHES), "{backend}");
        assert_eq!(server.writes(), 0, "{backend}");
        eprintln!(
            "{backend}: 100,000 matches on one page: {:.0} ms, heap +{:.1} MiB, longest executor stall {:.1} ms",
            m.elapsed.as_secs_f64() * 1e3,
            m.peak_growth as f64 / MIB,
            m.max_stall.as_secs_f64() * 1e3
        );
        assert!(
            m.peak_growth < 50_000_000,
            "{backend}: heap grew by {} bytes",
            m.peak_growth
        );
    }
    // 100 matches per page, pages without end: stops after page 11.
    for backend in ["chartmogul", "fusebill"] {
        let server = match backend {
            "chartmogul" => scripted(|target| {
                let at: usize = param(target, "cursor").map_or(0, |c| c.parse().unwrap());
                let next = (at + 1).to_string();
                let body = chartmogul_page(at * 100, at * 100 + 100, true, Some(&next));
                ("200 OK", vec![], body)
            }),
            _ => scripted(|target| {
                let at: usize = param(target, "pageNumber").unwrap().parse().unwrap();
                let headers = vec![("X-NextPage".to_string(), (at + 1).to_string())];
                (
                    "200 OK",
                    headers,
                    fusebill_page(at * 100, at * 100 + 100, 0),
                )
            }),
        };
        let u = updater(backend, &server.base, json!({}));
        let m = measured(move || Box::pin(async move { u.find(&CustomerRef::email(EMAIL)).await }));
        let (count, listed) = ambiguous(backend, m.out.unwrap_err());
        assert_eq!(
            (count, listed),
            (MAX_MATCHES + 100, MAX_MATCHES),
            "{backend}"
        );
        assert_eq!(server.seen().len(), MAX_MATCHES / 100 + 1, "{backend}");
    }
}

/// Fusebill pages of one ~1 MiB matching record each: the lookup keeps the
/// ids, not the records (before: every record until the end, +40 MiB here).
#[test]
fn huge_matching_records_are_not_kept_while_paging() {
    let _serial = serial();
    const PAGES: usize = 40;
    let pages: Vec<Arc<[u8]>> = (0..PAGES)
        .map(|p| fusebill_page(p, p + 1, 1 << 20))
        .collect();
    let server = scripted(move |target| {
        let at: usize = param(target, "pageNumber").unwrap().parse().unwrap();
        let next = if at + 1 < PAGES { at as i64 + 1 } else { -1 };
        let headers = vec![("X-NextPage".to_string(), next.to_string())];
        ("200 OK", headers, pages[at].clone())
    });
    let u = updater("fusebill", &server.base, json!({}));
    let m = measured(move || Box::pin(async move { u.find(&CustomerRef::external("R")).await }));
    assert_eq!(m.out.unwrap().len(), PAGES);
    eprintln!(
        "fusebill: {PAGES} pages of one 1 MiB matching record: {:.0} ms, heap +{:.1} MiB",
        m.elapsed.as_secs_f64() * 1e3,
        m.peak_growth as f64 / MIB
    );
    assert!(
        (m.peak_growth as f64) < 16.0 * MIB,
        "heap grew by {:.1} MiB",
        m.peak_growth as f64 / MIB
    );
}

/// A page that says more follows but lists nothing (ChartMogul's
/// `has_more: true`, Fusebill's `X-NextPage`): a decode error naming the
/// vendor's answer, and an update by that email writes nothing (before:
/// the one customer read so far was written).
#[test]
fn more_promised_on_an_empty_page_is_a_decode_error_and_nothing_is_written() {
    let _serial = serial();
    for backend in ["chartmogul", "fusebill"] {
        let server = match backend {
            "chartmogul" => scripted(|target| match param(target, "cursor") {
                None => ("200 OK", vec![], chartmogul_page(0, 1, true, Some("c1"))),
                Some(_) => ("200 OK", vec![], chartmogul_page(0, 0, true, Some("c2"))),
            }),
            _ => scripted(|target| {
                let at: usize = param(target, "pageNumber").unwrap().parse().unwrap();
                let (from, to) = if at == 0 { (0, 1) } else { (0, 0) };
                let headers = vec![("X-NextPage".to_string(), (at + 1).to_string())];
                ("200 OK", headers, fusebill_page(from, to, 0))
            }),
        };
        let u = updater(backend, &server.base, json!({}));
        let m = measured(move || {
            Box::pin(async move {
                u.update(
                    &CustomerRef::email(EMAIL),
                    &CustomerPatch::new().company("x"),
                )
                .await
                .map(|_| ())
            })
        });
        let e = m.out.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode, "{backend}: {e}");
        let shown = e.to_string();
        assert!(
            shown.contains("has_more: true") || shown.contains("X-NextPage: 2"),
            "{backend}: {shown}"
        );
        assert_eq!(server.writes(), 0, "{backend}");
    }
}

/// A server that answers the second page after 20 s: with
/// `lookup_deadline_secs` at 0.5 s, the update fails with a retryable
/// `LookupTimeout` naming the one page read, and writes nothing.
#[test]
fn a_slow_listing_stops_at_the_lookup_deadline() {
    let _serial = serial();
    for backend in ["chartmogul", "fusebill"] {
        let slow = vec![("X-Test-Delay-Ms".to_string(), "20000".to_string())];
        let server = match backend {
            "chartmogul" => scripted(move |target| match param(target, "cursor") {
                None => ("200 OK", vec![], chartmogul_page(0, 1, true, Some("c1"))),
                Some(_) => ("200 OK", slow.clone(), chartmogul_page(1, 2, false, None)),
            }),
            _ => scripted(move |target| {
                let at: usize = param(target, "pageNumber").unwrap().parse().unwrap();
                if at == 0 {
                    let headers = vec![("X-NextPage".to_string(), "1".to_string())];
                    ("200 OK", headers, fusebill_page(0, 1, 0))
                } else {
                    let mut headers = slow.clone();
                    headers.push(("X-NextPage".to_string(), "-1".to_string()));
                    ("200 OK", headers, fusebill_page(1, 2, 0))
                }
            }),
        };
        let u = updater(
            backend,
            &server.base,
            json!({"lookup_deadline_secs": 0.5, "timeout_secs": 30}),
        );
        let m = measured(move || {
            Box::pin(async move {
                u.update(
                    &CustomerRef::email(EMAIL),
                    &CustomerPatch::new().company("x"),
                )
                .await
                .map(|_| ())
            })
        });
        let e = m.out.unwrap_err();
        match &e {
            Error::LookupTimeout { pages, .. } => assert_eq!(*pages, 1, "{backend}"),
            other => panic!("{backend}: {other:?}"),
        }
        assert!(e.is_retryable(), "{backend}");
        assert!(e.to_string().contains("1 page(s) read"), "{backend}: {e}");
        assert_eq!(server.writes(), 0, "{backend}");
        eprintln!(
            "{backend}: lookup deadline 0.5 s, second page answered after 20 s: failed after {:.0} ms",
            m.elapsed.as_secs_f64() * 1e3
        );
    }
}
