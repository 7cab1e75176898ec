#!/usr/bin/env bash
# Checks that a new backend is its crate plus one registry row: copies the
# repository's tracked files to a scratch tree under target/, adds this
# demo crate to crates/, and to the facade exactly one registry row, one
# cargo feature and one dependency, then runs the demo's facade tests
# (Config from JSON, TOML and the environment; the neutral calls on the
# demo store) and the behaviour suite with the feature on, whose scenarios
# then also run on the demo backend (module `demo::`; the two that need
# HTTP faults are listed as ignored, with the reason). Exits non-zero if
# any step fails.
#
#   tests/demo-backend/check.sh            # the check
#   DEMO_ROW='...' tests/demo-backend/check.sh   # with another registry row
set -euo pipefail

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
# The scratch tree lives under the repository's target dir, and builds in a
# target dir of its own beside it. Its crates sit at the same paths
# relative to its workspace root as the repository's, so cargo gives their
# builds the same names: in one target dir, the scratch tree's builds would
# replace the repository's, and a later build of the repository would take
# them for fresh, tracking the scratch tree's files instead of its own.
main_target=$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")
scratch="$main_target/demo-check/repo"
CARGO_TARGET_DIR="$main_target/demo-check/target"
export CARGO_TARGET_DIR
export CARGO_INCREMENTAL=0

row="${DEMO_ROW:-demo(api_key) => Demo(DemoConfig) in unibill_demo, feature = \"demo\", as_demo;}"

rm -rf "$scratch"
mkdir -p "$scratch"
# The tracked files as they are in the work tree (uncommitted edits too).
git -C "$root" ls-files -z | (cd "$root" && xargs -0 cp --parents -t "$scratch")
cp "$root/Cargo.lock" "$scratch/" 2>/dev/null || true

cp -r "$root/tests/demo-backend" "$scratch/crates/unibill-demo"
rm "$scratch/crates/unibill-demo/check.sh" "$scratch/crates/unibill-demo/demo.rs"
cp "$root/tests/demo-backend/demo.rs" "$scratch/tests/demo.rs"

cd "$scratch"
# 1. The registry row, after the last backend's row.
sed -i "/^ *everlytic(base_url, username, api_key) => /a\\            $row" src/config.rs
# 2. The cargo feature, after the last backend's feature.
sed -i '/^everlytic = \["dep:unibill-everlytic"\]$/a demo = ["dep:unibill-demo"]' Cargo.toml
# 3. The dependency, after the last backend's.
sed -i '/^unibill-everlytic = { workspace = true, optional = true }$/a unibill-demo = { path = "crates/unibill-demo", optional = true }' Cargo.toml

# Each edit must have landed exactly once.
test "$(grep -c 'unibill_demo' src/config.rs)" = 1
test "$(grep -c '^demo = \["dep:unibill-demo"\]$' Cargo.toml)" = 1
test "$(grep -c '^unibill-demo = ' Cargo.toml)" = 1
git -C "$root" diff --no-index --stat "$root/src" "$scratch/src" || true

cargo fmt --all -- --check
timeout 1800 cargo clippy -p unibill-demo -p unibill --features demo --lib --test demo --test behaviour -- -D warnings
RUSTDOCFLAGS="-D warnings" timeout 1800 cargo doc -p unibill-demo --no-deps
timeout 1800 cargo test --features demo --test demo
log="$main_target/demo-check/behaviour.log"
timeout 1800 cargo test --features demo --test behaviour 2>&1 | tee "$log"
# The scenarios ran on the demo backend too; a skipped one is listed as
# ignored, with its reason.
ran=$(grep -c '^test demo::.* ok$' "$log" || true)
skipped=$(grep -c '^test demo::.* ignored' "$log" || true)
test "$ran" -gt 0
echo "demo scenarios: $ran passed, $skipped skipped"
echo "demo check: passed"
