//! Bulk updates: one result per item tagged with its index, bounded
//! concurrency, failures counted by kind without stopping the batch, a
//! lazily pulled input, and the summary.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::{self, FusedStream};
use futures_util::StreamExt;
use unibill_core::bulk::{bulk_update_stream, BulkOptions, BulkSummary};
use unibill_core::{
    async_trait, Backend, BackendKind, Capabilities, Change, CheckedPatch, Customer, CustomerId,
    CustomerLocks, CustomerPatch, CustomerUpdater, Error, ErrorKind, Field, FieldCaps, LockGuard,
    PlannedRequest, Result, UpdateOptions, UpdateOutcome,
};
use unibill_testkit::memory::{InMemory, KIND};

/// The shared in-memory backend (city: all, email: read), with probes
/// around its `apply` for what a bulk run must guarantee. Ids decide the
/// behaviour:
/// - `missing-*` -> NotFound, `limit-*` -> RateLimited (3 retries
///   counted), `boom-*` -> Vendor 500 (1 retry counted);
/// - otherwise the shared backend applies the patch (a city equal to the
///   stored one writes nothing: unchanged).
///
/// Each update yields to the runtime `1 + index % 5` times (so completion
/// order differs from input order) and counts updates in flight.
#[derive(Debug)]
struct Memory {
    inner: InMemory,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    calls: AtomicUsize,
    sleep: Option<Duration>,
    /// Ids with an update running, and whether two ever overlapped.
    busy: Mutex<HashSet<String>>,
    overlapped: AtomicUsize,
    /// `(id, city)` in the order updates started.
    started: Mutex<Vec<(String, Option<String>)>>,
    /// Updates of ids starting with `x` first wait until this many updates
    /// of other ids have finished (`other_done`), failing after 5 s.
    x_waits_for: Option<usize>,
    other_done: AtomicUsize,
}

impl Memory {
    fn new() -> Self {
        Self {
            inner: InMemory::new().with_capabilities(
                Capabilities::new(KIND)
                    .with(Field::City, FieldCaps::ALL)
                    .with(Field::Email, FieldCaps::READ),
            ),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
            sleep: None,
            busy: Mutex::new(HashSet::new()),
            overlapped: AtomicUsize::new(0),
            started: Mutex::new(Vec::new()),
            x_waits_for: None,
            other_done: AtomicUsize::new(0),
        }
    }

    fn sleeping(d: Duration) -> Self {
        Self {
            sleep: Some(d),
            ..Self::new()
        }
    }

    fn city(&self, id: &str) -> Option<String> {
        self.inner.customer(id).and_then(|c| c.address.city)
    }
}

struct Busy<'a>(&'a Mutex<HashSet<String>>, String);
impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap().remove(&self.1);
    }
}

struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl Backend for Memory {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }
    fn locks(&self) -> &CustomerLocks {
        self.inner.locks()
    }
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
    fn retries(&self) -> u64 {
        self.inner.retries()
    }
    async fn fetch(&self, id: &CustomerId) -> Result<Customer> {
        self.inner.fetch(id).await
    }
    async fn apply(
        &self,
        id: &CustomerId,
        patch: &CheckedPatch,
        lock: &LockGuard,
    ) -> Result<UpdateOutcome> {
        let n = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = InFlight(&self.in_flight);
        self.max_in_flight.fetch_max(n, Ordering::SeqCst);
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let key = id.as_str();
        if !self.busy.lock().unwrap().insert(key.to_owned()) {
            self.overlapped.fetch_add(1, Ordering::SeqCst);
        }
        let _busy = Busy(&self.busy, key.to_owned());
        let city = match &patch.address.city {
            Change::Set(city) => Some(city.clone()),
            _ => None,
        };
        self.started.lock().unwrap().push((key.to_owned(), city));
        if let (Some(n), true) = (self.x_waits_for, key.starts_with('x')) {
            let mut waited = 0;
            while self.other_done.load(Ordering::SeqCst) < n {
                if waited == 5_000 {
                    return Err(Error::Conflict {
                        backend: KIND,
                        message: "the other customers' items never ran".into(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
                waited += 1;
            }
        } else {
            self.other_done.fetch_add(1, Ordering::SeqCst);
        }
        match self.sleep {
            Some(d) => tokio::time::sleep(d).await,
            None => {
                for _ in 0..=(call % 5) {
                    tokio::task::yield_now().await;
                }
            }
        }
        if key.starts_with("missing-") {
            return Err(Error::NotFound {
                backend: KIND,
                id: key.to_owned(),
            });
        }
        if key.starts_with("limit-") {
            self.inner.add_retries(3);
            return Err(Error::RateLimited {
                backend: KIND,
                retry_after: Some(Duration::from_secs(1)),
            });
        }
        if key.starts_with("boom-") {
            self.inner.add_retries(1);
            return Err(Error::Vendor {
                backend: KIND,
                status: 500,
                messages: vec!["internal error".into()],
            });
        }
        self.inner.apply(id, patch, lock).await
    }
    async fn plan(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
        self.inner.plan(id, patch).await
    }
}

fn city(n: u64) -> (CustomerId, CustomerPatch) {
    (
        CustomerId::from(format!("c{n}")),
        CustomerPatch::new().city(format!("City {n}")),
    )
}

#[tokio::test]
async fn every_item_yields_one_result_tagged_with_its_index() {
    let m = Memory::new();
    let items: Vec<_> = (0..200).map(city).collect();
    let mut seen = Vec::new();
    let mut completion_order = Vec::new();
    let summary = bulk_update_stream(
        &m,
        stream::iter(items),
        BulkOptions {
            concurrency: 8,
            ..BulkOptions::default()
        },
    )
    .for_each_result(|item| {
        let outcome = item.result.as_ref().expect("in-memory update succeeds");
        // The result belongs to the item at `index`.
        assert_eq!(item.id.as_str(), format!("c{}", item.index));
        assert_eq!(
            outcome.customer.address.city.as_deref(),
            Some(format!("City {}", item.index).as_str())
        );
        completion_order.push(item.index);
        seen.push(item.index);
    })
    .await;
    seen.sort_unstable();
    assert_eq!(seen, (0..200).collect::<Vec<u64>>());
    assert_ne!(
        completion_order, seen,
        "with uneven work, completion order differs from input order"
    );
    assert_eq!(
        (summary.total, summary.applied, summary.unchanged),
        (200, 200, 0)
    );
    assert_eq!(summary.failed(), 0);
    assert_eq!(m.city("c137").as_deref(), Some("City 137"));
}

#[tokio::test]
async fn ordered_mode_yields_in_input_order() {
    let m = Memory::new();
    let results: Vec<u64> = bulk_update_stream(
        &m,
        stream::iter((0..200).map(city)),
        BulkOptions {
            concurrency: 8,
            ordered: true,
            ..BulkOptions::default()
        },
    )
    .map(|item| {
        assert!(item.result.is_ok());
        item.index
    })
    .collect()
    .await;
    assert_eq!(results, (0..200).collect::<Vec<u64>>());
    assert_eq!(m.max_in_flight.load(Ordering::SeqCst), 8);
}

#[tokio::test]
async fn concurrency_bound_is_reached_and_never_exceeded() {
    for concurrency in [1usize, 3, 16] {
        let m = Memory::sleeping(Duration::from_millis(2));
        let summary = bulk_update_stream(
            &m,
            stream::iter((0..64).map(city)),
            BulkOptions {
                concurrency,
                ..BulkOptions::default()
            },
        )
        .for_each_result(|_| {})
        .await;
        assert_eq!(summary.applied, 64);
        assert_eq!(
            m.max_in_flight.load(Ordering::SeqCst),
            concurrency,
            "concurrency {concurrency}"
        );
    }
}

#[tokio::test]
async fn zero_concurrency_counts_as_one() {
    let m = Memory::new();
    let summary = bulk_update_stream(
        &m,
        stream::iter((0..10).map(city)),
        BulkOptions {
            concurrency: 0,
            ..BulkOptions::default()
        },
    )
    .for_each_result(|_| {})
    .await;
    assert_eq!(summary.applied, 10);
    assert_eq!(m.max_in_flight.load(Ordering::SeqCst), 1);
}

/// A concurrency too large to count slots for is capped, never a panic.
#[tokio::test]
async fn the_largest_concurrency_runs_every_item() {
    let m = Memory::new();
    let options = BulkOptions {
        concurrency: usize::MAX,
        ..BulkOptions::default()
    };
    let summary = bulk_update_stream(&m, stream::iter((0..10).map(city)), options)
        .for_each_result(|_| {})
        .await;
    assert_eq!(summary.applied, 10);
    assert_eq!(m.max_in_flight.load(Ordering::SeqCst), 10);
}

#[tokio::test]
async fn failures_are_counted_by_kind_and_do_not_stop_the_batch() {
    let m = Memory::new();
    let items = (0..100u64).map(|n| {
        let id = match n % 10 {
            3 => format!("missing-{n}"),
            5 => format!("limit-{n}"),
            7 if n < 50 => format!("boom-{n}"),
            _ => format!("c{n}"),
        };
        (CustomerId::from(id), CustomerPatch::new().city("Oslo"))
    });
    let mut errors = BTreeMap::new();
    let summary = bulk_update_stream(
        &m,
        stream::iter(items),
        BulkOptions {
            concurrency: 4,
            ..BulkOptions::default()
        },
    )
    .for_each_result(|item| {
        if let Err(e) = &item.result {
            // The error is the typed one the backend raised for this item.
            match (item.index % 10, e) {
                (3, Error::NotFound { id, .. }) => {
                    assert_eq!(id, &format!("missing-{}", item.index))
                }
                (5, Error::RateLimited { retry_after, .. }) => {
                    assert_eq!(*retry_after, Some(Duration::from_secs(1)))
                }
                (7, Error::Vendor { status: 500, .. }) => {}
                other => panic!("unexpected failure {other:?}"),
            }
            *errors.entry(e.kind()).or_insert(0u64) += 1;
        }
    })
    .await;
    assert_eq!(summary.total, 100);
    assert_eq!(summary.applied, 100 - 10 - 10 - 5);
    assert_eq!(summary.unchanged, 0);
    assert_eq!(summary.failed(), 25);
    assert_eq!(summary.failed_with(ErrorKind::NotFound), 10);
    assert_eq!(summary.failed_with(ErrorKind::RateLimited), 10);
    assert_eq!(summary.failed_with(ErrorKind::Vendor), 5);
    assert_eq!(summary.failed_with(ErrorKind::Conflict), 0);
    assert_eq!(summary.failed_by_kind, errors);
    // 10 rate-limited items spent 3 retries each, 5 vendor errors 1 each.
    assert_eq!(summary.retries, 35);
    assert_ne!(summary.failed(), 0);
    // The last items ran after all of those failures.
    assert_eq!(m.city("c99").as_deref(), Some("Oslo"));
}

#[tokio::test]
async fn retries_are_counted_from_the_start_of_the_run() {
    let m = Memory::new();
    m.inner.add_retries(1000);
    let items = vec![
        (CustomerId::from("limit-1"), CustomerPatch::new().city("A")),
        (CustomerId::from("c2"), CustomerPatch::new().city("B")),
    ];
    let summary = bulk_update_stream(&m, stream::iter(items), BulkOptions::default())
        .for_each_result(|_| {})
        .await;
    assert_eq!(summary.retries, 3);
}

#[tokio::test]
async fn retries_are_frozen_when_the_stream_ends() {
    let m = Memory::new();
    let items = vec![(CustomerId::from("limit-1"), CustomerPatch::new().city("A"))];
    let mut results = bulk_update_stream(&m, stream::iter(items), BulkOptions::default());
    while results.next().await.is_some() {}
    assert!(results.is_terminated());
    assert_eq!(results.summary().retries, 3);
    // The client goes on working (and retrying) after the run.
    m.inner.add_retries(5);
    let summary = results.summary();
    assert_eq!(
        summary.retries, 3,
        "retries after the run are not the run's"
    );
}

#[tokio::test]
async fn unchanged_items_are_told_apart_from_applied_ones() {
    let m = Memory::new();
    // First run stores City n for every even n.
    let first = bulk_update_stream(
        &m,
        stream::iter((0..50u64).filter(|n| n % 2 == 0).map(city)),
        BulkOptions::default(),
    )
    .for_each_result(|_| {})
    .await;
    assert_eq!((first.applied, first.unchanged), (25, 0));
    // Second run: even ids already hold their city (no write), odd ids don't.
    let mut unchanged = HashSet::new();
    let second = bulk_update_stream(
        &m,
        stream::iter((0..50u64).map(city)),
        BulkOptions::default(),
    )
    .for_each_result(|item| {
        let changed = item.result.as_ref().unwrap().changed();
        assert_eq!(changed, item.index % 2 == 1);
        if !changed {
            unchanged.insert(item.index);
        }
    })
    .await;
    assert_eq!(
        (second.total, second.applied, second.unchanged),
        (50, 25, 25)
    );
    assert_eq!(unchanged, (0..50u64).filter(|n| n % 2 == 0).collect());
    assert_eq!(
        second.to_string().split(" in ").next(),
        Some("50 item(s)"),
        "{second}"
    );
}

#[tokio::test]
async fn patches_are_checked_against_capabilities_per_item() {
    let m = Memory::new();
    let items = vec![
        (CustomerId::from("c1"), CustomerPatch::new().city("Rome")),
        // Email is read-only here: refused before the backend is called.
        (
            CustomerId::from("c2"),
            CustomerPatch::new().email("a@b.example"),
        ),
        // Invalid country code: refused by validation.
        (
            CustomerId::from("c3"),
            CustomerPatch::new().city("Lyon").country("FRANCE"),
        ),
    ];
    let summary = bulk_update_stream(&m, stream::iter(items.clone()), BulkOptions::default())
        .for_each_result(|_| {})
        .await;
    assert_eq!(summary.applied, 1);
    assert_eq!(summary.failed_with(ErrorKind::Unsupported), 1);
    assert_eq!(summary.failed_with(ErrorKind::Validation), 1);
    assert_eq!(
        m.calls.load(Ordering::SeqCst),
        1,
        "only c1 reached the backend"
    );

    // Ignoring unsupported fields turns c2 into a no-op; c3 is still invalid.
    let m = Memory::new();
    let mut ignored = Vec::new();
    let summary = bulk_update_stream(
        &m,
        stream::iter(items),
        BulkOptions {
            update_options: UpdateOptions::ignore_unsupported(),
            ..BulkOptions::default()
        },
    )
    .for_each_result(|item| {
        if let Ok(o) = &item.result {
            ignored.push((item.index, o.ignored.len()));
        }
    })
    .await;
    ignored.sort_unstable();
    assert_eq!(ignored, vec![(0, 0), (1, 1)]);
    assert_eq!((summary.applied, summary.unchanged), (1, 1));
    assert_eq!(summary.failed_with(ErrorKind::Validation), 1);
}

#[tokio::test]
async fn a_lazy_input_of_100k_items_is_pulled_at_most_concurrency_ahead() {
    const N: u64 = 100_000;
    const CONCURRENCY: u64 = 16;
    let m = Memory::new();
    let pulled = Arc::new(AtomicU64::new(0));
    let generator = {
        let pulled = pulled.clone();
        (0..N).map(move |n| {
            pulled.fetch_add(1, Ordering::SeqCst);
            city(n)
        })
    };
    let mut yielded = 0u64;
    let mut max_ahead = 0u64;
    let mut index_sum = 0u64;
    let summary = bulk_update_stream(
        &m,
        stream::iter(generator),
        BulkOptions {
            concurrency: CONCURRENCY as usize,
            ..BulkOptions::default()
        },
    )
    .for_each_result(|item| {
        yielded += 1;
        index_sum += item.index;
        let ahead = pulled.load(Ordering::SeqCst) - yielded;
        max_ahead = max_ahead.max(ahead);
        assert!(ahead < CONCURRENCY, "generator pulled {ahead} items ahead");
    })
    .await;
    assert_eq!(pulled.load(Ordering::SeqCst), N);
    assert_eq!(yielded, N);
    assert_eq!(index_sum, N * (N - 1) / 2, "every index exactly once");
    assert_eq!(max_ahead, CONCURRENCY - 1);
    assert_eq!((summary.total, summary.applied), (N, N));
}

#[tokio::test]
async fn progress_callback_sees_running_counts() {
    let m = Memory::new();
    let last = Arc::new(Mutex::new(Vec::<BulkSummary>::new()));
    let calls = Arc::new(AtomicU64::new(0));
    let options = {
        let last = last.clone();
        let calls = calls.clone();
        BulkOptions {
            concurrency: 5,
            progress: Some(Arc::new(move |p| {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                assert_eq!(p.total, n);
                assert_eq!(p.total, p.applied + p.unchanged + p.failed());
                if n == 30 {
                    last.lock().unwrap().push(p.clone());
                }
            })),
            ..BulkOptions::default()
        }
    };
    let items = (0..30u64).map(|n| {
        if n % 3 == 0 {
            (
                CustomerId::from(format!("missing-{n}")),
                CustomerPatch::new().city("X"),
            )
        } else {
            city(n)
        }
    });
    let summary = bulk_update_stream(&m, stream::iter(items), options)
        .for_each_result(|_| {})
        .await;
    assert_eq!(calls.load(Ordering::SeqCst), 30);
    let final_progress = last.lock().unwrap()[0].clone();
    assert_eq!(
        (
            final_progress.total,
            final_progress.applied,
            final_progress.failed()
        ),
        (30, 20, 10)
    );
    assert_eq!(summary.failed_with(ErrorKind::NotFound), 10);
}

#[tokio::test]
async fn the_stream_form_exposes_the_summary_as_it_goes() {
    let m = Memory::new();
    let input = futures_util::stream::iter((0..20u64).map(city));
    let mut results = bulk_update_stream(
        &m,
        input,
        BulkOptions {
            concurrency: 2,
            ..BulkOptions::default()
        },
    );
    assert_eq!(results.summary().total, 0);
    let mut count = 0;
    while let Some(item) = results.next().await {
        assert!(item.result.is_ok());
        count += 1;
        assert_eq!(results.summary().total, count);
        assert!(!results.is_terminated());
    }
    assert!(results.is_terminated());
    assert!(
        results.next().await.is_none(),
        "a finished stream stays finished"
    );
    let summary = results.summary();
    assert_eq!((summary.total, summary.applied), (20, 20));
    assert_eq!(
        summary.elapsed,
        results.summary().elapsed,
        "elapsed is frozen at the end"
    );
}

#[tokio::test]
async fn an_empty_input_gives_an_empty_summary() {
    let m = Memory::new();
    let summary = bulk_update_stream(
        &m,
        stream::iter(Vec::<(CustomerId, CustomerPatch)>::new()),
        BulkOptions::default(),
    )
    .for_each_result(|_| panic!("no items"))
    .await;
    assert_eq!(summary.total, 0);
    assert_eq!(summary.failed(), 0);
    assert_eq!(m.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn works_through_an_arc_dyn_updater_and_in_a_spawned_task() {
    let updater: Arc<dyn CustomerUpdater> = Arc::new(Memory::new());
    let task = tokio::spawn({
        let updater = updater.clone();
        async move {
            bulk_update_stream(
                &*updater,
                stream::iter((0..40u64).map(city)),
                BulkOptions::default(),
            )
            .for_each_result(|_| {})
            .await
        }
    });
    let summary = task.await.unwrap();
    assert_eq!(summary.applied, 40);
}

/// Items naming one customer run one at a time, in input order, and wait
/// beside the other customers' items instead of in their slots: here the
/// first update of `x` cannot finish until the eight other customers' items
/// have, which would never happen if `x`'s items filled every slot.
#[tokio::test]
async fn one_customers_items_run_in_input_order_without_holding_up_others() {
    let m = Memory {
        x_waits_for: Some(8),
        ..Memory::new()
    };
    let items: Vec<_> = (0..16)
        .map(|n| {
            (
                CustomerId::from("x"),
                CustomerPatch::new().city(format!("City {n}")),
            )
        })
        .chain((0..8).map(city))
        .collect();
    let summary = bulk_update_stream(
        &m,
        stream::iter(items),
        BulkOptions {
            concurrency: 8,
            ..BulkOptions::default()
        },
    )
    .for_each_result(|_| {})
    .await;
    assert_eq!(summary.failed(), 0, "{summary}");
    assert_eq!((summary.total, summary.applied), (24, 24));
    assert_eq!(
        m.overlapped.load(Ordering::SeqCst),
        0,
        "x ran twice at once"
    );
    let x_order: Vec<String> = m
        .started
        .lock()
        .unwrap()
        .iter()
        .filter(|(id, _)| id == "x")
        .filter_map(|(_, c)| c.clone())
        .collect();
    let expected: Vec<String> = (0..16).map(|n| format!("City {n}")).collect();
    assert_eq!(x_order, expected);
    assert_eq!(m.city("x").as_deref(), Some("City 15"), "the last one wins");
}

/// Ordered output with queued items of one customer still yields every
/// result once, in input order.
#[tokio::test]
async fn ordered_mode_with_repeated_customers_yields_in_input_order() {
    let m = Memory::new();
    let items: Vec<_> = (0..60u64)
        .map(|n| {
            (
                CustomerId::from(format!("c{}", n % 3)),
                CustomerPatch::new().city(format!("City {n}")),
            )
        })
        .collect();
    let mut indexes = Vec::new();
    let summary = bulk_update_stream(
        &m,
        stream::iter(items),
        BulkOptions {
            concurrency: 4,
            ordered: true,
            ..BulkOptions::default()
        },
    )
    .for_each_result(|item| indexes.push(item.index))
    .await;
    assert_eq!(indexes, (0..60).collect::<Vec<u64>>());
    assert_eq!(summary.applied, 60);
    assert_eq!(m.overlapped.load(Ordering::SeqCst), 0);
    for c in 0..3u64 {
        assert_eq!(
            m.city(&format!("c{c}")),
            Some(format!("City {}", 57 + c)),
            "last item of c{c} wins"
        );
    }
}
