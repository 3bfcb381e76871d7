"""The streaming conversion: decode -> depth -> synthesis -> packing -> encode.

Decoding and encoding run in their own threads (PyAV releases the GIL), so they overlap
with the torch work; the queues between them hold at most two batches, which bounds
memory by the batch size, not the video's length.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import torch
import torch.nn.functional as nnf

from inference_server.colour import ColourInfo
from inference_server.depth import DepthEstimator, FrameBatch
from inference_server.packing import Planes, depth_planes, pack
from inference_server.synthesis import dilate_nearness, eye_gains, sample_columns, source_columns
from inference_server.temporal import DepthRangeNormaliser, SceneCutDetector, thumbnails
from stereospot.domain.formats import ConversionSettings, StereoFormat

T = TypeVar("T")
EDGE_DILATION_PX = 2  # at full resolution, for estimated depth


@dataclass(frozen=True)
class FrameGeometry:
    width: int  # stored (coded) size, even
    height: int
    rotation: int  # counter-clockwise degrees


def i420_to_planes(frames: list[np.ndarray], geo: FrameGeometry, device: torch.device) -> Planes:
    """Stacked I420 arrays -> float planes in display orientation."""
    data = torch.from_numpy(np.stack(frames)).to(device, non_blocking=True).float()
    h, w = geo.height, geo.width
    chroma = data[:, h:].reshape(-1, 2, h // 2, w // 2)
    planes = Planes(data[:, :h], chroma[:, 0], chroma[:, 1])
    k = geo.rotation // 90
    if k:
        planes = Planes(*(torch.rot90(p, k, dims=(-2, -1)) for p in (planes.y, planes.u, planes.v)))
    return planes


def planes_to_i420(planes: Planes, rotation: int) -> list[np.ndarray]:
    """Float planes (display orientation) -> uint8 I420 arrays in stored orientation."""
    k = rotation // 90
    y, u, v = planes.y, planes.u, planes.v
    if k:
        y, u, v = (torch.rot90(p, -k, dims=(-2, -1)) for p in (y, u, v))
    batch = y.shape[0]
    stacked = torch.cat([y.reshape(batch, -1), u.reshape(batch, -1), v.reshape(batch, -1)], 1)
    data = stacked.round_().clamp_(0, 255).to(torch.uint8).cpu().numpy()
    height, width = y.shape[-2:]
    return list(data.reshape(batch, height * 3 // 2, width))


class StereoProcessor:
    """Stateful per video: scene cuts, depth range window, estimator history."""

    def __init__(
        self,
        estimator: DepthEstimator,
        settings: ConversionSettings,
        output_format: StereoFormat,
        colour: ColourInfo,
        window: int,
    ) -> None:
        self._estimator = estimator
        self._settings = settings
        self._format = output_format
        self._colour = colour
        self._cuts = SceneCutDetector()
        self._normaliser = DepthRangeNormaliser(window)
        estimator.reset()

    def nearness(self, planes: Planes) -> torch.Tensor:
        """(B,h,w) nearness in [0,1], 1 = nearest, at the estimator's resolution."""
        cuts = self._cuts.detect(thumbnails(planes.y))
        raw = self._estimator.estimate(FrameBatch(planes, self._colour, cuts))
        if not self._estimator.absolute:
            raw = self._normaliser.normalise(raw, cuts)
        if raw.shape[-1] > planes.y.shape[-1]:
            raw = resize(raw, planes.y.shape[-2:])
        return raw.clamp(0.0, 1.0)

    def warm_up(self, planes: Planes) -> None:
        """Feeds frames through the temporal state without producing output."""
        if not self._estimator.absolute:
            self.nearness(planes)

    def process(self, planes: Planes) -> Planes:
        nearness = self.nearness(planes)
        if self._format is StereoFormat.DEPTH:
            return depth_planes(resize(nearness, planes.y.shape[-2:]), self._colour)
        if not self._estimator.absolute:
            radius = round(EDGE_DILATION_PX * nearness.shape[-1] / planes.y.shape[-1])
            nearness = dilate_nearness(nearness, max(1, radius))
        left, right = render_eyes(planes, nearness, self._settings)
        return pack(self._format, left, right, self._colour)


