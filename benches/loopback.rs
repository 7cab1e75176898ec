//! Benchmark 2: one update over loopback against the sandbox, per backend,
//! beside a raw `reqwest` keep-alive loop that sends the very same requests
//! (method, path, body, auth) to the same server.
//!
//! The raw requests are captured from the sandbox's journal after one
//! unibill update of each of two patches, so both sides send identical
//! requests: the ratio is the cost of unibill's own work per update
//! (validation, mapping, decoding the answer into a `Customer`, retry and
//! rate-limit bookkeeping) on top of HTTP. `raw_reqwest_json` also parses
//! each answer into a `serde_json::Value`, which any real client must do. The two patches alternate so
//! that every update really changes something. The client-side rate
//! limit is off; nothing else differs from the default configuration.
//!
//! Run: `cargo bench --bench loopback` (quick smoke run: `-- --test`).

// With only some backends compiled in, helpers for the others go unused.
#![cfg_attr(
    not(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic")),
    allow(dead_code, unused_imports, unused_variables, unused_mut)
)]

use criterion::{criterion_group, criterion_main, Criterion};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use tokio::runtime::Runtime;
use unibill::{Config, CustomerId, CustomerPatch, CustomerUpdater, Settings};
use unibill_sandbox::{Sandbox, VendorHandle};

/// One request as the raw loop replays it.
#[derive(Clone, Debug)]
struct Raw {
    method: reqwest::Method,
    url: String,
    body: Option<Vec<u8>>,
}

/// The raw side: one keep-alive client, the vendor's auth header, and the
/// request sequence of each of the two updates.
struct RawLoop {
    client: reqwest::Client,
    auth: HeaderValue,
    updates: [Vec<Raw>; 2],
}

