//! Benchmark 3: a bulk run against the sandbox with 50 ms of latency on
//! every request and the vendor's rate limit enforced by the emulator,
//! with each backend's default client (its own rate limiter at the
//! vendor's documented limit). Reports the achieved request rate ÷ the
//! limit, how close the run came to the fastest the limit allows, updates
//! per minute (over the whole run, and over the limit's whole windows after
//! the first, the steady rate), requests per update, and 429s: answered by
//! the server, and surfaced to the caller.
//!
//! Each backend runs twice in one run:
//! - Fusebill and Everlytic: *re-read* (`max_read_age` 0: read again before
//!   every write, which was the only behaviour before the freshness rule)
//!   and *fresh* (the default 1 s bound: read again only when the read is
//!   older than that once the write may go). Each prints the histogram of
//!   the read-to-write window: for every write, the time from the emulator
//!   serving the last read of that customer to it serving the write (the
//!   journal's `served_at`), the time in which an outside edit would be
//!   overwritten.
//! - ChartMogul (no read before a write): a plain `PATCH`, and a `PATCH`
//!   with a tag (2 requests: no read-back after the tag call).
//! - Stripe (feature `stripe`; no read before a write): one `POST`, once,
//!   at its test-mode limit of 25 requests a second.
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
//! cargo bench --bench bulk_rate                      # about 12 min, both modes of each backend
//! UNIBILL_BENCH_BULK_ITEMS=1000 cargo bench --bench bulk_rate -- chartmogul
//! cargo bench --bench bulk_rate -- --test            # quick smoke run (40 updates)
//! ```
//!
//! Variables: `UNIBILL_BENCH_BULK_ITEMS` (default per run: ChartMogul
//! 2,000, Fusebill 2,000, Everlytic 1,000, Stripe 10,000; 40 in quick mode), `UNIBILL_BENCH_BULK_ITEMS_<BACKEND>` (per backend, e.g.
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
use unibill_sandbox::{JournalEntry, RateLimit, Sandbox};

fn vendor_limit(backend: &str) -> Option<RateLimit> {
    match backend {
        "chartmogul" => Some(RateLimit::CHARTMOGUL),
        "fusebill" => Some(RateLimit::FUSEBILL),
        "stripe" => Some(RateLimit::STRIPE_TEST),
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
        let default_items = if quick { 40 } else { default_items(backend) };
        let items = support::env_number("UNIBILL_BENCH_BULK_ITEMS", default_items);
        let items = support::env_number(
            &format!("UNIBILL_BENCH_BULK_ITEMS_{}", backend.to_uppercase()),
            items,
        );
        let concurrency = support::concurrency(backend);
        for mode in Mode::of(backend) {
            rt.block_on(run(backend, mode, items, concurrency, latency));
        }
    }
}

/// Items per run by default: enough for at least two whole windows of the
/// limit after the first (Fusebill: 2,000 updates are 4,000 requests at 2
/// per update, 6,000 at 3).
fn default_items(backend: &str) -> u64 {
    match backend {
        "fusebill" => 2_000,
        "chartmogul" => 2_000,
        "stripe" => 10_000,
        _ => 1_000,
    }
}

/// What a run measures.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Read again before every write (`max_read_age` 0).
    Reread,
    /// The default freshness rule.
    Fresh,
    /// ChartMogul: a `PATCH` and a tag call.
    WithTag,
}

impl Mode {
    fn of(backend: &str) -> Vec<Mode> {
        match backend {
            "chartmogul" => vec![Mode::Fresh, Mode::WithTag],
            "stripe" => vec![Mode::Fresh],
            _ => vec![Mode::Reread, Mode::Fresh],
        }
    }

    fn describe(self, backend: &str) -> &'static str {
        match (self, backend) {
            (Mode::Reread, _) => "re-read before every write (max_read_age 0)",
            (Mode::Fresh, "chartmogul") => "a plain PATCH",
            (Mode::Fresh, "stripe") => "one POST (with its idempotency key)",
            (Mode::Fresh, _) => "freshness rule (max_read_age 1 s, the default)",
            (Mode::WithTag, _) => "a PATCH and a tag call",
        }
    }
}

