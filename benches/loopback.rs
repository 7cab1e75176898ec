//! Benchmark 2: one update over loopback against the sandbox, per backend,
//! beside a raw `reqwest` keep-alive loop that sends the very same requests
//! (method, path, body, auth) to the same server.
//!
//! The raw requests are captured from the sandbox's journal after one
//! unibill update of each of two patches, so both sides send identical
//! requests: the ratio is the cost of unibill's own work per update
//! (validation, mapping, decoding the answer into a `Customer`, retry and
//! rate-limit bookkeeping) on top of HTTP. `raw_reqwest_json` also parses
//! each answer into a `serde_json::Value`, which any real client must do.
//! The two patches alternate so that every update really changes
//! something. The client-side rate limit is off; nothing else differs from
//! the default configuration.
//!
//! After each criterion group, a paired run interleaves six sides update
//! by update (unibill, raw, raw + JSON, the core transport alone, the
//! transport + JSON, and unibill with its per-customer write lock turned
//! off) and prints their medians and ratios: drift on a shared machine
//! then hits all sides alike, the transport sides split the overhead
//! between HTTP handling and the backend's own work, and the last side
//! gives the lock's cost.
//! `UNIBILL_BENCH_PAIRED_ROUNDS` sets its length (default 4,000).
//!
//! Run: `cargo bench --bench loopback` (quick smoke run: `-- --test`; only
//! the paired runs: `-- paired`, a filter no criterion benchmark matches).

// With only some backends compiled in, helpers for the others go unused.
#![cfg_attr(
    not(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic")),
    allow(dead_code, unused_imports, unused_variables, unused_mut)
)]

mod support;

use support::Raw;

use criterion::{criterion_group, criterion_main, Criterion};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use tokio::runtime::Runtime;
use unibill::BackendBuilder;
use unibill::{BackendKind, CustomerId, CustomerPatch, CustomerUpdater, Settings, WriteLocking};
use unibill_core::transport::{Auth, Request, Transport, TransportConfig};
use unibill_sandbox::{Sandbox, VendorHandle};

/// The raw side: one keep-alive client, the vendor's auth header, and the
/// request sequence of each of the two updates; and unibill's transport
/// alone (retry, limiter and timeout bookkeeping, no backend) replaying the
/// same sequence.
struct RawLoop {
    client: reqwest::Client,
    auth: HeaderValue,
    updates: [Vec<Raw>; 2],
    transport: Transport,
}

impl RawLoop {
    /// Sends the update's requests; with `decode`, parses each answer as
    /// JSON too, as any real client must.
    async fn update(&self, which: usize, decode: bool) {
        support::replay(&self.client, &self.auth, &self.updates[which], decode).await;
    }

