#!/usr/bin/env bash
# `make test`: every test, from a fresh clone. Installs what is missing (project-local), starts
# moto on a free loopback port, creates the local stack from template.yaml, runs the workspace's
# tests against it, lints the template, and stops moto, also on failure. The Rust checks
# (rustfmt, clippy, cargo-deny) run first: a lint failure is found before the slow part.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

infra/scripts/install-tools.sh moto sam sinch deny

infra/scripts/lint-rust.sh

# Build first, outside moto's lifetime: the build is the slow part on a cold machine.
cargo build --locked --workspace --all-targets

echo "== template checks"
infra/scripts/lint-template.sh

echo "== tests (unit, integration against moto, end-to-end)"
infra/scripts/with-moto.sh -- bash -c '
  set -euo pipefail
  mkdir -p .local
  # The shared stack the black-box tests use; other tests create their own with unique prefixes.
  cargo run --locked -q -p switchboard-infra --bin switchboard-admin -- \
    local-stack --prefix make-test --function WebhookFunction --format env > .local/test-stack.env
  export SWITCHBOARD_TEST_STACK_ENV="$PWD/.local/test-stack.env"
  cargo test --locked --workspace --all-targets
'
