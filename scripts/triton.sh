#!/usr/bin/env bash
# Build .venv-triton: the Python environment of a Triton server process
# (`stereospot inference triton`, PyTriton). nvidia-pytriton pins numpy<2, so it never goes
# into .venv; the Triton tests start the server from this venv, with the repository on
# PYTHONPATH (tests/e2e/triton_process.py). Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv-triton
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
# The engine's dependencies from pyproject.toml (core, inference, aws, triton), without
# StereoSpot itself: the server imports it from the checkout.
REQUIREMENTS="$VENV/requirements.txt"
"$VENV/bin/python" -c '
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = project["optional-dependencies"]
for name in project["dependencies"] + extras["inference"] + extras["aws"] + extras["triton"]:
    print(name)
' >"$REQUIREMENTS"
# The CPU build of torch first (as setup.sh): a bare `torch` could pull a multi-GB CUDA build.
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q "torch==2.13.0" \
    || "$VENV/bin/python" -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
fi
"$VENV/bin/python" -m pip install -q "nvidia-pytriton==0.7.0" "numpy<2" -r "$REQUIREMENTS"
echo "$VENV ready: $("$VENV/bin/python" -c 'import numpy; print("numpy", numpy.__version__)')"
