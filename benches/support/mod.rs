//! Shared by the bulk benchmarks: which backends are compiled in, their
//! updaters on a sandbox, and a workload over the two seeded customers.
#![allow(dead_code)]

use std::sync::Arc;

use unibill::{Config, CustomerId, CustomerPatch, CustomerUpdater, Settings};
use unibill_sandbox::{Sandbox, VendorHandle};

/// The backends compiled into this benchmark.
pub const ENABLED: &[&str] = &[
    #[cfg(feature = "chartmogul")]
    "chartmogul",
    #[cfg(feature = "fusebill")]
    "fusebill",
    #[cfg(feature = "everlytic")]
    "everlytic",
];

/// Whether this is the quick smoke run: `cargo bench -- --test` (what
/// criterion calls test mode) or `UNIBILL_BENCH_QUICK=1`.
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--test")
        || std::env::var("UNIBILL_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Backend names given on the command line (`cargo bench --bench x --
/// fusebill`); all enabled backends when none is.
pub fn selected() -> Vec<&'static str> {
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    ENABLED
        .iter()
        .copied()
        .filter(|b| named.is_empty() || named.iter().any(|n| b.contains(n.as_str())))
        .collect()
}

/// A number from the environment, else `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The emulator a backend talks to.
pub fn vendor<'a>(sandbox: &'a Sandbox, backend: &str) -> &'a VendorHandle {
    match backend {
        "chartmogul" => sandbox.chartmogul(),
        "fusebill" => sandbox.fusebill(),
        _ => sandbox.everlytic(),
    }
}

/// The backend's config on this sandbox, as a caller would write it.
pub fn config(sandbox: &Sandbox, backend: &str) -> Config {
    let base = vendor(sandbox, backend).base_url();
    match backend {
        "chartmogul" => Config::chartmogul(unibill_sandbox::CHARTMOGUL_API_KEY).with_base_url(base),
        "fusebill" => Config::fusebill(unibill_sandbox::FUSEBILL_API_KEY).with_base_url(base),
        _ => Config::everlytic(
            base,
            unibill_sandbox::EVERLYTIC_USERNAME,
            unibill_sandbox::EVERLYTIC_API_KEY,
        ),
    }
}

/// The backend's updater with its default settings (vendor rate limit
/// included), or with the client-side rate limit off.
pub fn updater(sandbox: &Sandbox, backend: &str, rate_limited: bool) -> Arc<dyn CustomerUpdater> {
    let mut config = config(sandbox, backend);
    if !rate_limited {
        let off: Settings =
            serde_json::from_value(serde_json::json!({ "rate_limit": null })).expect("settings");
        config = config.with_settings(off);
    }
    config.build().expect("updater builds")
}

/// The two seeded customers of each emulator.
pub fn ids(backend: &str) -> [&'static str; 2] {
    match backend {
        "chartmogul" => [
            unibill_sandbox::chartmogul::SEED_CUSTOMER_UUID,
            unibill_sandbox::chartmogul::SECOND_CUSTOMER_UUID,
        ],
        "fusebill" => [
            unibill_sandbox::fusebill::SEED_CUSTOMER_ID,
            unibill_sandbox::fusebill::PARENT_CUSTOMER_ID,
        ],
        _ => [
            unibill_sandbox::everlytic::SEED_CUSTOMER_ID,
            unibill_sandbox::everlytic::SECOND_CUSTOMER_ID,
        ],
    }
}

/// Item `n` of a bulk run: alternating customers, a value that changes
/// every time so every update writes.
pub fn item(backend: &'static str, n: u64) -> (CustomerId, CustomerPatch) {
    let id = CustomerId::from(ids(backend)[(n % 2) as usize]);
    let patch = match backend {
        "chartmogul" => CustomerPatch::new().city(format!("City {n}")),
        "fusebill" => CustomerPatch::new().first_name(format!("Name {n}")),
        _ => CustomerPatch::new().postal_code(format!("{:04}", n % 10_000)),
    };
    (id, patch)
}

/// Updates in flight: 8, except Fusebill: with only two seeded customers,
/// more than one in-flight update per customer makes its concurrent-edit
/// check refuse to overwrite (an `Error::Conflict`), so 2.
pub fn concurrency(backend: &str) -> usize {
    let default = if backend == "fusebill" { 2 } else { 8 };
    env_number("UNIBILL_BENCH_CONCURRENCY", default) as usize
}

/// CPU model and core count, for the report.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}
