//! Benchmark 3: a bulk run against the sandbox with 50 ms of latency on
//! every request and the vendor's rate limit enforced by the emulator,
//! with each backend's default client (its own rate limiter at the
//! vendor's documented limit). Reports the achieved request rate ÷ the
//! limit, how close the run came to the fastest the limit allows, and
//! 429s: answered by the server, and surfaced to the caller.
//!
//! The run is spread over `4 × concurrency` customers added to the
//! sandbox (copies of a seeded one): updates of one customer run one after
//! the other, so a run over few customers is bound by latency instead.
//!
//! The baseline is the limit itself: at L requests per window W, request
//! k cannot be granted before ⌊k / L⌋·W, so N requests need at least
//! ⌊(N−1) / L⌋·W. Everlytic documents no limit; its run is bound by
//! latency instead (concurrency ÷ (latency × requests per update)).
//!
//! A long run is a plain program, not a criterion loop: it runs once.
//!
//! ```text
//! cargo bench --bench bulk_rate                      # 10,000 updates per backend
//! UNIBILL_BENCH_BULK_ITEMS=2000 cargo bench --bench bulk_rate -- chartmogul
//! cargo bench --bench bulk_rate -- --test            # quick smoke run (40 updates)
//! ```
//!
//! Variables: `UNIBILL_BENCH_BULK_ITEMS` (default 10,000; 40 in quick
//! mode), `UNIBILL_BENCH_BULK_ITEMS_<BACKEND>` (per backend, e.g.
//! `_FUSEBILL`), `UNIBILL_BENCH_CONCURRENCY`, `UNIBILL_BENCH_LATENCY_MS`
//! (default 50), `UNIBILL_BENCH_CLIENT_LIMIT` (the client-side limit as
//! `requests/seconds`, e.g. `40/1`; default: the backend's own).

// With only some backends compiled in, helpers for the others go unused.
#![cfg_attr(
    not(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic")),
    allow(dead_code, unused_imports, unused_variables, unused_mut)
)]

mod support;

use std::time::{Duration, Instant};

use unibill::bulk::{bulk_update_stream, BulkOptions};
use unibill::ErrorKind;
use unibill_sandbox::{RateLimit, Sandbox};

fn vendor_limit(backend: &str) -> Option<RateLimit> {
    match backend {
        "chartmogul" => Some(RateLimit::CHARTMOGUL),
        "fusebill" => Some(RateLimit::FUSEBILL),
        _ => None,
    }
}

/// `UNIBILL_BENCH_CLIENT_LIMIT=40/1`: the client-side limit as
/// `requests/seconds`, instead of the backend's default.
fn client_limit() -> Option<unibill::Settings> {
    let v = std::env::var("UNIBILL_BENCH_CLIENT_LIMIT").ok()?;
    let (n, per) = v.split_once('/')?;
    let requests: u32 = n.trim().parse().ok()?;
    let per_secs: f64 = per.trim().parse().ok()?;
    let json = serde_json::json!({ "rate_limit": { "requests": requests, "per_secs": per_secs } });
    serde_json::from_value(json).ok()
}

fn main() {
    let quick = support::quick();
    let latency = Duration::from_millis(support::env_number("UNIBILL_BENCH_LATENCY_MS", 50));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!("bulk_rate on {}", support::machine());
    for backend in support::selected() {
        let default_items = if quick { 40 } else { 10_000 };
        let items = support::env_number("UNIBILL_BENCH_BULK_ITEMS", default_items);
        let items = support::env_number(
            &format!("UNIBILL_BENCH_BULK_ITEMS_{}", backend.to_uppercase()),
            items,
        );
        let concurrency = support::concurrency(backend);
        rt.block_on(run(backend, items, concurrency, latency));
    }
}

async fn run(backend: &'static str, items: u64, concurrency: usize, latency: Duration) {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let vendor = support::vendor(&sandbox, backend);
    let limit = vendor_limit(backend);
    vendor.set_latency(latency);
    vendor.set_rate_limit(limit);
    let updater = match client_limit() {
        // The client's limiter set by hand (e.g. with a safety margin).
        Some(settings) => support::config(&sandbox, backend)
            .with_settings(settings)
            .build()
            .expect("updater builds"),
        None => support::updater(&sandbox, backend, true),
    };

    // Spread the run over many customers: one customer's updates run one
    // after the other, so two seeded customers would bound the run by
    // latency, not by the limit.
    let customers = vendor.add_customers(concurrency * 4);
    let started = Instant::now();
    let mut surfaced = std::collections::BTreeMap::<ErrorKind, u64>::new();
    let summary = bulk_update_stream(
        &*updater,
        futures_util::stream::iter((0..items).map(|n| {
            let (_, patch) = support::item(backend, n);
            let id = customers[n as usize % customers.len()].as_str();
            (unibill::CustomerId::from(id), patch)
        })),
        BulkOptions {
            concurrency,
            ..BulkOptions::default()
        },
    )
    .for_each_result(|r| {
        if let Err(e) = &r.result {
            *surfaced.entry(e.kind()).or_default() += 1;
        }
    })
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    let journal = vendor.journal();
    let requests = journal.len() as u64;
    let server_429 = journal
        .iter()
        .filter(|e| e.fault.as_deref() == Some("rate_limit"))
        .count();
    let rps = requests as f64 / elapsed;
    println!(
        "{backend}: {items} updates, concurrency {concurrency}, latency {} ms: {summary}",
        latency.as_millis()
    );
    println!(
        "  {requests} requests in {elapsed:.1} s = {rps:.2} req/s, {:.2} updates/s; \
         429s answered by the server: {server_429}; surfaced to the caller: {}",
        items as f64 / elapsed,
        summary.failed_with(ErrorKind::RateLimited)
    );
    match limit {
        Some(l) => {
            let per = l.per.as_secs_f64();
            let limit_rps = f64::from(l.requests) / per;
            let floor = ((requests.saturating_sub(1)) / u64::from(l.requests)) as f64 * per;
            println!(
                "  limit {} per {per} s = {limit_rps:.2} req/s; achieved ÷ limit = {:.3}",
                l.requests,
                rps / limit_rps,
            );
            if floor > 0.0 {
                println!(
                    "  fastest the limit allows for {requests} requests: {floor:.1} s; \
                     this run reached {:.3} of that speed",
                    floor / elapsed
                );
            } else {
                println!(
                    "  {requests} requests fit in one window's allowance: this run is bound \
                     by latency and concurrency, not by the limit (use more items)"
                );
            }
        }
        None => {
            let per_update = requests as f64 / items.max(1) as f64;
            let bound = concurrency as f64 / (latency.as_secs_f64() * per_update);
            println!(
                "  no documented limit: latency-bound at {concurrency} ÷ ({} ms × {per_update:.2} \
                 requests) = {bound:.1} updates/s; achieved ÷ bound = {:.3}",
                latency.as_millis(),
                (items as f64 / elapsed) / bound
            );
        }
    }
    if !surfaced.is_empty() {
        println!("  failures: {surfaced:?}");
    }
    sandbox.shutdown().await;
}
