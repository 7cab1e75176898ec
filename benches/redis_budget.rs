//! Benchmark: one ChartMogul budget shared by 8 OS processes (4 in quick
//! mode) through Redis, against one sandbox listener that enforces
//! ChartMogul's 40 requests/s and answers 429 beyond.
//!
//! The benchmark starts the sandbox, then runs that many copies of itself
//! as worker processes (`UNIBILL_BUDGET_WORKER=1`), each bulk-updating
//! with the default ChartMogul client built by `Config::from_env`:
//!
//! 1. baseline: no `UNIBILL_REDIS_URL`, so each process limits itself to
//!    40/s and together they offer several times the limit;
//! 2. shared: `UNIBILL_REDIS_URL` set, so they share one budget, while
//!    `UNIBILL_BENCH_CPU_LOAD` more copies of itself (default 0) spin on
//!    the CPU beside them, to see the pacing hold on a loaded machine.
//!
//! It reports, for each run, the requests the sandbox saw, the share it
//! refused with 429, the admitted throughput as a ratio of the limit, and
//! as a ratio of the fastest the limit allows (at L per window W, k admitted requests need
//! at least ⌊(k−1)/L⌋·W, measured from the first worker's start to the
//! last worker's end, in wall-clock time across processes).
//!
//! Then the lock: 4 processes x 50 (10 in quick mode) concurrent
//! single-field updates of one Fusebill customer, each process on a field
//! of its own, without and with Redis. A lost edit is an applied `PUT`
//! that changes more than one of the four fields against the `PUT`
//! applied before it (it carried back another process's field), counted
//! from the sandbox journal. Last, the per-update cost of the Redis
//! limiter and lock against the in-process ones.
//!
//! Needs a Redis: `UNIBILL_REDIS_URL=redis://127.0.0.1:6390`; without it
//! the benchmark prints SKIPPED.
//!
//! ```text
//! UNIBILL_REDIS_URL=redis://127.0.0.1:6390 cargo bench --features redis --bench redis_budget
//! UNIBILL_REDIS_URL=redis://127.0.0.1:6390 cargo bench --features redis --bench redis_budget -- --test   # quick
//! ```
//!
//! Variables: `UNIBILL_BENCH_BUDGET_ITEMS` (updates per process; default
//! 150, 40 in quick mode), `UNIBILL_BENCH_BUDGET_WORKERS` (processes of
//! the budget runs; default 8, 4 in quick mode), `UNIBILL_BENCH_CPU_LOAD`
//! (busy-loop processes beside the shared run; default 0),
//! `UNIBILL_BENCH_BUDGET_SHARED_ONLY=1` (the shared budget run alone),
//! `UNIBILL_BENCH_LATENCY_MS` (default 20).
//!
//! ```text
//! # 8 processes at 40/s beside 4 busy loops, the shared run only:
//! UNIBILL_REDIS_URL=redis://127.0.0.1:6390 UNIBILL_BENCH_CPU_LOAD=4 \
//!   UNIBILL_BENCH_BUDGET_SHARED_ONLY=1 cargo bench --features redis --bench redis_budget
//! ```

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use unibill::bulk::{bulk_update_stream, BulkOptions};
use unibill::{Config, CustomerPatch, ErrorKind};
use unibill_sandbox::{RateLimit, Sandbox};

/// Processes of the lock runs (one field each).
const WORKERS: usize = 4;

fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

