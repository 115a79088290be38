#!/usr/bin/env bash
# `make bench`: the functions' benchmarks, from a fresh clone, and a summary at the end.
#   1. criterion: every bench of the workspace (the webhook: work per callback vs. bare HMAC-SHA256)
#   2. size: the arm64 Lambda zip (cargo-lambda) of every function and of a minimal function
#   3. cold start: exec -> ready, exec -> first answer, peak RSS of each x86_64 release function
#      vs. the minimal function (infra/coldstart), talking to a fresh moto
#   4. the inbound stage: peak memory while streaming 10/100/500 MB into S3, AWS requests per
#      text event, text events per second (infra/scripts/bench-media.py)
#   5. the outbound function as Lambda runs it, under the Lambda emulator (`switchboard-admin
#      emulate`: the template's SQS mapping and concurrency): sends per second, token requests
#      and new connections to Sinch per 1,000 sends, peak memory of the largest execution
#      environment and how many ran (infra/scripts/bench-outbound.py)
# The functions are those of template.yaml built with cargo-lambda (`switchboard-admin
# functions`). A function is cold-started when infra/coldstart/events/ has its event: either
# make-<binary>-event.py (run to write a fresh one) or <binary>.json, and <binary>.expect holds a
# string its answer must contain.
# Everything is built first, then measured, so no build competes with a measurement.
# Results: $CARGO_TARGET_DIR/bench/ (default target/bench/): summary.md, criterion.log,
# coldstart-<binary>.md/.json, sizes.json. See BENCHMARKS.md for how to read them.
# Knobs: SWITCHBOARD_BENCH_RUNS (cold-start runs per binary, default 25).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
case $CARGO_TARGET_DIR in /*) ;; *) CARGO_TARGET_DIR=$root/$CARGO_TARGET_DIR ;; esac
out=$CARGO_TARGET_DIR/bench
runs=${SWITCHBOARD_BENCH_RUNS:-25}

step() { printf '\n== bench: %s\n' "$*" >&2; }

# --- cold start, run by with-moto.sh (which stops moto however this ends) --------------------
if [ "${1:-}" = "--coldstart-under-moto" ]; then
  admin=$CARGO_TARGET_DIR/debug/switchboard-admin
  "$admin" local-stack --prefix switchboard-bench --env-dir "$out/stack" \
    --env SWITCHBOARD_PUBLIC_MEDIA_BASE_URL=http://127.0.0.1:3002 > /dev/null
  seeded=
  while IFS=$'\t' read -r function binary _ <&3; do
    events=infra/coldstart/events
    if [ -f "$events/make-$binary-event.py" ]; then
      # Made now: e.g. the webhook refuses signatures older than its window (300 s), and every
      # run must give the expected answer, so a stale event fails the benchmark loudly.
      python3 "$events/make-$binary-event.py" --out "$out/$binary-event.json"
      event=$out/$binary-event.json
    elif [ -f "$events/$binary.json" ]; then
      event=$events/$binary.json
    else
      echo "bench: no cold-start event for $binary in $events; skipped" >&2
      continue
    fi
    expect=$(cat "$events/$binary.expect")
    if [ -z "$seeded" ]; then
      # Any environment that names the config table (not every function reads it).
      config_env=$(grep -l '^SWITCHBOARD_CONFIG_TABLE=' "$out"/stack/*.env | head -n 1)
      (set -a; . "$config_env"; set +a; "$admin" seed --file infra/seed/demo.json)
      seeded=yes
    fi
    candidate_env=()
    while IFS= read -r line; do
      [ -n "$line" ] && candidate_env+=(--candidate-env "$line")
    done < "$out/stack/$function.env"
    # with-moto.sh exported these; the harness starts functions with a clean, Lambda-like env.
    for name in AWS_ENDPOINT_URL AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN; do
      candidate_env+=(--candidate-env "$name=${!name}")
    done
    "$CARGO_TARGET_DIR/release/coldstart" compare \
      --baseline "$CARGO_TARGET_DIR/release/hello-lambda" --baseline-label hello-lambda \
      --baseline-event infra/coldstart/events/hello.json --baseline-expect '"hello":"world"' \
      --candidate "$CARGO_TARGET_DIR/release/$binary" --candidate-label "$binary" \
      --candidate-event "$event" --candidate-expect "$expect" \
      "${candidate_env[@]}" \
      --runs "$runs" --json "$out/coldstart-$binary.json" | tee "$out/coldstart-$binary.md"
  done 3< "$out/functions.tsv"
  # The inbound stage: peak memory while streaming big files, AWS requests per text event,
  # events per second (infra/scripts/bench-media.py says how each is measured).
  python3 infra/scripts/bench-media.py --coldstart "$CARGO_TARGET_DIR/release/coldstart" \
    --media "$CARGO_TARGET_DIR/release/media" --admin "$admin" \
    --env-file "$out/stack/MediaFunction.env" --out "$out"
  # The outbound function as Lambda runs it, under the Lambda emulator (the template's SQS
  # mapping and concurrency): sends per second, token requests and new connections per 1,000
  # sends, peak memory per execution environment (infra/scripts/bench-outbound.py; boto3 comes
  # with moto).
  .tools/moto/bin/python infra/scripts/bench-outbound.py --bin-dir "$CARGO_TARGET_DIR/release" \
    --simulator "$CARGO_TARGET_DIR/release/sinch-simulator" --admin "$admin" \
    --prefix switchboard-bench --env-dir "$out/stack" --out "$out"
  exit 0
fi

mkdir -p "$out"

step "tools (moto, cargo-lambda + zig, aarch64 target)"
infra/scripts/install-tools.sh moto lambda arm64

step "build: switchboard-admin, which lists the template's functions"
cargo build --locked -p switchboard-admin
"$CARGO_TARGET_DIR/debug/switchboard-admin" functions > "$out/functions.tsv"
cat "$out/functions.tsv" >&2

step "build: x86_64 release (every workspace binary: the functions, coldstart, hello-lambda), criterion benches"
# Every function's binary is a workspace binary (infra/local-stack tests check it): one build,
# one feature set, whatever functions the template has.
cargo build --locked --release --workspace --bins
cargo bench --locked --workspace --benches --no-run

step "build: arm64 Lambda zips (cargo-lambda)"
lambda_dir=$CARGO_TARGET_DIR/bench-lambda-arm64
# cargo-lambda runs zig through `python3 -m ziglang`: the venv's python must come first on PATH.
# CARGO_TARGET_DIR (exported above), not --target-dir, which breaks cargo-lambda.
lambda_build() { # binary
  PATH="$root/.tools/lambda/bin:$PATH" cargo lambda build --release --arm64 --output-format zip \
    --lambda-dir "$lambda_dir" --bin "$1"
}
while IFS=$'\t' read -r _ binary _; do lambda_build "$binary"; done < "$out/functions.tsv"
lambda_build hello-lambda
python3 - "$lambda_dir" "$out/sizes.json" "$out/functions.tsv" <<'EOF'
import json, os, sys, zipfile
lambda_dir, out, functions = sys.argv[1], sys.argv[2], sys.argv[3]
names = [line.split("\t")[1] for line in open(functions) if line.strip()] + ["hello-lambda"]
sizes = {}
for name in names:
    path = os.path.join(lambda_dir, name, "bootstrap.zip")
    with zipfile.ZipFile(path) as z:
        bootstrap = sum(i.file_size for i in z.infolist() if i.filename == "bootstrap")
    sizes[name] = {"zip_bytes": os.path.getsize(path), "bootstrap_bytes": bootstrap}
with open(out, "w") as f:
    json.dump(sizes, f, indent=2)
EOF

step "criterion: every benchmark of the workspace"
cargo bench --locked --workspace --benches 2>&1 | tee "$out/criterion.log"

step "cold start: hello-lambda vs. each function (x86_64 release), $runs runs each, against moto"
infra/scripts/with-moto.sh -- "$root/infra/scripts/bench.sh" --coldstart-under-moto

step "summary"
python3 - "$CARGO_TARGET_DIR" "$out" "$runs" <<'EOF' | tee "$out/summary.md"
import datetime, json, os, platform, subprocess, sys
target, out, runs = sys.argv[1], sys.argv[2], sys.argv[3]
MiB = 1024 * 1024

def cpu():
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        return f'{fields.get("Model name", "?").strip()}, {fields.get("CPU(s)", "?").strip()} CPUs'
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"

def estimate(group, function):
    # Criterion's headline estimate: the slope of the linear fit when it has one, else the mean.
    with open(os.path.join(target, "criterion", group, function, "new", "estimates.json")) as f:
        e = json.load(f)
    return (e.get("slope") or e["mean"])["point_estimate"]  # nanoseconds per iteration

def duration(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"

print(f"# make bench, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {cpu()}")
print()
# The webhook's own criterion groups (functions/webhook/benches); other benches are in criterion.log.
if os.path.isdir(os.path.join(target, "criterion", "callback_1KiB")):
  print("## Webhook, per callback (criterion; x86_64 release, no AWS calls)")
  print()
  print("| body | bare HMAC-SHA256 | webhook work | ratio | handler, in-memory I/O | ratio | webhook work throughput |")
  print("|---:|---:|---:|---:|---:|---:|---:|")
  for kib in (1, 4, 64):
    group = f"callback_{kib}KiB"
    hmac = estimate(group, "bare_hmac_sha256")
    work = estimate(group, "webhook_work")
    handler = estimate(group, "handler_in_memory")
    throughput = kib * 1024 / (work / 1e9) / MiB
    print(f"| {kib} KiB | {duration(hmac)} | {duration(work)} | {work / hmac:.2f}x | "
          f"{duration(handler)} | {handler / hmac:.2f}x | {throughput:.0f} MiB/s |")
  print()

with open(os.path.join(out, "sizes.json")) as f:
    sizes = json.load(f)
print("## arm64 Lambda package (cargo-lambda --release --arm64, zip)")
print()
print("| function | bootstrap | zip | zip (MiB) |")
print("|---|---:|---:|---:|")
h = sizes["hello-lambda"]["zip_bytes"]
for name, s in sizes.items():
    print(f'| {name} | {s["bootstrap_bytes"]:,} B | {s["zip_bytes"]:,} B | {s["zip_bytes"] / MiB:.2f} MiB '
          f'({s["zip_bytes"] / h:.1f}x hello-lambda) |')
print()

for name in sizes:
    path = os.path.join(out, f"coldstart-{name}.json")
    if name == "hello-lambda" or not os.path.exists(path):
        continue
    with open(path) as f:
        cold = json.load(f)
    b, c, r = cold["baseline"], cold["candidate"], cold["ratios_candidate_over_baseline"]
    print(f"## Cold start of {name} (x86_64 release, {runs} runs each, ABBA, against moto)")
    print()
    print(f"| | hello-lambda | {name} | {name} / hello |")
    print("|---|---:|---:|---:|")
    print(f'| ready, median | {b["ready_ms"]["median"]:.2f} ms | {c["ready_ms"]["median"]:.2f} ms | {r["ready_median"]:.2f}x |')
    print(f'| first answer, median | {b["first_answer_ms"]["median"]:.2f} ms | {c["first_answer_ms"]["median"]:.2f} ms | {r["first_answer_median"]:.2f}x |')
    print(f'| peak RSS, max | {b["peak_rss_kib"]["max"] / 1024:.2f} MiB | {c["peak_rss_kib"]["max"] / 1024:.2f} MiB | {r["peak_rss_max"]:.2f}x |')
    print()
    ready_ok = r["ready_median"] <= 3.0
    rss_ok = c["peak_rss_kib"]["max"] / 1024 < 12.0
    print(f'Aim "ready within 3x of hello world": {"met" if ready_ok else "MISSED"} ({r["ready_median"]:.2f}x).')
    print(f'Aim "peak memory under 12 MiB": {"met" if rss_ok else "MISSED"} ({c["peak_rss_kib"]["max"] / 1024:.2f} MiB).')
    print()

for part in ("media.md", "outbound.md"):
    if os.path.exists(os.path.join(out, part)):
        print(open(os.path.join(out, part)).read())
EOF
echo "bench: results in ${out#"$root"/}/" >&2
