#!/usr/bin/env bash
# What `panic = "unwind"` costs the webhook against `panic = "abort"`, measured in one run:
# binary size, and cold start (exec -> ready, exec -> first answer, peak RSS) with the
# cold-start harness, both binaries answering the same signed callback against one moto.
# Builds the abort variant into $CARGO_TARGET_DIR/panic-abort (default target/; a second full
# release build: slow). Results: $CARGO_TARGET_DIR/bench/panic-strategy.md. Knobs: SWITCHBOARD_BENCH_RUNS (default 25).
set -euo pipefail
cd "$(dirname "$0")/../.."
# cargo's target directory: $CARGO_TARGET_DIR when set (relative to the checkout, as for cargo).
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
export CARGO_TARGET_DIR=$target
out=$target/bench
runs=${SWITCHBOARD_BENCH_RUNS:-25}
mkdir -p "$out"

if [ "${1:-}" = "--under-moto" ]; then
  admin=$target/debug/switchboard-admin
  "$admin" local-stack --prefix switchboard-panic --env-dir "$out/panic-stack" \
    --env SWITCHBOARD_PUBLIC_MEDIA_BASE_URL=http://127.0.0.1:3002 > /dev/null
  (set -a; . "$out/panic-stack/WebhookFunction.env"; set +a; "$admin" seed --file infra/seed/demo.json > /dev/null)
  python3 infra/coldstart/events/make-webhook-event.py --out "$out/panic-webhook-event.json"
  env_args=()
  for side in baseline candidate; do
    while IFS= read -r line; do [ -n "$line" ] && env_args+=(--$side-env "$line"); done < "$out/panic-stack/WebhookFunction.env"
    for name in AWS_ENDPOINT_URL AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN; do
      env_args+=(--$side-env "$name=${!name}")
    done
  done
  expect=$(cat infra/coldstart/events/webhook.expect)
  "$target/release/coldstart" compare \
    --baseline "$target/panic-abort/release/webhook" --baseline-label 'webhook (panic=abort)' \
    --baseline-event "$out/panic-webhook-event.json" --baseline-expect "$expect" \
    --candidate "$target/release/webhook" --candidate-label 'webhook (panic=unwind)' \
    --candidate-event "$out/panic-webhook-event.json" --candidate-expect "$expect" \
    "${env_args[@]}" --runs "$runs" | tee "$out/panic-strategy.md"
  exit 0
fi

infra/scripts/install-tools.sh moto
cargo build --locked -p switchboard-admin
cargo build --locked --release -p switchboard-webhook -p switchboard-coldstart
CARGO_PROFILE_RELEASE_PANIC=abort CARGO_TARGET_DIR=$target/panic-abort \
  cargo build --locked --release -p switchboard-webhook
{
  echo "size, stripped x86_64 release binary (bytes):"
  echo "  panic=abort:  $(stat -c %s "$target/panic-abort/release/webhook")"
  echo "  panic=unwind: $(stat -c %s "$target/release/webhook")"
} | tee "$out/panic-size.txt"
exec infra/scripts/with-moto.sh -- "$PWD/infra/scripts/bench-panic-strategy.sh" --under-moto
