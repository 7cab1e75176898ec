//! The README tells the truth: its capability table is what the backends
//! declare, and its two set-up commands are the ones CI runs.

#[cfg(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic"))]
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
