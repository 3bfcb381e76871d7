#!/usr/bin/env bash
# Start StereoSpot on this machine: web UI + workers, data on the local disk.
# On a fresh machine this first sets up .venv (./scripts/setup.sh); later runs skip that
# unless pyproject.toml changed. Arguments go to `stereospot serve`, e.g.
#   ./scripts/run.sh --port 9000 --data-dir ~/stereospot-data --video-workers 2
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.stereospot-setup
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || ! .venv/bin/python -c "import stereospot" 2>/dev/null; then
  echo "Setting up .venv (first run; this takes a few minutes)..."
  ./scripts/setup.sh
  touch "$stamp"
fi
. .venv/bin/activate
exec stereospot serve "$@"
