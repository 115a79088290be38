#!/usr/bin/env bash
# `make dev`: the whole system locally. moto on 127.0.0.1:4566, the stack from template.yaml,
# tenants from the seed file, and the webhook on 127.0.0.1:$SWITCHBOARD_HTTP_PORT (3000).
# Runs until Ctrl-C; stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SWITCHBOARD_SEED=${SWITCHBOARD_SEED:-infra/seed/demo.json}
export SWITCHBOARD_HTTP_PORT=${SWITCHBOARD_HTTP_PORT:-3000}
[ -f "$SWITCHBOARD_SEED" ] || { echo "dev: seed file '$SWITCHBOARD_SEED' not found" >&2; exit 1; }

infra/scripts/install-tools.sh moto
cargo build --locked -p switchboard-webhook -p switchboard-infra

exec infra/scripts/with-moto.sh --port "${SWITCHBOARD_MOTO_PORT:-4566}" -- bash -c '
  set -euo pipefail
  mkdir -p .local
  admin=target/debug/switchboard-admin
  "$admin" local-stack --prefix switchboard-local --function WebhookFunction --format env > .local/dev-stack.env
  set -a; . .local/dev-stack.env; set +a
  "$admin" seed --file "$SWITCHBOARD_SEED"
  echo
  echo "Switchboard is running locally."
  echo "  webhook:      http://127.0.0.1:$SWITCHBOARD_HTTP_PORT/{tenant}/sms/sinchconversation/{service|all}"
  echo "  ingest queue: $SWITCHBOARD_INGEST_QUEUE_URL"
  echo "  AWS (moto):   $AWS_ENDPOINT_URL   (region $AWS_REGION, any credentials)"
  echo "  seed:         $SWITCHBOARD_SEED"
  echo "Ctrl-C stops everything."
  echo
  target/debug/webhook &
  webhook=$!
  trap "kill $webhook 2>/dev/null || true; wait $webhook 2>/dev/null || true" EXIT
  trap "exit 143" INT TERM
  wait $webhook
'
