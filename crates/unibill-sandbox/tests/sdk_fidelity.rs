//! Fidelity: the vendors' own SDKs run against the sandbox's listeners and
//! must parse every answer as they parse the vendor's:
//!
//! * ChartMogul: chartmogul-python and chartmogul-node;
//! * Stripe: stripe-python and stripe-node.
//!
//! The SDKs are installed by `.ci/run` (a venv under `target/sdk/venv`,
//! node_modules under `target/sdk/node`), which exports:
//!
//! * `UNIBILL_SDK_PYTHON`: the venv's `python` (with `chartmogul` and
//!   `stripe` installed);
//! * `UNIBILL_SDK_NODE_MODULES`: the `node_modules` holding `chartmogul-node`
//!   and `stripe` (`UNIBILL_SDK_NODE` names the `node` binary, default
//!   `node`).
//!
//! Without them a developer run prints that the test was skipped; under CI
//! (`CI` set, not `false`/`0`) their absence fails the test.
//!
//! Each script (`tests/fidelity/{chartmogul,stripe}_sdk.{py,js}`) makes one
//! SDK call per step (an auto-paging step as many as the SDK needs) and
//! reports what the SDK returned or raised; the assertions, the same for
//! both SDKs of a vendor, are here, and so is the check of the requests
//! the emulator's journal recorded.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use unibill_sandbox::chartmogul::{
    SECOND_CUSTOMER_EMAIL, SECOND_CUSTOMER_UUID, SEED_CUSTOMER_UUID,
};
use unibill_sandbox::stripe::{
    ADDRESS_CUSTOMER_EXTERNAL_ID, ADDRESS_CUSTOMER_ID, LOOKUP_SHARED_EXTERNAL_ID,
    LOOKUP_SHARED_EXTERNAL_ID_IDS, SECOND_CUSTOMER_ID as STRIPE_SECOND_ID,
    SEED_CUSTOMER_EMAIL as STRIPE_SEED_EMAIL, SEED_CUSTOMER_ID as STRIPE_SEED_ID,
};
use unibill_sandbox::{JournalEntry, Sandbox, CHARTMOGUL_API_KEY, STRIPE_API_KEY};

/// The steps each script runs, in order; each sends exactly one request.
const STEPS: &[&str] = &[
    "retrieve",
    "retrieve_second",
    "attributes",
    "modify_nested",
    "modify_clear",
    "retrieve_after_clear",
    "custom_add",
    "custom_update",
    "custom_remove",
    "custom_add_by_email",
    "tags_add",
    "tags_remove",
    "tags_add_by_email",
    "attributes_after",
    "error_401",
    "error_404",
    "error_422",
];

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fidelity")
        .join(name)
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The value of `var`, or `None` after saying (past the test harness's
/// output capture) that the test is skipped. Under CI a missing variable
/// fails the test instead.
fn required_env(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(
                !in_ci(),
                "{var} is not set: .ci/run must install the SDK and export it, CI cannot skip {test}"
            );
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: {var} is not set (run .ci/run, or set it to an SDK install)"
            );
            None
        }
    }
}

/// Runs `cmd` against a fresh sandbox's ChartMogul listener and returns
/// the script's report and the sandbox (for its journal).
async fn run(mut cmd: Command) -> (Value, Sandbox) {
    let sb = Sandbox::start().await.expect("sandbox");
    cmd.env("FIDELITY_BASE_URL", sb.chartmogul().base_url())
        .env("FIDELITY_API_KEY", CHARTMOGUL_API_KEY)
        .env("FIDELITY_SEED_UUID", SEED_CUSTOMER_UUID)
        .env("FIDELITY_SECOND_UUID", SECOND_CUSTOMER_UUID)
        .env("FIDELITY_SECOND_EMAIL", SECOND_CUSTOMER_EMAIL);
    (run_script(cmd).await, sb)
}

