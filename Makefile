# The two commands: `make dev` runs the whole system locally, `make test` runs every test.
# Both install what they need (project-local, pinned) on a fresh clone.
.PHONY: dev test bench lint schemas tools

dev:
	infra/scripts/dev.sh

test:
	infra/scripts/test.sh

bench:
	infra/scripts/bench.sh

# Template checks only (cfn-lint, sam validate --lint); part of `make test`.
lint:
	infra/scripts/lint-template.sh

# Regenerate schemas/ from the Rust types after a deliberate contract change.
schemas:
	SWITCHBOARD_UPDATE_SCHEMAS=1 cargo test -q -p switchboard-shared --test schemas
	SWITCHBOARD_UPDATE_SCHEMAS=1 cargo test -q -p switchboard-webhook --test golden

tools:
	infra/scripts/install-tools.sh moto sam lambda arm64
