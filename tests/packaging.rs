//! Every publishable crate is ready for crates.io and docs.rs: its manifest
//! carries the metadata a crate page shows, docs.rs builds it with every
//! feature and `--cfg docsrs` (which turns on the feature badges), its own
//! README exists, and the data files a crate embeds live inside it.
//! `.ci/run` also runs `cargo package --workspace --locked`, which builds
//! each crate from its own tarball.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace's package directories: the facade and every `crates/*`.
fn package_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![root()];
    let mut members: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .expect("crates/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    members.sort();
    dirs.extend(members);
    dirs
}

fn manifest(dir: &Path) -> toml::Table {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
    text.parse().expect("Cargo.toml parses")
}

fn workspace_package() -> toml::Table {
    manifest(&root())["workspace"]["package"]
        .as_table()
        .expect("[workspace.package]")
        .clone()
}

/// A `[package]` key, following `key.workspace = true` to the workspace.
fn package_key(package: &toml::Table, key: &str) -> Option<toml::Value> {
    let value = package.get(key)?;
    if value.get("workspace").and_then(toml::Value::as_bool) == Some(true) {
        workspace_package().get(key).cloned()
    } else {
        Some(value.clone())
    }
}

fn is_published(package: &toml::Table) -> bool {
    package.get("publish").and_then(toml::Value::as_bool) != Some(false)
}

#[test]
fn every_published_manifest_has_the_crates_io_metadata() {
    let mut published = Vec::new();
    for dir in package_dirs() {
        let manifest = manifest(&dir);
        let package = manifest["package"].as_table().expect("[package]");
        if !is_published(package) {
            continue;
        }
        let name = package["name"].as_str().expect("name").to_owned();
        for key in [
            "description",
            "license",
            "rust-version",
            "repository",
            "readme",
        ] {
            let value = package_key(package, key).unwrap_or_else(|| panic!("{name}: no `{key}`"));
            let text = value.as_str().unwrap_or_default();
            assert!(!text.trim().is_empty(), "{name}: `{key}` is empty");
        }
        let readme = package_key(package, "readme").unwrap();
        assert!(
            dir.join(readme.as_str().unwrap()).is_file(),
            "{name}: its readme file is missing"
        );
        let keywords = package_key(package, "keywords")
            .and_then(|k| k.as_array().cloned())
            .unwrap_or_else(|| panic!("{name}: no `keywords`"));
        assert!(
            (1..=5).contains(&keywords.len()),
            "{name}: crates.io takes 1 to 5 keywords"
        );
        for keyword in &keywords {
            let k = keyword.as_str().expect("a keyword is a string");
            assert!(
                k.len() <= 20
                    && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{name}: keyword {k:?} is not one crates.io accepts"
            );
        }
        let categories = package_key(package, "categories")
            .and_then(|c| c.as_array().cloned())
            .unwrap_or_else(|| panic!("{name}: no `categories`"));
        assert!(
            (1..=5).contains(&categories.len()),
            "{name}: 1 to 5 categories"
        );

        let docs_rs = package
            .get("metadata")
            .and_then(|m| m.get("docs").and_then(|d| d.get("rs")))
            .unwrap_or_else(|| panic!("{name}: no [package.metadata.docs.rs]"));
        assert_eq!(
            docs_rs.get("all-features").and_then(toml::Value::as_bool),
            Some(true),
            "{name}: docs.rs must build with every feature"
        );
        let args: Vec<&str> = docs_rs
            .get("rustdoc-args")
            .and_then(toml::Value::as_array)
            .map(|a| a.iter().filter_map(toml::Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(args, ["--cfg", "docsrs"], "{name}: rustdoc-args");

        let lib = dir.join("src/lib.rs");
        if lib.is_file() {
            let source = std::fs::read_to_string(&lib).unwrap();
            assert!(
                source.contains("#![cfg_attr(docsrs, feature(doc_cfg))]"),
                "{name}: src/lib.rs lacks the docs.rs feature-badge attribute"
            );
        }
        published.push(name);
    }
    // The facade, core, the four backends, Redis, migrate, the sandbox and
    // the CLI.
    assert_eq!(published.len(), 10, "published crates: {published:?}");
}

#[test]
fn no_crate_embeds_a_file_from_outside_its_own_directory() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    for dir in package_dirs() {
        let src = dir.join("src");
        let mut files = Vec::new();
        walk(&src, &mut files);
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            for (at, _) in source.match_indices("include_") {
                let rest = &source[at..];
                let Some(open) = rest.find("(\"") else {
                    continue;
                };
                if !(rest.starts_with("include_str!") || rest.starts_with("include_bytes!")) {
                    continue;
                }
                let arg = &rest[open + 2..];
                let arg = &arg[..arg.find('"').unwrap()];
                let target = file.parent().unwrap().join(arg);
                let target = target.canonicalize().unwrap_or(target);
                assert!(
                    target.starts_with(dir.canonicalize().unwrap()),
                    "{} embeds {arg}, outside its package: the packaged crate would not build",
                    file.display()
                );
            }
        }
    }
}