/// Runs the SDK script `cmd` (its environment set) and returns its report.
async fn run_script(mut cmd: Command) -> Value {
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("the SDK script could not be started");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "SDK script failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("SDK report is not JSON ({e}):\n{stdout}\n{stderr}"))
}

fn ok<'a>(report: &'a Value, step: &str) -> &'a Value {
    let s = &report["steps"][step];
    assert_eq!(
        s["ok"],
        json!(true),
        "{} step {step} failed in the SDK: {s}",
        report["sdk"]
    );
    &s["value"]
}

/// By-email answers: chartmogul-python gives a namedtuple (`{"entries"}`
/// once made plain), chartmogul-node the JSON body.
fn entries<'a>(report: &'a Value, step: &str) -> &'a Vec<Value> {
    ok(report, step)["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{} {step}: no entries", report["sdk"]))
}

fn assert_error(report: &Value, step: &str, status: u16) {
    let s = &report["steps"][step];
    let sdk = &report["sdk"];
    assert_eq!(s["ok"], json!(false), "{sdk} {step}: {s}");
    assert_eq!(s["status"], json!(status), "{sdk} {step}: {s}");
    // The vendor's {"code","message","param"} shape, read by the SDK.
    assert_eq!(s["body"]["code"], json!(status), "{sdk} {step}: {s}");
    assert!(s["body"]["message"].is_string(), "{sdk} {step}: {s}");
}