async fn run(backend: &'static str, mode: Mode, items: u64, concurrency: usize, latency: Duration) {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let vendor = support::vendor(&sandbox, backend);
    let limit = vendor_limit(backend);
    vendor.set_latency(latency);
    vendor.set_rate_limit(limit);
    let mut config = support::config(&sandbox, backend);
    if let Some(settings) = client_limit() {
        // The client's limiter set by hand (e.g. with a safety margin).
        config = config.with_settings(settings);
    }
    if mode == Mode::Reread {
        config.settings_mut().max_read_age = Duration::ZERO;
    }
    let updater = config.build().expect("updater builds");

    // Spread the run over many customers: one customer's updates run one
    // after the other, so two seeded customers would bound the run by
    // latency, not by the limit.
    let customers = vendor.add_customers(concurrency * 4);
    vendor.clear_journal();
    let started = Instant::now();
    let mut surfaced = std::collections::BTreeMap::<ErrorKind, u64>::new();
    let summary = bulk_update_stream(
        &*updater,
        futures_util::stream::iter((0..items).map(|n| {
            let (_, mut patch) = support::item(backend, n);
            if mode == Mode::WithTag {
                patch = patch.add_tag(format!("bulk-{}", n % 16));
            }
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
    let per_update = requests as f64 / items.max(1) as f64;
    let per_minute = items as f64 / elapsed * 60.0;
    println!(
        "{backend}, {}: {items} updates, concurrency {concurrency}, latency {} ms: {summary}",
        mode.describe(backend),
        latency.as_millis()
    );
    println!(
        "  {requests} requests in {elapsed:.1} s = {rps:.2} req/s, {per_update:.3} requests per update, \
         {per_minute:.1} updates/min; 429s answered by the server: {server_429}; surfaced to the caller: {}",
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
            match steady_per_minute(&journal, backend, l.per) {
                Some((windows, rate)) => {
                    let at_floor =
                        f64::from(l.requests) * 60.0 / per / floor_requests(backend, mode);
                    println!(
                        "  steady rate over {windows} whole window(s) after the first: {rate:.1} updates/min \
                         = {:.3} × the limit ÷ the floor of {} requests per update ({at_floor:.1}/min)",
                        rate / at_floor,
                        floor_requests(backend, mode),
                    );
                }
                None => println!(
                    "  steady rate: the run spans fewer than two whole windows (use more items)"
                ),
            }
        }
        None => {
            let bound = concurrency as f64 / (latency.as_secs_f64() * per_update);
            println!(
                "  no documented limit: latency-bound at {concurrency} ÷ ({} ms × {per_update:.2} \
                 requests) = {bound:.1} updates/s; achieved ÷ bound = {:.3}",
                latency.as_millis(),
                (items as f64 / elapsed) / bound
            );
        }
    }
    if !matches!(backend, "chartmogul" | "stripe") {
        print_windows(&windows(&journal, backend));
    }
    if !surfaced.is_empty() {
        println!("  failures: {surfaced:?}");
    }
    sandbox.shutdown().await;
}

/// The fewest requests one update of this workload needs.
fn floor_requests(backend: &str, mode: Mode) -> f64 {
    match (backend, mode) {
        ("chartmogul", Mode::WithTag) => 2.0,
        ("chartmogul", _) => 1.0,
        ("stripe", _) => 1.0,
        _ => 2.0,
    }
}

/// Whether `e` is the write that ends one update (ChartMogul: its
/// `PATCH`; the others: their `PUT`), served.
fn is_update_write(e: &JournalEntry, backend: &str) -> bool {
    let method = match backend {
        "chartmogul" => "PATCH",
        "stripe" => "POST",
        _ => "PUT",
    };
    e.method == method && e.served_at.is_some() && (200..300).contains(&e.status)
}

/// Updates per minute over the limit's whole windows after the first (the
/// first holds a burst of a full allowance, which a long run does not
/// see again), with how many windows: counted from the journal's
/// `served_at`. `None` when the run spans fewer than two whole windows.
fn steady_per_minute(
    journal: &[JournalEntry],
    backend: &str,
    window: Duration,
) -> Option<(u64, f64)> {
    let served = || journal.iter().filter_map(|e| e.served_at);
    let (first, last) = (served().min()?, served().max()?);
    let windows = ((last - first).as_secs_f64() / window.as_secs_f64()).floor() as u64;
    let whole = windows.checked_sub(1).filter(|w| *w > 0)?;
    let (from, to) = (first + window, first + window * (whole as u32 + 1));
    let writes = journal
        .iter()
        .filter(|e| is_update_write(e, backend))
        .filter(|e| e.served_at.is_some_and(|at| at >= from && at < to))
        .count();
    let minutes = (to - from).as_secs_f64() / 60.0;
    Some((whole, writes as f64 / minutes))
}

/// The customer a journal entry reads or writes: the last segment of its
/// path, or (Fusebill's `PUT /v1/customers`) the body's `id`.
fn customer_of(e: &JournalEntry) -> Option<String> {
    let path = e.path.split('?').next().unwrap_or_default();
    let last = path.rsplit('/').next().unwrap_or_default();
    if last
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || last.starts_with("cus_"))
    {
        return Some(last.to_string());
    }
    let id = e.body.as_ref()?.get("id")?;
    Some(id.as_str().map_or_else(|| id.to_string(), str::to_string))
}

/// For every served write, the time from the emulator serving the last
/// read of that customer before it to serving the write.
fn windows(journal: &[JournalEntry], backend: &str) -> Vec<Duration> {
    let mut last_read = std::collections::HashMap::<String, Duration>::new();
    let mut served: Vec<&JournalEntry> = journal.iter().filter(|e| e.served_at.is_some()).collect();
    served.sort_by_key(|e| e.served_at);
    let mut out = Vec::new();
    for e in served {
        let (Some(customer), Some(at)) = (customer_of(e), e.served_at) else {
            continue;
        };
        if e.method == "GET" {
            last_read.insert(customer, at);
        } else if is_update_write(e, backend) {
            if let Some(read) = last_read.get(&customer) {
                out.push(at.saturating_sub(*read));
            }
        }
    }
    out
}

/// The read-to-write windows as a histogram, with percentiles and how many
/// exceed the default bound.
fn print_windows(windows: &[Duration]) {
    if windows.is_empty() {
        println!("  read-to-write window: no write followed a read");
        return;
    }
    let mut ms: Vec<f64> = windows.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    println!(
        "  read-to-write window over {} writes: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
         beyond the 1 s bound: {}",
        ms.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        ms[ms.len() - 1],
        ms.iter().filter(|m| **m > 1000.0).count()
    );
    let edges = [
        50.0,
        75.0,
        100.0,
        150.0,
        250.0,
        500.0,
        1000.0,
        5000.0,
        f64::INFINITY,
    ];
    let mut from = 0.0;
    let mut row = Vec::new();
    for to in edges {
        let n = ms.iter().filter(|m| **m >= from && **m < to).count();
        let label = if to.is_infinite() {
            format!("≥{from:.0}")
        } else {
            format!("{from:.0}–{to:.0}")
        };
        row.push(format!("{label} ms: {n}"));
        from = to;
    }
    println!("  histogram: {}", row.join(", "));
}
