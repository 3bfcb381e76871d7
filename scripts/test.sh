#!/usr/bin/env bash
# The one test command: environment, lint, types, tests. Fails if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/browser.sh || echo "warning: chromium could not be installed; browser tests will be skipped"
./scripts/triton.sh  # .venv-triton: the Triton server's environment (numpy<2), for the Triton e2e tests
export STEREOSPOT_TEST_TRITON_VENV="$PWD/.venv-triton"  # there, a missing venv fails the tests
. .venv/bin/activate
echo "== ruff"; ruff check . && ruff format --check .
echo "== mypy --strict"; mypy
echo "== lint-imports"; lint-imports
echo "== deploy checks (terraform fmt, hadolint, checkov)"; ./scripts/deploy-checks.sh
echo "== pytest"; python -m pytest -q -p no:cacheprovider "$@"