impl RawLoop {
    /// Sends the update's requests; with `decode`, parses each answer as
    /// JSON too, as any real client must.
    async fn update(&self, which: usize, decode: bool) {
        for r in &self.updates[which] {
            let mut req = self
                .client
                .request(r.method.clone(), &r.url)
                .header(ACCEPT, "application/json")
                .header(AUTHORIZATION, self.auth.clone());
            if let Some(body) = &r.body {
                req = req
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let resp = req.send().await.expect("raw request");
            let status = resp.status();
            let body = resp.bytes().await.expect("raw body");
            assert!(status.is_success(), "{status}: {body:?}");
            if decode {
                let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
                std::hint::black_box(json);
            }
            std::hint::black_box(body);
        }
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn no_rate_limit() -> Settings {
    serde_json::from_value(serde_json::json!({ "rate_limit": null })).expect("settings")
}

fn basic(user: &str, password: &str) -> HeaderValue {
    let client = reqwest::Client::new();
    let req = client
        .get("http://127.0.0.1/")
        .basic_auth(user, Some(password))
        .build()
        .expect("request");
    req.headers()[AUTHORIZATION].clone()
}

/// Runs the two updates through unibill and records the requests the
/// vendor received for each.
fn capture(
    rt: &Runtime,
    vendor: &VendorHandle,
    updater: &dyn CustomerUpdater,
    items: &[(CustomerId, CustomerPatch); 2],
) -> [Vec<Raw>; 2] {
    let base = vendor.base_url();
    let mut out: [Vec<Raw>; 2] = [Vec::new(), Vec::new()];
    // 0, 1, 0: the last run of each starts from the other's state, so both
    // recorded sequences include their write.
    for (k, i) in [0usize, 1, 0].into_iter().enumerate() {
        let (id, patch) = &items[i];
        vendor.clear_journal();
        let outcome = rt
            .block_on(updater.update_with(id, patch, &Default::default()))
            .expect("update");
        assert!(k == 0 || outcome.changed());
        out[i] = vendor
            .journal()
            .into_iter()
            .map(|e| Raw {
                method: e.method.parse().expect("method"),
                url: format!("{base}{}", e.path),
                body: (!e.raw_body.is_empty()).then(|| e.raw_body.into_bytes()),
            })
            .collect();
    }
    out
}

fn compare(
    c: &mut Criterion,
    name: &str,
    rt: &Runtime,
    vendor: &VendorHandle,
    updater: &dyn CustomerUpdater,
    items: [(CustomerId, CustomerPatch); 2],
    auth: HeaderValue,
) {
    let raw = RawLoop {
        client: reqwest::Client::new(),
        auth,
        updates: capture(rt, vendor, updater, &items),
    };
    eprintln!(
        "{name}: {} + {} requests per update pair",
        raw.updates[0].len(),
        raw.updates[1].len()
    );
    let mut g = c.benchmark_group(format!("loopback/{name}"));
    let mut turn = 0usize;
    g.bench_function("unibill", |b| {
        b.iter(|| {
            turn ^= 1;
            let (id, patch) = &items[turn];
            let outcome = rt
                .block_on(updater.update_with(id, patch, &Default::default()))
                .expect("update");
            std::hint::black_box(outcome);
        })
    });
    g.bench_function("raw_reqwest", |b| {
        b.iter(|| {
            turn ^= 1;
            rt.block_on(raw.update(turn, false));
        })
    });
    g.bench_function("raw_reqwest_json", |b| {
        b.iter(|| {
            turn ^= 1;
            rt.block_on(raw.update(turn, true));
        })
    });
    g.finish();
    vendor.clear_journal();
}

#[cfg(feature = "chartmogul")]
fn chartmogul(c: &mut Criterion, rt: &Runtime, sandbox: &Sandbox) {
    use unibill_sandbox::chartmogul::SEED_CUSTOMER_UUID as ID;
    let vendor = sandbox.chartmogul();
    let updater = Config::chartmogul(unibill_sandbox::CHARTMOGUL_API_KEY)
        .with_base_url(vendor.base_url())
        .with_settings(no_rate_limit())
        .build()
        .expect("client");
    let items = [
        (
            ID.into(),
            CustomerPatch::new().city("Lisbon").company("Ben & Co"),
        ),
        (
            ID.into(),
            CustomerPatch::new().city("Porto").company("Ben Ltd"),
        ),
    ];
    let auth = basic(unibill_sandbox::CHARTMOGUL_API_KEY, "");
    compare(c, "chartmogul", rt, vendor, &*updater, items, auth);
}

#[cfg(feature = "fusebill")]
fn fusebill(c: &mut Criterion, rt: &Runtime, sandbox: &Sandbox) {
    use unibill::fusebill::{ConflictCheck, Fusebill};
    use unibill_sandbox::fusebill::SEED_CUSTOMER_ID as ID;
    let vendor = sandbox.fusebill();
    let auth = HeaderValue::from_str(&format!("Basic {}", unibill_sandbox::FUSEBILL_API_KEY))
        .expect("header");
    let items = || {
        [
            (
                ID.into(),
                CustomerPatch::new()
                    .first_name("Kate")
                    .company("Ronbert Ltd"),
            ),
            (
                ID.into(),
                CustomerPatch::new()
                    .first_name("Katelyn")
                    .company("Ronbert"),
            ),
        ]
    };
    // As configured by default: GET, GET (concurrent-edit check), PUT.
    let updater = Config::fusebill(unibill_sandbox::FUSEBILL_API_KEY)
        .with_base_url(vendor.base_url())
        .with_settings(no_rate_limit())
        .build()
        .expect("client");
    compare(c, "fusebill", rt, vendor, &*updater, items(), auth.clone());
    // Without the check: GET, PUT.
    let updater = Fusebill::builder()
        .api_key(unibill_sandbox::FUSEBILL_API_KEY)
        .base_url(vendor.base_url())
        .rate_limit(None)
        .conflict_check(ConflictCheck::Off)
        .build()
        .expect("client");
    compare(
        c,
        "fusebill_conflict_check_off",
        rt,
        vendor,
        &updater,
        items(),
        auth,
    );
}

#[cfg(feature = "everlytic")]
fn everlytic(c: &mut Criterion, rt: &Runtime, sandbox: &Sandbox) {
    use unibill_sandbox::everlytic::{SEED_CUSTOMER_EMAIL as EMAIL, SEED_CUSTOMER_ID as ID};
    let vendor = sandbox.everlytic();
    let updater = Config::everlytic(
        vendor.base_url(),
        unibill_sandbox::EVERLYTIC_USERNAME,
        unibill_sandbox::EVERLYTIC_API_KEY,
    )
    .with_settings(no_rate_limit())
    .build()
    .expect("client");
    let auth = basic(
        unibill_sandbox::EVERLYTIC_USERNAME,
        unibill_sandbox::EVERLYTIC_API_KEY,
    );
    // Without name and email: GET, then PUT.
    let items = [
        (ID.into(), CustomerPatch::new().postal_code("8002")),
        (ID.into(), CustomerPatch::new().postal_code("8001")),
    ];
    compare(c, "everlytic", rt, vendor, &*updater, items, auth.clone());
    // With both: one PUT.
    let items = [
        (
            ID.into(),
            CustomerPatch::new().name("Cape Mailers Group").email(EMAIL),
        ),
        (
            ID.into(),
            CustomerPatch::new()
                .name("Cape Mailers (Pty) Ltd")
                .email(EMAIL),
        ),
    ];
    compare(
        c,
        "everlytic_name_and_email",
        rt,
        vendor,
        &*updater,
        items,
        auth,
    );
}

fn all(c: &mut Criterion) {
    let rt = runtime();
    let sandbox = rt.block_on(Sandbox::start()).expect("sandbox");
    #[cfg(feature = "chartmogul")]
    chartmogul(c, &rt, &sandbox);
    #[cfg(feature = "fusebill")]
    fusebill(c, &rt, &sandbox);
    #[cfg(feature = "everlytic")]
    everlytic(c, &rt, &sandbox);
    let _ = (c, &sandbox);
}

criterion_group!(benches, all);
criterion_main!(benches);
