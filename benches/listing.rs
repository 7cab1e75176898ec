//! Benchmark 7: listing every customer (`CustomerUpdater::list`) of a
//! sandbox holding 10,000 and then 100,000 customers, with each backend's
//! default client (its own rate limiter at the vendor's documented limit)
//! and the vendor's limit enforced by the emulator.
//!
//! Reports, per backend and size: pages and requests, the request rate ÷
//! the limit (when the run needs more than one window's allowance), the
//! client's peak heap growth while listing (a counting allocator over the
//! client's threads only: the sandbox serves from a runtime whose threads
//! are not counted, as in `bulk_memory`), and the process's peak RSS
//! (`VmHWM`, reset before each run; it includes the sandbox and its
//! store of customers).
//!
//! ```text
//! cargo bench --bench listing              # 10,000 and 100,000 customers
//! cargo bench --bench listing -- --test    # quick smoke run (500 and 2,000)
//! ```

// With only some backends compiled in, helpers for the others go unused.
#![cfg_attr(
    not(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic")),
    allow(dead_code, unused_imports, unused_variables, unused_mut)
)]

mod support;

use std::time::Instant;

use futures_util::StreamExt;
use unibill::{CustomerUpdater, ListOptions};
use unibill_sandbox::{RateLimit, Sandbox};
use unibill_testkit::heap;

#[global_allocator]
static ALLOCATOR: heap::CountingAllocator = heap::CountingAllocator;

fn vendor_limit(backend: &str) -> Option<RateLimit> {
    match backend {
        "chartmogul" => Some(RateLimit::CHARTMOGUL),
        "fusebill" => Some(RateLimit::FUSEBILL),
        _ => None,
    }
}

fn vm_hwm_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map_or(0.0, |k| k / 1024.0)
}

fn mib(bytes: isize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Lists every customer; prints and returns the peak heap growth.
async fn measure(
    backend: &str,
    updater: &dyn CustomerUpdater,
    held: usize,
    limit: Option<RateLimit>,
) -> isize {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let base = heap::reset_peak();
    let started = Instant::now();
    let (mut pages, mut customers, mut failed) = (0u64, 0usize, None);
    let mut stream = updater.list(ListOptions::new());
    while let Some(page) = stream.next().await {
        match page {
            Ok(page) => {
                pages += 1;
                customers += page.customers.len();
                std::hint::black_box(page);
            }
            Err(e) => failed = Some(e),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let peak = heap::peak() - base;
    let rps = pages as f64 / elapsed;
    println!(
        "{backend:<11} {held:>7} held: listed {customers} in {pages} pages ({elapsed:.1} s, {rps:.1} req/s); \
         peak heap +{:.2} MiB, process peak RSS {:.0} MiB{}",
        mib(peak),
        vm_hwm_mib(),
        failed.map_or(String::new(), |e| format!("; FAILED: {e}"))
    );
    if let Some(l) = limit {
        let limit_rps = f64::from(l.requests) / l.per.as_secs_f64();
        if pages > u64::from(l.requests) {
            // N requests cannot take less than ⌊(N−1)/L⌋ windows.
            let floor = ((pages - 1) / u64::from(l.requests)) as f64 * l.per.as_secs_f64();
            println!(
                "{:<11} requests/s ÷ limit = {:.3}; fastest the limit allows: {floor:.1} s, \
                 this run reached {:.3} of that speed",
                "",
                rps / limit_rps,
                floor / elapsed
            );
        } else {
            println!(
                "{:<11} {pages} requests fit in one window's allowance ({} per {} s): bound by latency, not the limit",
                "",
                l.requests,
                l.per.as_secs()
            );
        }
    }
    peak
}

fn main() {
    heap::count_threads_by_default(false);
    let sizes: [usize; 2] = if support::quick() {
        [500, 2_000]
    } else {
        [10_000, 100_000]
    };
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_start(|| heap::count_this_thread(true))
        .enable_all()
        .build()
        .expect("runtime");
    println!("listing on {}", support::machine());
    for backend in support::selected() {
        let mut peaks = Vec::new();
        for held in sizes {
            heap::count_this_thread(false);
            let sandbox = server.block_on(Sandbox::start()).expect("sandbox starts");
            let vendor = support::vendor(&sandbox, backend).clone();
            vendor.add_customers(held.saturating_sub(2));
            vendor.set_journal_capacity(Some(16));
            let limit = vendor_limit(backend);
            vendor.set_rate_limit(limit);
            heap::count_this_thread(true);
            let updater = support::updater(&sandbox, backend, true);
            peaks.push(client.block_on(measure(backend, &*updater, held, limit)));
            drop(updater);
            heap::count_this_thread(false);
            server.block_on(sandbox.shutdown());
            heap::count_this_thread(true);
        }
        if let [small, large] = peaks[..] {
            println!(
                "{backend:<11} {}x the customers: peak heap {:.2} -> {:.2} MiB",
                sizes[1] / sizes[0],
                mib(small),
                mib(large)
            );
        }
    }
}
