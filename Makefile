# The two commands: `make dev` runs the whole system locally, `make test` runs every test.
# Both install what they need (project-local, pinned) on a fresh clone.
.PHONY: dev test bench lint fuzz schemas tools

dev:
	infra/scripts/dev.sh

test:
	infra/scripts/test.sh

bench:
	infra/scripts/bench.sh

# Every static check, all part of `make test`: rustfmt, clippy -D warnings, cargo-deny
# (licenses, bans, sources), and the template's (cfn-lint, sam validate --lint).
lint:
	infra/scripts/lint-rust.sh
	infra/scripts/lint-template.sh

# Each fuzz target for FUZZ_SECONDS (default 120) s: cargo-fuzz on nightly, else a stable harness.
fuzz:
	infra/scripts/fuzz.sh

# Regenerate schemas/ from the Rust types after a deliberate contract change.
schemas:
	SWITCHBOARD_UPDATE_SCHEMAS=1 cargo test -q -p switchboard-shared --test it schemas::
	SWITCHBOARD_UPDATE_SCHEMAS=1 cargo test -q -p switchboard-webhook --test it golden::
	SWITCHBOARD_UPDATE_SCHEMAS=1 cargo test -q -p switchboard-outbound --test it golden::

tools:
	infra/scripts/install-tools.sh moto sam lambda arm64