    /// The same requests through `unibill_core::transport::Transport`.
    async fn via_transport(&self, which: usize, decode: bool) {
        for r in &self.updates[which] {
            let mut req = Request::new(r.method.clone(), r.path.as_str());
            if let Some(body) = &r.body {
                req = req.json(&serde_json::from_slice(body).expect("JSON body"));
            }
            let resp = self.transport.send(req).await.expect("transport");
            assert!(resp.is_success(), "{}", resp.status);
            if decode {
                let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("JSON");
                std::hint::black_box(json);
            }
            std::hint::black_box(resp);
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

/// The settings of the clients measured without the write lock: no
/// client-side pacing, the rest as default.
fn unpaced() -> Settings {
    Settings {
        rate_limit: Some(None),
        ..Settings::default()
    }
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
        out[i] = support::captured(vendor);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn compare(
    c: &mut Criterion,
    name: &str,
    rt: &Runtime,
    vendor: &VendorHandle,
    updater: &dyn CustomerUpdater,
    unlocked: &dyn CustomerUpdater,
    items: [(CustomerId, CustomerPatch); 2],
    auth: (HeaderValue, Auth),
) {
    let settings = TransportConfig::default();
    let transport = Transport::new(
        BackendKind::new("raw"),
        &vendor.base_url(),
        auth.1,
        settings,
        None,
    )
    .expect("transport");
    let raw = RawLoop {
        client: reqwest::Client::new(),
        auth: auth.0,
        updates: capture(rt, vendor, updater, &items),
        transport,
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
    paired(name, rt, [updater, unlocked], &items, &raw);
    vendor.clear_journal();
}

/// One update through `updater`, its outcome kept from the optimiser.
async fn update_once(updater: &dyn CustomerUpdater, (id, patch): &(CustomerId, CustomerPatch)) {
    let outcome = updater
        .update_with(id, patch, &Default::default())
        .await
        .expect("update");
    std::hint::black_box(outcome);
}

/// Rounds of the paired measurement; fewer in quick mode.
fn rounds() -> usize {
    if support::quick() {
        20
    } else {
        std::env::var("UNIBILL_BENCH_PAIRED_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(4000)
    }
}

/// Five sides interleaved update by update (rotating which goes first),
/// so that drift in the machine's speed hits all alike: unibill, the raw
/// loop, the raw loop + JSON parse, the core transport alone replaying the
/// same requests, and the transport + JSON parse. Prints each side's median
/// and the ratios of medians. Criterion's groups above time each side in
/// its own stretch of seconds, which on a shared VM lets drift pass for a
/// difference. (The transport sides also parse the request body they
/// replay, about a microsecond, which unibill's backends do not.)
fn paired(
    name: &str,
    rt: &Runtime,
    [updater, unlocked]: [&dyn CustomerUpdater; 2],
    items: &[(CustomerId, CustomerPatch); 2],
    raw: &RawLoop,
) {
    const SIDES: usize = 6;
    let rounds = rounds();
    let mut times: [Vec<f64>; SIDES] = Default::default();
    let mut turn = 0usize;
    rt.block_on(async {
        for round in 0..rounds {
            for k in 0..SIDES {
                let side = (round + k) % SIDES;
                turn ^= 1;
                let started = std::time::Instant::now();
                match side {
                    0 => {
                        update_once(updater, &items[turn]).await;
                    }
                    1 => raw.update(turn, false).await,
                    2 => raw.update(turn, true).await,
                    3 => raw.via_transport(turn, false).await,
                    4 => raw.via_transport(turn, true).await,
                    _ => {
                        update_once(unlocked, &items[turn]).await;
                    }
                }
                times[side].push(started.elapsed().as_secs_f64() * 1e6);
            }
        }
    });
    let [uni, bare, json, transport, transport_json, no_lock] = times.map(|mut t| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    });
    println!(
        "loopback/{name} paired, median of {rounds} rounds: unibill {uni:.1} µs, \
         raw {bare:.1} µs, raw + JSON {json:.1} µs, transport {transport:.1} µs, \
         transport + JSON {transport_json:.1} µs"
    );
    println!(
        "  unibill ÷ raw = {:.3}; unibill ÷ (raw + JSON) = {:.3}; transport ÷ raw = {:.3}; \
         unibill ÷ (transport + JSON) = {:.3}",
        uni / bare,
        uni / json,
        transport / bare,
        uni / transport_json
    );
    println!(
        "  write lock: unibill {uni:.1} µs, without the lock {no_lock:.1} µs, \
         unibill ÷ unlocked = {:.3}",
        uni / no_lock
    );
}

#[cfg(feature = "chartmogul")]
fn chartmogul(c: &mut Criterion, rt: &Runtime, sandbox: &Sandbox) {
    use unibill_sandbox::chartmogul::SEED_CUSTOMER_UUID as ID;
    let vendor = sandbox.chartmogul();
    let updater = support::updater(sandbox, "chartmogul", false);
    let unlocked = unibill::chartmogul::ChartMogul::builder()
        .api_key(unibill_sandbox::CHARTMOGUL_API_KEY)
        .base_url(vendor.base_url())
        .settings(unpaced())
        .write_locking(WriteLocking::Off)
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
    let auth = (
        basic(unibill_sandbox::CHARTMOGUL_API_KEY, ""),
        Auth::KeyAsUser(unibill_sandbox::CHARTMOGUL_API_KEY.into()),
    );
    compare(
        c,
        "chartmogul",
        rt,
        vendor,
        &*updater,
        &unlocked,
        items,
        auth,
    );
}

#[cfg(feature = "fusebill")]
fn fusebill(c: &mut Criterion, rt: &Runtime, sandbox: &Sandbox) {
    use unibill::fusebill::{ConflictCheck, Fusebill};
    use unibill_sandbox::fusebill::SEED_CUSTOMER_ID as ID;
    let vendor = sandbox.fusebill();
    let auth = (
        HeaderValue::from_str(&format!("Basic {}", unibill_sandbox::FUSEBILL_API_KEY))
            .expect("header"),
        Auth::PreEncoded(unibill_sandbox::FUSEBILL_API_KEY.into()),
    );
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
    // As configured by default: GET, PUT (the concurrent-edit re-read
    // comes only when the PUT is held back past `max_read_age`).
    let updater = support::updater(sandbox, "fusebill", false);
    let builder = || {
        Fusebill::builder()
            .api_key(unibill_sandbox::FUSEBILL_API_KEY)
            .base_url(vendor.base_url())
            .settings(unpaced())
    };
    let unlocked = builder()
        .write_locking(WriteLocking::Off)
        .build()
        .expect("client");
    compare(
        c,
        "fusebill",
        rt,
        vendor,
        &*updater,
        &unlocked,
        items(),
        auth.clone(),
    );
    // Without the check: GET, PUT.
    let builder = || builder().conflict_check(ConflictCheck::Off);
    let updater = builder().build().expect("client");
    let unlocked = builder()
        .write_locking(WriteLocking::Off)
        .build()
        .expect("client");
    compare(
        c,
        "fusebill_conflict_check_off",
        rt,
        vendor,
        &updater,
        &unlocked,
        items(),
        auth,
    );
}

#[cfg(feature = "everlytic")]
fn everlytic(c: &mut Criterion, rt: &Runtime, sandbox: &Sandbox) {
    use unibill_sandbox::everlytic::{SEED_CUSTOMER_EMAIL as EMAIL, SEED_CUSTOMER_ID as ID};
    let vendor = sandbox.everlytic();
    let updater = support::updater(sandbox, "everlytic", false);
    let unlocked = unibill::everlytic::Everlytic::builder()
        .base_url(vendor.base_url())
        .username(unibill_sandbox::EVERLYTIC_USERNAME)
        .api_key(unibill_sandbox::EVERLYTIC_API_KEY)
        .settings(unpaced())
        .write_locking(WriteLocking::Off)
        .build()
        .expect("client");
    let auth = (
        basic(
            unibill_sandbox::EVERLYTIC_USERNAME,
            unibill_sandbox::EVERLYTIC_API_KEY,
        ),
        Auth::Basic {
            username: unibill_sandbox::EVERLYTIC_USERNAME.into(),
            password: unibill_sandbox::EVERLYTIC_API_KEY.into(),
        },
    );
    // Without name and email: GET, then PUT (re-read only past
    // `max_read_age`).
    let items = [
        (ID.into(), CustomerPatch::new().postal_code("8002")),
        (ID.into(), CustomerPatch::new().postal_code("8001")),
    ];
    compare(
        c,
        "everlytic",
        rt,
        vendor,
        &*updater,
        &unlocked,
        items,
        auth.clone(),
    );
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
        &unlocked,
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