/// Everything both SDKs must see, as the vendor's pages print it.
fn assert_vendor_behaviour(report: &Value, sb: &Sandbox) {
    let sdk = report["sdk"].clone();
    let _ = writeln!(
        std::io::stderr(),
        "{sdk} {} ran {} steps against the sandbox",
        report["version"],
        STEPS.len()
    );

    let c = ok(report, "retrieve");
    assert_eq!(c["uuid"], json!(SEED_CUSTOMER_UUID));
    assert_eq!(c["company"], json!("Example Company"));
    assert_eq!(c["attributes"]["tags"], json!(["high-value"]));
    assert_eq!(
        c["attributes"]["custom"],
        json!({"CAC": 25, "SalesRep": "Mike"})
    );

    // A customer without a company parses (answered "", not null).
    let c = ok(report, "retrieve_second");
    assert_eq!(c["uuid"], json!(SECOND_CUSTOMER_UUID));
    assert_eq!(c["company"], json!(""));

    // Unwrapped attributes: the four groups at the top.
    let seed_custom = json!({
        "CAC": 213,
        "utmCampaign": "social media 1",
        "convertedAt": "2022-09-08 00:00:00",
        "pro": false,
        "channel": "Facebook"
    });
    let a = ok(report, "attributes");
    assert_eq!(a["tags"], json!(["important", "Prio1"]), "{sdk}: {a}");
    assert_eq!(a["stripe"], json!({"coupon": true}));
    assert_eq!(a["clearbit"], json!({}));
    assert_eq!(a["custom"], seed_custom);

    // Seed 000's request: the answer holds the request's `channel`.
    let c = ok(report, "modify_nested");
    assert_eq!(c["city"], json!("San Francisco"));
    assert_eq!(c["state"], json!("CA"));
    assert_eq!(c["attributes"]["tags"], json!(["high-value"]));
    assert_eq!(
        c["attributes"]["custom"],
        json!({"CAC": 25, "SalesRep": "Mike", "channel": "Twitter"})
    );
    assert!(c["lead_created_at"].is_string(), "{sdk}: {c}");

    // Cleared text reads "" and keeps parsing on every later read.
    for step in ["modify_clear", "retrieve_after_clear"] {
        let c = ok(report, step);
        assert_eq!(c["company"], json!(""), "{sdk} {step}");
        assert_eq!(c["address"]["address_zip"], json!(null), "{sdk} {step}");
    }

    // All five types; the Timestamp in the vendor's spelling.
    let mut custom = json!({
        "CAC": 25,
        "SalesRep": "Mike",
        "channel": "Twitter",
        "plan": "Gold",
        "seats": 12,
        "discount": 12.5,
        "renewsAt": "2024-03-01 10:00:00",
        "vip": true
    });
    assert_eq!(ok(report, "custom_add")["custom"], custom);
    // Seed 001: exactly the printed map.
    assert_eq!(
        ok(report, "custom_update")["custom"],
        json!({
            "CAC": 213,
            "utmCampaign": "social media 1",
            "convertedAt": "2022-09-08 00:00:00",
            "pro": true,
            "channel": "Twitter"
        })
    );
    custom.as_object_mut().unwrap().remove("plan");
    assert_eq!(ok(report, "custom_remove")["custom"], custom);

    // Seed 002: entries with tags, stripe and custom (no clearbit).
    let e = entries(report, "custom_add_by_email");
    assert_eq!(e.len(), 1, "{sdk}");
    assert_eq!(e[0]["uuid"], json!(SECOND_CUSTOMER_UUID));
    assert_eq!(e[0]["attributes"]["custom"]["channel"], json!("Facebook"));
    assert_eq!(e[0]["attributes"]["custom"]["age"], json!(8));
    assert_eq!(e[0]["attributes"]["stripe"], json!({"coupon": true}));
    assert!(
        e[0]["attributes"].get("clearbit").is_none(),
        "{sdk}: {}",
        e[0]
    );

    assert_eq!(
        ok(report, "tags_add")["tags"],
        json!(["high-value", "important", "Prio1"])
    );
    assert_eq!(
        ok(report, "tags_remove")["tags"],
        json!(["high-value", "important"])
    );
    let e = entries(report, "tags_add_by_email");
    assert_eq!(e.len(), 1, "{sdk}");
    assert_eq!(e[0]["uuid"], json!(SECOND_CUSTOMER_UUID));
    assert_eq!(
        e[0]["attributes"]["tags"],
        json!(["important", "Prio1", "vip"])
    );

    let a = ok(report, "attributes_after");
    assert_eq!(a["tags"], json!(["important", "Prio1", "vip"]));
    assert_eq!(a["custom"]["age"], json!(8));
    assert_eq!(a["custom"]["pro"], json!(true));

    assert_error(report, "error_401", 401);
    assert_error(report, "error_404", 404);
    assert_error(report, "error_422", 422);
    assert_eq!(
        report["steps"]["error_422"]["body"]["param"],
        json!("status")
    );

    // One request per step reached the sandbox, answered as reported.
    let statuses: Vec<u16> = sb.chartmogul().journal().iter().map(|e| e.status).collect();
    let mut expected = vec![200; STEPS.len() - 3];
    expected.extend([401, 404, 422]);
    assert_eq!(statuses, expected, "{sdk}");
}

#[tokio::test]
async fn chartmogul_python_sdk_runs_clean_against_the_sandbox() {
    let test = "chartmogul_python_sdk_runs_clean_against_the_sandbox";
    let Some(python) = required_env("UNIBILL_SDK_PYTHON", test) else {
        return;
    };
    let mut cmd = Command::new(python);
    cmd.arg(script("chartmogul_sdk.py"));
    let (report, sb) = run(cmd).await;
    assert_eq!(report["sdk"], json!("chartmogul-python"));
    assert_vendor_behaviour(&report, &sb);
}

#[tokio::test]
async fn chartmogul_node_sdk_runs_clean_against_the_sandbox() {
    let test = "chartmogul_node_sdk_runs_clean_against_the_sandbox";
    let Some(modules) = required_env("UNIBILL_SDK_NODE_MODULES", test) else {
        return;
    };
    let node = std::env::var("UNIBILL_SDK_NODE").unwrap_or_else(|_| "node".into());
    let mut cmd = Command::new(node);
    cmd.arg(script("chartmogul_sdk.js"))
        .env("NODE_PATH", modules);
    let (report, sb) = run(cmd).await;
    assert_eq!(report["sdk"], json!("chartmogul-node"));
    assert_vendor_behaviour(&report, &sb);
}

