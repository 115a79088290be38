#!/usr/bin/env bash
# `make dev`: the whole system locally. moto, the stack from template.yaml, tenants from the
# seed file, and every function of the template that is built with cargo-lambda
# (`switchboard-admin functions` lists them) run as AWS runs them: its Lambda binary under the
# local Lambda emulator (`switchboard-admin emulate`, docs/lambda-emulator.md), which serves the
# template's HTTP API routes on 127.0.0.1:$SWITCHBOARD_HTTP_PORT (3000) with payload format 2.0,
# runs its SQS event source mappings (batch size, FIFO groups, visibility, redrive,
# ReportBatchItemFailures) and fires its schedules every $SWITCHBOARD_SCHEDULE_EVERY_SECS (60)
# instead of the template's rate. No function listens on a port of its own.
# The Sinch simulator serves on 127.0.0.1:$SWITCHBOARD_SINCH_PORT (3001), and the stand-in for
# the public media distribution on 127.0.0.1:$SWITCHBOARD_PUBLIC_MEDIA_PORT (3002), moto on
# $SWITCHBOARD_MOTO_PORT (4566). SWITCHBOARD_* variables of the caller's environment reach every
# function (e.g. SWITCHBOARD_MEDIA_ALLOW_LOCAL for the inbound stage) unless the template sets
# them. Binaries are taken from $CARGO_TARGET_DIR (default target/). Runs until Ctrl-C; stops
# everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
# cargo's target directory: $CARGO_TARGET_DIR when set (relative to the checkout, as for cargo).
target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir=$PWD/$target_dir ;; esac
bin_dir=$target_dir/debug
admin=$bin_dir/switchboard-admin
# What a session writes (the functions' environments, the list of functions): a second session
# in the same checkout (the e2e test of `make dev`) keeps its own with SWITCHBOARD_DEV_DIR.
export SWITCHBOARD_DEV_DIR=${SWITCHBOARD_DEV_DIR:-.local}
dev_dir=$SWITCHBOARD_DEV_DIR

