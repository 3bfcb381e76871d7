"""Previews: one still frame converted with a job's settings, in this process, on the CPU.

The web app calls it (in a worker thread) for `POST /api/preview`. It runs the engine's
still-image path (inference_server.api.convert_image) on the CPU on every platform, AWS
included: a preview is one small frame, answered while the person waits, which a queued
SageMaker async invocation could not do in time, and it keeps the GPUs for videos.
torch and the engine are imported on first use; a web process without them answers 503.
Nothing is stored: the frame and its result live in a temporary directory for the call.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from pathlib import Path

from stereospot.domain.errors import DomainError, MediaError
from stereospot.domain.formats import ConversionSettings, StereoFormat

# The page sends a frame of at most 640 px on its long side; refuse what would be slow.
MAX_PIXELS = 1280 * 720


class PreviewUnavailable(DomainError):
    """The engine is not installed in this process."""


class StillPreviewer:
    def __init__(self, *, concurrency: int = 1, max_pixels: int = MAX_PIXELS) -> None:
        self._slots = threading.BoundedSemaphore(concurrency)
        self.max_pixels = max_pixels
        self._warm_lock = threading.Lock()
        self._warmed = False

    def warm(self) -> None:
        """Import the engine in the background (torch takes seconds), so the first preview
        a person asks for does not wait for it. Once per process; harmless without it."""
        with self._warm_lock:
            if self._warmed:
                return
            self._warmed = True

        def load() -> None:
            with contextlib.suppress(ImportError):
                import inference_server.api  # noqa: F401

        threading.Thread(target=load, name="preview-warm", daemon=True).start()

    def render(self, image: bytes, fmt: StereoFormat, settings: ConversionSettings) -> bytes:
        """PNG bytes of `image` (PNG or JPEG) in `fmt`. MediaError for an unreadable or too
        large image; PreviewUnavailable without the engine."""
        try:
            from inference_server.api import EngineOptions, convert_image
        except ImportError as exc:
            raise PreviewUnavailable("Previews are not available on this server.") from exc
        with tempfile.TemporaryDirectory(prefix="stereospot-preview-") as work:
            source = Path(work) / ("frame.jpg" if image[:2] == b"\xff\xd8" else "frame.png")
            source.write_bytes(image)
            self._check_size(source)
            output = Path(work) / "preview.png"
            with self._slots:
                convert_image(
                    source,
                    output,
                    output_format=fmt,
                    settings=settings,
                    options=EngineOptions(device="cpu"),
                )
            return output.read_bytes()

    def _check_size(self, path: Path) -> None:
        import av

        try:
            with av.open(str(path)) as container:
                frame = next(container.decode(video=0))
                width, height = frame.width, frame.height
        except (av.error.FFmpegError, IndexError, StopIteration) as exc:
            raise MediaError("The frame is not a PNG or JPEG image we can read.") from exc
        if width * height > self.max_pixels:
            raise MediaError(
                f"The frame is {width}x{height} pixels; send at most {self.max_pixels} pixels."
            )