// --- Stripe: stripe-python and stripe-node -------------------------------

/// Customers added to the Stripe store before a script runs, so that the
/// list's auto-pagination crosses a page of the largest `limit` (100).
const STRIPE_EXTRA_CUSTOMERS: usize = 150;

/// The steps each Stripe script runs, in order; each sends one request but
/// the auto-paging ones, which send as many as the SDK needs.
const STRIPE_STEPS: &[&str] = &[
    "retrieve",
    "retrieve_address",
    "update_nested",
    "retrieve_after_update",
    "clear",
    "retrieve_after_clear",
    "list_page",
    "list_next_page",
    "list_auto_paging",
    "list_auto_paging_backward",
    "search",
    "search_auto_paging",
    "idempotent_first",
    "idempotent_replay",
    "idempotent_conflict",
    "error_400_unknown",
    "error_400_metadata",
    "error_401",
    "error_404",
];

/// The key the idempotency steps send.
const STRIPE_IDEMPOTENCY_KEY: &str = "unibill-fidelity-idem-0001";

/// Runs `cmd` against a fresh sandbox's Stripe listener, holding the lookup
/// seeds and [`STRIPE_EXTRA_CUSTOMERS`] more customers, and returns the
/// script's report, the sandbox and every customer id in list order
/// (newest `created` first, the later added first among equals).
async fn run_stripe(mut cmd: Command) -> (Value, Sandbox, Vec<String>) {
    let sb = Sandbox::start().await.expect("sandbox");
    let stripe = sb.stripe();
    let mut added: Vec<String> = unibill_sandbox::stripe::seed_customers()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    added.extend(stripe.add_lookup_seeds());
    added.extend(stripe.add_customers(STRIPE_EXTRA_CUSTOMERS));
    let mut order: Vec<(i64, usize, String)> = added
        .into_iter()
        .enumerate()
        .map(|(position, id)| {
            let created = stripe.customer(&id).unwrap()["created"].as_i64().unwrap();
            (created, position, id)
        })
        .collect();
    order.sort_by_key(|(created, position, _)| std::cmp::Reverse((*created, *position)));
    let order = order.into_iter().map(|(_, _, id)| id).collect();
    cmd.env("FIDELITY_BASE_URL", stripe.base_url())
        .env("FIDELITY_API_KEY", STRIPE_API_KEY)
        .env("FIDELITY_SEED_ID", STRIPE_SEED_ID)
        .env("FIDELITY_SECOND_ID", STRIPE_SECOND_ID)
        .env("FIDELITY_ADDRESS_ID", ADDRESS_CUSTOMER_ID)
        .env("FIDELITY_EXTERNAL_ID", ADDRESS_CUSTOMER_EXTERNAL_ID)
        .env("FIDELITY_SHARED_EXTERNAL_ID", LOOKUP_SHARED_EXTERNAL_ID)
        .env("FIDELITY_IDEMPOTENCY_KEY", STRIPE_IDEMPOTENCY_KEY);
    (run_script(cmd).await, sb, order)
}

/// The ids of a list or search page the SDK parsed.
fn page_ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// The ids an auto-paging step iterated.
fn iterated(report: &Value, step: &str) -> Vec<String> {
    serde_json::from_value(ok(report, step).clone())
        .unwrap_or_else(|e| panic!("{} {step}: not a list of ids ({e})", report["sdk"]))
}

/// A step the SDK raised as its `class` (`InvalidRequestError`; stripe-node
/// prefixes its classes with `Stripe`) for an answer of `status`.
fn stripe_error<'a>(report: &'a Value, step: &str, class: &str, status: u16) -> &'a Value {
    let s = &report["steps"][step];
    let sdk = &report["sdk"];
    assert_eq!(s["ok"], json!(false), "{sdk} {step}: {s}");
    let raised = s["error"].as_str().unwrap_or_default();
    assert_eq!(
        raised.strip_prefix("Stripe").unwrap_or(raised),
        class,
        "{sdk} {step}: {s}"
    );
    assert_eq!(s["status"], json!(status), "{sdk} {step}: {s}");
    // Every answer carries a Request-Id, which the SDKs expose on errors.
    assert!(
        s["request_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("req_")),
        "{sdk} {step}: {s}"
    );
    s
}