# --- run by with-moto.sh (which stops moto however this ends) ---------------------------------
if [ "${1:-}" = "--under-moto" ]; then
  # The HTTP API's URL in the functions' environments (the media links' base) is the gateway's;
  # the CloudFront distribution has no local counterpart: its URL is the local stand-in's.
  "$admin" local-stack --prefix switchboard-local --env-dir "$dev_dir/dev-stack" \
    --http-base-url "http://127.0.0.1:$SWITCHBOARD_HTTP_PORT" \
    --env "SWITCHBOARD_PUBLIC_MEDIA_BASE_URL=http://127.0.0.1:$SWITCHBOARD_PUBLIC_MEDIA_PORT" > /dev/null
  pids=()
  stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
  trap stop EXIT
  trap 'exit 143' INT TERM
  # A service pointed at the simulator's default address (the demo's api_base_url) follows the
  # port the simulator runs on here, so another SWITCHBOARD_SINCH_PORT still reaches it.
  seed_file=$SWITCHBOARD_SEED
  if [ "$SWITCHBOARD_SINCH_PORT" != 3001 ]; then
    seed_file=$dev_dir/dev-seed.json
    sed "s#//\(127\.0\.0\.1\|localhost\):3001\([\"/]\)#//\1:$SWITCHBOARD_SINCH_PORT\2#g" \
      "$SWITCHBOARD_SEED" > "$seed_file"
  fi
  first_env=$(ls "$dev_dir"/dev-stack/*.env 2>/dev/null | head -n 1)
  [ -n "$first_env" ] || { echo "dev: the template has no function to run" >&2; exit 1; }
  # One config table for all functions: any function's environment names it.
  (set -a; . "$first_env"; set +a; "$admin" seed --file "$seed_file" > /dev/null)
  echo
  echo "Switchboard is running locally: every function as its Lambda binary under the emulator."
  schedule_args=(--schedule-every "$SWITCHBOARD_SCHEDULE_EVERY_SECS")
  "$admin" emulate --prefix switchboard-local --env-dir "$dev_dir/dev-stack" --bin-dir "$bin_dir" \
    --http-listen "127.0.0.1:$SWITCHBOARD_HTTP_PORT" "${schedule_args[@]}" \
    --async-retry-delay "$SWITCHBOARD_ASYNC_RETRY_DELAY_SECS" --async-retry-delay "$SWITCHBOARD_ASYNC_RETRY_DELAY_SECS" \
    > "$dev_dir/emulator.out" &
  pids+=($!)
  for _ in $(seq 1 100); do
    grep -q '^listening on' "$dev_dir/emulator.out" 2>/dev/null && break
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "dev: the emulator did not start (see above)" >&2; exit 1; }
    sleep 0.1
  done
  echo "  HTTP API (API Gateway, payload 2.0): http://127.0.0.1:$SWITCHBOARD_HTTP_PORT"
  echo "    webhook:     /{tenant}/sms/sinchconversation/{service|all}"
  echo "    media links: /{tenant}/media/{token}"
  # The Sinch simulator stands in for Sinch (README "Sinch simulator"); the demo tenant's
  # api_base_url points at it, and its callbacks go to the webhook through the gateway.
  if [ -n "${first_env:-}" ]; then
    (set -a; . "$first_env"; set +a
     SWITCHBOARD_SINCH_PORT=$SWITCHBOARD_SINCH_PORT \
     SWITCHBOARD_SINCH_WEBHOOK_BASE_URL=http://127.0.0.1:$SWITCHBOARD_HTTP_PORT \
     exec "$bin_dir/sinch-simulator" > /dev/null) &
    pids+=($!)
    echo "  Sinch simulator: http://127.0.0.1:$SWITCHBOARD_SINCH_PORT (requests: /_simulator/requests)"
  fi
  # Agents' attachments (outbound/) served from moto as PublicMediaDistribution serves them
  # (README "Public URLs for agents' attachments").
  media_bucket=$(grep -h '^SWITCHBOARD_MEDIA_BUCKET=' "$dev_dir"/dev-stack/*.env | head -n 1 | cut -d= -f2-)
  if [ -n "$media_bucket" ]; then
    "$admin" public-media --bucket "$media_bucket" --port "$SWITCHBOARD_PUBLIC_MEDIA_PORT" > /dev/null &
    pids+=($!)
    echo "  public media: http://127.0.0.1:$SWITCHBOARD_PUBLIC_MEDIA_PORT/outbound/{key} (stand-in for the CloudFront distribution)"
  fi
  grep -h '_QUEUE_URL=' "$dev_dir"/dev-stack/*.env | sort -u | sed 's/^SWITCHBOARD_/  /; s/=/: /'
  echo "  environments: $dev_dir/dev-stack/<function>.env"
  echo "  AWS (moto):   $AWS_ENDPOINT_URL   (region $AWS_REGION, any credentials)"
  echo "  seed:         $SWITCHBOARD_SEED"
  echo "Ctrl-C stops everything."
  echo
  # The first process to exit ends the session; stop() ends the others.
  wait -n "${pids[@]}"
  exit 1
fi

export SWITCHBOARD_SEED=${SWITCHBOARD_SEED:-infra/seed/demo.json}
export SWITCHBOARD_HTTP_PORT=${SWITCHBOARD_HTTP_PORT:-3000}
export SWITCHBOARD_SINCH_PORT=${SWITCHBOARD_SINCH_PORT:-3001}
export SWITCHBOARD_PUBLIC_MEDIA_PORT=${SWITCHBOARD_PUBLIC_MEDIA_PORT:-3002}
# Local periods: schedules fire every minute (the template's rate is hours), and a failed
# scheduled invocation is retried after 5 s instead of Lambda's 1 and 2 minutes.
export SWITCHBOARD_SCHEDULE_EVERY_SECS=${SWITCHBOARD_SCHEDULE_EVERY_SECS:-${SWITCHBOARD_RETENTION_EVERY_SECS:-60}}
export SWITCHBOARD_ASYNC_RETRY_DELAY_SECS=${SWITCHBOARD_ASYNC_RETRY_DELAY_SECS:-5}
[ -f "$SWITCHBOARD_SEED" ] || { echo "dev: seed file '$SWITCHBOARD_SEED' not found" >&2; exit 1; }

infra/scripts/install-tools.sh moto
cargo build --locked -p switchboard-admin
mkdir -p "$dev_dir"
"$admin" functions > "$dev_dir/dev-functions.tsv"
bins=()
while IFS=$'\t' read -r _ binary _; do bins+=(--bin "$binary"); done < "$dev_dir/dev-functions.tsv"
cargo build --locked "${bins[@]}" --bin sinch-simulator

exec infra/scripts/with-moto.sh --port "${SWITCHBOARD_MOTO_PORT:-4566}" -- "$PWD/infra/scripts/dev.sh" --under-moto
