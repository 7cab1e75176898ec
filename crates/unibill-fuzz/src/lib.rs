//! Fuzz targets of unibill that run on the stable toolchain.
//!
//! `cargo-fuzz` needs nightly, so the runner here is a small,
//! deterministic mutational fuzzer: from a set of seed inputs (valid
//! patches, vendor answers and error bodies), each case mutates one seed
//! (bit flips, byte edits, splices, truncation, "interesting" JSON tokens)
//! with a seeded [`fastrand`] generator and feeds the bytes to every
//! [`TARGETS`] entry. A target fails only by panicking; the runner catches
//! the panic and reports the seed, case number and input. The same seed
//! replays the same cases.
//!
//! ```
//! let report = unibill_fuzz::run(7, 200).unwrap();
//! assert_eq!(report.cases, 200);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::Value;
use unibill_core::transport::Response;
use unibill_core::{CheckedPatch, CustomerId, CustomerPatch, Error, UpdateOptions};

/// A fuzz target: arbitrary bytes in, any outcome but a panic is fine.
pub struct Target {
    /// The target's name.
    pub name: &'static str,
    /// Feeds one input.
    pub run: fn(&[u8]),
}

/// A status for an error decoder, from the input's first byte.
fn status_of(data: &[u8]) -> u16 {
    const STATUSES: [u16; 10] = [200, 301, 400, 401, 403, 404, 409, 422, 429, 500];
    STATUSES[usize::from(data.first().copied().unwrap_or(0)) % STATUSES.len()]
}

fn response(status: u16, body: &[u8]) -> Response {
    Response {
        status,
        headers: Default::default(),
        body: body.to_vec().into(),
        attempts: 1,
    }
}

/// Displays an error in full, as a log line would (so every `Display`
/// path runs), and checks it stays one bounded line.
fn show(e: &Error) {
    let shown = e.to_string();
    assert!(
        !shown.contains(['\n', '\r', '\u{1b}', '\0']),
        "raw control character in an error: {shown:?}"
    );
    assert!(shown.len() < 16 * 1024, "error of {} bytes", shown.len());
}

fn patch_from_json(data: &[u8]) {
    let Ok(patch) = serde_json::from_slice::<CustomerPatch>(data) else {
        return;
    };
    if let Err(e) = patch.validate() {
        show(&e);
    }
    let _ = serde_json::to_vec(&patch);
    let options = [
        UpdateOptions::default(),
        UpdateOptions::ignore_unsupported(),
    ];
    for caps in [
        unibill_chartmogul::client::capabilities(),
        unibill_fusebill::capabilities(),
        unibill_everlytic::capabilities(),
    ] {
        for o in &options {
            if let Err(e) = CheckedPatch::check(&caps, &patch, o) {
                show(&e);
            }
        }
    }
}

fn chartmogul_answer(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        if let Err(e) = unibill_chartmogul::mapping::customer_from_json(v, None) {
            show(&e);
        }
    }
}

fn chartmogul_error(data: &[u8]) {
    let e =
        unibill_chartmogul::error::from_response(&response(status_of(data), data), Some("cus_1"));
    show(&e);
}

fn fusebill_answer(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        if let Err(e) = unibill_fusebill::mapping::customer_from_json(&CustomerId::new("1"), v) {
            show(&e);
        }
    }
}

fn fusebill_error(data: &[u8]) {
    let e = unibill_fusebill::error::from_response(&response(status_of(data), data), Some("1"));
    show(&e);
}

fn everlytic_answer(data: &[u8]) {
    if let Err(e) = unibill_everlytic::fuzzing::decode_answer(data) {
        show(&e);
    }
}

