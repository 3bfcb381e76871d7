"""Test hooks: make a worker stall at a chosen step, so a test can kill it right there.

Off unless STEREOSPOT_TEST_STALL is set, e.g. `convert:30` (in the middle of converting a
segment, at its first progress report) or `concat:30` (in the middle of a reassembly: the
segments are downloaded, not yet joined), several
separated by commas. On entering a stall the worker writes a marker file into
STEREOSPOT_TEST_MARKER_DIR (named `{step}-{pid}`), so the test knows the moment has come.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

from stereospot.domain.media import SegmentFile, VideoInfo
from stereospot.domain.ports import (
    ConversionRequest,
    ConversionResult,
    InferenceBackend,
    ProgressCallback,
    VideoToolkit,
)
from stereospot.domain.services.deps import Deps

logger = logging.getLogger(__name__)

STALL_ENV = "STEREOSPOT_TEST_STALL"
MARKER_ENV = "STEREOSPOT_TEST_MARKER_DIR"


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


class _StallingInference:
    def __init__(self, inner: InferenceBackend, seconds: float) -> None:
        self._inner = inner
        self._seconds = seconds

    def convert(
        self, request: ConversionRequest, on_progress: ProgressCallback | None = None
    ) -> ConversionResult:
        stalled = False

        def progress(done: int, total: int) -> None:
            # Stall at the first progress report: frames are being converted, and the
            # output is not in storage yet.
            nonlocal stalled
            if not stalled:
                stalled = True
                _stall("convert", self._seconds)
            if on_progress is not None:
                on_progress(done, total)

        return self._inner.convert(request, progress)


class _StallingToolkit:
    def __init__(self, inner: VideoToolkit, seconds: float) -> None:
        self._inner = inner
        self._seconds = seconds

    def probe(self, path: Path) -> VideoInfo:
        return self._inner.probe(path)

    def split(self, source: Path, out_dir: Path, target_seconds: float) -> list[SegmentFile]:
        return self._inner.split(source, out_dir, target_seconds)

    def concat(self, segments: Sequence[Path], audio_source: Path | None, out: Path) -> None:
        _stall("concat", self._seconds)
        self._inner.concat(segments, audio_source, out)

    def poster(self, video: Path, out: Path) -> None:
        self._inner.poster(video, out)


def with_fault_hooks(deps: Deps) -> Deps:
    """Deps with the stalls asked for in the environment (unchanged when none)."""
    stalls = parse_stalls(os.environ.get(STALL_ENV, ""))
    if not stalls:
        return deps
    inference: InferenceBackend = deps.inference
    toolkit: VideoToolkit = deps.toolkit
    if "convert" in stalls:
        inference = _StallingInference(deps.inference, stalls["convert"])
    if "concat" in stalls:
        toolkit = _StallingToolkit(deps.toolkit, stalls["concat"])
    return dataclasses.replace(deps, inference=inference, toolkit=toolkit)
