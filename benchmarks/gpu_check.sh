#!/usr/bin/env bash
# The GPU path end to end (see benchmarks/gpu_check.py): on a CUDA machine,
#   benchmarks/gpu_check.sh                      # 1080p and 4K, Depth Anything V2 Small
#   STEREOSPOT_INFERENCE_CONCURRENCY=4 benchmarks/gpu_check.sh --seconds 5
# and the reduced CPU form CI runs so that it cannot rot:
#   benchmarks/gpu_check.sh --device cpu --model tiny --sizes 180 --seconds 0.1 --input-size 140
# Needs the inference extra (torch, transformers, av); downloads nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python}" benchmarks/gpu_check.py "$@"