fn everlytic_error(data: &[u8]) {
    show(&unibill_everlytic::fuzzing::decode_error(
        status_of(data),
        data,
    ));
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "patch_from_json",
        run: patch_from_json,
    },
    Target {
        name: "chartmogul_answer",
        run: chartmogul_answer,
    },
    Target {
        name: "chartmogul_error",
        run: chartmogul_error,
    },
    Target {
        name: "fusebill_answer",
        run: fusebill_answer,
    },
    Target {
        name: "fusebill_error",
        run: fusebill_error,
    },
    Target {
        name: "everlytic_answer",
        run: everlytic_answer,
    },
    Target {
        name: "everlytic_error",
        run: everlytic_error,
    },
];

/// The seed inputs: valid and near-valid patches, answers and error
/// bodies of each vendor.
pub const SEEDS: &[&str] = &[
    r#"{"name":"Adam","email":"adam@example.com","address":{"city":"Paris","country":"FR","postal_code":"75001"},"tags":{"add":["vip"],"remove":["old"]},"custom":{"CAC":{"type":"Integer","value":25},"d":{"type":"Decimal","value":0.1234567890123456789012345},"t":{"type":"Timestamp","value":"2015-06-30T23:59:60Z"},"s":{"type":"String","value":"x","source":"api"},"gone":null},"lead_created_at":"2015-01-01T00:00:00Z","status":"active","extensions":{"fusebill":{"sales_tracking_codes":[]},"everlytic":{"email_quota":5},"fusebil":{}}}"#,
    r#"{"custom":{"b":{"type":"Boolean","value":1},"d":{"type":"Decimal","value":1e-400}},"currency":"USD","website":"https://x.example"}"#,
    r#"{"id":"cus_1","uuid":"cus_1","name":"Adam","email":"a@example.com","city":"Paris","country":"FR","status":"Active","customer-since":"2015-06-09T13:16:00-04:00","mrr":3000,"arr":36000,"currency":"USD","attributes":{"tags":["a"],"custom":{"CAC":25}},"address":{"address_zip":"0000","city":"Paris"}}"#,
    r#"{"code":422,"message":"'x' is not a valid email address","param":"email"}"#,
    r#"{"errors":{"CAC":"bad","email":["is required","is invalid"]},"error":{"message":"nested"}}"#,
    r#"<html><head><title>503 Service Unavailable</title></head><body>x</body></html>"#,
    r#"{"id":12000750,"firstName":"Katelyn","lastName":"Smith","companyName":"Acme","primaryEmail":"k@example.com","status":"Active","currency":"USD","customerAcquisition":{"keyword":"k"},"customerAddressPreference":{"billingAddress":{"city":"Paris"}},"salesTrackingCodes":[{"id":1,"code":"x"}],"unknown":{"deep":[1,2.5,null]}}"#,
    r#"{"ErrorId":0,"HttpStatusCode":400,"Errors":[{"Key":"customer","Value":"Email is not valid"}]}"#,
    r#"{"links":[{"title":"self","href":"/api/2.0/customers/1001"}],"item":{"id":"1001","name":"Cape Mailers","email":"a@c.example","status":"on","email_quota":"5000","industry":"retail","deleted":"no"}}"#,
    r#"{"error":{"message":"Customer 9 not found","code":404}}"#,
    "\"plain string message\"",
    "[]",
];

/// Tokens a mutation may insert: JSON structure and edge values.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "null",
    "true",
    "-0",
    "1e999",
    "1e-400",
    "123456789012345678901234567890",
    "0.1234567890123456789012345",
    "\"\\u0000\"",
    "\"\\u001b[2J\"",
    "\"\\u202e\"",
    "\"\\ud800\"",
    "\"2015-06-30T23:59:60Z\"",
    "\"Integer\"",
    "\"Decimal\"",
    "\"Timestamp\"",
    "\"String\"",
    "\"Boolean\"",
    "\"extensions\"",
    "\"custom\"",
    "\"tags\"",
    "\"Errors\"",
    "\"item\"",
    "\"error\"",
    "\u{feff}",
    "\\",
    "\u{1b}",
];

