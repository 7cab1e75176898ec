//! Benchmark 1: neutral patch -> vendor request body, per backend (pure
//! CPU, no request is sent).
//!
//! For each backend, `unibill` is the whole pre-flight path of an update:
//! validation, the capability check, the vendor mapping and the JSON body
//! (and for Fusebill the lossless merge onto the record it read). The
//! `baseline` beside it builds the very same body by hand with
//! `serde_json::json!`, the least a hand-written client would do; both are
//! checked to produce identical JSON before timing.
//!
//! Run: `cargo bench --bench mapping` (quick smoke run: `-- --test`).

// With only some backends compiled in, helpers for the others go unused.
#![cfg_attr(
    not(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic")),
    allow(dead_code, unused_imports, unused_variables, unused_mut)
)]

mod support;

use std::fmt::Debug;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use tokio::runtime::Runtime;
use unibill::{CustomerId, CustomerPatch, CustomerUpdater, UpdateOptions};
use unibill_sandbox::{Sandbox, VendorHandle};

/// A current-thread runtime to drive `dry_run` (it completes without any
/// I/O for these patches) and a sandbox whose journal proves no request
/// was made.
fn runtime_and_sandbox() -> (Runtime, Sandbox) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = rt.block_on(Sandbox::start()).expect("sandbox");
    (rt, sandbox)
}

#[allow(dead_code)]
fn bodies(
    rt: &Runtime,
    updater: &dyn CustomerUpdater,
    id: &CustomerId,
    patch: &CustomerPatch,
) -> Vec<Value> {
    rt.block_on(updater.dry_run(id, patch, &UpdateOptions::default()))
        .expect("dry run")
        .writes
        .into_iter()
        .filter_map(|w| w.body)
        .collect()
}

/// Checks that `unibill` and `baseline` build the same bodies, then times
/// both in the group `mapping/{backend}`.
fn compare<T: PartialEq + Debug>(
    c: &mut Criterion,
    backend: &str,
    mut unibill: impl FnMut() -> T,
    mut baseline: impl FnMut() -> T,
) {
    assert_eq!(unibill(), baseline());
    let mut g = c.benchmark_group(format!("mapping/{backend}"));
    g.bench_function("unibill", |b| b.iter(|| black_box(unibill())));
    g.bench_function("baseline", |b| b.iter(|| black_box(baseline())));
    g.finish();
}

/// Asserts the emulator was sent no request.
fn assert_no_request(vendor: &VendorHandle) {
    assert!(vendor.journal().is_empty(), "no request was sent");
}

#[cfg(feature = "chartmogul")]
fn chartmogul(c: &mut Criterion) {
    use unibill_sandbox::chartmogul::SEED_CUSTOMER_UUID as ID;
    let (rt, sandbox) = runtime_and_sandbox();
    let updater = support::updater(&sandbox, "chartmogul", true);
    let id = CustomerId::from(ID);
    let patch = CustomerPatch::new()
        .name("Ben Smith")
        .company("Ben & Co")
        .email("ben@example.com")
        .city("San Francisco")
        .country("US")
        .custom("CAC", 25);
    let baseline = || {
        vec![
            json!({
                "city": "San Francisco",
                "company": "Ben & Co",
                "country": "US",
                "email": "ben@example.com",
                "name": "Ben Smith"
            }),
            json!({ "custom": [{ "key": "CAC", "type": "Integer", "value": 25 }] }),
        ]
    };
    compare(
        c,
        "chartmogul",
        || bodies(&rt, &*updater, black_box(&id), black_box(&patch)),
        || rt.block_on(async { black_box(baseline()) }),
    );
    assert_no_request(sandbox.chartmogul());
}

#[cfg(feature = "fusebill")]
fn fusebill(c: &mut Criterion) {
    use unibill::fusebill::{mapping, merge};
    use unibill::CheckedPatch;
    use unibill_sandbox::fusebill::SEED_CUSTOMER_ID as ID;
    // Fusebill's update is read-modify-write: time what happens between
    // the GET and the PUT, with the seeded record as the read.
    let record = unibill_sandbox::fusebill::seed_customers()
        .into_iter()
        .find(|c| c["id"] == json!(12000750))
        .expect("seeded customer");
    let caps = unibill::fusebill::capabilities();
    let patch = CustomerPatch::new()
        .first_name("Kate")
        .last_name("Floyd-Smith")
        .company("Ronbert Ltd")
        .email("kate@ronbert.example.com")
        .phone("+1 613 555 0100");
    let n: u64 = ID.parse().expect("numeric id");
    let unibill_body = || -> Value {
        let checked =
            CheckedPatch::check(&caps, &patch, &UpdateOptions::default()).expect("checked");
        let edits = mapping::edits(n, &checked).expect("edits");
        let body = merge::merge(&record, &edits).expect("merge");
        assert!(body != record);
        body
    };
    let baseline = || -> Value {
        let mut body = record.clone();
        body["firstName"] = json!("Kate");
        body["lastName"] = json!("Floyd-Smith");
        body["companyName"] = json!("Ronbert Ltd");
        body["primaryEmail"] = json!("kate@ronbert.example.com");
        body["primaryPhone"] = json!("+1 613 555 0100");
        assert!(body != record);
        body
    };
    compare(c, "fusebill", unibill_body, baseline);
}

#[cfg(feature = "everlytic")]
fn everlytic(c: &mut Criterion) {
    use unibill_sandbox::everlytic::SEED_CUSTOMER_ID as ID;
    let (rt, sandbox) = runtime_and_sandbox();
    let updater = support::updater(&sandbox, "everlytic", true);
    let id = CustomerId::from(ID);
    // Name and email in the patch: the PUT needs no read first.
    let patch = CustomerPatch::new()
        .name("Cape Mailers Group")
        .email("accounts@capemailers.example.com")
        .postal_code("8002")
        .region("Western Cape")
        .phone("+27 21 555 0101")
        .country("ZA");
    let baseline = || {
        vec![json!({
            "country": "ZA",
            "email": "accounts@capemailers.example.com",
            "name": "Cape Mailers Group",
            "postal_code": "8002",
            "state_provinces": "Western Cape",
            "telephone": "+27 21 555 0101"
        })]
    };
    compare(
        c,
        "everlytic",
        || bodies(&rt, &*updater, black_box(&id), black_box(&patch)),
        || rt.block_on(async { black_box(baseline()) }),
    );
    assert_no_request(sandbox.everlytic());
}

fn all(c: &mut Criterion) {
    #[cfg(feature = "chartmogul")]
    chartmogul(c);
    #[cfg(feature = "fusebill")]
    fusebill(c);
    #[cfg(feature = "everlytic")]
    everlytic(c);
    let _ = c;
}

criterion_group!(benches, all);
criterion_main!(benches);
