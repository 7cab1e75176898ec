//! Core's layout keeps its roles apart: no module of the model
//! (`src/model/`) imports from the backend kit (`src/backend/`) or the
//! runtime (`src/runtime/`). Doc comments may link to them.

use std::fs;
use std::path::Path;

/// The public paths of the kit's and the runtime's modules (see `lib.rs`).
const NOT_MODEL: [&str; 9] = [
    "backend",
    "builder",
    "lock",
    "lookup",
    "transport",
    "runtime",
    "bulk",
    "portable",
    "updater",
];

/// `crate::<module>` and `super::<...>` paths leaving the model, in one line
/// of code (comments are skipped by the caller).
fn leaves_the_model(code: &str) -> Option<&'static str> {
    NOT_MODEL.iter().copied().find(|m| {
        code.match_indices("crate::").any(|(i, _)| {
            code[i + "crate::".len()..].starts_with(m)
                && !code[i + "crate::".len() + m.len()..]
                    .starts_with(|c: char| c.is_alphanumeric() || c == '_')
        })
    })
}

#[test]
fn the_model_imports_neither_the_backend_kit_nor_the_runtime() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model");
    let mut files = 0;
    let mut found = Vec::new();
    for entry in fs::read_dir(&dir).expect("src/model") {
        let path = entry.expect("an entry").path();
        let text = fs::read_to_string(&path).expect("a source file");
        files += 1;
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if let Some(m) = leaves_the_model(code) {
                found.push(format!("{}:{}: uses crate::{m}", path.display(), n + 1));
            }
        }
    }
    assert!(files >= 10, "read {files} model files");
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_check_sees_a_kit_import() {
    assert_eq!(
        leaves_the_model("use crate::transport::Transport;"),
        Some("transport")
    );
    assert_eq!(leaves_the_model("crate::lock::LockGuard"), Some("lock"));
    assert_eq!(leaves_the_model("use crate::lookups_of_my_own::X;"), None);
    assert_eq!(leaves_the_model("use crate::patch::CustomerPatch;"), None);
}
