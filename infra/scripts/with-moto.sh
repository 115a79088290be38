#!/usr/bin/env bash
# Runs a command with a fresh moto server on a free loopback port, and stops moto afterwards,
# also when the command fails or is interrupted.
#   with-moto.sh [--port N] -- command args...
# Exports to the command: AWS_ENDPOINT_URL, AWS_REGION, fake credentials, SWITCHBOARD_MOTO_PORT.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
port=
while [ $# -gt 0 ]; do
  case $1 in
    --port) port=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: with-moto.sh [--port N] -- command..." >&2; exit 2; }

"$here/install-tools.sh" moto
moto_server=$root/.tools/moto/bin/moto_server

free_port() { "$root/.tools/moto/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_taken() { "$root/.tools/moto/bin/python" -c "import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(('127.0.0.1',$1))==0 else 1)"; }

if [ -z "$port" ]; then port=$(free_port); elif port_taken "$port"; then
  echo "with-moto: port $port on 127.0.0.1 is already in use; stop what runs there or choose another" >&2; exit 1
fi

mkdir -p "$root/.local"
log=$root/.local/moto-$port.log
"$moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
cleanup() { kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM  # until the command starts; replaced below

for _ in $(seq 1 100); do
  if "$root/.tools/moto/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then break; fi
  kill -0 "$moto_pid" 2>/dev/null || { echo "with-moto: moto exited; see $log" >&2; exit 1; }
  sleep 0.2
done

export AWS_ENDPOINT_URL=http://127.0.0.1:$port
export AWS_REGION=${AWS_REGION:-eu-west-1}
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
unset AWS_PROFILE
export SWITCHBOARD_MOTO_PORT=$port
echo "with-moto: moto on $AWS_ENDPOINT_URL (pid $moto_pid)" >&2
# In the background so INT/TERM reach our trap at once (bash defers traps while a foreground
# child runs); the trap passes them on, then the EXIT trap stops moto.
"$@" &
command_pid=$!
trap 'kill -TERM "$command_pid" 2>/dev/null || true; wait "$command_pid" 2>/dev/null || true; exit 130' INT TERM
wait "$command_pid"
