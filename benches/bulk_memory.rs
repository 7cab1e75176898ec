//! Benchmark 4: peak memory of a bulk run, at 10,000 and 100,000 items.
//!
//! A counting global allocator tracks the bytes live on the heap that
//! were allocated by the client's threads: the bulk run is driven on its
//! own runtime whose threads are counted, while the sandbox serves from a
//! second runtime whose threads are not (the two only meet over TCP). The
//! sandbox keeps state per request (its journal, cleared every 20 ms here,
//! and a sliding window of request times for its rate-limit headers), which
//! is not the client's memory. Before each run the high-water mark is reset
//! to the current level, so the figure is what the run added on top of
//! the client as it was. The process's peak RSS (`VmHWM`, reset too,
//! sandbox included) is reported beside it.
//!
//! Beside each backend, the same run through an in-memory updater (no
//! HTTP) is the baseline: what bulk itself holds.
//!
//! ```text
//! cargo bench --bench bulk_memory              # 10,000 and 100,000 items
//! cargo bench --bench bulk_memory -- --test    # quick smoke run (1,000 and 5,000)
//! ```

// With only some backends compiled in, helpers for the others go unused.
#![cfg_attr(
    not(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic")),
    allow(dead_code, unused_imports, unused_variables, unused_mut)
)]

mod support;

use std::time::Instant;

use unibill::bulk::{bulk_update_stream, BulkOptions};
use unibill::{Capabilities, CustomerUpdater, Field, FieldCaps};
use unibill_sandbox::Sandbox;
use unibill_testkit::heap;
use unibill_testkit::memory::{self, InMemory};

#[global_allocator]
static ALLOCATOR: heap::CountingAllocator = heap::CountingAllocator;

/// Starts a measurement: the heap high-water mark and the peak RSS are
/// reset to the current level; returns the heap level.
fn start_measuring() -> isize {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    heap::reset_peak()
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(bytes: isize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

async fn measure(
    name: &str,
    updater: &dyn CustomerUpdater,
    backend: &'static str,
    items: u64,
    concurrency: usize,
) -> isize {
    let base = start_measuring();
    let started = Instant::now();
    let summary = bulk_update_stream(
        updater,
        futures_util::stream::iter((0..items).map(|n| support::item(backend, n))),
        BulkOptions {
            concurrency,
            ..BulkOptions::default()
        },
    )
    .for_each_result(|r| {
        std::hint::black_box(r);
    })
    .await;
    let elapsed = started.elapsed();
    let peak = heap::peak() - base;
    println!(
        "{name:<22} {items:>7} items: peak heap +{:.2} MiB, process peak RSS {:.1} MiB, \
         {:.0} items/s ({} applied, {} unchanged, {} failed)",
        mib(peak),
        vm_hwm_kib().map_or(0.0, |k| k as f64 / 1024.0),
        items as f64 / elapsed.as_secs_f64(),
        summary.applied,
        summary.unchanged,
        summary.failed(),
    );
    peak
}

fn main() {
    // Only the client's threads count (the runtime's workers and this
    // one, set below), never the sandbox's.
    heap::count_threads_by_default(false);
    let quick = support::quick();
    let sizes: [u64; 2] = if quick {
        [1_000, 5_000]
    } else {
        [10_000, 100_000]
    };
    // The sandbox's runtime: not counted.
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    // The client's runtime: its threads, and this one, are counted.
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_start(|| heap::count_this_thread(true))
        .enable_all()
        .build()
        .expect("runtime");
    println!("bulk_memory on {}", support::machine());
    heap::count_this_thread(true);

    let memory = InMemory::new()
        .with_capabilities(Capabilities::new(memory::KIND).with(Field::City, FieldCaps::ALL))
        .forgetful();
    let peaks: Vec<isize> = sizes
        .iter()
        .map(|&items| {
            client.block_on(measure(
                "in-memory (baseline)",
                &memory,
                "chartmogul",
                items,
                8,
            ))
        })
        .collect();
    report_flatness("in-memory (baseline)", &sizes, &peaks);

    for backend in support::selected() {
        heap::count_this_thread(false);
        let sandbox = server.block_on(Sandbox::start()).expect("sandbox starts");
        let vendor = support::vendor(&sandbox, backend).clone();
        let janitor = server.spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                vendor.clear_journal();
            }
        });
        heap::count_this_thread(true);
        let updater = support::updater(&sandbox, backend, false);
        let concurrency = support::concurrency(backend);
        // Warm up: connections, lazily built state.
        let _ = client.block_on(
            bulk_update_stream(
                &*updater,
                futures_util::stream::iter((0..64).map(|n| support::item(backend, n))),
                BulkOptions {
                    concurrency,
                    ..BulkOptions::default()
                },
            )
            .for_each_result(|_| {}),
        );
        let peaks: Vec<isize> = sizes
            .iter()
            .map(|&items| client.block_on(measure(backend, &*updater, backend, items, concurrency)))
            .collect();
        report_flatness(backend, &sizes, &peaks);
        drop(updater);
        heap::count_this_thread(false);
        janitor.abort();
        server.block_on(sandbox.shutdown());
        heap::count_this_thread(true);
    }
}

fn report_flatness(name: &str, sizes: &[u64; 2], peaks: &[isize]) {
    if let [small, large] = peaks {
        println!(
            "{name:<22} {}x the items: peak {:.2}x ({:.2} -> {:.2} MiB)",
            sizes[1] / sizes[0],
            *large as f64 / (*small).max(1) as f64,
            mib(*small),
            mib(*large)
        );
    }
}
