//! The README tells the truth: its capability table is what the backends
//! declare, its two set-up commands are the ones CI runs, and the
//! quickstart succeeds.

#[cfg(all(
    feature = "chartmogul",
    feature = "fusebill",
    feature = "everlytic",
    feature = "stripe"
))]
#[test]
fn readme_capability_table_matches_the_code() {
    let readme = include_str!("../README.md");
    let start = "<!-- capabilities:start -->\n";
    let end = "<!-- capabilities:end -->";
    let from = readme.find(start).expect("start marker") + start.len();
    let to = readme[from..].find(end).expect("end marker") + from;
    let table = unibill::capability_table().unwrap();
    assert_eq!(
        readme[from..to].trim(),
        table.trim(),
        "README capability table is stale: paste the output of `cargo run --example capabilities`"
    );
}

/// The README's lookup table, rebuilt from each compiled-in backend's
/// `capabilities().can_lookup(..)` and `capabilities().listing()`.
#[cfg(all(
    feature = "chartmogul",
    feature = "fusebill",
    feature = "everlytic",
    feature = "stripe"
))]
fn lookup_table() -> String {
    let all = unibill::backend_capabilities();
    let mut out = String::from("| lookup |");
    for c in &all {
        out.push_str(&format!(" {} |", c.backend()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(all.len()));
    out.push('\n');
    for kind in unibill::LookupKind::ALL {
        let constructor = match kind {
            unibill::LookupKind::Email => "CustomerRef::email",
            _ => "CustomerRef::external",
        };
        out.push_str(&format!("| {kind} (`{constructor}`) |"));
        for c in &all {
            out.push_str(if c.can_lookup(*kind) {
                " yes |"
            } else {
                " - |"
            });
        }
        out.push('\n');
    }
    for (row, needs) in [
        ("every customer (`list`)", unibill::Listing::All),
        (
            "changed since (`ListOptions::changed_since`)",
            unibill::Listing::ChangedSince,
        ),
    ] {
        out.push_str(&format!("| {row} |"));
        for c in &all {
            out.push_str(if c.listing() >= needs {
                " yes |"
            } else {
                " - |"
            });
        }
        out.push('\n');
    }
    out
}

#[cfg(all(
    feature = "chartmogul",
    feature = "fusebill",
    feature = "everlytic",
    feature = "stripe"
))]
#[test]
fn readme_lookup_table_matches_the_code() {
    let readme = include_str!("../README.md");
    let start = "<!-- lookups:start -->\n";
    let end = "<!-- lookups:end -->";
    let from = readme.find(start).expect("start marker") + start.len();
    let to = readme[from..].find(end).expect("end marker") + from;
    let table = lookup_table();
    assert_eq!(
        readme[from..to].trim(),
        table.trim(),
        "README lookup table is stale; the code declares:\n{table}"
    );
    // Every row is a lookup kind, every column a backend.
    assert_eq!(table.lines().count(), unibill::LookupKind::ALL.len() + 4);
}

/// The quickstart, compiled into this test so that the first of the two
/// commands is run by the second (CI builds the example but does not run
/// it).
#[cfg(all(
    feature = "chartmogul",
    feature = "fusebill",
    feature = "everlytic",
    feature = "stripe"
))]
#[path = "../examples/quickstart.rs"]
mod quickstart;

#[cfg(all(
    feature = "chartmogul",
    feature = "fusebill",
    feature = "everlytic",
    feature = "stripe"
))]
#[test]
fn readme_quickstart_runs_on_the_sandbox() {
    if let Err(e) = quickstart::main() {
        panic!("the quickstart fails: {e}");
    }
}

#[test]
fn readme_commands_are_the_ci_commands() {
    let readme = include_str!("../README.md");
    let ci = include_str!("../.ci/run");
    assert!(readme.contains("cargo run --example quickstart"));
    let test_cmd = "cargo test --workspace --all-features";
    assert!(readme.contains(test_cmd), "README names the test command");
    assert!(
        ci.contains(test_cmd),
        ".ci/run runs the README's test command"
    );
}
