"""The `local` inference backend: the stereo engine in this process.

The input segment (and the previous one, to warm up the temporal depth normalisation
across the boundary) is copied from storage to scratch, converted by
inference_server.api.convert_video, and the result put to storage, whose write fires the
output event. A semaphore bounds concurrent conversions (Settings.inference_concurrency)
when several threads share one backend. torch and the engine are imported on first use,
so a web-only install never needs them.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from stereospot.domain.errors import DomainError, InferenceError, ObjectNotFound
from stereospot.domain.ports import (
    ConversionRequest,
    ConversionResult,
    ObjectStorage,
    ProgressCallback,
    ScratchSpace,
)

if TYPE_CHECKING:
    from inference_server.api import ConversionStats as _Stats
    from stereospot.config import Settings

logger = logging.getLogger(__name__)


class LocalInferenceBackend:
    def __init__(
        self,
        storage: ObjectStorage,
        scratch: ScratchSpace,
        *,
        device: str = "auto",
        concurrency: int = 1,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._storage = storage
        self._scratch = scratch
        self._device = device
        self.concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, storage: ObjectStorage, scratch: ScratchSpace
    ) -> LocalInferenceBackend:
        return cls(
            storage,
            scratch,
            device=settings.device,
            concurrency=settings.inference_concurrency,
        )

    def preload(self) -> None:
        """Import the engine (torch and all) now, so the first segment does not wait."""
        import inference_server.api  # noqa: F401

    def convert(
        self, request: ConversionRequest, on_progress: ProgressCallback | None = None
    ) -> ConversionResult:
        extra = {"job_id": str(request.job_id), "segment_index": request.segment_index}
        with self._slots, self._scratch.directory() as work:
            source = work / "input.mp4"
            self._storage.get_file(request.input_key, source)
            warmup = self._fetch_warmup(request, work / "previous.mp4")
            output = work / "output.mp4"
            stats = self._run_engine(request, source, output, warmup, on_progress)
            self._storage.put_file(request.output_key, output)
        logger.info(
            "converted %d frames in %.2f s on %s with %s",
            stats.frames,
            stats.seconds,
            stats.device,
            stats.depth_model,
            extra=extra,
        )
        return ConversionResult(completed=True)

    def _fetch_warmup(self, request: ConversionRequest, dest: Path) -> Path | None:
        if request.previous_input_key is None:
            return None
        try:
            self._storage.get_file(request.previous_input_key, dest)
        except ObjectNotFound:  # warm-up is an improvement, not a requirement
            logger.warning(
                "previous segment %s is missing; converting without warm-up",
                request.previous_input_key,
                extra={"job_id": str(request.job_id), "segment_index": request.segment_index},
            )
            return None
        return dest

    def _run_engine(
        self,
        request: ConversionRequest,
        source: Path,
        output: Path,
        warmup: Path | None,
        on_progress: ProgressCallback | None,
    ) -> _Stats:
        from inference_server.api import EngineOptions, convert_video

        try:
            return convert_video(
                source,
                output,
                output_format=request.output_format,
                settings=request.settings,
                options=EngineOptions(device=self._device),
                warmup_path=warmup,
                on_progress=on_progress,
                copy_audio=False,
            )
        except DomainError:
            raise  # MediaError: the use case fails the job with its sentence
        except Exception as exc:  # anything else is worth a retry, then the DLQ
            raise InferenceError(
                f"segment {request.segment_index} could not be converted: {exc}"
            ) from exc