fn main() {
    if std::env::var_os("UNIBILL_BUDGET_BUSY").is_some() {
        return busy();
    }
    if std::env::var_os("UNIBILL_BUDGET_WORKER").is_some() {
        return worker();
    }
    let Some(redis_url) = std::env::var("UNIBILL_REDIS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        println!("redis_budget: SKIPPED (UNIBILL_REDIS_URL is not set)");
        return;
    };
    let quick = support::quick();
    let items = support::env_number("UNIBILL_BENCH_BUDGET_ITEMS", if quick { 40 } else { 150 });
    let latency = Duration::from_millis(support::env_number("UNIBILL_BENCH_LATENCY_MS", 20));
    let workers = support::env_number("UNIBILL_BENCH_BUDGET_WORKERS", if quick { 4 } else { 8 })
        .max(1) as usize;
    let cpu_load = support::env_number("UNIBILL_BENCH_CPU_LOAD", 0) as usize;
    let shared_only = std::env::var("UNIBILL_BENCH_BUDGET_SHARED_ONLY").is_ok_and(|v| v == "1");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!("redis_budget on {}", support::machine());
    println!(
        "{workers} processes x {items} ChartMogul updates, concurrency 8 each, latency {} ms, \
         sandbox limit 40/s",
        latency.as_millis()
    );
    if !shared_only {
        rt.block_on(run("baseline, no Redis", None, workers, items, latency));
    }
    let load = Busy::start(cpu_load);
    let label = format!("shared through Redis, {cpu_load} busy-loop processes beside");
    let before = redis_commands(&redis_url);
    rt.block_on(run(&label, Some(&redis_url), workers, items, latency));
    drop(load);
    if let (Some(before), Some(after)) = (before, redis_commands(&redis_url)) {
        println!(
            "  redis commands (INFO commandstats, scripts' inner commands included): {} = {:.1} \
             per update",
            after - before,
            (after - before) as f64 / (workers as u64 * items) as f64
        );
    }
    if shared_only {
        return;
    }
    let lock_items = if quick { 10 } else { 50 };
    println!(
        "{WORKERS} processes x {lock_items} concurrent single-field updates of one Fusebill customer"
    );
    rt.block_on(lock_run("lock, no Redis", None, lock_items, latency));
    rt.block_on(lock_run(
        "lock shared through Redis",
        Some(&redis_url),
        lock_items,
        latency,
    ));
    rt.block_on(cost(&redis_url, if quick { 200 } else { 5_000 }));
}

/// A name, a limiter and a lock, measured together.
type Pair = (
    &'static str,
    std::sync::Arc<dyn unibill::transport::RateLimiter>,
    std::sync::Arc<dyn unibill::lock::WriteLock>,
);

/// The per-update cost of the coordination alone: one limiter permit (at
/// a limit never reached) plus one customer lock taken and released, on
/// Redis over loopback against the in-process limiter and lock.
async fn cost(redis_url: &str, rounds: u32) {
    use std::sync::Arc;
    use unibill::lock::{AccountId, InProcessLock, LockKey};
    use unibill::transport::{Budget, SlidingWindow};
    let limit = unibill::RateLimit::per_second(u32::MAX);
    let budget = Budget {
        backend: unibill::BackendKind::new("chartmogul"),
        account: AccountId::of("http://127.0.0.1:1", b"bench"),
        limit,
    };
    let key = LockKey::new(budget.backend, &budget.account, &"cus_1".into());
    let mut settings = unibill::redis::RedisSetting::new(redis_url);
    settings.prefix = Some(format!("unibill-bench:{:016x}:", run_id()));
    let redis = unibill::redis::RedisCoordinator::new(settings).expect("coordinator");
    let pairs: [Pair; 2] = [
        (
            "in-process",
            Arc::new(SlidingWindow::new(limit)),
            Arc::new(InProcessLock::new()),
        ),
        ("redis", Arc::new(redis.limiter()), Arc::new(redis.lock())),
    ];
    let mut per_update = Vec::new();
    for (name, limiter, lock) in pairs {
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            limiter.acquire(&budget).await.expect("permit");
            let guard = lock
                .acquire(&key, Duration::from_secs(5))
                .await
                .expect("lock");
            guard.ensure_held().expect("held");
            guard.release().await;
        }
        let each = started.elapsed().as_secs_f64() / f64::from(rounds);
        println!(
            "  coordination per update, {name}: {:.1} µs ({rounds} rounds)",
            each * 1e6
        );
        per_update.push(each);
    }
    println!(
        "  redis ÷ in-process per update: {:.0}x",
        per_update[1] / per_update[0].max(1e-9)
    );
}

async fn run(label: &str, redis: Option<&str>, workers: usize, items: u64, latency: Duration) {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let vendor = sandbox.chartmogul();
    vendor.set_latency(latency);
    vendor.set_rate_limit(Some(RateLimit::CHARTMOGUL));
    // Spread over many customers: one customer's updates are serialised
    // across the processes by the shared lock, so a run over the two
    // seeded customers would measure the lock, not the budget.
    let ids = vendor.add_customers(64).join(",");
    let outputs = spawn_workers(&sandbox, "chartmogul", redis, workers, items, &ids).await;
    report(label, vendor, &outputs);
    sandbox.shutdown().await;
}

