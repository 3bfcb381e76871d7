"""Test-only fault injection for the kill tests, loaded by the processes the tests spawn.

Nothing in the product knows about it. A test starts its processes with this directory
first on PYTHONPATH (`fault_env` in tests/fault_plugin/__init__.py), so Python imports
this module at startup. When STALL_ENV is set, e.g. `convert:30` (stall at a segment's
first progress report: frames are being converted, the output is not in storage yet) or
`concat:30` (in a reassembly: the segments are downloaded, not yet joined), several
separated by commas, it wraps stereospot.container.build_container so that every
container it builds has its inference backend and media toolkit overridden by stalling
ones (dependency-injector's provider override). On entering a stall the process writes a
marker file `{step}-{pid}` into MARKER_ENV, so the test knows the moment has come.

For the inference server: LOAD_DELAY_ENV holds the model load that many seconds (so /ping
answers 503 first), CONVERT_DELAY_ENV each conversion (a second request then meets a
busy server).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The same names as fault_env's (tests/fault_plugin/__init__.py).
STALL_ENV = "FAULT_PLUGIN_STALL"
MARKER_ENV = "FAULT_PLUGIN_MARKER_DIR"
LOAD_DELAY_ENV = "FAULT_PLUGIN_LOAD_DELAY_S"
CONVERT_DELAY_ENV = "FAULT_PLUGIN_CONVERT_DELAY_S"

logger = logging.getLogger("fault_plugin")


def parse_stalls(spec: str) -> dict[str, float]:
    stalls: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        step, _, seconds = item.partition(":")
        stalls[step] = float(seconds or "3600")
    return stalls


def _stall(step: str, seconds: float) -> None:
    marker_dir = os.environ.get(MARKER_ENV)
    if marker_dir:
        Path(marker_dir).mkdir(parents=True, exist_ok=True)
        (Path(marker_dir) / f"{step}-{os.getpid()}").write_text(str(time.time()))
    logger.warning("test hook: stalling %.1f s at %s", seconds, step)
    time.sleep(seconds)


class StallingInference:
    def __init__(self, inner: Any, seconds: float) -> None:
        self._inner = inner
        self._seconds = seconds

    def __getattr__(self, name: str) -> Any:  # preload, wait_ready, ... of the real one
        return getattr(self._inner, name)

    def convert(self, request: Any, on_progress: Any = None) -> Any:
        stalled = False

        def progress(done: int, total: int) -> None:
            nonlocal stalled
            if not stalled:
                stalled = True
                _stall("convert", self._seconds)
            if on_progress is not None:
                on_progress(done, total)

        return self._inner.convert(request, progress)


class StallingToolkit:
    def __init__(self, inner: Any, seconds: float) -> None:
        self._inner = inner
        self._seconds = seconds

    def __getattr__(self, name: str) -> Any:  # probe, split, ... of the real one
        return getattr(self._inner, name)

    def concat(self, segments: Sequence[Path], audio_source: Path | None, out: Path) -> None:
        _stall("concat", self._seconds)
        self._inner.concat(segments, audio_source, out)


def install(stalls: dict[str, float]) -> None:
    from dependency_injector import providers

    from stereospot import container as root

    build = root.build_container

    def build_container(settings: Any = None) -> Any:
        application = build(settings)
        if "convert" in stalls:
            inner = application.inference()
            application.inference.override(
                providers.Object(StallingInference(inner, stalls["convert"]))
            )
        if "concat" in stalls:
            inner = application.toolkit()
            application.toolkit.override(providers.Object(StallingToolkit(inner, stalls["concat"])))
        return application

    root.build_container = build_container


def delay_inference_service(load_s: float, convert_s: float) -> None:
    from inference_server.service import InferenceService

    load, convert = InferenceService.load, InferenceService._convert

    def slow_load(self: Any) -> None:
        time.sleep(load_s)
        load(self)

    def slow_convert(self: Any, request: Any) -> Any:
        time.sleep(convert_s)
        return convert(self, request)

    InferenceService.load = slow_load  # type: ignore[method-assign]
    InferenceService._convert = slow_convert  # type: ignore[method-assign]


_stalls = parse_stalls(os.environ.get(STALL_ENV, ""))
if _stalls:
    install(_stalls)
_load_delay = float(os.environ.get(LOAD_DELAY_ENV, "0") or 0)
_convert_delay = float(os.environ.get(CONVERT_DELAY_ENV, "0") or 0)
if _load_delay or _convert_delay:
    delay_inference_service(_load_delay, _convert_delay)
