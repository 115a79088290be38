#!/usr/bin/env bash
# `make bench`: the webhook's benchmarks, from a fresh clone, and a summary at the end.
#   1. criterion: the webhook's CPU work per callback vs. the bare HMAC-SHA256 (1, 4, 64 KiB)
#   2. size: the arm64 Lambda zip (cargo-lambda) of the webhook and of a minimal function
#   3. cold start: exec -> ready, exec -> first answer, peak RSS of the x86_64 release webhook vs.
#      the minimal function (infra/coldstart), the webhook talking to a fresh moto
# Everything is built first, then measured, so no build competes with a measurement.
# Results: $CARGO_TARGET_DIR/bench/ (default target/bench/): summary.md, criterion.log,
# coldstart.md, coldstart.json, sizes.json. See BENCHMARKS.md for how to read them.
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
  "$admin" local-stack --prefix switchboard-bench --function WebhookFunction --format env > "$out/webhook.env"
  set -a; . "$out/webhook.env"; set +a
  "$admin" seed --file infra/seed/demo.json
  candidate_env=()
  while IFS= read -r line; do
    [ -n "$line" ] && candidate_env+=(--candidate-env "$line")
  done < "$out/webhook.env"
  # with-moto.sh exported these; the harness starts functions with a clean, Lambda-like env.
  for name in AWS_ENDPOINT_URL AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN; do
    candidate_env+=(--candidate-env "$name=${!name}")
  done
  # Signed now: the webhook refuses signatures older than its window (300 s), and every run
  # must answer 200 (--candidate-expect), so a stale event fails the benchmark loudly.
  python3 infra/coldstart/events/make-webhook-event.py --out "$out/webhook-event.json"
  "$CARGO_TARGET_DIR/release/coldstart" compare \
    --baseline "$CARGO_TARGET_DIR/release/hello-lambda" --baseline-label hello-lambda \
    --baseline-event infra/coldstart/events/hello.json --baseline-expect '"hello":"world"' \
    --candidate "$CARGO_TARGET_DIR/release/webhook" --candidate-label webhook \
    --candidate-event "$out/webhook-event.json" --candidate-expect '"statusCode":200' \
    "${candidate_env[@]}" \
    --runs "$runs" --json "$out/coldstart.json" | tee "$out/coldstart.md"
  exit 0
fi

mkdir -p "$out"

step "tools (moto, cargo-lambda + zig, aarch64 target)"
infra/scripts/install-tools.sh moto lambda arm64

step "build: x86_64 release (webhook, coldstart, hello-lambda), switchboard-admin, criterion bench"
cargo build --locked --release -p switchboard-webhook -p switchboard-coldstart
cargo build --locked -p switchboard-infra
cargo bench --locked -p switchboard-webhook --bench webhook --no-run

step "build: arm64 Lambda zips (cargo-lambda)"
lambda_dir=$CARGO_TARGET_DIR/bench-lambda-arm64
# cargo-lambda runs zig through `python3 -m ziglang`: the venv's python must come first on PATH.
# CARGO_TARGET_DIR (exported above), not --target-dir, which breaks cargo-lambda.
lambda_build() { # package, binary
  PATH="$root/.tools/lambda/bin:$PATH" cargo lambda build --release --arm64 --output-format zip \
    --lambda-dir "$lambda_dir" -p "$1" --bin "$2"
}
lambda_build switchboard-webhook webhook
lambda_build switchboard-coldstart hello-lambda
python3 - "$lambda_dir" "$out/sizes.json" <<'EOF'
import json, os, sys, zipfile
lambda_dir, out = sys.argv[1], sys.argv[2]
sizes = {}
for name in ("webhook", "hello-lambda"):
    path = os.path.join(lambda_dir, name, "bootstrap.zip")
    with zipfile.ZipFile(path) as z:
        bootstrap = sum(i.file_size for i in z.infolist() if i.filename == "bootstrap")
    sizes[name] = {"zip_bytes": os.path.getsize(path), "bootstrap_bytes": bootstrap}
with open(out, "w") as f:
    json.dump(sizes, f, indent=2)
EOF

step "criterion: webhook work per callback vs. bare HMAC-SHA256"
cargo bench --locked -p switchboard-webhook --bench webhook 2>&1 | tee "$out/criterion.log"

step "cold start: hello-lambda vs. webhook (x86_64 release), $runs runs each, against moto"
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
print("## Per callback (criterion; x86_64 release, no AWS calls)")
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
for name in ("webhook", "hello-lambda"):
    s = sizes[name]
    print(f'| {name} | {s["bootstrap_bytes"]:,} B | {s["zip_bytes"]:,} B | {s["zip_bytes"] / MiB:.2f} MiB |')
w, h = sizes["webhook"]["zip_bytes"], sizes["hello-lambda"]["zip_bytes"]
print(f"\nwebhook zip / hello-lambda zip: {w / h:.1f}x")
print()

with open(os.path.join(out, "coldstart.json")) as f:
    cold = json.load(f)
b, c, r = cold["baseline"], cold["candidate"], cold["ratios_candidate_over_baseline"]
print(f"## Cold start (x86_64 release, {runs} runs each, ABBA; webhook answers a signed callback via moto)")
print()
print("| | hello-lambda | webhook | webhook / hello |")
print("|---|---:|---:|---:|")
print(f'| ready, median | {b["ready_ms"]["median"]:.2f} ms | {c["ready_ms"]["median"]:.2f} ms | {r["ready_median"]:.2f}x |')
print(f'| first answer, median | {b["first_answer_ms"]["median"]:.2f} ms | {c["first_answer_ms"]["median"]:.2f} ms | {r["first_answer_median"]:.2f}x |')
print(f'| peak RSS, max | {b["peak_rss_kib"]["max"] / 1024:.2f} MiB | {c["peak_rss_kib"]["max"] / 1024:.2f} MiB | {r["peak_rss_max"]:.2f}x |')
print()
ready_ok = r["ready_median"] <= 3.0
rss_ok = c["peak_rss_kib"]["max"] / 1024 < 12.0
print(f'Aim "ready within 3x of hello world": {"met" if ready_ok else "MISSED"} ({r["ready_median"]:.2f}x).')
print(f'Aim "peak memory under 12 MiB": {"met" if rss_ok else "MISSED"} ({c["peak_rss_kib"]["max"] / 1024:.2f} MiB).')
EOF
echo "bench: results in ${out#"$root"/}/" >&2