/// One mutation of `input`, driven by `rng`.
pub fn mutate(rng: &mut fastrand::Rng, input: &[u8]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..rng.usize(1..=4) {
        let len = data.len();
        match rng.u8(0..7) {
            0 if len > 0 => {
                let i = rng.usize(0..len);
                data[i] ^= 1 << rng.u8(0..8);
            }
            1 if len > 0 => {
                let i = rng.usize(0..len);
                data[i] = rng.u8(..);
            }
            2 if len > 0 => {
                let i = rng.usize(0..len);
                let n = rng.usize(1..=len.saturating_sub(i).clamp(1, 16));
                data.drain(i..(i + n).min(len));
            }
            3 => {
                let i = rng.usize(0..=len);
                let t = TOKENS[rng.usize(0..TOKENS.len())].as_bytes();
                data.splice(i..i, t.iter().copied());
            }
            4 if len > 0 => data.truncate(rng.usize(0..len)),
            5 => {
                // Splice a piece of another seed in.
                let other = SEEDS[rng.usize(0..SEEDS.len())].as_bytes();
                let from = rng.usize(0..other.len());
                let to = rng.usize(from..=other.len());
                let i = rng.usize(0..=len);
                data.splice(i..i, other[from..to].iter().copied());
            }
            _ if len > 0 => {
                // Repeat a slice: long strings, deep nesting.
                let i = rng.usize(0..len);
                let j = rng.usize(i..=len.min(i + 32));
                let piece = data[i..j].to_vec();
                let times = rng.usize(1..64);
                for _ in 0..times {
                    data.splice(j..j, piece.iter().copied());
                }
            }
            _ => data.push(rng.u8(..)),
        }
    }
    data
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Inputs generated (each fed to every target).
    pub cases: u64,
    /// Target runs (`cases` × the number of targets).
    pub executions: u64,
}

/// A target that panicked, with what replays it.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The target.
    pub target: &'static str,
    /// The case number (from 0) under the run's seed.
    pub case: u64,
    /// The input.
    pub input: Vec<u8>,
    /// The panic message.
    pub message: String,
}

/// Runs `cases` inputs (the seeds first, then mutations) through every
/// target with the generator seeded by `seed`; the first panic stops the
/// run.
pub fn run(seed: u64, cases: u64) -> Result<Report, Failure> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut executions = 0;
    for case in 0..cases {
        let input = match usize::try_from(case).ok().and_then(|c| SEEDS.get(c)) {
            Some(s) => s.as_bytes().to_vec(),
            None => {
                let seed_input = SEEDS[rng.usize(0..SEEDS.len())].as_bytes();
                mutate(&mut rng, seed_input)
            }
        };
        for target in TARGETS {
            let outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(&input)));
            executions += 1;
            if let Err(panic) = outcome {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                return Err(Failure {
                    target: target.name,
                    case,
                    input,
                    message,
                });
            }
        }
    }
    Ok(Report { cases, executions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_run_finds_no_panic() {
        let report = run(1, 3000).unwrap_or_else(|f| {
            panic!(
                "{} panicked on case {}: {}\ninput: {:?}",
                f.target,
                f.case,
                f.message,
                String::from_utf8_lossy(&f.input)
            )
        });
        assert_eq!(report.executions, 3000 * TARGETS.len() as u64);
    }

    #[test]
    fn a_panicking_target_is_reported() {
        // The harness itself can fail: a target that panics on `{` is caught.
        let input = b"{".to_vec();
        let caught = catch_unwind(|| {
            if input.starts_with(b"{") {
                panic!("boom")
            }
        });
        assert!(caught.is_err());
    }

    #[test]
    fn mutations_are_deterministic() {
        let a = mutate(&mut fastrand::Rng::with_seed(5), SEEDS[0].as_bytes());
        let b = mutate(&mut fastrand::Rng::with_seed(5), SEEDS[0].as_bytes());
        assert_eq!(a, b);
    }
}