/// One request the journal must show.
struct Expected {
    method: &'static str,
    path: String,
    /// The query's parameters; a value of `*` stands for any non-empty one
    /// (the opaque search `page` token).
    query: Vec<(&'static str, String)>,
    /// The form fields of a write.
    form: Option<Value>,
    status: u16,
    /// Sent with [`STRIPE_IDEMPOTENCY_KEY`].
    idempotent: bool,
    replayed: bool,
}

fn get(path: impl Into<String>, query: &[(&'static str, &str)], status: u16) -> Expected {
    Expected {
        method: "GET",
        path: path.into(),
        query: query.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        form: None,
        status,
        idempotent: false,
        replayed: false,
    }
}

fn post(path: impl Into<String>, form: Value, status: u16) -> Expected {
    Expected {
        method: "POST",
        path: path.into(),
        query: Vec::new(),
        form: Some(form),
        status,
        idempotent: false,
        replayed: false,
    }
}

fn customer_path(id: &str) -> String {
    format!("/v1/customers/{id}")
}

fn assert_journal_entry(sdk: &Value, n: usize, got: &JournalEntry, want: &Expected) {
    let at = format!("{sdk} request {n} ({} {})", got.method, got.path);
    let (path, query) = got.path.split_once('?').unwrap_or((&got.path, ""));
    assert_eq!(got.method, want.method, "{at}");
    assert_eq!(path, want.path, "{at}");
    let mut query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    query.sort();
    let mut expected: Vec<(String, String)> = want
        .query
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    expected.sort();
    assert_eq!(query.len(), expected.len(), "{at}");
    for ((k, v), (wk, wv)) in query.iter().zip(&expected) {
        assert_eq!(k, wk, "{at}");
        if wv == "*" {
            assert!(!v.is_empty(), "{at}: empty {k}");
        } else {
            assert_eq!(v, wv, "{at}");
        }
    }
    match &want.form {
        Some(form) => {
            assert_eq!(
                got.header("content-type")
                    .and_then(|t| t.split(';').next())
                    .map(str::trim),
                Some("application/x-www-form-urlencoded"),
                "{at}"
            );
            assert_eq!(got.body.as_ref(), Some(form), "{at}");
        }
        None => assert!(got.raw_body.is_empty(), "{at}: {}", got.raw_body),
    }
    assert_eq!(got.status, want.status, "{at}");
    // Both SDKs give every POST an idempotency key of their own (even with
    // retries off) unless the caller sets one; a GET carries none.
    let key = got.header("idempotency-key");
    match (want.method, want.idempotent) {
        (_, true) => assert_eq!(key, Some(STRIPE_IDEMPOTENCY_KEY), "{at}"),
        ("POST", false) => assert!(
            key.is_some_and(|k| !k.is_empty() && k != STRIPE_IDEMPOTENCY_KEY),
            "{at}: {key:?}"
        ),
        _ => assert_eq!(key, None, "{at}"),
    }
    assert_eq!(got.replayed, want.replayed, "{at}");
    // Telemetry is off: no metrics of earlier requests ride along.
    assert_eq!(got.header("x-stripe-client-telemetry"), None, "{at}");
}

/// Everything both Stripe SDKs must see, and the requests they must send.
fn assert_stripe_behaviour(report: &Value, sb: &Sandbox, order: &[String]) {
    let sdk = report["sdk"].clone();
    let _ = writeln!(
        std::io::stderr(),
        "{sdk} {} ran {} steps against the sandbox",
        report["version"],
        STRIPE_STEPS.len()
    );
    let mut ran: Vec<&str> = report["steps"]
        .as_object()
        .map(|s| s.keys().map(String::as_str).collect())
        .unwrap_or_default();
    ran.sort_unstable();
    let mut steps = STRIPE_STEPS.to_vec();
    steps.sort_unstable();
    assert_eq!(ran, steps, "{sdk}");

    // The seeded customers, parsed whole.
    let jenny = ok(report, "retrieve");
    assert_eq!(jenny["id"], json!(STRIPE_SEED_ID), "{sdk}");
    assert_eq!(jenny["object"], json!("customer"), "{sdk}");
    assert_eq!(jenny["name"], json!("Jenny Rosen"), "{sdk}");
    assert_eq!(jenny["email"], json!(STRIPE_SEED_EMAIL), "{sdk}");
    assert_eq!(jenny["created"], json!(1680893993), "{sdk}");
    assert_eq!(jenny["invoice_prefix"], json!("0759376C"), "{sdk}");
    assert_eq!(jenny["address"], json!(null), "{sdk}");
    assert_eq!(jenny["metadata"], json!({}), "{sdk}");
    assert_eq!(jenny["livemode"], json!(false), "{sdk}");
    let request_id = &report["steps"]["retrieve"]["headers"]["request-id"];
    assert!(
        request_id.as_str().is_some_and(|r| r.starts_with("req_")),
        "{sdk}: {request_id}"
    );
    let harbour = ok(report, "retrieve_address");
    assert_eq!(harbour["id"], json!(ADDRESS_CUSTOMER_ID), "{sdk}");
    assert_eq!(
        harbour["address"],
        json!({"city": "San Francisco", "country": "US", "line1": "510 Townsend St",
               "line2": "Floor 2", "postal_code": "94103", "state": "CA"}),
        "{sdk}"
    );
    assert_eq!(harbour["phone"], json!("+14155550123"), "{sdk}");
    assert_eq!(
        harbour["metadata"],
        json!({"external_id": ADDRESS_CUSTOMER_EXTERNAL_ID, "plan": "annual"}),
        "{sdk}"
    );

    // A nested address and metadata, answered and then read back.
    let updated = ok(report, "update_nested");
    assert_eq!(
        updated["address"],
        json!({"city": "Oslo", "country": "NO", "line1": "Karl Johans gate 1",
               "line2": null, "postal_code": "0154", "state": null}),
        "{sdk}"
    );
    assert_eq!(
        updated["metadata"],
        json!({"plan": "gold", "seats": "12"}),
        "{sdk}"
    );
    assert_eq!(updated["name"], json!("Jenny Rosen"), "{sdk}");
    assert_eq!(ok(report, "retrieve_after_update"), updated, "{sdk}");

    // `phone=""` clears the phone, `metadata[plan]=""` removes one key.
    let cleared = ok(report, "clear");
    assert_eq!(cleared["phone"], json!(null), "{sdk}");
    assert_eq!(
        cleared["metadata"],
        json!({"external_id": ADDRESS_CUSTOMER_EXTERNAL_ID}),
        "{sdk}"
    );
    assert_eq!(cleared["address"], harbour["address"], "{sdk}");
    assert_eq!(ok(report, "retrieve_after_clear"), cleared, "{sdk}");

    // Pages of two, then the SDK's auto-pagination over every customer.
    let page = ok(report, "list_page");
    assert_eq!(page["object"], json!("list"), "{sdk}");
    assert_eq!(page["url"], json!("/v1/customers"), "{sdk}");
    assert_eq!(page["has_more"], json!(true), "{sdk}");
    assert_eq!(page_ids(page), order[..2], "{sdk}");
    let next = ok(report, "list_next_page");
    assert_eq!(next["has_more"], json!(true), "{sdk}");
    assert_eq!(page_ids(next), order[2..4], "{sdk}");
    assert!(order.len() > 100);
    assert_eq!(iterated(report, "list_auto_paging"), order, "{sdk}");
    // Backwards from the oldest customer: every other one, oldest first.
    let backward: Vec<String> = order[..order.len() - 1].iter().rev().cloned().collect();
    assert_eq!(
        iterated(report, "list_auto_paging_backward"),
        backward,
        "{sdk}"
    );

    // Search by metadata, then the SDK's search auto-pagination (limit 1).
    let found = ok(report, "search");
    assert_eq!(found["object"], json!("search_result"), "{sdk}");
    assert_eq!(found["has_more"], json!(false), "{sdk}");
    assert_eq!(page_ids(found), [ADDRESS_CUSTOMER_ID], "{sdk}");
    let shared: Vec<&String> = order
        .iter()
        .filter(|id| LOOKUP_SHARED_EXTERNAL_ID_IDS.contains(&id.as_str()))
        .collect();
    assert_eq!(shared.len(), 2);
    assert_eq!(
        iterated(report, "search_auto_paging"),
        shared.into_iter().cloned().collect::<Vec<_>>(),
        "{sdk}"
    );

    // The same key and parameters: a replay of the first answer; other
    // parameters: the SDK's idempotency error.
    let first = ok(report, "idempotent_first");
    assert_eq!(first["name"], json!("Jane Q. Doe"), "{sdk}");
    assert_eq!(
        first["metadata"],
        json!({"foo": "bar", "order": "A-1"}),
        "{sdk}"
    );
    let first_headers = &report["steps"]["idempotent_first"]["headers"];
    assert_eq!(
        first_headers["idempotency-key"],
        json!(STRIPE_IDEMPOTENCY_KEY),
        "{sdk}"
    );
    assert_eq!(first_headers["idempotent-replayed"], json!(null), "{sdk}");
    assert_eq!(ok(report, "idempotent_replay"), first, "{sdk}");
    let replay_headers = &report["steps"]["idempotent_replay"]["headers"];
    assert_eq!(
        replay_headers["idempotent-replayed"],
        json!("true"),
        "{sdk}"
    );
    assert_eq!(
        replay_headers["original-request"], first_headers["request-id"],
        "{sdk}"
    );
    let conflict = stripe_error(report, "idempotent_conflict", "IdempotencyError", 400);
    assert_eq!(conflict["type"], json!("idempotency_error"), "{sdk}");
    assert_eq!(sb.stripe().stripe_update_count(STRIPE_SECOND_ID), Some(1));

    // Errors, as the SDKs classify them.
    let unknown = stripe_error(report, "error_400_unknown", "InvalidRequestError", 400);
    assert_eq!(unknown["param"], json!("nickname"), "{sdk}");
    assert_eq!(unknown["code"], json!("parameter_unknown"), "{sdk}");
    let long = stripe_error(report, "error_400_metadata", "InvalidRequestError", 400);
    assert_eq!(long["param"], json!("metadata"), "{sdk}");
    assert_eq!(long["type"], json!("invalid_request_error"), "{sdk}");
    stripe_error(report, "error_401", "AuthenticationError", 401);
    let missing = stripe_error(report, "error_404", "InvalidRequestError", 404);
    assert_eq!(missing["code"], json!("resource_missing"), "{sdk}");
    assert_eq!(missing["param"], json!("id"), "{sdk}");
    // Two refused updates changed nothing.
    assert_eq!(sb.stripe().stripe_update_count(STRIPE_SEED_ID), Some(1));

    // The requests, in order: one per step, two per auto-paging step.
    let seed = customer_path(STRIPE_SEED_ID);
    let address = customer_path(ADDRESS_CUSTOMER_ID);
    let second = customer_path(STRIPE_SECOND_ID);
    let by_external_id = format!("metadata['external_id']:'{ADDRESS_CUSTOMER_EXTERNAL_ID}'");
    let by_shared_id = format!("metadata['external_id']:'{LOOKUP_SHARED_EXTERNAL_ID}'");
    let idempotent = |order: &str, status: u16, replayed: bool| Expected {
        idempotent: true,
        replayed,
        ..post(
            second.clone(),
            json!({"metadata[order]": order, "name": "Jane Q. Doe"}),
            status,
        )
    };
    let mut expected = vec![
        get(seed.clone(), &[], 200),
        get(address.clone(), &[], 200),
        post(
            seed.clone(),
            json!({"address[line1]": "Karl Johans gate 1", "address[city]": "Oslo",
                   "address[postal_code]": "0154", "address[country]": "NO",
                   "metadata[plan]": "gold", "metadata[seats]": "12"}),
            200,
        ),
        get(seed.clone(), &[], 200),
        post(
            address.clone(),
            json!({"phone": "", "metadata[plan]": ""}),
            200,
        ),
        get(address.clone(), &[], 200),
        get("/v1/customers", &[("limit", "2")], 200),
        get(
            "/v1/customers",
            &[("limit", "2"), ("starting_after", &order[1])],
            200,
        ),
        get("/v1/customers", &[("limit", "100")], 200),
    ];
    for page_end in (100..order.len()).step_by(100) {
        expected.push(get(
            "/v1/customers",
            &[("limit", "100"), ("starting_after", &order[page_end - 1])],
            200,
        ));
    }
    // Backwards: each page ends before the first customer of the last one.
    let mut before = order.len() - 1;
    loop {
        expected.push(get(
            "/v1/customers",
            &[("limit", "100"), ("ending_before", &order[before])],
            200,
        ));
        if before <= 100 {
            break;
        }
        before -= 100;
    }
    expected.extend([
        get("/v1/customers/search", &[("query", &by_external_id)], 200),
        get(
            "/v1/customers/search",
            &[("query", &by_shared_id), ("limit", "1")],
            200,
        ),
        get(
            "/v1/customers/search",
            &[("query", &by_shared_id), ("limit", "1"), ("page", "*")],
            200,
        ),
        idempotent("A-1", 200, false),
        idempotent("A-1", 200, true),
        idempotent("A-2", 400, false),
        post(seed.clone(), json!({"nickname": "Jen"}), 400),
        post(
            seed.clone(),
            json!({"metadata[note]": "x".repeat(501)}),
            400,
        ),
        get(seed.clone(), &[], 401),
        get(customer_path("cus_DoesNotExist00"), &[], 404),
    ]);
    let journal = sb.stripe().journal();
    let sent: Vec<String> = journal
        .iter()
        .map(|e| format!("{} {} {}", e.method, e.path, e.status))
        .collect();
    assert_eq!(
        journal.len(),
        expected.len(),
        "{sdk} sent:\n{}",
        sent.join("\n")
    );
    for (n, (got, want)) in journal.iter().zip(&expected).enumerate() {
        assert_journal_entry(&sdk, n, got, want);
    }
}

#[tokio::test]
async fn stripe_python_sdk_runs_clean_against_the_sandbox() {
    let test = "stripe_python_sdk_runs_clean_against_the_sandbox";
    let Some(python) = required_env("UNIBILL_SDK_PYTHON", test) else {
        return;
    };
    let mut cmd = Command::new(python);
    cmd.arg(script("stripe_sdk.py"));
    let (report, sb, order) = run_stripe(cmd).await;
    assert_eq!(report["sdk"], json!("stripe-python"));
    assert_stripe_behaviour(&report, &sb, &order);
}

#[tokio::test]
async fn stripe_node_sdk_runs_clean_against_the_sandbox() {
    let test = "stripe_node_sdk_runs_clean_against_the_sandbox";
    let Some(modules) = required_env("UNIBILL_SDK_NODE_MODULES", test) else {
        return;
    };
    let node = std::env::var("UNIBILL_SDK_NODE").unwrap_or_else(|_| "node".into());
    let mut cmd = Command::new(node);
    cmd.arg(script("stripe_sdk.js")).env("NODE_PATH", modules);
    let (report, sb, order) = run_stripe(cmd).await;
    assert_eq!(report["sdk"], json!("stripe-node"));
    assert_stripe_behaviour(&report, &sb, &order);
}
