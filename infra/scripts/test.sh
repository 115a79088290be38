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

# The schema and golden-example tests rewrite their files when this is "1": never in a test run.
unset SWITCHBOARD_UPDATE_SCHEMAS

# Build first, outside moto's lifetime: the build is the slow part on a cold machine.
cargo build --locked --workspace --all-targets

echo "== template checks"
infra/scripts/lint-template.sh

echo "== tests (unit, integration against moto, end-to-end)"
infra/scripts/with-moto.sh -- bash -c '
  set -euo pipefail
  mkdir -p .local
  # A shared stack, with one <LogicalId>.env per function of the template, for black-box tests;
  # the other tests create their own stacks with unique prefixes.
  cargo run --locked -q -p switchboard-admin -- \
    local-stack --prefix make-test --env-dir .local/test-stack \
    --env "SWITCHBOARD_PUBLIC_MEDIA_BASE_URL=http://127.0.0.1:${SWITCHBOARD_PUBLIC_MEDIA_PORT:-3002}" > /dev/null
  export SWITCHBOARD_TEST_STACK_DIR="$PWD/.local/test-stack"
  cargo test --locked --workspace --all-targets
'
