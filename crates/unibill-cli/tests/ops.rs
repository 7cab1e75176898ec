//! The command as ops use it: bulk runs that never lose a row silently,
//! never print a key, and stop when they should; signals, pipes, exit
//! codes and messages. Each test runs the binary against a sandbox it
//! starts on 127.0.0.1.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

mod common;
use common::*;

fn report(path: &str) -> Vec<Value> {
    let mut lines: Vec<Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines.sort_by_key(|l| l["row"].as_u64());
    lines
}

fn rows_with(lines: &[Value], status: &str) -> Vec<u64> {
    lines
        .iter()
        .filter(|l| l["status"] == status)
        .map(|l| l["row"].as_u64().unwrap())
        .collect()
}

/// A JSONL line that is not UTF-8 is a failed row with its line number,
/// and the lines after it are still read.
#[test]
fn a_jsonl_line_that_is_not_utf8_fails_alone() {
    let env = Env::new("utf8");
    let mut text = b"{\"id\": \"\xff\xfe\", \"patch\": {}}\n".to_vec();
    text.extend_from_slice(
        format!("{{\"id\": \"{CM}\", \"patch\": {{\"address\": {{\"city\": \"Paris\"}}}}}}\n")
            .as_bytes(),
    );
    text.extend_from_slice(
        format!("{{\"id\": \"{CM2}\", \"patch\": {{\"address\": {{\"city\": \"Lyon\"}}}}}}\n")
            .as_bytes(),
    );
    let input = env.file("in.jsonl", text);
    let rep = env.path("r.jsonl");
    let out = env.run("chartmogul", &["bulk", &input, "--report", &rep]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = report(&rep);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(rows_with(&lines, "failed"), [1]);
    assert_eq!(lines[0]["error"]["kind"], "input");
    assert!(lines[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("UTF-8"));
    assert_eq!(rows_with(&lines, "applied"), [2, 3]);
    assert!(stderr(&out).contains("3/3 rows"), "{}", stderr(&out));
}

/// Config parse errors name the file, the line and the key, never the
/// value: a key without quotes, an unterminated string, a key given
/// twice, a JSON key given as a number.
#[test]
fn config_parse_errors_name_file_line_and_key_never_the_value() {
    let env = Env::new("config-secret");
    let secret = "sk_live_98765432109876";
    let cases = [
        (
            "unquoted.toml",
            format!("backend = \"chartmogul\"\napi_key = {secret}\n"),
            "line 2",
        ),
        (
            "unterminated.toml",
            format!("backend = \"chartmogul\"\napi_key = \"{secret}\n"),
            "line 2",
        ),
        (
            "twice.toml",
            format!("backend = \"chartmogul\"\napi_key = \"{secret}\"\napi_key = \"{secret}\"\n"),
            "line 3",
        ),
        (
            "number.json",
            "{\n  \"backend\": \"chartmogul\",\n  \"api_key\": 98765432109876\n}\n".to_owned(),
            "line 3",
        ),
    ];
    for (name, text, line) in cases {
        let path = env.file(name, &text);
        let out = env.run("", &["--config", &path, "get", CM]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(&path), "{name} names the file: {err}");
        assert!(err.contains(line), "{name} names {line}: {err}");
        assert!(err.contains("api_key"), "{name} names the key: {err}");
        for leak in [secret, "98765432109876", "sk_live"] {
            assert!(!err.contains(leak), "{name} shows the key: {err}");
        }
    }
    assert!(env.sandbox.chartmogul().journal().is_empty());
}

/// Rows are numbered by the line each record starts on, whatever the
/// line ends, blank lines or quoted line breaks, and the total counts
/// records.
#[test]
fn row_numbers_follow_crlf_blank_lines_and_quoted_newlines() {
    let env = Env::new("rows");
    // Lines: 1 header, 2 CM, 3 blank, 4 CM2 (quoted cell spans 4-5),
    // 6 bad (too few cells), 7 CM.
    let csv = format!(
        "id,custom.note:String,address.city\r\n{CM},a,Paris\r\n\r\n{CM2},\"two\r\nlines\",Lyon\r\n{CM}\r\n{CM},b,Nice\r\n"
    );
    let input = env.file("in.csv", csv);
    let rep = env.path("r.jsonl");
    let out = env.run(
        "chartmogul",
        &["bulk", &input, "--report", &rep, "--concurrency", "1"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = report(&rep);
    let rows: Vec<u64> = lines.iter().map(|l| l["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, [2, 4, 6, 7], "{lines:?}");
    // Row 4's value holds a line break, which the library refuses.
    assert_eq!(rows_with(&lines, "failed"), [4, 6]);
    assert_eq!(rows_with(&lines, "applied"), [2, 7]);
    let message = lines[2]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("header") && !message.contains("previous record"),
        "{message}"
    );
    assert!(stderr(&out).contains("done: 4/4 rows"), "{}", stderr(&out));

    // A resumed run counts the rows already done towards the total.
    let out = env.run(
        "chartmogul",
        &["bulk", &input, "--report", &rep, "--resume"],
    );
    assert!(stderr(&out).contains("done: 4/4 rows"), "{}", stderr(&out));
}

/// Two columns naming the same thing are refused before any request,
/// naming the column.
#[test]
fn duplicate_columns_are_refused_before_any_request() {
    let env = Env::new("dup");
    for (header, column) in [
        ("id,first_name,first_name", "first_name"),
        ("id,id,first_name", "id"),
    ] {
        let input = env.file("in.csv", format!("{header}\n{CM},{CM2},Ann\n"));
        let out = env.run("chartmogul", &["bulk", &input]);
        assert_eq!(out.status.code(), Some(2), "{header}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("`{column}` twice")),
            "{header}: {}",
            stderr(&out)
        );
    }
    assert!(env.sandbox.chartmogul().journal().is_empty());
}

/// A refused key stops the run: the rows not sent are reported
/// `not_attempted`, the exit code is 1, and `--resume` with the right key
/// runs them.
#[test]
fn a_refused_key_stops_the_run_and_resume_picks_up_the_rest() {
    let env = Env::new("unauthorized");
    let ids = env.sandbox.chartmogul().add_customers(200);
    let mut csv = String::from("id,address.city\n");
    for id in &ids {
        csv.push_str(&format!("{id},Oslo\n"));
    }
    let input = env.file("in.csv", &csv);
    let rep = env.path("r.jsonl");
    let out = env
        .cmd(
            "chartmogul",
            &["bulk", &input, "--report", &rep, "--concurrency", "4"],
        )
        .env("CHARTMOGUL_API_KEY", "wrong-key")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("unauthorized"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    let sent = env.sandbox.chartmogul().journal().len();
    assert!(sent <= 8, "{sent} requests sent with a refused key");
    let lines = report(&rep);
    assert_eq!(lines.len(), 200, "every row is in the report");
    let failed = rows_with(&lines, "failed");
    let not_attempted = rows_with(&lines, "not_attempted");
    assert!(!failed.is_empty() && failed.len() <= 8, "{failed:?}");
    assert_eq!(failed.len() + not_attempted.len(), 200, "{lines:?}");
    assert!(lines
        .iter()
        .filter(|l| l["status"] == "failed")
        .all(|l| l["error"]["kind"] == "unauthorized"));

    env.sandbox.chartmogul().clear_journal();
    let out = env.run(
        "chartmogul",
        &["bulk", &input, "--report", &rep, "--resume"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.writes("chartmogul"), not_attempted.len());
    // --retry-failed runs the failed ones too, and only them.
    let out = env.run(
        "chartmogul",
        &[
            "bulk",
            &input,
            "--report",
            &rep,
            "--resume",
            "--retry-failed",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.writes("chartmogul"), not_attempted.len() + failed.len());
    assert_eq!(report(&rep).len(), 200 + not_attempted.len() + failed.len());
    for id in &ids {
        assert_eq!(
            env.sandbox.chartmogul().customer(id).unwrap()["city"],
            "Oslo"
        );
    }
}

/// A report that cannot be written stops the run: the updates in flight
/// finish, the summary is printed, the exit code is not 0.
#[test]
fn a_report_that_cannot_be_written_stops_the_run() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full");
        return;
    }
    let env = Env::new("devfull");
    let ids = env.sandbox.chartmogul().add_customers(200);
    let mut csv = String::from("id,address.city\n");
    for id in &ids {
        csv.push_str(&format!("{id},Oslo\n"));
    }
    let input = env.file("in.csv", &csv);
    let out = env.run(
        "chartmogul",
        &[
            "bulk",
            &input,
            "--report",
            "/dev/full",
            "--concurrency",
            "4",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("stopped:"), "a summary: {err}");
    assert!(err.contains("could not be written"), "{err}");
    let writes = env.writes("chartmogul");
    assert!(writes <= 8, "{writes} writes after the report failed");
}

/// SIGTERM is handled like Ctrl-C: the updates in flight finish and are
/// reported, a summary is printed, the exit code is 143; every write the
/// vendor received has its report line.
#[test]
fn sigterm_finishes_in_flight_rows_reports_them_and_exits_143() {
    let env = Env::new("sigterm");
    env.sandbox
        .chartmogul()
        .set_latency(Duration::from_millis(15));
    let ids = env.sandbox.chartmogul().add_customers(300);
    let mut csv = String::from("id,address.city\n");
    for id in &ids {
        csv.push_str(&format!("{id},Oslo\n"));
    }
    let input = env.file("in.csv", &csv);
    let rep = env.path("r.jsonl");
    let child = env
        .cmd(
            "chartmogul",
            &["bulk", &input, "--report", &rep, "--concurrency", "4"],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..3000 {
        if std::fs::read_to_string(&rep).map_or(0, |t| t.lines().count()) >= 10 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert!(err.contains("stopped:"), "a summary: {err}");
    let lines = report(&rep);
    assert!(lines.len() < 300, "stopped early");
    assert_eq!(
        env.writes("chartmogul"),
        rows_with(&lines, "applied").len(),
        "every write has its report line"
    );
}

/// A reader that stops early ends the command quietly, without a panic.
#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let env = Env::new("pipe");
    for args in [vec!["capabilities"], vec!["get", CM]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = env
            .cmd("chartmogul", &args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

/// Without `--report`, the failed rows are listed on stderr (number,
/// reference, reason), capped, with a pointer to `--report`.
#[test]
fn failed_rows_are_listed_on_stderr() {
    let env = Env::new("list");
    let input = env.file(
        "in.csv",
        format!("id,custom.tier:Integer\n{CM},1\nnope-1,x\n{CM2},y\n"),
    );
    let out = env.run("chartmogul", &["bulk", &input]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("row 3 (`nope-1`)"), "{err}");
    assert!(err.contains(&format!("row 4 (`{CM2}`)")), "{err}");
    assert!(err.contains("custom.tier"), "the reason: {err}");
    assert!(err.contains("--report"), "{err}");

    let mut csv = String::from("id,custom.tier:Integer\n");
    for i in 0..25 {
        csv.push_str(&format!("{CM},bad{i}\n"));
    }
    let input = env.file("many.csv", csv);
    let out = env.run("chartmogul", &["bulk", &input]);
    let err = stderr(&out);
    assert_eq!(err.matches("  row ").count(), 20, "{err}");
    assert!(err.contains("… and 5 more, see --report"), "{err}");
}

/// Every value refused before any request names its field and exits 2
/// for a single update, and has one kind (`input`) in bulk.
#[test]
fn values_refused_before_any_request_share_one_exit_code_and_kind() {
    let env = Env::new("refusals");
    for (set, field) in [
        ("email=not-an-email", "email"),
        ("currency=XYZ", "currency"),
        ("address.country=fr", "address.country"),
        ("lead_created_at=2024-01-02", "lead_created_at"),
    ] {
        let out = env.run("chartmogul", &["update", CM, "--set", set]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{set}: {err}");
        assert!(err.contains(&format!("`{field}`")), "{set}: {err}");
    }
    let out = env.run(
        "chartmogul",
        &["update", CM, "--set", "lead_created_at=2024-01-02"],
    );
    assert!(
        stderr(&out).contains("2024-01-02T00:00:00Z"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.writes("chartmogul"), 0);

    let input = env.file(
        "in.csv",
        format!("id,email,currency,address.country\n{CM},not-an-email,,\n{CM},,XYZ,\n{CM},,,fr\n"),
    );
    let rep = env.path("r.jsonl");
    let out = env.run("chartmogul", &["bulk", &input, "--report", &rep]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = report(&rep);
    assert_eq!(lines.len(), 3);
    for l in &lines {
        assert_eq!(l["status"], "failed", "{l}");
        assert_eq!(l["error"]["kind"], "input", "{l}");
    }
    assert_eq!(env.writes("chartmogul"), 0);
}

#[test]
fn progress_secs_nan_is_a_usage_error() {
    let env = Env::new("nan");
    let input = env.file("in.csv", format!("id,address.city\n{CM},Paris\n"));
    for secs in ["nan", "inf", "0", "-1"] {
        let flag = format!("--progress-secs={secs}");
        let out = env.run("chartmogul", &["bulk", &input, &flag]);
        assert_eq!(out.status.code(), Some(2), "{secs}: {}", stderr(&out));
        assert!(stderr(&out).contains("--progress-secs"), "{}", stderr(&out));
    }
    assert_eq!(env.writes("chartmogul"), 0);
}

/// The smaller messages: each names what is wrong in the user's terms.
#[test]
fn messages_say_what_is_wrong() {
    let env = Env::new("messages");
    let empty = env.file("empty.csv", "");
    let out = env.run("chartmogul", &["bulk", &empty]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("empty"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("no `id` column"), "{}", stderr(&out));

    let out = env.run("", &["--backend", "acme", "get", CM]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--backend"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("UNIBILL_BACKEND"),
        "{}",
        stderr(&out)
    );

    let out = env.run("chartmogul", &["update", CM, "--set", "tags=vip"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--tag"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("unknown field"), "{}", stderr(&out));

    let out = env.run("chartmogul", &["update", CM, "--tag", "+"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("names no tag"), "{}", stderr(&out));

    let out = env.run("fusebill", &["update", FB, "--set", "address.city=Paris"]);
    assert!(
        stderr(&out).contains("--ignore-unsupported"),
        "{}",
        stderr(&out)
    );

    let input = env.file("arr.jsonl", "[1,2]\n");
    let rep = env.path("arr.report.jsonl");
    env.run("chartmogul", &["bulk", &input, "--report", &rep]);
    let message = report(&rep)[0]["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("JSON object"), "{message}");
    assert!(!message.contains("more than once"), "{message}");

    let mut csv = b"id,address.city\n".to_vec();
    csv.extend_from_slice(format!("{CM},Par").as_bytes());
    csv.extend_from_slice(b"\xffis\n");
    let input = env.file("bad.csv", csv);
    let rep = env.path("bad.report.jsonl");
    env.run("chartmogul", &["bulk", &input, "--report", &rep]);
    let line = &report(&rep)[0];
    assert_eq!(line["ref"], CM, "{line}");
    assert_eq!(line["row"], 2, "{line}");
    assert!(line["error"]["message"]
        .as_str()
        .unwrap()
        .contains("address.city"));
    assert_eq!(env.writes("chartmogul"), 0);
}

/// Named profiles in one config file: `--profile` or `UNIBILL_PROFILE`
/// picks `[profiles.NAME]`; an unknown one lists the profiles.
#[test]
fn profiles_of_one_config_file() {
    let env = Env::new("profiles");
    let vars: std::collections::HashMap<_, _> = env.sandbox.env_vars().into_iter().collect();
    let toml = env.file(
        "c.toml",
        format!(
            "backend = \"fusebill\"\napi_key = \"{fk}\"\nbase_url = \"{fu}\"\n\n[profiles.cm]\nbackend = \"chartmogul\"\napi_key = \"{ck}\"\nbase_url = \"{cu}\"\n",
            fk = vars["FUSEBILL_API_KEY"],
            fu = vars["FUSEBILL_BASE_URL"],
            ck = vars["CHARTMOGUL_API_KEY"],
            cu = vars["CHARTMOGUL_BASE_URL"],
        ),
    );
    let out = env.run("", &["--config", &toml, "get", FB]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = env.run("", &["--config", &toml, "--profile", "cm", "get", CM]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = env
        .cmd("", &["--config", &toml, "get", CM])
        .env("UNIBILL_PROFILE", "cm")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = env.run("", &["--config", &toml, "--profile", "prod", "get", CM]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("prod") && stderr(&out).contains("cm"));
    // The flag needs a file; the variable, left set in a shell, does not
    // stop a run without one.
    let out = env.run("chartmogul", &["--profile", "cm", "get", CM]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = env
        .cmd("chartmogul", &["get", CM])
        .env("UNIBILL_PROFILE", "cm")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// `unibill sandbox` holds the lookup seeds, as `--sandbox` does.
#[test]
fn the_sandbox_command_has_the_lookup_seeds() {
    use unibill_sandbox::fusebill as fb;
    let (mut child, vars) = sandbox_command();
    let email = format!("email:{}", fb::LOOKUP_UNIQUE_EMAIL);
    let out = run_with(&vars, "fusebill", &["get", &email]);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "stops on SIGTERM");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["id"], fb::LOOKUP_UNIQUE_ID);
}

#[test]
fn version_and_shell_completions() {
    let env = Env::new("completions");
    let out = env.run("", &["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("unibill "));
    for (shell, marker) in [
        ("bash", "complete"),
        ("zsh", "#compdef unibill"),
        ("fish", "complete -c unibill"),
    ] {
        let out = env.run("", &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(
            script.contains("bulk") && script.contains("report"),
            "{shell}"
        );
    }
}

/// `-v` prints each request (method, path, status, time) on stderr, and
/// neither the key nor the body.
#[test]
fn verbose_prints_each_request_without_key_or_body() {
    let env = Env::new("verbose");
    for flag in ["-v", "--debug"] {
        let out = env.run(
            "chartmogul",
            &[flag, "update", CM, "--set", "address.city=Verbosetown"],
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        let line = format!("PATCH /v1/customers/{CM} -> 200 in ");
        assert!(err.contains(&line), "{flag}: {err}");
        assert!(!err.contains("Verbosetown"), "no body: {err}");
        let key = env.sandbox.credentials().chartmogul_api_key;
        assert!(!err.contains(key), "no key: {err}");
        assert!(
            !err.contains("connecting"),
            "only unibill's own lines: {err}"
        );
    }
    let out = env.run("chartmogul", &["get", CM]);
    assert!(!stderr(&out).contains("debug:"), "quiet without -v");
}

/// `--output json`: one compact JSON document on stdout for `get`,
/// `update` and `capabilities`, an error included.
#[test]
fn output_json_is_one_document_on_stdout() {
    let env = Env::new("json");
    let doc = |out: &Output| -> Value {
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.trim_end().lines().count(), 1, "one line: {text}");
        serde_json::from_str(&text).unwrap()
    };
    let out = env.run("chartmogul", &["--output", "json", "get", CM]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(doc(&out)["id"], CM);
    let out = env.run(
        "chartmogul",
        &[
            "update",
            CM,
            "--set",
            "address.city=Paris",
            "--output",
            "json",
        ],
    );
    assert_eq!(doc(&out)["customer"]["address"]["city"], "Paris");
    let out = env.run("chartmogul", &["--output", "json", "capabilities"]);
    let caps = doc(&out);
    assert_eq!(caps["chartmogul"]["fields"]["address.city"]["set"], true);
    assert_eq!(caps["everlytic"]["lookups"], serde_json::json!([]));
    let out = env.run(
        "chartmogul",
        &[
            "--output",
            "json",
            "get",
            "cus_00000000-0000-0000-0000-000000000000",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let error = doc(&out);
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not found"));
    assert!(
        stderr(&out).contains("not found"),
        "the message on stderr too"
    );
}
