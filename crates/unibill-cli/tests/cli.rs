//! The `unibill` binary, run for real against a sandbox the test starts
//! (or the in-process one of `--sandbox`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

mod common;
use common::*;

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn report(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn get_prints_the_neutral_customer_and_raw_prints_the_vendor_record() {
    let env = Env::new("get");
    let out = env.run("chartmogul", &["get", CM]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let c = stdout_json(&out);
    assert_eq!(c["email"], "ben@example.com");
    assert!(c.get("raw").is_none());
    let raw = stdout_json(&env.run("chartmogul", &["get", CM, "--raw"]));
    assert_eq!(raw["uuid"], CM);
    let missing = env.run(
        "chartmogul",
        &["get", "cus_00000000-0000-0000-0000-000000000000"],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("not found"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn update_with_set_tag_custom_and_clear_applies_and_prints_the_writes() {
    let env = Env::new("update");
    let out = env.run(
        "chartmogul",
        &[
            "update",
            CM,
            "--set",
            "address.city=Paris",
            "--tag",
            "+vip",
            "--tag",
            "-high-value",
            "--custom",
            "tier:Integer=3",
            "--clear",
            "custom.CAC",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout_json(&out);
    assert!(!printed["writes"].as_array().unwrap().is_empty());
    assert_eq!(printed["customer"]["address"]["city"], "Paris");
    let stored = env.sandbox.chartmogul().customer(CM).unwrap();
    assert_eq!(stored["city"], "Paris");
    let tags = stored["attributes"]["tags"].as_array().unwrap();
    assert!(tags.contains(&"vip".into()) && !tags.contains(&"high-value".into()));
    assert_eq!(stored["attributes"]["custom"]["tier"], 3);
    assert!(stored["attributes"]["custom"].get("CAC").is_none());
}

#[test]
fn update_from_a_patch_file_and_stdin() {
    let env = Env::new("patch");
    let file = env.file(
        "p.json",
        r#"{"address": {"city": "Lyon"}, "website": null}"#,
    );
    let out = env.run("chartmogul", &["update", CM, "--patch", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stored = env.sandbox.chartmogul().customer(CM).unwrap();
    assert_eq!(stored["city"], "Lyon");

    let mut child = env
        .cmd(
            "chartmogul",
            &["update", CM, "--patch", "-", "--set", "address.city=Nice"],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"address": {"city": "Lille", "zip": "x"}}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    // `zip` is not a neutral field: refused, naming it, before any write.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("zip"), "{}", stderr(&out));
    assert_eq!(
        env.sandbox.chartmogul().customer(CM).unwrap()["city"],
        "Lyon"
    );
}

#[test]
fn dry_run_prints_the_writes_and_sends_none() {
    let env = Env::new("dry");
    let out = env.run(
        "chartmogul",
        &["update", CM, "--set", "address.city=Paris", "--dry-run"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = stdout_json(&out);
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["writes"][0]["body"]["city"], "Paris");
    assert_eq!(env.writes("chartmogul"), 0);
    assert_ne!(
        env.sandbox.chartmogul().customer(CM).unwrap()["city"],
        "Paris"
    );
}

#[test]
fn unsupported_is_refused_unless_ignored() {
    let env = Env::new("unsupported");
    let args = [
        "update",
        FB,
        "--set",
        "first_name=Kate",
        "--set",
        "address.city=Paris",
    ];
    let out = env.run("fusebill", &args);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("address.city"), "{}", stderr(&out));
    assert_eq!(env.writes("fusebill"), 0);

    let mut ignoring = args.to_vec();
    ignoring.push("--ignore-unsupported");
    let out = env.run("fusebill", &ignoring);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout_json(&out);
    assert_eq!(printed["ignored"][0], "set address.city");
    assert_eq!(printed["customer"]["first_name"], "Kate");
    assert!(env.writes("fusebill") > 0);
}

#[test]
fn usage_errors_exit_2_before_any_request() {
    let env = Env::new("usage");
    for args in [
        vec!["update", CM, "--set", "address.town=Paris"],
        vec!["update", CM, "--custom", "tier:Colour=3"],
        vec!["update", CM, "--tag", "vip"],
        vec!["update", CM],
        vec!["bogus"],
    ] {
        let out = env.run("chartmogul", &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    let out = env.run("chartmogul", &["update", CM, "--set", "address.town=Paris"]);
    assert!(stderr(&out).contains("address.city"), "lists valid names");
    let out = env.run("nosuchvendor", &["get", CM]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(env.sandbox.chartmogul().journal().is_empty());
}

#[test]
fn config_file_in_toml_and_json() {
    let env = Env::new("config");
    let vars: std::collections::HashMap<_, _> = env.sandbox.env_vars().into_iter().collect();
    let toml = env.file(
        "c.toml",
        format!(
            "backend = \"chartmogul\"\napi_key = \"{}\"\nbase_url = \"{}\"\n",
            vars["CHARTMOGUL_API_KEY"], vars["CHARTMOGUL_BASE_URL"]
        ),
    );
    let out = env.run("", &["--config", &toml, "get", CM]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_json(&out)["email"], "ben@example.com");
    let json = env.file(
        "c.json",
        format!(
            r#"{{"backend": "chartmogul", "api_key": "{}", "base_url": "{}"}}"#,
            vars["CHARTMOGUL_API_KEY"], vars["CHARTMOGUL_BASE_URL"]
        ),
    );
    let out = env.run("", &["--config", &json, "get", CM]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A key never shows, even in a config error.
    let bad = env.file(
        "bad.toml",
        "backend = \"chartmogul\"\napi_key = \"sekrit-key-123\"\nbogus = 1\n",
    );
    let out = env.run("", &["--config", &bad, "get", CM]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("sekrit-key-123"), "{}", stderr(&out));
    let out = env.run("", &["--config", &json, "--backend", "fusebill", "get", CM]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn in_process_sandbox_and_capabilities() {
    let out = Command::new(env!("CARGO_BIN_EXE_unibill"))
        .env_clear()
        .args(["--sandbox", "--backend", "fusebill", "get", FB])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_json(&out)["id"], FB);
    let out = Command::new(env!("CARGO_BIN_EXE_unibill"))
        .arg("capabilities")
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("| `address.city` |"), "{table}");
    assert!(table.contains("fusebill"));
}

/// 1,000 rows over two customers, a few of them bad: every row is in the
/// report once, bad ones failed with their line, the rest applied in
/// file order, exit 1.
#[test]
fn bulk_csv_of_1000_rows_with_bad_rows() {
    let env = Env::new("bulk-csv");
    let mut csv = String::from("id,custom.tier:Integer,address.city\n");
    let mut bad_lines = Vec::new();
    for i in 0..1000u32 {
        let line = i + 2;
        let id = if i % 2 == 0 { CM } else { CM2 };
        if i % 250 == 7 {
            bad_lines.push(line);
            csv.push_str(&format!("{id},notanumber,X\n"));
        } else if i == 500 {
            bad_lines.push(line);
            csv.push_str(&format!("{id},1\n")); // too few cells
        } else {
            csv.push_str(&format!("{id},{i},City{i}\n"));
        }
    }
    let input = env.file("in.csv", &csv);
    let rep = env.path("report.jsonl");
    let out = env.run(
        "chartmogul",
        &["bulk", &input, "--report", &rep, "--concurrency", "4"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = report(&rep);
    assert_eq!(lines.len(), 1000);
    let mut rows: Vec<u64> = lines.iter().map(|l| l["row"].as_u64().unwrap()).collect();
    rows.sort_unstable();
    rows.dedup();
    assert_eq!(rows.len(), 1000);
    let mut failed: Vec<u32> = lines
        .iter()
        .filter(|l| l["status"] == "failed")
        .map(|l| l["row"].as_u64().unwrap() as u32)
        .collect();
    failed.sort_unstable();
    assert_eq!(failed, bad_lines);
    for l in &lines {
        if l["status"] == "failed" {
            assert_eq!(l["error"]["kind"], "input");
        } else {
            assert_eq!(l["status"], "applied", "{l}");
            assert!(!l["writes"].as_array().unwrap().is_empty());
        }
    }
    // Duplicate ids apply in file order: the last good row of each wins.
    let a = env.sandbox.chartmogul().customer(CM).unwrap();
    let b = env.sandbox.chartmogul().customer(CM2).unwrap();
    assert_eq!(a["attributes"]["custom"]["tier"], 998);
    assert_eq!(a["city"], "City998");
    assert_eq!(b["attributes"]["custom"]["tier"], 999);
    assert!(stderr(&out).contains("failed"), "summary on stderr");
    let key = env.sandbox.credentials().chartmogul_api_key;
    let text = std::fs::read_to_string(&rep).unwrap();
    assert!(!text.contains(key) && !stderr(&out).contains(key));
}

#[test]
fn bulk_jsonl_with_a_malformed_line() {
    let env = Env::new("bulk-jsonl");
    let input = env.file(
        "in.jsonl",
        format!(
            "{{\"id\": \"{CM}\", \"patch\": {{\"address\": {{\"city\": \"Paris\"}}, \"tags\": {{\"add\": [\"a\"]}}}}}}\n\
             {{oops\n\
             {{\"id\": \"{CM2}\", \"patch\": {{\"website\": null}}}}\n\
             {{\"id\": \"{CM}\", \"patch\": {{}}}}\n"
        ),
    );
    let rep = env.path("r.jsonl");
    let out = env.run("chartmogul", &["bulk", &input, "--report", &rep]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut lines = report(&rep);
    lines.sort_by_key(|l| l["row"].as_u64());
    let status: Vec<&str> = lines
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["applied", "failed", "applied", "unchanged"]);
    assert_eq!(lines[1]["row"], 2);
    assert_eq!(
        env.sandbox.chartmogul().customer(CM).unwrap()["city"],
        "Paris"
    );
}

#[test]
fn bulk_unknown_column_is_an_error_before_any_request() {
    let env = Env::new("bulk-unknown");
    let input = env.file("in.csv", format!("id,address.town\n{CM},Paris\n"));
    let out = env.run("chartmogul", &["bulk", &input]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("address.town") && err.contains("address.city"),
        "{err}"
    );
    assert!(env.sandbox.chartmogul().journal().is_empty());
}

#[test]
fn bulk_dry_run_plans_every_row_and_writes_nothing() {
    let env = Env::new("bulk-dry");
    let input = env.file(
        "in.csv",
        format!("id,address.city,tags.add\n{CM},Paris,x;y\n{CM2},,\n{CM},Rome,\n"),
    );
    let rep = env.path("r.jsonl");
    let out = env.run(
        "chartmogul",
        &["bulk", &input, "--dry-run", "--report", &rep],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut lines = report(&rep);
    lines.sort_by_key(|l| l["row"].as_u64());
    assert_eq!(lines[0]["status"], "planned");
    assert_eq!(lines[1]["status"], "unchanged");
    assert_eq!(lines[2]["status"], "planned");
    assert_eq!(env.writes("chartmogul"), 0);
}

fn wait_for_lines(path: &str, n: usize) {
    for _ in 0..3000 {
        if std::fs::read_to_string(path).map_or(0, |t| t.lines().count()) >= n {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the report never reached {n} lines");
}

/// Ctrl-C stops taking rows, leaves a whole report and exits 130; a
/// `--resume` then does the rest, and each row's write reaches the vendor
/// exactly once.
#[test]
fn sigint_then_resume_applies_each_row_once() {
    let env = Env::new("resume");
    env.sandbox
        .chartmogul()
        .set_latency(Duration::from_millis(15));
    let n = 120;
    let mut csv = String::from("id,tags.add\n");
    for i in 0..n {
        let id = if i % 2 == 0 { CM } else { CM2 };
        csv.push_str(&format!("{id},row{i}\n"));
    }
    let input = env.file("in.csv", &csv);
    let rep = env.path("r.jsonl");
    let child = env
        .cmd(
            "chartmogul",
            &[
                "bulk",
                &input,
                "--report",
                &rep,
                "--concurrency",
                "2",
                "--progress-secs",
                "0.05",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_lines(&rep, 10);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("progress:"),
        "plain progress lines off a terminal: {err}"
    );
    let first = report(&rep); // every line parses: the report was flushed whole
    assert!(first.len() < n, "stopped early ({} rows)", first.len());

    env.sandbox.chartmogul().set_latency(Duration::ZERO);
    let out = env.run(
        "chartmogul",
        &["bulk", &input, "--report", &rep, "--resume"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("skipped"), "{}", stderr(&out));
    let all = report(&rep);
    assert_eq!(all.len(), n);
    let mut rows: Vec<u64> = all.iter().map(|l| l["row"].as_u64().unwrap()).collect();
    rows.sort_unstable();
    rows.dedup();
    assert_eq!(rows.len(), n, "each row reported once");
    let journal = env.sandbox.chartmogul().journal();
    for i in 0..n {
        let tag = format!("\"row{i}\"");
        let sent = journal
            .iter()
            .filter(|e| e.is_write() && e.raw_body.contains(&tag))
            .count();
        assert_eq!(sent, 1, "row{i} written {sent} times");
    }
}

#[test]
fn a_terminal_shows_the_progress_bar() {
    // Under CI (CI=true) the test must run, not skip.
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !Path::new("/usr/bin/script").exists() {
        assert!(
            std::env::var_os("UNIBILL_REQUIRE_PTY").is_none() && !ci,
            "UNIBILL_REQUIRE_PTY or CI=true is set but /usr/bin/script is missing"
        );
        eprintln!("skipped: no `script` to make a pseudo-terminal");
        return;
    }
    let env = Env::new("pty");
    let mut csv = String::from("id,address.city\n");
    for i in 0..20 {
        csv.push_str(&format!("{CM},C{i}\n"));
    }
    let input = env.file("in.csv", &csv);
    let bin = env!("CARGO_BIN_EXE_unibill");
    let mut c = Command::new("/usr/bin/script");
    c.env_clear()
        .env("UNIBILL_BACKEND", "chartmogul")
        .env("UNIBILL_RATE_LIMIT", "off")
        .env("TERM", "xterm")
        // The bar shows under CI too, whenever stderr is a terminal.
        .env("CI", "true")
        .envs(env.sandbox.env_vars())
        .args(["-qfec", &format!("{bin} bulk {input}"), "/dev/null"])
        .stdin(Stdio::null());
    let out = c.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("20/20 rows"), "{text}");
    assert!(!text.contains("progress:"), "{text}");
    // The rate has one decimal (`85.3/s`), not four.
    let rates: Vec<&str> = text
        .match_indices("/s")
        .map(|(i, _)| {
            let head = &text[..i];
            let start = head
                .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
                .map_or(0, |j| j + 1);
            &head[start..]
        })
        .filter(|r| !r.is_empty())
        .collect();
    assert!(!rates.is_empty(), "{text}");
    for rate in rates {
        let decimals = rate.split_once('.').map_or(0, |(_, d)| d.len());
        assert_eq!(decimals, 1, "rate `{rate}/s` in {text}");
    }
}

#[test]
fn sandbox_command_prints_its_variables_and_stops_on_ctrl_c() {
    let (mut child, vars) = sandbox_command();
    // The printed variables reach the running sandbox.
    let out = run_with(&vars, "fusebill", &["get", FB]);
    assert_eq!(out.status.code(), Some(0), "{vars:?} {}", stderr(&out));
    assert_eq!(stdout_json(&out)["id"], FB);
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// `get` and `update` take `email:ADDR` and `ref:VALUE` besides ids, and the
/// library resolves them: one match is updated, several or none fail
/// (exit 1) naming the matches or the reference, with no write; a backend
/// without a search refuses before any request.
#[test]
fn get_and_update_by_email_and_own_reference() {
    use unibill_sandbox::{chartmogul as cm, everlytic as ev, fusebill as fb};
    let env = Env::new("by-ref");
    env.sandbox.chartmogul().add_lookup_seeds();
    env.sandbox.fusebill().add_lookup_seeds();
    env.sandbox.everlytic().add_lookup_seeds();

    let email = format!("email:{}", cm::LOOKUP_UNIQUE_EMAIL);
    let out = env.run("chartmogul", &["get", &email]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_json(&out)["id"], cm::LOOKUP_UNIQUE_UUID);
    let reference = format!("ref:{}", cm::LOOKUP_UNIQUE_EXTERNAL_ID);
    let out = env.run(
        "chartmogul",
        &["update", &reference, "--set", "address.city=Oslo"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_json(&out)["customer"]["id"], cm::LOOKUP_UNIQUE_UUID);
    assert_eq!(
        env.sandbox
            .chartmogul()
            .customer(cm::LOOKUP_UNIQUE_UUID)
            .unwrap()["city"],
        "Oslo"
    );
    // A dry run by email plans the PATCH of that customer, sends nothing.
    let before = env.writes("chartmogul");
    let out = env.run(
        "chartmogul",
        &[
            "update",
            &email,
            "--set",
            "address.city=Bergen",
            "--dry-run",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = stdout_json(&out);
    assert!(
        plan["writes"][0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with(cm::LOOKUP_UNIQUE_UUID)),
        "{plan}"
    );
    assert_eq!(env.writes("chartmogul"), before);

    // Fusebill: by its reference, then by email.
    let out = env.run(
        "fusebill",
        &["get", &format!("ref:{}", fb::LOOKUP_UNIQUE_REFERENCE)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_json(&out)["id"], fb::LOOKUP_UNIQUE_ID);
    let out = env.run(
        "fusebill",
        &[
            "update",
            &format!("email:{}", fb::LOOKUP_UNIQUE_EMAIL),
            "--set",
            "first_name=Rosalind",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        env.sandbox
            .fusebill()
            .customer(fb::LOOKUP_UNIQUE_ID)
            .unwrap()["firstName"],
        "Rosalind"
    );

    // Ambiguous: exit 1, both matches named, nothing written.
    let (cm_writes, fb_writes) = (env.writes("chartmogul"), env.writes("fusebill"));
    let shared = format!("email:{}", cm::LOOKUP_SHARED_EMAIL);
    let out = env.run(
        "chartmogul",
        &["update", &shared, "--set", "address.city=X"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("matches 2 customers"), "{err}");
    for uuid in cm::LOOKUP_SHARED_UUIDS {
        assert!(err.contains(uuid), "{err}");
    }
    let shared = format!("ref:{}", fb::LOOKUP_SHARED_REFERENCE);
    let out = env.run("fusebill", &["update", &shared, "--set", "first_name=X"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    for id in fb::LOOKUP_SHARED_REFERENCE_IDS {
        assert!(stderr(&out).contains(id), "{}", stderr(&out));
    }
    // Missing: exit 1, not found naming the reference.
    let out = env.run(
        "fusebill",
        &[
            "update",
            "email:nobody@nowhere.example.com",
            "--set",
            "first_name=X",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not found") && stderr(&out).contains("nobody@nowhere.example.com"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        (env.writes("chartmogul"), env.writes("fusebill")),
        (cm_writes, fb_writes)
    );

    // Everlytic has no customer search: refused before any request.
    env.sandbox.everlytic().clear_journal();
    let out = env.run(
        "everlytic",
        &[
            "update",
            &format!("email:{}", ev::LOOKUP_UNIQUE_EMAIL),
            "--set",
            "phone=+27 21 000 0000",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot look up customers by email"),
        "{}",
        stderr(&out)
    );
    assert!(env.sandbox.everlytic().journal().is_empty());

    // An empty value after a prefix is a usage-level validation error,
    // refused before any request: exit 2.
    let out = env.run("chartmogul", &["get", "email:"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("`email`"), "{}", stderr(&out));
}

/// Bulk rows name customers by id, `email:`/`ref:` in the CSV `id` column,
/// or the JSONL keys `email`/`external`; each row is resolved on its own,
/// and an ambiguous or missing one fails alone, with its kind in the
/// report and no write.
#[test]
fn bulk_rows_by_email_and_own_reference() {
    use unibill_sandbox::chartmogul as cm;
    let env = Env::new("bulk-by-ref");
    env.sandbox.chartmogul().add_lookup_seeds();
    let csv = format!(
        "id,address.city\n\
         email:{unique},Tromso\n\
         ref:{unique_ref},Narvik\n\
         email:{shared},Nowhere\n\
         email:nobody@nowhere.example.com,Nowhere\n\
         email:,Nowhere\n\
         {CM2},Lyon\n",
        unique = cm::LOOKUP_UNIQUE_EMAIL,
        unique_ref = cm::LOOKUP_UNIQUE_EXTERNAL_ID,
        shared = cm::LOOKUP_SHARED_EMAIL,
    );
    let input = env.file("in.csv", &csv);
    let rep = env.path("report.jsonl");
    let shared_before: Vec<_> = cm::LOOKUP_SHARED_UUIDS
        .iter()
        .map(|u| env.sandbox.chartmogul().customer(u))
        .collect();
    let out = env.run(
        "chartmogul",
        &["bulk", &input, "--report", &rep, "--concurrency", "1"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut lines = report(&rep);
    lines.sort_by_key(|l| l["row"].as_u64());
    let got: Vec<(u64, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["row"].as_u64().unwrap(),
                l["status"].as_str().unwrap(),
                l["error"]["kind"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (2, "applied", ""),
            (3, "applied", ""),
            (4, "failed", "ambiguous"),
            (5, "failed", "not_found"),
            (6, "failed", "input"),
            (7, "applied", ""),
        ]
    );
    assert_eq!(
        lines[0]["ref"],
        format!("email:{}", cm::LOOKUP_UNIQUE_EMAIL)
    );
    let message = lines[2]["error"]["message"].as_str().unwrap();
    for uuid in cm::LOOKUP_SHARED_UUIDS {
        assert!(message.contains(uuid), "{message}");
    }
    // Rows 2 and 3 name the same customer by different references; with
    // --concurrency 1 they run in file order and the later one holds.
    let unique = env
        .sandbox
        .chartmogul()
        .customer(cm::LOOKUP_UNIQUE_UUID)
        .unwrap();
    assert_eq!(unique["city"], "Narvik");
    assert_eq!(
        env.sandbox.chartmogul().customer(CM2).unwrap()["city"],
        "Lyon"
    );
    let shared_after: Vec<_> = cm::LOOKUP_SHARED_UUIDS
        .iter()
        .map(|u| env.sandbox.chartmogul().customer(u))
        .collect();
    assert_eq!(shared_after, shared_before, "an ambiguous row wrote");
    assert_eq!(env.writes("chartmogul"), 3);

    // JSONL: the keyed forms, the library's object form and the prefixed id.
    env.sandbox.chartmogul().clear_journal();
    let jsonl = format!(
        "{{\"email\": \"{unique}\", \"patch\": {{\"address\": {{\"city\": \"Alta\"}}}}}}\n\
         {{\"external\": \"{unique_ref}\", \"patch\": {{\"website\": \"https://lonepine.example.com\"}}}}\n\
         {{\"id\": {{\"email\": \"{shared}\"}}, \"patch\": {{\"website\": null}}}}\n\
         {{\"id\": \"ref:{unique_ref}\", \"patch\": {{\"address\": {{\"city\": \"Bodo\"}}}}}}\n\
         {{\"id\": \"{CM2}\", \"email\": \"{unique}\", \"patch\": {{}}}}\n\
         {{\"patch\": {{}}}}\n",
        unique = cm::LOOKUP_UNIQUE_EMAIL,
        unique_ref = cm::LOOKUP_UNIQUE_EXTERNAL_ID,
        shared = cm::LOOKUP_SHARED_EMAIL,
    );
    let input = env.file("in.jsonl", &jsonl);
    let rep = env.path("report2.jsonl");
    let out = env.run(
        "chartmogul",
        &["bulk", &input, "--report", &rep, "--concurrency", "1"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut lines = report(&rep);
    lines.sort_by_key(|l| l["row"].as_u64());
    let got: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["ref"].as_str().unwrap(),
                l["status"].as_str().unwrap(),
                l["error"]["kind"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let email = format!("email:{}", cm::LOOKUP_UNIQUE_EMAIL);
    let reference = format!("ref:{}", cm::LOOKUP_UNIQUE_EXTERNAL_ID);
    let shared = format!("email:{}", cm::LOOKUP_SHARED_EMAIL);
    assert_eq!(
        got,
        [
            (email.as_str(), "applied", ""),
            (reference.as_str(), "applied", ""),
            (shared.as_str(), "failed", "ambiguous"),
            (reference.as_str(), "applied", ""),
            ("", "failed", "input"),
            ("", "failed", "input"),
        ]
    );
    let unique = env
        .sandbox
        .chartmogul()
        .customer(cm::LOOKUP_UNIQUE_UUID)
        .unwrap();
    assert_eq!(unique["city"], "Bodo");
    assert_eq!(unique["website_url"], "https://lonepine.example.com");
    assert_eq!(env.writes("chartmogul"), 3);
}

/// The in-process `--sandbox` holds the lookup seeds, so `email:` and
/// `ref:` can be tried without an account.
#[test]
fn in_process_sandbox_finds_by_email() {
    use unibill_sandbox::fusebill as fb;
    let out = Command::new(env!("CARGO_BIN_EXE_unibill"))
        .env_clear()
        .args([
            "--sandbox",
            "--backend",
            "fusebill",
            "get",
            &format!("email:{}", fb::LOOKUP_UNIQUE_EMAIL),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_json(&out)["id"], fb::LOOKUP_UNIQUE_ID);
}
