"""Fault injection for tests, outside the product (see sitecustomize.py here)."""

from __future__ import annotations

import os
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent
STALL_ENV = "FAULT_PLUGIN_STALL"
MARKER_ENV = "FAULT_PLUGIN_MARKER_DIR"
LOAD_DELAY_ENV = "FAULT_PLUGIN_LOAD_DELAY_S"
CONVERT_DELAY_ENV = "FAULT_PLUGIN_CONVERT_DELAY_S"


def fault_env(
    stall: str | None = None,
    marker_dir: Path | None = None,
    *,
    load_delay_s: float = 0,
    convert_delay_s: float = 0,
) -> dict[str, str]:
    """Environment for a spawned process that loads the fault plugin: a worker `stall` as in
    sitecustomize.py (None: no stall) with its markers written into `marker_dir`; for the
    inference server, delays of the model load and of each conversion."""
    path = os.pathsep.join(p for p in (str(PLUGIN_DIR), os.environ.get("PYTHONPATH", "")) if p)
    env = {"PYTHONPATH": path}
    if stall:
        env[STALL_ENV] = stall
    if marker_dir is not None:
        env[MARKER_ENV] = str(marker_dir)
    if load_delay_s:
        env[LOAD_DELAY_ENV] = str(load_delay_s)
    if convert_delay_s:
        env[CONVERT_DELAY_ENV] = str(convert_delay_s)
    return env
