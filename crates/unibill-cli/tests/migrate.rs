//! `unibill diff` and `unibill sync` as ops run them: against a sandbox
//! seeded for a migration rehearsal (1,000 customers at both vendors, 10%
//! drifting, 20 at each alone, 3 ambiguous references), with reports,
//! exit codes, a resumed sync and usage errors.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use unibill_sandbox::{MigrationScenario, SeededDrift, Vendor};

mod common;
use common::*;

fn lines(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (key, field, left, right) of each line of a drift report.
fn drift(lines: &[Value]) -> BTreeSet<(String, String, String, String)> {
    lines
        .iter()
        .map(|l| {
            (
                l["key"].as_str().unwrap().to_owned(),
                l["field"].as_str().unwrap().to_owned(),
                l["left"].to_string(),
                l["right"].to_string(),
            )
        })
        .collect()
}

fn truth(seeded: &SeededDrift) -> BTreeSet<(String, String, String, String)> {
    seeded
        .differences
        .iter()
        .map(|d| {
            (
                d.key.clone(),
                d.field.name().to_owned(),
                d.left.to_string(),
                d.right.to_string(),
            )
        })
        .collect()
}

/// Runs `unibill CMD --from fusebill --to chartmogul EXTRA...`.
fn fb_to_cm(env: &Env, cmd: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![cmd, "--from", "fusebill", "--to", "chartmogul"];
    args.extend_from_slice(extra);
    env.run("fusebill", &args)
}

#[test]
fn diff_reports_the_seeded_drift_sync_repairs_it_and_a_second_sync_writes_nothing() {
    let env = Env::new("migrate-rehearsal");
    let seeded = env.sandbox.seed_migration(
        Vendor::Fusebill,
        Vendor::ChartMogul,
        &MigrationScenario::default(),
    );
    let report = env.path("drift.jsonl");
    let run = |cmd: &str, extra: &[&str]| fb_to_cm(&env, cmd, extra);

    // Diff: exit 1, exactly the seeded drift, the summary on stderr.
    let out = run("diff", &["--report", &report]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(drift(&lines(&report)), truth(&seeded));
    let err = stderr(&out);
    assert!(err.contains("pairs compared"), "{err}");
    assert!(err.contains("1000"), "{err}");
    assert!(err.contains("DUP-000"), "{err}");
    assert_eq!(env.writes("chartmogul") + env.writes("fusebill"), 0);

    // Without --report the lines go to stdout.
    let out = run("diff", &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(drift(&stdout), truth(&seeded));

    // A dry run writes nothing and plans what --apply then does.
    let plan = env.path("plan.jsonl");
    let out = run("sync", &["--report", &plan]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.writes("chartmogul"), 0);
    let planned: BTreeSet<String> = lines(&plan)
        .iter()
        .filter(|l| l["status"] == "planned")
        .map(|l| l["key"].as_str().unwrap().to_owned())
        .collect();
    assert!(!planned.is_empty());

    let applied_report = env.path("sync.jsonl");
    let out = run("sync", &["--apply", "--report", &applied_report]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let applied = lines(&applied_report);
    let written: BTreeSet<String> = applied
        .iter()
        .filter(|l| l["status"] == "applied")
        .map(|l| l["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(written, planned, "the dry run planned what was applied");
    assert!(env.writes("chartmogul") > 0);
    assert_eq!(env.writes("fusebill"), 0, "the source is only read");
    let cannot: BTreeMap<String, BTreeSet<String>> = applied
        .iter()
        .filter(|l| !l["cannot_set"].as_array().unwrap().is_empty())
        .map(|l| {
            (
                l["key"].as_str().unwrap().to_owned(),
                l["cannot_set"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();

    // Then only what ChartMogul cannot set still differs.
    let out = run("diff", &["--report", &report]);
    assert_eq!(out.status.code(), Some(1), "the unmatched remain");
    let mut left_over: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (key, field, _, _) in drift(&lines(&report)) {
        left_over.entry(key).or_default().insert(field);
    }
    assert_eq!(left_over, cannot);

    // A second sync writes nothing.
    env.sandbox.chartmogul().clear_journal();
    let out = run("sync", &["--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.writes("chartmogul"), 0);
    let err = stderr(&out);
    assert!(err.contains("cannot set status at chartmogul"), "{err}");
}

#[test]
fn a_resumed_sync_leaves_alone_the_pairs_its_report_holds_as_done() {
    let env = Env::new("migrate-resume");
    let seeded = env.sandbox.seed_migration(
        Vendor::Fusebill,
        Vendor::ChartMogul,
        &MigrationScenario {
            matched: 100,
            ..MigrationScenario::default()
        },
    );
    // A report from an interrupted run that had repaired two pairs.
    let company: Vec<&str> = seeded
        .differences
        .iter()
        .filter(|d| d.field.name() == "company")
        .map(|d| d.key.as_str())
        .collect();
    assert!(company.len() >= 2, "{company:?}");
    let report = env.file(
        "sync.jsonl",
        format!(
            "{{\"key\":\"{}\",\"status\":\"applied\"}}\n{{\"key\":\"{}\",\"status\":\"failed\"}}\n",
            company[0], company[1]
        ),
    );
    let out = fb_to_cm(&env, "sync", &["--apply", "--report", &report, "--resume"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let all = lines(&report);
    assert_eq!(all.len(), 2 + seeded_pairs_differing(&seeded) - 1);
    let new_keys: BTreeSet<&str> = all[2..]
        .iter()
        .map(|l| l["key"].as_str().unwrap())
        .collect();
    assert!(!new_keys.contains(company[0]), "a pair done is left alone");
    assert!(new_keys.contains(company[1]), "a failed pair runs again");
    assert!(stderr(&out).contains("pairs skipped (--resume)"));
    // The skipped pair's drift is still there.
    let drift_report = env.path("drift.jsonl");
    let out = fb_to_cm(
        &env,
        "diff",
        &["--fields", "company", "--report", &drift_report],
    );
    assert_eq!(out.status.code(), Some(1));
    let keys: Vec<String> = lines(&drift_report)
        .iter()
        .map(|l| l["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys, [company[0]]);
}

fn seeded_pairs_differing(seeded: &SeededDrift) -> usize {
    seeded
        .differences
        .iter()
        .map(|d| d.key.as_str())
        .collect::<BTreeSet<_>>()
        .len()
}

/// Two sides that agree on every compared field, every customer paired:
/// exit 0. Everlytic's two example customers, and Fusebill's two made to
/// hold their references and emails.
#[test]
fn diff_exits_0_when_the_two_sides_agree() {
    let env = Env::new("migrate-clean");
    let ev = env.sandbox.everlytic();
    let fb = env.sandbox.fusebill();
    let ev_ids = ["1001", "1002"];
    let fb_ids = [FB, "12000749"];
    for (e, f) in ev_ids.iter().zip(fb_ids) {
        let stored = ev.customer(e).unwrap_or_else(|| panic!("everlytic {e}"));
        let (email, reference) = (stored["email"].clone(), stored["unique_id"].clone());
        assert!(fb.customer(f).is_some(), "fusebill {f}");
        fb.update_customer(f, |c| {
            c["primaryEmail"] = email;
            c["reference"] = reference;
        });
    }
    let diff_emails = || {
        env.run(
            "fusebill",
            &[
                "diff",
                "--from",
                "everlytic",
                "--to",
                "fusebill",
                "--fields",
                "email",
            ],
        )
    };
    let out = diff_emails();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    // One email changed: exit 1, one line.
    fb.update_customer(FB, |c| {
        c["primaryEmail"] = "someone.else@example.com".into()
    });
    let out = diff_emails();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn the_sandbox_rehearsal_seeds_two_vendors_with_known_drift() {
    let env = Env::new("migrate-sandbox");
    let report = env.path("drift.jsonl");
    let out = env.run(
        "fusebill",
        &[
            "diff",
            "--sandbox",
            "--from",
            "everlytic",
            "--to",
            "chartmogul",
            "--report",
            &report,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("1000 customers at both everlytic and chartmogul"));
    // The same seeding, done here, is the truth (ids aside).
    let expected = env.sandbox.seed_migration(
        Vendor::Everlytic,
        Vendor::ChartMogul,
        &MigrationScenario::default(),
    );
    assert_eq!(drift(&lines(&report)), truth(&expected));
}

#[test]
fn usage_errors_exit_2_and_name_the_flag() {
    let env = Env::new("migrate-usage");
    let map = env.file("map.csv", "left_id,right_id\n12000750\n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["diff", "--from", "fusebill"], "--to"),
        (
            vec!["diff", "--from", "nosuch", "--to", "fusebill"],
            "--from `nosuch`",
        ),
        (
            vec![
                "diff",
                "--from",
                "fusebill",
                "--to",
                "chartmogul",
                "--match",
                "id",
            ],
            "external, email or map:FILE",
        ),
        (
            vec![
                "diff",
                "--from",
                "fusebill",
                "--to",
                "chartmogul",
                "--match",
                &map,
            ],
            "map:FILE",
        ),
        (
            vec![
                "diff",
                "--from",
                "fusebill",
                "--to",
                "chartmogul",
                "--match",
                "map:/nonexistent/map.csv",
            ],
            "cannot read the id map",
        ),
        (
            vec![
                "diff",
                "--from",
                "fusebill",
                "--to",
                "chartmogul",
                "--fields",
                "colour",
            ],
            "no field `colour`",
        ),
        (
            vec![
                "diff",
                "--sandbox",
                "--from",
                "fusebill",
                "--to",
                "fusebill",
            ],
            "two different backends",
        ),
        (
            vec![
                "sync",
                "--from",
                "fusebill",
                "--to",
                "chartmogul",
                "--resume",
            ],
            "--report",
        ),
        (
            vec![
                "diff",
                "--from",
                "fusebill",
                "--to",
                "chartmogul",
                "--backend",
                "fusebill",
            ],
            "leave out --backend",
        ),
    ];
    for (args, says) in cases {
        let out = env.run("fusebill", &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    // A map file with a bad row names its line.
    let bad = format!("map:{}", env.file("bad.csv", "a,b\nc\n"));
    let out = fb_to_cm(&env, "diff", &["--match", &bad]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 2"), "{}", stderr(&out));
    assert_eq!(env.writes("chartmogul") + env.writes("fusebill"), 0);
}

/// A backend that refuses the key: diff exits 2 (trouble, not "they
/// differ"), and the key is never printed.
#[test]
fn a_backend_that_fails_makes_diff_exit_2_without_printing_the_key() {
    let env = Env::new("migrate-trouble");
    let out = env
        .cmd(
            "fusebill",
            &["diff", "--from", "fusebill", "--to", "chartmogul"],
        )
        .env("CHARTMOGUL_API_KEY", "wrong-key-1234567890")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains("wrong-key-1234567890"), "{err}");
    assert!(err.contains("chartmogul"), "{err}");
}