/// Runs the workers to their end and returns their outputs.
async fn spawn_workers(
    sandbox: &Sandbox,
    backend: &str,
    redis: Option<&str>,
    workers: usize,
    items: u64,
    ids: &str,
) -> Vec<std::process::Output> {
    let exe = std::env::current_exe().expect("own path");
    // One prefix per run, the same for every worker: one budget.
    let prefix = format!("unibill-bench:{:016x}:", run_id());
    let mut children = Vec::new();
    for n in 0..workers {
        let mut cmd = Command::new(&exe);
        cmd.env("UNIBILL_BUDGET_WORKER", n.to_string())
            .env("UNIBILL_BUDGET_ITEMS", items.to_string())
            .env("UNIBILL_BUDGET_IDS", ids)
            .env("UNIBILL_BACKEND", backend)
            .env_remove("UNIBILL_REDIS_URL")
            .env_remove("UNIBILL_RATE_LIMIT")
            .stdout(Stdio::piped());
        for (k, v) in sandbox.env_vars() {
            cmd.env(k, v);
        }
        if let Some(url) = redis {
            cmd.env("UNIBILL_REDIS_URL", url)
                .env("UNIBILL_REDIS_PREFIX", &prefix);
        }
        children.push(cmd.spawn().expect("worker starts"));
    }
    tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().expect("worker ends"))
            .collect::<Vec<_>>()
    })
    .await
    .expect("join")
}

fn report(label: &str, vendor: &unibill_sandbox::VendorHandle, outputs: &[std::process::Output]) {
    let (mut start, mut end, mut failed) = (u128::MAX, 0u128, 0u64);
    for out in outputs {
        assert!(out.status.success(), "a worker failed: {:?}", out.status);
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.starts_with("worker "))
            .expect("worker report");
        let f: Vec<u128> = line
            .split_whitespace()
            .skip(1)
            .map(|x| x.parse().expect("number"))
            .collect();
        start = start.min(f[0]);
        end = end.max(f[1]);
        failed += f[2] as u64;
    }
    let journal = vendor.journal();
    let requests = journal.len() as u64;
    let refused = journal
        .iter()
        .filter(|e| e.fault.as_deref() == Some("rate_limit"))
        .count() as u64;
    let admitted = requests - refused;
    // Where in the run the refusals fell (positions in arrival order).
    let at: Vec<usize> = journal
        .iter()
        .enumerate()
        .filter(|(_, e)| e.fault.as_deref() == Some("rate_limit"))
        .map(|(i, _)| i)
        .take(20)
        .collect();
    let span = (end.saturating_sub(start)) as f64 / 1000.0;
    let floor = (admitted.saturating_sub(1) / 40) as f64;
    println!("{label}:");
    println!(
        "  {requests} requests, {refused} answered 429 ({:.2}%), {admitted} admitted in {span:.2} s \
         = {:.1} admitted/s = {:.3} of the limit; fastest the limit allows {floor:.0} s -> {:.3} of it; \
         updates failed: {failed}",
        100.0 * refused as f64 / requests.max(1) as f64,
        admitted as f64 / span,
        admitted as f64 / span / 40.0,
        floor / span,
    );
    if !at.is_empty() && refused < requests / 4 {
        println!("  429s at requests {at:?} (arrival order, first 20)");
    }
}

/// 4 processes x `items` concurrent single-field updates of one Fusebill
/// customer, each process on a field of its own. A lost edit is an applied
/// `PUT` that changes more than one of the four fields against the `PUT`
/// applied before it: it carried back a field another process had set.
async fn lock_run(label: &str, redis: Option<&str>, items: u64, latency: Duration) {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let vendor = sandbox.fusebill();
    vendor.set_latency(latency);
    let outputs = spawn_workers(&sandbox, "fusebill", redis, WORKERS, items, "").await;
    let mut failed = 0u64;
    for out in &outputs {
        assert!(out.status.success(), "a worker failed: {:?}", out.status);
        let text = String::from_utf8_lossy(&out.stdout);
        if let Some(line) = text.lines().find(|l| l.starts_with("worker ")) {
            failed += line
                .split_whitespace()
                .nth(3)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    let fields = ["firstName", "lastName", "companyName", "primaryPhone"];
    let mut previous: Option<Vec<serde_json::Value>> = None;
    let (mut puts, mut lost) = (0u64, 0u64);
    for e in vendor.journal() {
        if e.method != "PUT" || e.status != 200 {
            continue;
        }
        let Some(body) = &e.body else { continue };
        let now: Vec<_> = fields.iter().map(|f| body[*f].clone()).collect();
        if let Some(prev) = &previous {
            if prev.iter().zip(&now).filter(|(a, b)| a != b).count() > 1 {
                lost += 1;
            }
        }
        puts += 1;
        previous = Some(now);
    }
    println!(
        "{label}: {puts} PUTs applied, {lost} carried back another process's field (lost edits); \
         updates failed: {failed} of {}",
        WORKERS as u64 * items
    );
    sandbox.shutdown().await;
}

/// Every command the Redis at `url` counted so far (`INFO commandstats`,
/// `INFO` itself left out), over a plain TCP connection; `None` for a URL
/// with a password or TLS, or when Redis does not answer.
fn redis_commands(url: &str) -> Option<u64> {
    use std::io::{Read, Write};
    let addr = url.strip_prefix("redis://")?.split('/').next()?;
    if addr.contains('@') {
        return None;
    }
    let mut conn = std::net::TcpStream::connect(addr).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    conn.write_all(b"INFO commandstats\r\n").ok()?;
    // A bulk string: `$<len>\r\n<text>\r\n`.
    let mut reply = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        reply.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&reply);
        let (head, body) = text.split_once("\r\n")?;
        let len: usize = head.strip_prefix('$')?.parse().ok()?;
        if body.len() >= len {
            let total = body[..len]
                .lines()
                .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info:"))
                .filter_map(|l| {
                    l.split("calls=")
                        .nth(1)?
                        .split(',')
                        .next()?
                        .parse::<u64>()
                        .ok()
                })
                .sum();
            return Some(total);
        }
    }
}

