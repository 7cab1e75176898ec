//! Shared by the benchmarks: quick mode, backend selection, knobs from the
//! environment, and (from the root tests' fixtures) the backends compiled
//! in, their configs on a sandbox and a workload over the two seeded
//! customers.
#![allow(dead_code)] // each benchmark uses some of these

use std::sync::Arc;

use unibill::{CustomerUpdater, Settings};
use unibill_sandbox::Sandbox;

#[path = "../../tests/common/mod.rs"]
mod common;

#[allow(unused_imports)] // each benchmark uses some of them
pub use common::{default_config as config, item, vendor, ENABLED};

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

/// The backend's updater with its default settings (vendor rate limit
/// included), or with the client-side rate limit off.
pub fn updater(sandbox: &Sandbox, backend: &str, rate_limited: bool) -> Arc<dyn CustomerUpdater> {
    let mut config = config(sandbox, backend);
    if !rate_limited {
        config = config.with_settings(no_rate_limit());
    }
    config.build().expect("updater builds")
}

/// Default settings but no client-side rate limit.
pub fn no_rate_limit() -> Settings {
    serde_json::from_value(serde_json::json!({ "rate_limit": null })).expect("settings")
}

/// Updates in flight: 8 (`UNIBILL_BENCH_CONCURRENCY`).
pub fn concurrency(_backend: &str) -> usize {
    env_number("UNIBILL_BENCH_CONCURRENCY", 8) as usize
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

/// One request as a raw reqwest loop replays it: captured from the
/// sandbox journal.
#[derive(Clone, Debug)]
pub struct Raw {
    /// The HTTP method.
    pub method: reqwest::Method,
    /// The whole URL (the vendor's base URL and the path).
    pub url: String,
    /// The path and query as the vendor received them.
    pub path: String,
    /// The body as sent, if any.
    pub body: Option<Vec<u8>>,
}

/// The requests `vendor` received since its journal was last cleared.
pub fn captured(vendor: &unibill_sandbox::VendorHandle) -> Vec<Raw> {
    let base = vendor.base_url();
    vendor
        .journal()
        .into_iter()
        .map(|e| Raw {
            method: e.method.parse().expect("method"),
            url: format!("{base}{}", e.path),
            path: e.path,
            body: (!e.raw_body.is_empty()).then(|| e.raw_body.into_bytes()),
        })
        .collect()
}

/// Sends `requests` on a keep-alive client with the vendor's auth header;
/// with `decode`, parses each answer as JSON too, as any real client must.
pub async fn replay(
    client: &reqwest::Client,
    auth: &reqwest::header::HeaderValue,
    requests: &[Raw],
    decode: bool,
) {
    use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
    for r in requests {
        let mut req = client
            .request(r.method.clone(), &r.url)
            .header(ACCEPT, "application/json")
            .header(AUTHORIZATION, auth.clone());
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
