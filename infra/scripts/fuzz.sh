#!/usr/bin/env bash
# `make fuzz`: runs each fuzz target of fuzz/ for FUZZ_SECONDS (default 120) seconds, one after
# the other, from a corpus seeded with the repo's JSON (infra/scripts/fuzz-seeds.py).
#
# With a nightly toolchain (`rustup toolchain list`), cargo-fuzz and libFuzzer, coverage-guided;
# cargo-fuzz is installed pinned into .tools/cargo (install-tools.sh fuzz). Without one, the
# stable harness `stable-fuzz` (fuzz/src/bin/stable_fuzz.rs): the same targets over the corpus
# and blind mutations of it, no coverage feedback.
#
# libFuzzer runs in fork mode and goes on after a crash, so one run finds every failing input it
# can; they are left in fuzz/artifacts/<target>/ and the script exits 1. Keep one as a
# regression test by copying it to fuzz/regressions/<target>/ under a name saying what broke
# (tests/tests/it/fuzz_regressions.rs runs those in `make test`).
#
# Environment: FUZZ_SECONDS (per target), FUZZ_TARGETS (space-separated, default all three),
# FUZZ_SANITIZER (cargo-fuzz's -s; default none: the targets are safe Rust, so the sanitizer
# would cost speed and find nothing a panic does not), FUZZ_STABLE=1 forces the stable harness.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-120}
targets=${FUZZ_TARGETS:-callback_parser signature_headers webhook_request}
sanitizer=${FUZZ_SANITIZER:-none}
logs=fuzz/target/fuzz-logs
# Inputs above the target's 4 KiB body limit still reach the 413 answer.
max_len=8192

python3 infra/scripts/fuzz-seeds.py

if [ "${FUZZ_STABLE:-}" != 1 ] && rustup toolchain list | grep -q '^nightly'; then
  engine="cargo-fuzz (libFuzzer), $(rustup run nightly rustc --version)"
  infra/scripts/install-tools.sh fuzz
  export PATH="$PWD/.tools/cargo/bin:$PATH"
  echo "== building the fuzz targets ($engine, sanitizer: $sanitizer)"
  cargo +nightly fuzz build --sanitizer "$sanitizer"
  run_target() { # target, log
    cargo +nightly fuzz run --sanitizer "$sanitizer" "$1" -- \
      -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
      -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -print_final_stats=1 2>&1 | tee "$2" | grep -E '^#|INFO: exiting|CRASH|panicked' || true
  }
  executions() { # log: the last "#N" stats line of libFuzzer
    grep -oE '^#[0-9]+' "$1" | tail -1 | tr -d '#'
  }
else
  engine="stable harness (no coverage), $(rustc --version)"
  echo "== building the stable fuzz harness ($engine)"
  (cd fuzz && cargo build --release --no-default-features --features stable --bin stable-fuzz)
  run_target() {
    fuzz/target/release/stable-fuzz "$1" "$seconds" "fuzz/corpus/$1" "fuzz/artifacts/$1" 2>&1 | tee "$2" || true
  }
  executions() {
    grep -oE '[0-9]+ executions' "$1" | tail -1 | cut -d' ' -f1
  }
fi

mkdir -p "$logs"
summary="| target | seconds | executions | corpus inputs | failing inputs |
|---|---:|---:|---:|---:|"
failed=0
for target in $targets; do
  mkdir -p "fuzz/artifacts/$target"
  before=$(find "fuzz/artifacts/$target" -type f | wc -l)
  echo "== fuzzing $target for $seconds s"
  started=$(date +%s)
  run_target "$target" "$logs/$target.log"
  took=$(( $(date +%s) - started ))
  found=$(( $(find "fuzz/artifacts/$target" -type f | wc -l) - before ))
  [ "$found" -eq 0 ] || failed=1
  summary+="
| $target | $took | $(executions "$logs/$target.log") | $(find "fuzz/corpus/$target" -type f | wc -l) | $found |"
done

echo
echo "Fuzzing with $engine, FUZZ_SECONDS=$seconds, $(date -u +'%Y-%m-%d %H:%M UTC'):"
echo "$summary"
echo "(logs: $logs/)"
if [ "$failed" -ne 0 ]; then
  echo "fuzz: failing inputs are in fuzz/artifacts/<target>/; keep each cause as a regression test" \
    "by copying one input to fuzz/regressions/<target>/ (see infra/scripts/fuzz.sh)" >&2
  exit 1
fi
