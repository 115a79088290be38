#!/usr/bin/env bash
# `make dev`: the whole system locally. moto on 127.0.0.1:4566, the stack from template.yaml,
# tenants from the seed file, the webhook on 127.0.0.1:$SWITCHBOARD_HTTP_PORT (3000), and the
# retention function every $SWITCHBOARD_RETENTION_EVERY_SECS (60; SWITCHBOARD_RETENTION_DRY_RUN=1
# makes it delete nothing).
# Runs until Ctrl-C; stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SWITCHBOARD_SEED=${SWITCHBOARD_SEED:-infra/seed/demo.json}
export SWITCHBOARD_HTTP_PORT=${SWITCHBOARD_HTTP_PORT:-3000}
[ -f "$SWITCHBOARD_SEED" ] || { echo "dev: seed file '$SWITCHBOARD_SEED' not found" >&2; exit 1; }

infra/scripts/install-tools.sh moto
cargo build --locked -p switchboard-webhook -p switchboard-retention -p switchboard-infra

exec infra/scripts/with-moto.sh --port "${SWITCHBOARD_MOTO_PORT:-4566}" -- bash -c '
  set -euo pipefail
  mkdir -p .local
  admin=target/debug/switchboard-admin
  "$admin" local-stack --prefix switchboard-local --function WebhookFunction --format env > .local/dev-stack.env
  "$admin" local-stack --prefix switchboard-local --function RetentionFunction --format env > .local/dev-retention.env
  set -a; . .local/dev-stack.env; set +a
  "$admin" seed --file "$SWITCHBOARD_SEED"
  echo
  echo "Switchboard is running locally."
  echo "  webhook:      http://127.0.0.1:$SWITCHBOARD_HTTP_PORT/{tenant}/sms/sinchconversation/{service|all}"
  echo "  ingest queue: $SWITCHBOARD_INGEST_QUEUE_URL"
  echo "  AWS (moto):   $AWS_ENDPOINT_URL   (region $AWS_REGION, any credentials)"
  echo "  seed:         $SWITCHBOARD_SEED"
  echo "  retention:    every ${SWITCHBOARD_RETENTION_EVERY_SECS:-60} s, dry run: ${SWITCHBOARD_RETENTION_DRY_RUN:-false}"
  echo "Ctrl-C stops everything."
  echo
  target/debug/webhook &
  webhook=$!
  (set -a; . .local/dev-retention.env; set +a; exec target/debug/retention) &
  retention=$!
  trap "kill $webhook $retention 2>/dev/null || true; wait $webhook $retention 2>/dev/null || true" EXIT
  trap "exit 143" INT TERM
  wait -n $webhook $retention
'
