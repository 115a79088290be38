#!/usr/bin/env bash
# cfn-lint and `sam validate --lint` on template.yaml; both must be clean (warnings fail too).
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/install-tools.sh sam
sam_bin=$PWD/.tools/sam/bin
"$sam_bin/cfn-lint" template.yaml
SAM_CLI_TELEMETRY=0 AWS_REGION=${AWS_REGION:-eu-west-1} "$sam_bin/sam" validate --lint --template-file template.yaml < /dev/null
