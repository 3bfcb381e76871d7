"""The streaming conversion: decode -> depth -> synthesis -> packing -> encode.

Decoding and encoding run in their own threads (PyAV releases the GIL), so they overlap
with the torch work; the queues between them hold at most two batches, which bounds
memory by the batch size, not the video's length. Frames stay uint8 I420 all the way:
depth works on a small float preview, and the eyes are resampled from the uint8 planes
straight into the packed output (see warp.py).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

import numpy as np
import torch
import torch.nn.functional as nnf

from inference_server import fused_resample
from inference_server.colour import ColourInfo
from inference_server.depth import DepthEstimator, FrameBatch
from inference_server.depth.base import PREVIEW_WIDTH, shrink
from inference_server.layout import I420, PlaneLayout
from inference_server.packing import Planes, depth_planes, pack
from inference_server.synthesis import (
    Warp,
    dilate_nearness,
    eye_gains,
    eye_warps,
    fill_colours,
    warp_grid,
)
from inference_server.temporal import DepthRangeNormaliser, SceneCutDetector, thumbnails
from inference_server.warp import ViewRenderer, paint_holes, position_grid, rows_per_position
from stereospot.domain.formats import ConversionSettings, StereoFormat

T = TypeVar("T")
EDGE_DILATION_PX = 2  # at full resolution, for estimated depth


def split_i420(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, H*3/2, W) I420 -> views: y (B,H,W) and the chroma pair uv (B,2,H/2,W/2)."""
    height, width = frames.shape[-2] * 2 // 3, frames.shape[-1]
    return frames[:, :height], frames[:, height:].reshape(-1, 2, height // 2, width // 2)


def rotate_i420(
    frames: torch.Tensor, quarter_turns: int, out: torch.Tensor, layout: PlaneLayout = I420
) -> torch.Tensor:
    """Every plane of `frames` turned counter-clockwise, written into `out`."""
    y, uv = layout.split(frames)
    out_y, out_uv = layout.split(out)
    out_y.copy_(torch.rot90(y, quarter_turns, dims=(-2, -1)))
    out_uv.copy_(torch.rot90(uv, quarter_turns, dims=(-2, -1)))
    return out


def _planes(y: torch.Tensor, uv: torch.Tensor) -> Planes:
    return Planes(y, uv[:, 0], uv[:, 1])


def _store(planes: Planes, y: torch.Tensor, uv: torch.Tensor, top: int = 255) -> None:
    """Float or integer planes -> the integer views y (B,H,W) and uv (B,2,Hc,Wc)."""
    for source, target in ((planes.y, y), (planes.u, uv[:, 0]), (planes.v, uv[:, 1])):
        if source.is_floating_point():
            source = source.round().clamp_(0, top)
        target.copy_(source)


class StereoProcessor:
    """Stateful per video: scene cuts, depth range window, estimator history, buffers."""

    def __init__(
        self,
        estimator: DepthEstimator,
        settings: ConversionSettings,
        output_format: StereoFormat,
        colour: ColourInfo,
        window: int,
        layout: PlaneLayout = I420,
        clock: StageClock | None = None,
    ) -> None:
        self.clock = clock or StageClock()
        self._layout = layout
        self._estimator = estimator
        self._settings = settings
        self._format = output_format
        self._colour = colour
        self._cuts = SceneCutDetector()
        self._normaliser = DepthRangeNormaliser(window)
        self._renderer = ViewRenderer()
        self._preview: Planes | None = None
        estimator.reset()

    def nearness(self, planes: Planes) -> torch.Tensor:
        """(B,h,w) nearness in [0,1], 1 = nearest, at the estimator's resolution."""
        if self._layout.bits > 8:  # estimators see 8-bit levels
            scale = 255.0 / self._layout.max_value
            planes = Planes(*(p.float().mul_(scale) for p in (planes.y, planes.u, planes.v)))
        batch = FrameBatch(planes, self._colour, [])
        preview = batch.preview(PREVIEW_WIDTH)
        self._preview = preview  # reused by the disocclusion fill when sizes match
        batch.cuts = self._cuts.detect(thumbnails(preview.y))
        raw = self._estimator.estimate(batch)
        if not self._estimator.absolute:
            raw = self._normaliser.normalise(raw, batch.cuts)
        if raw.shape[-1] > planes.y.shape[-1]:
            raw = resize(raw, planes.y.shape[-2:])
        return raw.clamp(0.0, 1.0)

    def warm_up(self, frames: torch.Tensor) -> None:
        """Feeds I420 frames through the temporal state without producing output."""
        if not self._estimator.absolute:
            self.nearness(_planes(*self._layout.split(frames)))

    def process(self, frames: torch.Tensor, out: torch.Tensor) -> None:
        """I420 uint8 frames (B, H*3/2, W) -> the packed I420 output frames in `out`."""
        y, uv = self._layout.split(frames)
        with self.clock.stage("depth"):
            nearness = self.nearness(_planes(y, uv))
        with self.clock.stage("synthesis"):
            self._synthesise(frames, nearness, out)

    def _synthesise(self, frames: torch.Tensor, nearness: torch.Tensor, out: torch.Tensor) -> None:
        layout = self._layout
        y, uv = layout.split(frames)
        height, width = y.shape[-2:]
        out_y, out_uv = layout.split(out)
        if self._format is StereoFormat.DEPTH:
            depth = depth_planes(resize(nearness, (height, width)), self._colour, layout)
            _store(depth, out_y, out_uv, layout.max_value)
            return
        if not self._estimator.absolute:
            radius = round(EDGE_DILATION_PX * nearness.shape[-1] / width)
            nearness = dilate_nearness(nearness, max(1, radius))
        settings = self._settings
        nearness = warp_grid(nearness)
        share = rows_per_position(nearness.shape[-2], height)
        gains = eye_gains(width, settings.divergence, settings.synthetic_view.value)
        warps = eye_warps(nearness, width, gains, settings.convergence)
        grids = [None if w is None else position_grid(w[1], height, width, share) for w in warps]
        scale = nearness.shape[-1] / width
        holes = [
            None if w is None else (w[0], gain * scale)
            for w, gain in zip(warps, gains, strict=True)
        ]
        views = _eye_views(self._format, out_y, out_uv, height, width)
        if views is None:  # halved or mixed formats: render whole eyes, then pack
            eyes = [self._eye_buffer(frames, side) for side in ("left", "right")]
            eye_views = [layout.split(eye) for eye in eyes]
            self._render(y, uv, grids, share, eye_views)
            _paint(y, uv, holes, eye_views, self._preview, layout.max_value)
            left, right = (_planes(*layout.split(eye)) for eye in eyes)
            packed = pack(self._format, left, right, self._colour, layout)
            _store(packed, out_y, out_uv, layout.max_value)
        else:
            self._render(y, uv, grids, share, views)
            _paint(y, uv, holes, views, self._preview, layout.max_value)

    def _eye_buffer(self, frames: torch.Tensor, side: str) -> torch.Tensor:
        return self._renderer.buffer(
            "eye." + side, tuple(frames.shape), frames.dtype, frames.device
        )

    def _render(
        self,
        y: torch.Tensor,
        uv: torch.Tensor,
        grids: list[torch.Tensor | None],
        share: int,
        views: list[tuple[torch.Tensor, torch.Tensor]],
    ) -> None:
        """Both eyes of every frame, one frame at a time (its buffers stay in cache).

        uint8 planes on a CPU go through the fused kernel (fused_resample: the same bytes,
        a quarter of the CPU time) when numba is installed, else through packed taps."""
        renderer = self._renderer
        height, width = y.shape[-2:]
        wide = y.dtype != torch.uint8
        shift = self._layout.chroma_shift
        fused = fused_resample.available(y)
        resample = renderer.resample_wide if wide else renderer.resample
        for index in range(y.shape[0]):
            luma, chroma_taps = y[index : index + 1], uv[index]
            if not (fused or wide):
                luma, chroma_taps = renderer.taps(luma, "y"), renderer.taps(chroma_taps, "uv")
            for grid, (eye_y, eye_uv) in zip(grids, views, strict=True):
                if grid is None:
                    eye_y[index].copy_(y[index])
                    eye_uv[index].copy_(uv[index])
                    continue
                positions = renderer.positions(grid[index], height // share, width)
                if fused:
                    fused_resample.resample_rows(luma, positions, eye_y[index : index + 1])
                    fused_resample.resample_chroma(
                        chroma_taps, positions, eye_uv[index], height, shift
                    )
                    continue
                resample(luma, positions, eye_y[index : index + 1])
                chroma = renderer.chroma_positions(positions, height, shift)
                resample(chroma_taps, chroma, eye_uv[index])


def _paint(
    y: torch.Tensor,
    uv: torch.Tensor,
    holes: list[tuple[Warp, float] | None],
    views: list[tuple[torch.Tensor, torch.Tensor]],
    preview: Planes | None,
    top: int = 255,
) -> None:
    """Paints each eye's disocclusions from its background (see synthesis.fill_holes),
    on the depth map's grid, into the rendered planes; the source at the grid's size is
    the batch's preview when it has that size."""
    wide = [None if h is None else h[0].wide_holes() for h in holes]
    if not any(w is not None and bool(w.any()) for w in wide):
        return
    size = next(h[0].hole.shape[-2:] for h in holes if h is not None)
    planes = (y, uv[:, 0], uv[:, 1])
    if preview is not None and tuple(preview.y.shape) == (y.shape[0], *size) and top == 255:
        planes = (preview.y, preview.u, preview.v)
    small = torch.stack(
        [
            p if p.is_floating_point() and p.shape[-2:] == size else shrink(p, (size[0], size[1]))
            for p in planes
        ],
        1,
    )
    for entry, mask, (eye_y, eye_uv) in zip(holes, wide, views, strict=True):
        if entry is None or mask is None or not bool(mask.any()):
            continue
        view, gain = entry
        filled = fill_colours(small, view, gain)
        paint_holes(eye_y.unsqueeze(1), filled[:, :1], mask, top)
        paint_holes(eye_uv, filled[:, 1:], mask, top)


def _eye_views(
    fmt: StereoFormat, y: torch.Tensor, uv: torch.Tensor, height: int, width: int
) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
    """Where each eye lands in the packed output, for formats that place eyes whole."""
    half_w, half_h = uv.shape[-1] // 2, uv.shape[-2] // 2
    if fmt in (StereoFormat.FULL_SBS, StereoFormat.CROSS_EYED):
        first = (y[..., :width], uv[..., :half_w])
        second = (y[..., width:], uv[..., half_w:])
        return [first, second] if fmt is StereoFormat.FULL_SBS else [second, first]
    if fmt is StereoFormat.FULL_TB:
        return [(y[:, :height], uv[:, :, :half_h]), (y[:, height:], uv[:, :, half_h:])]
    return None


def resize(x: torch.Tensor, size: tuple[int, ...] | torch.Size) -> torch.Tensor:
    """(B,h,w) -> (B,*size), bilinear; a no-op when the size already matches."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return nnf.interpolate(
        x.unsqueeze(1), size=tuple(size), mode="bilinear", align_corners=False
    ).squeeze(1)


class ArrayPool:
    """Hands out equally shaped arrays again once they are given back.

    Frames cross threads (decode -> torch -> encode) in multi-megabyte arrays; a fresh
    one per batch costs page faults on every first touch, a recycled one does not.
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        dtype: type[np.generic] = np.uint8,
        pinned: bool = False,
        keep: int = 4,
    ) -> None:
        self.shape = shape
        self._dtype = dtype
        self._pinned = pinned  # page-locked (CUDA only): host<->GPU copies run async
        self._free: queue.Queue[np.ndarray] = queue.Queue(maxsize=keep)

    def take(self) -> np.ndarray:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            if self._pinned:  # the array keeps its tensor (and the pinned memory) alive
                like = torch.from_numpy(np.empty(0, dtype=self._dtype))
                return torch.empty(self.shape, dtype=like.dtype, pin_memory=True).numpy()
            return np.empty(self.shape, dtype=self._dtype)

    def give(self, array: np.ndarray) -> None:
        with contextlib.suppress(queue.Full):
            self._free.put_nowait(array)


class StageClock:
    """Busy seconds per stage of a conversion (decode, depth, synthesis, copies, encode).

    Stages run in different threads at once, so the sum exceeds the wall time. On a GPU,
    kernels run asynchronously: give `sync` (torch.cuda.synchronize) to charge each
    stage its own GPU time, at the price of the overlap between stages.
    """

    def __init__(self, sync: Callable[[], None] | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self._sync = sync
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def stage(self, name: str, on_gpu: bool = True) -> Iterator[None]:
        """Charges the block's time to `name` (after a sync when it may queue GPU work)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            if on_gpu and self._sync is not None:
                self._sync()
            spent = time.perf_counter() - started
            with self._lock:
                self.seconds[name] = self.seconds.get(name, 0.0) + spent

    def timed(self, items: Iterable[T], name: str) -> Iterator[T]:
        """`items`, charging the time taken to produce each one to stage `name`."""
        iterator = iter(items)
        while True:
            with self.stage(name, on_gpu=False):
                item = next(iterator, _DONE)
            if item is _DONE:
                return
            yield item  # type: ignore[misc]


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
