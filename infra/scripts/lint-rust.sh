#!/usr/bin/env bash
# The Rust checks of `make lint` and `make test`: formatting (the workspace and fuzz/), clippy
# with every warning an error, and cargo-deny on licenses, banned and duplicate crates, and
# sources (deny.toml says what is allowed and why). cargo-deny is installed, pinned, into
# .tools/cargo by install-tools.sh.
#
# cargo-deny's `advisories` check is not run: it needs the RustSec advisory database, which it
# clones from GitHub, and this project's machines (developers' and CI's) reach package
# registries only. Run `cargo deny check advisories` where GitHub is reachable.
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/install-tools.sh deny
deny=$PWD/.tools/cargo/bin/cargo-deny

echo "== rustfmt"
cargo fmt --all --check
# Not --all there: that would take in its path dependencies, the workspace's crates, again.
cargo fmt --check --manifest-path fuzz/Cargo.toml

echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo-deny (licenses, bans, sources)"
# The libfuzzer-sys license exception only applies to fuzz/.
"$deny" --locked check --hide-inclusion-graph -A license-exception-not-encountered \
  licenses bans sources
"$deny" --locked --manifest-path fuzz/Cargo.toml check --hide-inclusion-graph licenses bans sources