/// Busy-loop copies of this benchmark, spinning on the CPU until dropped.
struct Busy(Vec<std::process::Child>);

impl Busy {
    fn start(n: usize) -> Busy {
        let exe = std::env::current_exe().expect("own path");
        Busy(
            (0..n)
                .map(|_| {
                    Command::new(&exe)
                        .env("UNIBILL_BUDGET_BUSY", "1")
                        .stdout(Stdio::null())
                        .spawn()
                        .expect("busy loop starts")
                })
                .collect(),
        )
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Spins until killed, at most ten minutes.
fn busy() {
    let started = std::time::Instant::now();
    let mut x = 0u64;
    while started.elapsed() < Duration::from_secs(600) {
        for _ in 0..1_000_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

/// A number telling runs apart (their Redis keys), without an extra
/// dependency.
fn run_id() -> u64 {
    u64::from(std::process::id()) << 32 | (unix_ms() as u64 & 0xffff_ffff)
}

fn worker() {
    let items: u64 = std::env::var("UNIBILL_BUDGET_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let n: u64 = std::env::var("UNIBILL_BUDGET_WORKER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let updater = Config::from_env()
            .expect("config")
            .build()
            .expect("updater");
        let given = std::env::var("UNIBILL_BUDGET_IDS").unwrap_or_default();
        let mut ids: Vec<String> = given
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if ids.is_empty() {
            ids = unibill_support_ids().map(str::to_owned).to_vec();
        }
        let start = unix_ms();
        let fusebill = std::env::var("UNIBILL_BACKEND").as_deref() == Ok("fusebill");
        let summary = if fusebill {
            // All updates on one customer, each worker on a field of its
            // own, 50 in flight: only the lock keeps them from losing
            // each other's edits.
            bulk_update_stream(
                &*updater,
                futures_util::stream::iter((0..items).map(|i| {
                    let id = unibill::CustomerId::from(unibill_sandbox::fusebill::SEED_CUSTOMER_ID);
                    let v = format!("w{n}-{i}");
                    let p = CustomerPatch::new();
                    let p = match n {
                        0 => p.first_name(v),
                        1 => p.last_name(v),
                        2 => p.company(v),
                        _ => p.phone(v),
                    };
                    (id, p)
                })),
                BulkOptions {
                    concurrency: 50,
                    ..BulkOptions::default()
                },
            )
            .for_each_result(|_| {})
            .await
        } else {
            bulk_update_stream(
                &*updater,
                futures_util::stream::iter((0..items).map(|i| {
                    let k = (n * items + i) as usize % ids.len();
                    let id = unibill::CustomerId::from(ids[k].as_str());
                    (id, CustomerPatch::new().city(format!("City {n}-{i}")))
                })),
                BulkOptions {
                    concurrency: 8,
                    ..BulkOptions::default()
                },
            )
            .for_each_result(|_| {})
            .await
        };
        let end = unix_ms();
        let failed = summary.failed();
        if failed > 0 {
            eprintln!(
                "worker {n}: {summary}; rate limited: {}",
                summary.failed_with(ErrorKind::RateLimited)
            );
        }
        println!("worker {start} {end} {failed}");
    });
}

fn unibill_support_ids() -> [&'static str; 2] {
    [
        unibill_sandbox::chartmogul::SEED_CUSTOMER_UUID,
        unibill_sandbox::chartmogul::SECOND_CUSTOMER_UUID,
    ]
}
