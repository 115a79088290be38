#!/usr/bin/env bash
# Installs, idempotently and into project-local folders, every tool that `make test`, `make dev`
# and `make bench` need beyond the Rust toolchain. Safe to run again: it only does what is missing.
#   .tools/moto      moto[server] (local AWS)
#   .tools/sam       aws-sam-cli + cfn-lint (template checks; separate venv: SAM pins its own boto3)
#   .tools/lambda    cargo-lambda + ziglang (cross builds for arm64 Lambda)
#   .tools/sinch     Sinch's official Python SDK: signs callbacks in the cross-check test, and its
#                    request models check what Switchboard sends (.tools/sinch/bin/sinch-check-requests)
# Usage: install-tools.sh [moto] [sam] [lambda] [sinch] [arm64]   (no argument: moto and sam)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD/.tools
python=${PYTHON:-python3}

# Pinned versions: bump deliberately, together with the notes in README "Tooling".
MOTO_VERSION=5.2.5
SAM_VERSION=1.170.0
CFN_LINT_VERSION=1.58.0
CARGO_LAMBDA_VERSION=1.9.2
SINCH_SDK_VERSION=2.3.0
CARGO_DENY_VERSION=0.20.2
CARGO_FUZZ_VERSION=0.13.2

venv() { # name, stamp, pip args...
  local name=$1 stamp=$2; shift 2
  local dir=$root/$name
  if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$stamp" ]; then return 0; fi
  echo "install-tools: installing $stamp into .tools/$name" >&2
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
  echo "$stamp" > "$dir/.installed"
}

cargo_tool() { # crate, version, binary: `cargo install` into .tools/cargo/bin unless there
  local crate=$1 version=$2 binary=$3
  local dir=$root/cargo stamp="$crate@$version"
  local stamp_file=$dir/.installed-$crate
  if [ -x "$dir/bin/$binary" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
    return 0
  fi
  echo "install-tools: compiling $stamp into .tools/cargo (minutes on 2 cores)" >&2
  # --locked: the tool's own Cargo.lock, as released; --force replaces an older pinned version.
  cargo install --quiet --locked --force --root "$dir" "$stamp"
  echo "$stamp" > "$stamp_file"
}

want=${*:-moto sam}
for tool in $want; do
  case $tool in
    moto) venv moto "moto[server]==$MOTO_VERSION" "moto[server]==$MOTO_VERSION" ;;
    sam) venv sam "aws-sam-cli==$SAM_VERSION cfn-lint==$CFN_LINT_VERSION" \
           "aws-sam-cli==$SAM_VERSION" "cfn-lint==$CFN_LINT_VERSION" ;;
    sinch)
      venv sinch "sinch==$SINCH_SDK_VERSION" "sinch==$SINCH_SDK_VERSION"
      # Checks request bodies (or the simulator's GET /_simulator/requests) against the SDK's
      # request models: tests/sinch_sdk/check_requests.py. Rewritten each time: it is tiny.
      cat > "$root/sinch/bin/sinch-check-requests" <<EOF
#!/bin/sh
exec "$root/sinch/bin/python" "$PWD/tests/sinch_sdk/check_requests.py" "\$@"
EOF
      chmod +x "$root/sinch/bin/sinch-check-requests" ;;
    lambda) venv lambda "cargo-lambda==$CARGO_LAMBDA_VERSION" "cargo-lambda==$CARGO_LAMBDA_VERSION" ;;
    arm64)
      if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
        rustup target add aarch64-unknown-linux-gnu
      fi ;;
    deny) cargo_tool cargo-deny "$CARGO_DENY_VERSION" cargo-deny ;;
    fuzz) cargo_tool cargo-fuzz "$CARGO_FUZZ_VERSION" cargo-fuzz ;;
    *) echo "install-tools: unknown tool '$tool'" >&2; exit 2 ;;
  esac
done
