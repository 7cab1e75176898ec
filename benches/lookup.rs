//! Benchmark 2b: one update by email or external reference vs by id, over
//! loopback against the sandbox (ChartMogul and Fusebill; Everlytic has no
//! lookup), beside a raw `reqwest` keep-alive loop replaying the very same
//! requests the update by email sent (captured from the journal: the two
//! lookups and the update), with and without parsing each answer as JSON.
//!
//! Five sides are interleaved update by update, rotating which goes first,
//! so drift on a shared machine hits all alike: unibill by id, by email,
//! by external reference, raw (the by-email requests) and raw + JSON. It
//! prints each side's median and the ratios of medians. The sandbox holds
//! the lookup seeds (customers sharing emails and references), and the
//! updated customer is the unique lookup seed. The client-side rate limit
//! is off.
//!
//! Run: `cargo bench --bench lookup` (`-- --test` or
//! `UNIBILL_BENCH_QUICK=1`: 20 rounds; `UNIBILL_BENCH_LOOKUP_ROUNDS` sets
//! the length, default 2,000; a backend name after `--` runs only it).

#![cfg_attr(
    not(all(feature = "chartmogul", feature = "fusebill")),
    allow(dead_code, unused_imports, unused_variables)
)]

mod support;

use support::{captured, replay, Raw};

use reqwest::header::{HeaderValue, AUTHORIZATION};
use tokio::runtime::Runtime;
use unibill::{CustomerPatch, CustomerRef, CustomerUpdater};
use unibill_sandbox::{Sandbox, VendorHandle};

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// Two patches that alternate, so that every update writes.
type Patches = [CustomerPatch; 2];

#[allow(clippy::too_many_arguments)]
fn run(
    rt: &Runtime,
    name: &str,
    vendor: &VendorHandle,
    updater: &dyn CustomerUpdater,
    refs: [CustomerRef; 3],
    patches: Patches,
    auth: HeaderValue,
) {
    // Capture the by-email update of each patch (0, 1, 0: both recorded
    // runs start from the other's state, so both include their write).
    let mut raw: [Vec<Raw>; 2] = [Vec::new(), Vec::new()];
    for (k, i) in [0usize, 1, 0].into_iter().enumerate() {
        vendor.clear_journal();
        let outcome = rt
            .block_on(updater.update_with(&refs[1], &patches[i], &Default::default()))
            .expect("update by email");
        assert!(k == 0 || outcome.changed());
        raw[i] = captured(vendor);
    }
    let client = reqwest::Client::new();
    let rounds = if support::quick() {
        20
    } else {
        support::env_number("UNIBILL_BENCH_LOOKUP_ROUNDS", 2000) as usize
    };
    const SIDES: usize = 5;
    let mut times: [Vec<f64>; SIDES] = Default::default();
    let mut turn = 0usize;
    rt.block_on(async {
        for round in 0..rounds {
            for k in 0..SIDES {
                let side = (round + k) % SIDES;
                turn ^= 1;
                let started = std::time::Instant::now();
                match side {
                    0..=2 => {
                        let outcome = updater
                            .update_with(&refs[side], &patches[turn], &Default::default())
                            .await
                            .expect("update");
                        std::hint::black_box(outcome);
                    }
                    3 => replay(&client, &auth, &raw[turn], false).await,
                    _ => replay(&client, &auth, &raw[turn], true).await,
                }
                times[side].push(started.elapsed().as_secs_f64() * 1e6);
            }
        }
    });
    let [by_id, by_email, by_ref, bare, json] = times.map(median);
    println!(
        "lookup/{name}, median of {rounds} rounds ({} requests by email, raw replays them): \
         by id {by_id:.1} µs, by email {by_email:.1} µs, by external ref {by_ref:.1} µs, \
         raw {bare:.1} µs, raw + JSON {json:.1} µs",
        raw[0].len()
    );
    println!(
        "  by email ÷ by id = {:.3}; by ref ÷ by id = {:.3}; by email ÷ raw = {:.3}; \
         by email ÷ (raw + JSON) = {:.3}",
        by_email / by_id,
        by_ref / by_id,
        by_email / bare,
        by_email / json
    );
}

fn basic(user: &str, password: &str) -> HeaderValue {
    let req = reqwest::Client::new()
        .get("http://127.0.0.1/")
        .basic_auth(user, Some(password))
        .build()
        .expect("request");
    req.headers()[AUTHORIZATION].clone()
}

#[cfg(feature = "chartmogul")]
fn chartmogul(rt: &Runtime, sandbox: &Sandbox) {
    use unibill_sandbox::chartmogul as cm;
    let updater = support::updater(sandbox, "chartmogul", false);
    run(
        rt,
        "chartmogul",
        sandbox.chartmogul(),
        &*updater,
        [
            CustomerRef::id(cm::LOOKUP_UNIQUE_UUID),
            CustomerRef::email(cm::LOOKUP_UNIQUE_EMAIL),
            CustomerRef::external(cm::LOOKUP_UNIQUE_EXTERNAL_ID),
        ],
        [
            CustomerPatch::new().city("Lisbon"),
            CustomerPatch::new().city("Porto"),
        ],
        basic(unibill_sandbox::CHARTMOGUL_API_KEY, ""),
    );
}

#[cfg(feature = "fusebill")]
fn fusebill(rt: &Runtime, sandbox: &Sandbox) {
    use unibill_sandbox::fusebill as fb;
    let updater = support::updater(sandbox, "fusebill", false);
    run(
        rt,
        "fusebill",
        sandbox.fusebill(),
        &*updater,
        [
            CustomerRef::id(fb::LOOKUP_UNIQUE_ID),
            CustomerRef::email(fb::LOOKUP_UNIQUE_EMAIL),
            CustomerRef::external(fb::LOOKUP_UNIQUE_REFERENCE),
        ],
        [
            CustomerPatch::new().first_name("Rosa"),
            CustomerPatch::new().first_name("Rosalind"),
        ],
        HeaderValue::from_str(&format!("Basic {}", unibill_sandbox::FUSEBILL_API_KEY))
            .expect("header"),
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = rt.block_on(Sandbox::start()).expect("sandbox");
    sandbox.add_lookup_seeds();
    let selected = support::selected();
    #[cfg(feature = "chartmogul")]
    if selected.contains(&"chartmogul") {
        chartmogul(&rt, &sandbox);
    }
    #[cfg(feature = "fusebill")]
    if selected.contains(&"fusebill") {
        fusebill(&rt, &sandbox);
    }
    let _ = (&selected, &rt);
    rt.block_on(sandbox.shutdown());
}