def resize(x: torch.Tensor, size: tuple[int, ...] | torch.Size) -> torch.Tensor:
    """(B,h,w) -> (B,*size), bilinear; a no-op when the size already matches."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return nnf.interpolate(
        x.unsqueeze(1), size=tuple(size), mode="bilinear", align_corners=False
    ).squeeze(1)


def warp_columns(
    nearness: torch.Tensor, size: tuple[int, int], gain: float, convergence: float
) -> torch.Tensor:
    """Source columns for a (H,W) view, computed at the depth map's resolution.

    The z-buffer warp runs where the depth lives (the builtin map is ~192 px wide), and
    only the resulting displacement is upsampled: full-resolution cost stays one resize
    plus the sampling itself.
    """
    height, width = size
    scale = nearness.shape[-1] / width
    low = source_columns(nearness, gain * scale, convergence)
    grid = torch.arange(nearness.shape[-1], device=low.device, dtype=low.dtype)
    displacement = resize((low - grid) / scale, (height, width))
    columns = torch.arange(width, device=low.device, dtype=low.dtype)
    return (columns + displacement).clamp_(0, width - 1)


def render_eyes(
    planes: Planes, nearness: torch.Tensor, settings: ConversionSettings
) -> tuple[Planes, Planes]:
    height, width = planes.y.shape[-2:]
    gains = eye_gains(width, settings.divergence, settings.synthetic_view.value)
    eyes = []
    for gain in gains:
        if gain == 0:
            eyes.append(planes)
            continue
        columns = warp_columns(nearness, (height, width), gain, settings.convergence)
        y = sample_columns(planes.y.unsqueeze(1), columns, cubic=True).squeeze(1)
        # Chroma: the same displacement at half size (a 2x2 mean keeps the column centres).
        chroma_columns = (nnf.avg_pool2d(columns.unsqueeze(1), 2).squeeze(1) - 0.5) / 2
        uv = sample_columns(torch.stack([planes.u, planes.v], 1), chroma_columns.clamp_(min=0))
        eyes.append(Planes(y, uv[:, 0], uv[:, 1]))
    return eyes[0], eyes[1]


# --------------------------------------------------------------------------- threads


_DONE = object()


class _Worker(threading.Thread):
    """Runs `fn`, remembering the exception for the main thread to re-raise."""

    def __init__(self, fn: Callable[[], None], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._fn = fn
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._fn()
        except BaseException as exc:
            self.error = exc


def background_iter(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterates `items` in a producer thread, at most `depth` items ahead."""
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        finally:
            q.put(_DONE)

    worker = _Worker(produce, "stereospot-decode")
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                break
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():
            try:
                q.get(timeout=0.1)
            except queue.Empty:
                continue
        worker.join()
    if worker.error is not None:
        raise worker.error


class BackgroundSink(Generic[T]):
    """Calls `consume` on items in a consumer thread; `close` waits and re-raises."""

    def __init__(self, consume: Callable[[T], None], depth: int = 2) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._consume = consume
        self._worker = _Worker(self._run, "stereospot-encode")
        self._worker.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            self._consume(item)  # type: ignore[arg-type]

    def put(self, item: T) -> None:
        while self._worker.is_alive():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        self.close()  # the consumer died: surface its error

    def close(self) -> None:
        if self._worker.is_alive():
            while True:
                try:
                    self._queue.put(_DONE, timeout=0.1)
                    break
                except queue.Full:
                    if not self._worker.is_alive():
                        break
        self._worker.join()
        if self._worker.error is not None:
            raise self._worker.error
