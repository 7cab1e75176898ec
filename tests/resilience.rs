//! Resilience run: a bulk of a few thousand updates per backend against the
//! sandbox while about a fifth of the requests fail (429 with and without
//! `Retry-After`, 503, dropped connections, garbage bodies).
//!
//! It checks that every item ends applied or with a typed error that says
//! why, that the sandbox's final state is what the patches asked for, and
//! that no `POST` was applied twice.
//!
//! Each customer's items run one after the other (two bulk streams, one per
//! seeded customer, run at the same time on one client), so the expected
//! final value of every field is known: the value of the last item that
//! succeeded, or of a later item that failed after its write may have
//! landed (a garbage body answers a write that *was* applied).
//!
//! Size: `UNIBILL_RESILIENCE_ITEMS` items per backend (default 2,000).

// With only some backends compiled in, helpers for the others go unused.
#![cfg_attr(
    not(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic")),
    allow(dead_code, unused_imports)
)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde_json::Value;
use unibill::bulk::{bulk_update_stream, BulkOptions, BulkSummary};
use unibill::BackendBuilder;
use unibill::{CustomerId, CustomerPatch, CustomerUpdater, ErrorKind, Settings};
use unibill_sandbox::{Fault, Sandbox, VendorHandle};

fn items_per_backend() -> u64 {
    std::env::var("UNIBILL_RESILIENCE_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n >= 20)
        .unwrap_or(2_000)
}

/// Quick retries, enough attempts to get through most faults, and no
/// client-side rate limit (this run is about faults, not pacing).
fn settings() -> Settings {
    serde_json::from_value(serde_json::json!({
        "initial_backoff": "2ms",
        "max_attempts": 5,
        "timeout_secs": 10,
        "rate_limit": null
    }))
    .expect("valid settings")
}

/// The updater under test, built from config like a caller would, except
/// Fusebill: its 429s carry `X-Rate-Limit-Reset-Minute`, which can ask for
/// up to a minute; here any wait above one second is returned at once as
/// `Error::RateLimited` (a typed error that says why) to keep the run short.
fn build(sandbox: &Sandbox, backend: &str) -> Arc<dyn CustomerUpdater> {
    #[cfg(feature = "fusebill")]
    if backend == "fusebill" {
        use std::time::Duration;
        use unibill::fusebill::Fusebill;
        use unibill::RetryConfig;
        let retry = RetryConfig {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(2),
            max_retry_after: Duration::from_secs(1),
            ..RetryConfig::default()
        };
        let client = Fusebill::builder()
            .api_key(unibill_sandbox::FUSEBILL_API_KEY)
            .base_url(sandbox.fusebill().base_url())
            .settings(Settings {
                retry,
                rate_limit: Some(None),
                ..Settings::default()
            })
            .build()
            .expect("client builds");
        return Arc::new(client);
    }
    common::config(sandbox, backend)
        .with_settings(settings())
        .build()
        .expect("updater builds")
}

/// What one item changes: a field (`slot`) of one customer, to `value`.
#[derive(Clone, Debug)]
struct Item {
    customer: &'static str,
    slot: String,
    value: String,
    patch: CustomerPatch,
}

/// The workload of a backend: its two customers, the item generator and
/// how to read a slot back from the vendor's stored JSON.
struct Workload {
    backend: &'static str,
    customers: [&'static str; 2],
    item: fn(&'static str, u64) -> Item,
    read: fn(&Value, &str) -> Option<String>,
    /// Vendor requests per item when nothing fails (for the fault rate).
    requests_per_item: f64,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[cfg(feature = "chartmogul")]
fn chartmogul() -> Workload {
    use unibill_sandbox::chartmogul::{SECOND_CUSTOMER_UUID, SEED_CUSTOMER_UUID};
    Workload {
        backend: "chartmogul",
        customers: [SEED_CUSTOMER_UUID, SECOND_CUSTOMER_UUID],
        // Even items PATCH the city; odd ones POST a new custom attribute.
        item: |customer, n| {
            if n % 2 == 0 {
                let value = format!("City {n}");
                Item {
                    customer,
                    slot: "city".into(),
                    patch: CustomerPatch::new().city(value.clone()),
                    value,
                }
            } else {
                let key = format!("bulk_{n}");
                let value = format!("v{n}");
                Item {
                    customer,
                    patch: CustomerPatch::new().custom(key.clone(), value.clone()),
                    slot: format!("custom.{key}"),
                    value,
                }
            }
        },
        read: |raw, slot| match slot.strip_prefix("custom.") {
            Some(key) => text(raw.pointer(&format!("/attributes/custom/{key}"))),
            None => text(raw.get(slot)),
        },
        requests_per_item: 1.0,
    }
}

#[cfg(feature = "fusebill")]
fn fusebill() -> Workload {
    use unibill_sandbox::fusebill::{PARENT_CUSTOMER_ID, SEED_CUSTOMER_ID};
    Workload {
        backend: "fusebill",
        customers: [SEED_CUSTOMER_ID, PARENT_CUSTOMER_ID],
        item: |customer, n| {
            let (slot, patch, value) = if n % 2 == 0 {
                let v = format!("First {n}");
                ("firstName", CustomerPatch::new().first_name(v.clone()), v)
            } else {
                let v = format!("Company {n}");
                ("companyName", CustomerPatch::new().company(v.clone()), v)
            };
            Item {
                customer,
                slot: slot.into(),
                value,
                patch,
            }
        },
        read: |raw, slot| text(raw.get(slot)),
        requests_per_item: 2.0,
    }
}

#[cfg(feature = "everlytic")]
fn everlytic() -> Workload {
    use unibill_sandbox::everlytic::{
        SECOND_CUSTOMER_EMAIL, SECOND_CUSTOMER_ID, SEED_CUSTOMER_EMAIL, SEED_CUSTOMER_ID,
    };
    Workload {
        backend: "everlytic",
        customers: [SEED_CUSTOMER_ID, SECOND_CUSTOMER_ID],
        // Even items change the postal code (GET + PUT); odd ones the name,
        // sending the email too (one PUT).
        item: |customer, n| {
            if n % 2 == 0 {
                let value = format!("{:04}", n % 10_000);
                Item {
                    customer,
                    slot: "postal_code".into(),
                    patch: CustomerPatch::new().postal_code(value.clone()),
                    value,
                }
            } else {
                let email = if customer == SEED_CUSTOMER_ID {
                    SEED_CUSTOMER_EMAIL
                } else {
                    SECOND_CUSTOMER_EMAIL
                };
                let value = format!("Name {n}");
                Item {
                    customer,
                    slot: "name".into(),
                    patch: CustomerPatch::new().name(value.clone()).email(email),
                    value,
                }
            }
        },
        read: |raw, slot| text(raw.get(slot)),
        requests_per_item: 1.5,
    }
}

/// A small deterministic generator (64-bit LCG) so a failure reproduces.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
}

/// Queues one fault, picked from the five kinds the issue lists.
fn inject_one(vendor: &VendorHandle, rng: &mut Lcg) {
    let fault = match rng.next() % 6 {
        0 => Fault::status(429),
        1 => Fault::status(429).retry_after_secs(0),
        2 => Fault::status(429).retry_after_date(SystemTime::now()),
        3 => Fault::status(503),
        4 => Fault::drop_connection(),
        _ => Fault::garbage_body(),
    };
    vendor.inject(fault);
}

/// What happened to one item.
#[derive(Debug)]
struct Record {
    seq: u64,
    slot: String,
    value: String,
    ok: bool,
}

async fn resilience_run(w: Workload) {
    let total = items_per_backend();
    let per_customer = total / 2;
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let vendor = common::vendor(&sandbox, w.backend).clone();
    let updater = build(&sandbox, w.backend);

    let initial: BTreeMap<&str, Value> = w
        .customers
        .iter()
        .map(|c| (*c, vendor.customer(c).expect("seeded customer")))
        .collect();

    // A few 429s with a real one-second Retry-After up front, then faults
    // keep being queued as items finish, at a rate that makes about one
    // request in five fail.
    vendor.inject(Fault::status(429).retry_after_secs(1).times(2));
    let fault_chance = 0.25 * w.requests_per_item;
    let rng = Arc::new(Mutex::new(Lcg(0x005e_ed0f_fa17)));

    let records: Arc<Mutex<BTreeMap<&'static str, Vec<Record>>>> = Arc::default();
    let bad: Arc<Mutex<Vec<String>>> = Arc::default();

    let stream_for = |customer: &'static str| {
        let items: Vec<Item> = (0..per_customer).map(|n| (w.item)(customer, n)).collect();
        let pairs = items
            .clone()
            .into_iter()
            .map(move |it| (CustomerId::from(it.customer), it.patch));
        let records = records.clone();
        let bad = bad.clone();
        let rng = rng.clone();
        let vendor = vendor.clone();
        let updater = updater.clone();
        let backend = w.backend;
        async move {
            bulk_update_stream(
                &*updater,
                futures_util::stream::iter(pairs),
                BulkOptions {
                    concurrency: 1,
                    ..BulkOptions::default()
                },
            )
            .for_each_result(move |r| {
                let it = &items[r.index as usize];
                let ok = match &r.result {
                    Ok(outcome) => {
                        if !outcome.changed() {
                            bad.lock().unwrap().push(format!(
                                "{customer} #{}: succeeded without a write",
                                r.index
                            ));
                        }
                        true
                    }
                    Err(e) => {
                        let typed = matches!(
                            e.kind(),
                            ErrorKind::RateLimited
                                | ErrorKind::Vendor
                                | ErrorKind::Transport
                                | ErrorKind::Decode
                                | ErrorKind::PartialUpdate
                        );
                        let says_why = e.to_string();
                        if !typed
                            || !says_why.contains(backend)
                            || e.backend().map(|b| b.as_str()) != Some(backend)
                        {
                            bad.lock().unwrap().push(format!(
                                "{customer} #{}: unexpected error {:?}: {says_why}",
                                r.index,
                                e.kind()
                            ));
                        }
                        false
                    }
                };
                records
                    .lock()
                    .unwrap()
                    .entry(customer)
                    .or_default()
                    .push(Record {
                        seq: r.index,
                        slot: it.slot.clone(),
                        value: it.value.clone(),
                        ok,
                    });
                let mut rng = rng.lock().unwrap();
                let mut chance = fault_chance;
                while chance > 0.0 {
                    if rng.chance(chance.min(1.0)) {
                        inject_one(&vendor, &mut rng);
                    }
                    chance -= 1.0;
                }
            })
            .await
        }
    };

    let (a, b): (BulkSummary, BulkSummary) =
        tokio::join!(stream_for(w.customers[0]), stream_for(w.customers[1]));
    vendor.clear_faults();

    let bad = bad.lock().unwrap().clone();
    assert!(
        bad.is_empty(),
        "{}: {} bad item(s): {:#?}",
        w.backend,
        bad.len(),
        &bad[..bad.len().min(20)]
    );

    // Every item has exactly one result, and the summary agrees.
    let records = std::mem::take(&mut *records.lock().unwrap());
    for (summary, customer) in [(&a, w.customers[0]), (&b, w.customers[1])] {
        let recs = &records[customer];
        assert_eq!(recs.len() as u64, per_customer);
        assert_eq!(summary.total, per_customer);
        let ok = recs.iter().filter(|r| r.ok).count() as u64;
        assert_eq!(summary.applied, ok, "{}: {summary}", w.backend);
        assert_eq!(summary.failed(), per_customer - ok);
        assert_eq!(summary.unchanged, 0);
    }

    // The faults really happened: about a fifth of all requests.
    let journal = vendor.journal();
    let faulted = journal.iter().filter(|e| e.fault.is_some()).count();
    let share = faulted as f64 / journal.len() as f64;
    assert!(
        (0.10..=0.35).contains(&share),
        "{}: {faulted} of {} requests faulted",
        w.backend,
        journal.len()
    );
    let kinds: Vec<&str> = [
        "status 429",
        "retry-after",
        "status 503",
        "drop_connection",
        "garbage_body",
    ]
    .into_iter()
    .filter(|k| {
        !journal
            .iter()
            .any(|e| e.fault.as_deref().is_some_and(|f| f.contains(k)))
    })
    .collect();
    assert!(
        kinds.is_empty(),
        "{}: fault kinds never injected: {kinds:?}",
        w.backend
    );

    // The sandbox holds what the patches asked for.
    for customer in w.customers {
        let stored = vendor.customer(customer).expect("seeded customer");
        let mut by_slot: BTreeMap<&str, Vec<&Record>> = BTreeMap::new();
        for r in &records[customer] {
            by_slot.entry(r.slot.as_str()).or_default().push(r);
        }
        for (slot, mut recs) in by_slot {
            recs.sort_by_key(|r| r.seq);
            let now = (w.read)(&stored, slot);
            let last_ok = recs.iter().rposition(|r| r.ok);
            let allowed: Vec<Option<String>> = match last_ok {
                // The last success, or a later failed write that landed.
                Some(i) => recs[i..].iter().map(|r| Some(r.value.clone())).collect(),
                // Never succeeded: untouched, or a failed write that landed.
                None => std::iter::once((w.read)(&initial[customer], slot))
                    .chain(recs.iter().map(|r| Some(r.value.clone())))
                    .collect(),
            };
            let allowed_ok = allowed.contains(&now);
            assert!(
                allowed_ok,
                "{} {customer} `{slot}` holds {now:?}, expected one of {allowed:?}",
                w.backend
            );
        }
    }

    // No POST was applied twice: each distinct POST got at most one 2xx.
    let mut posts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for e in journal.iter().filter(|e| e.method == "POST") {
        if (200..300).contains(&e.status) {
            *posts
                .entry((e.path.clone(), e.raw_body.clone()))
                .or_default() += 1;
        }
    }
    let twice: Vec<_> = posts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{}: POSTs applied twice: {twice:?}",
        w.backend
    );
    if w.backend == "chartmogul" {
        assert!(!posts.is_empty(), "the ChartMogul run sends POSTs");
    }

    eprintln!(
        "{}: {faulted} of {} requests faulted; {a}; {b}",
        w.backend,
        journal.len()
    );
    sandbox.shutdown().await;
}

#[cfg(feature = "chartmogul")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chartmogul_bulk_survives_faults() {
    resilience_run(chartmogul()).await;
}

#[cfg(feature = "fusebill")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fusebill_bulk_survives_faults() {
    resilience_run(fusebill()).await;
}

#[cfg(feature = "everlytic")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everlytic_bulk_survives_faults() {
    resilience_run(everlytic()).await;
}
