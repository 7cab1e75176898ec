//! Fidelity: ChartMogul's own SDKs, chartmogul-python and chartmogul-node,
//! run against the sandbox's ChartMogul listener and must parse every
//! answer as they parse the vendor's.
//!
//! The SDKs are installed by `.ci/run` (a venv under `target/sdk/venv`,
//! node_modules under `target/sdk/node`), which exports:
//!
//! * `UNIBILL_SDK_PYTHON`: the venv's `python` (with `chartmogul` installed);
//! * `UNIBILL_SDK_NODE_MODULES`: the `node_modules` holding `chartmogul-node`
//!   (`UNIBILL_SDK_NODE` names the `node` binary, default `node`).
//!
//! Without them a developer run prints that the test was skipped; under CI
//! (`CI` set, not `false`/`0`) their absence fails the test.
//!
//! Each script (`tests/fidelity/chartmogul_sdk.{py,js}`) makes one SDK call
//! per step and reports what the SDK returned or raised; the assertions,
//! the same for both SDKs, are here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use unibill_sandbox::chartmogul::{
    SECOND_CUSTOMER_EMAIL, SECOND_CUSTOMER_UUID, SEED_CUSTOMER_UUID,
};
use unibill_sandbox::{Sandbox, CHARTMOGUL_API_KEY};

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

/// Runs `cmd` against a fresh sandbox and returns the script's report and
/// the sandbox (for its journal).
async fn run(mut cmd: Command) -> (Value, Sandbox) {
    let sb = Sandbox::start().await.expect("sandbox");
    cmd.env("FIDELITY_BASE_URL", sb.chartmogul().base_url())
        .env("FIDELITY_API_KEY", CHARTMOGUL_API_KEY)
        .env("FIDELITY_SEED_UUID", SEED_CUSTOMER_UUID)
        .env("FIDELITY_SECOND_UUID", SECOND_CUSTOMER_UUID)
        .env("FIDELITY_SECOND_EMAIL", SECOND_CUSTOMER_EMAIL);
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
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("SDK report is not JSON ({e}):\n{stdout}\n{stderr}"));
    (report, sb)
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
