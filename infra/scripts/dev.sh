#!/usr/bin/env bash
# `make dev`: the whole system locally. moto, the stack from template.yaml,
# tenants from the seed file, and every function of the template that is built with
# cargo-lambda (`switchboard-admin functions` lists them), each binary in its local mode: HTTP
# functions serve on internal ports from $SWITCHBOARD_FUNCTION_PORTS_FROM (3100) up, one each,
# in logical-id order, behind the local gateway (`switchboard-admin gateway`) on
# 127.0.0.1:$SWITCHBOARD_HTTP_PORT (3000), which routes the template's HttpApi paths to them as
# API Gateway does; the others run their own local shell (retention sweeps every
# $SWITCHBOARD_RETENTION_EVERY_SECS, 60; SWITCHBOARD_RETENTION_DRY_RUN=1 makes it delete nothing).
# The Sinch simulator serves on 127.0.0.1:$SWITCHBOARD_SINCH_PORT (3001), and the stand-in for
# the public media distribution on 127.0.0.1:$SWITCHBOARD_PUBLIC_MEDIA_PORT (3002), moto on
# $SWITCHBOARD_MOTO_PORT (4566). The caller's environment reaches every function (e.g.
# SWITCHBOARD_MEDIA_ALLOW_LOCAL for the inbound stage) unless the template sets the variable.
# Runs until Ctrl-C; stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
admin=target/debug/switchboard-admin
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
  upstreams=()
  stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
  trap stop EXIT
  trap 'exit 143' INT TERM
  port=$SWITCHBOARD_FUNCTION_PORTS_FROM
  seeded=
  # A service pointed at the simulator's default address (the demo's api_base_url) follows the
  # port the simulator runs on here, so another SWITCHBOARD_SINCH_PORT still reaches it.
  seed_file=$SWITCHBOARD_SEED
  if [ "$SWITCHBOARD_SINCH_PORT" != 3001 ]; then
    seed_file=$dev_dir/dev-seed.json
    sed "s#//\(127\.0\.0\.1\|localhost\):3001\([\"/]\)#//\1:$SWITCHBOARD_SINCH_PORT\2#g" \
      "$SWITCHBOARD_SEED" > "$seed_file"
  fi
  echo
  echo "Switchboard is running locally."
  while IFS=$'\t' read -r function binary triggers <&3; do
    env_file=$dev_dir/dev-stack/$function.env
    first_env=${first_env:-$env_file}
    if [ -z "$seeded" ]; then
      # One config table for all functions: any function's environment names it.
      (set -a; . "$env_file"; set +a; "$admin" seed --file "$seed_file" > /dev/null)
      seeded=yes
    fi
    case ,$triggers, in
      *,http,*)
        (set -a; . "$env_file"; set +a; SWITCHBOARD_HTTP_PORT=$port exec "target/debug/$binary") &
        pids+=($!)
        upstreams+=(--upstream "$function=127.0.0.1:$port")
        echo "  $function ($binary): http://127.0.0.1:$port, routed by the gateway"
        port=$((port + 1)) ;;
      *)
        # Outside Lambda, each binary runs its own local shell (a schedule loop, a queue poller).
        (set -a; . "$env_file"; set +a; exec "target/debug/$binary") &
        pids+=($!)
        echo "  $function ($binary): $triggers, run locally" ;;
    esac
  done 3< "$dev_dir/dev-functions.tsv"
  # One address for every HTTP route, as deployed: the webhook's and the media links'.
  if [ ${#upstreams[@]} -gt 0 ]; then
    "$admin" gateway --listen "127.0.0.1:$SWITCHBOARD_HTTP_PORT" "${upstreams[@]}" > /dev/null &
    pids+=($!)
    echo "  HTTP API (local gateway): http://127.0.0.1:$SWITCHBOARD_HTTP_PORT"
    echo "    webhook:     /{tenant}/sms/sinchconversation/{service|all}"
    echo "    media links: /{tenant}/media/{token}"
  fi
  # The Sinch simulator stands in for Sinch (README "Sinch simulator"); the demo tenant's
  # api_base_url points at it, and its callbacks go to the webhook through the gateway.
  if [ -n "${first_env:-}" ]; then
    (set -a; . "$first_env"; set +a
     SWITCHBOARD_SINCH_PORT=$SWITCHBOARD_SINCH_PORT \
     SWITCHBOARD_SINCH_WEBHOOK_BASE_URL=http://127.0.0.1:$SWITCHBOARD_HTTP_PORT \
     exec target/debug/sinch-simulator > /dev/null) &
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
  [ ${#pids[@]} -gt 0 ] || { echo "dev: the template has no function to serve" >&2; exit 1; }
  # The first function to exit ends the session; stop() ends the others.
  wait -n "${pids[@]}"
  exit 1
fi

export SWITCHBOARD_SEED=${SWITCHBOARD_SEED:-infra/seed/demo.json}
export SWITCHBOARD_HTTP_PORT=${SWITCHBOARD_HTTP_PORT:-3000}
export SWITCHBOARD_SINCH_PORT=${SWITCHBOARD_SINCH_PORT:-3001}
export SWITCHBOARD_PUBLIC_MEDIA_PORT=${SWITCHBOARD_PUBLIC_MEDIA_PORT:-3002}
export SWITCHBOARD_FUNCTION_PORTS_FROM=${SWITCHBOARD_FUNCTION_PORTS_FROM:-3100}
[ -f "$SWITCHBOARD_SEED" ] || { echo "dev: seed file '$SWITCHBOARD_SEED' not found" >&2; exit 1; }

infra/scripts/install-tools.sh moto
cargo build --locked -p switchboard-admin
mkdir -p "$dev_dir"
"$admin" functions > "$dev_dir/dev-functions.tsv"
bins=()
while IFS=$'\t' read -r _ binary _; do bins+=(--bin "$binary"); done < "$dev_dir/dev-functions.tsv"
cargo build --locked "${bins[@]}" --bin sinch-simulator

exec infra/scripts/with-moto.sh --port "${SWITCHBOARD_MOTO_PORT:-4566}" -- "$PWD/infra/scripts/dev.sh" --under-moto
