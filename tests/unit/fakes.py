"""Small fakes for use-case tests: a toolkit, inference backends, a fetcher, crash injection,
and a worker harness that drains the memory queues the way the real workers do.

A fake "video" is a text file `FAKEVIDEO segments=N` (see fake_video); splitting it gives N
segment files, converting a segment prefixes its bytes, concat joins them in order.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from stereospot.adapters.memory.clock import ManualClock
from stereospot.adapters.memory.completions import MemorySegmentCompletionStore
from stereospot.adapters.memory.events import MemoryJobEvents
from stereospot.adapters.memory.invocations import MemoryInvocationStore
from stereospot.adapters.memory.jobs import MemoryJobStore
from stereospot.adapters.memory.progress import MemorySegmentProgressStore
from stereospot.adapters.memory.push import MemoryPushSubscriptionStore, RecordingPushSender
from stereospot.adapters.memory.queues import MemoryQueues
from stereospot.adapters.memory.reassembly import MemoryReassemblyLock
from stereospot.adapters.memory.storage import MemoryObjectStorage
from stereospot.domain import keys
from stereospot.domain.errors import FetchError, MediaError
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.media import SegmentFile, VideoInfo
from stereospot.domain.messages import parse_message
from stereospot.domain.model import SegmentPlanEntry
from stereospot.domain.ports import (
    ConversionRequest,
    ConversionResult,
    FetchedSource,
    ProgressCallback,
)
from stereospot.domain.routing import INFERENCE_RESPONSE_PREFIX, QueueName
from stereospot.domain.services import dispatch, jobs
from stereospot.domain.services.deps import Deps, Policy
from stereospot.domain.services.object_events import notify_created

SEGMENT_SECONDS = 2.0


def fake_video(segments: int) -> bytes:
    return f"FAKEVIDEO segments={segments}".encode()


class FakeToolkit:
    def __init__(self) -> None:
        self.concat_calls = 0
        self._lock = threading.Lock()

    @staticmethod
    def _segments(path: Path) -> int:
        data = path.read_bytes()
        if not data.startswith(b"FAKEVIDEO segments="):
            raise MediaError("This file is not a video we can read.")
        return int(data.split(b"=", 1)[1])

    def probe(self, path: Path) -> VideoInfo:
        n = self._segments(path)
        return VideoInfo(
            duration_s=n * SEGMENT_SECONDS,
            fps=25.0,
            variable_frame_rate=False,
            width=64,
            height=48,
            rotation=0,
            pixel_format="yuv420p",
            bit_depth=8,
            codec="h264",
            frame_count=n * 50,
            frame_count_exact=True,
            has_audio=True,
            audio_codec="aac",
            size_bytes=path.stat().st_size,
        )

    def split(self, source: Path, out_dir: Path, target_seconds: float) -> list[SegmentFile]:
        n = self._segments(source)
        result = []
        for i in range(n):
            path = out_dir / f"{i:05d}.mp4"
            path.write_bytes(f"segment {i} of {n}".encode())
            plan = SegmentPlanEntry(
                index=i, start_s=i * SEGMENT_SECONDS, duration_s=SEGMENT_SECONDS, frame_count=50
            )
            result.append(SegmentFile(path=path, plan=plan))
        return result

    def concat(self, segments: Sequence[Path], audio_source: Path | None, out: Path) -> None:
        with self._lock:
            self.concat_calls += 1
        joined = b"|".join(p.read_bytes() for p in segments)
        audio = b"+audio" if audio_source is not None else b""
        out.write_bytes(joined + audio)

    def poster(self, video: Path, out: Path) -> None:
        out.write_bytes(b"FAKEJPEG of " + video.read_bytes()[:20])


class FakeInference:
    """Converts synchronously, writing the output object through the storage."""

    def __init__(self, storage: MemoryObjectStorage) -> None:
        self.storage = storage
        self.requests: list[ConversionRequest] = []
        self._lock = threading.Lock()

    def convert(
        self, request: ConversionRequest, on_progress: ProgressCallback | None = None
    ) -> ConversionResult:
        with self._lock:
            self.requests.append(request)
        data = self.storage.get_bytes(request.input_key)
        if on_progress is not None:
            on_progress(50, 50)
        self.storage.put_bytes(request.output_key, b"3d(" + data + b")")
        return ConversionResult(completed=True)


class FakeAsyncInference(FakeInference):
    """Like SageMaker async: the result lands under the response prefix later."""

    def convert(
        self, request: ConversionRequest, on_progress: ProgressCallback | None = None
    ) -> ConversionResult:
        with self._lock:
            self.requests.append(request)
        data = self.storage.get_bytes(request.input_key)
        key = f"{INFERENCE_RESPONSE_PREFIX}{uuid.uuid4()}.out"
        self.storage.put_bytes(key, b"3d(" + data + b")")
        return ConversionResult(completed=False, output_location=f"s3://output-bucket/{key}")


class FakeFetcher:
    def __init__(self, segments: int = 2, title: str = "Fetched clip") -> None:
        self.segments = segments
        self.title = title
        self.error: str | None = None
        self.calls = 0

    def fetch(self, url: str, dest_dir: Path, max_bytes: int) -> FetchedSource:
        self.calls += 1
        if self.error is not None:
            raise FetchError(self.error)
        path = dest_dir / "download.mp4"
        path.write_bytes(fake_video(self.segments))
        return FetchedSource(path=path, title=self.title)


class TempScratch:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._count = 0
        self._lock = threading.Lock()

    @contextmanager
    def directory(self) -> Iterator[Path]:
        with self._lock:
            self._count += 1
            path = self._root / f"scratch-{self._count}"
        path.mkdir(parents=True)
        try:
            yield path
        finally:
            for child in sorted(path.rglob("*"), reverse=True):
                child.unlink() if child.is_file() else child.rmdir()
            path.rmdir()


@dataclasses.dataclass
class World:
    """Deps on memory adapters plus handles on the concrete fakes."""

    deps: Deps
    clock: ManualClock
    queues: MemoryQueues
    storage: MemoryObjectStorage
    toolkit: FakeToolkit
    inference: FakeInference
    fetcher: FakeFetcher
    push: RecordingPushSender
    events: MemoryJobEvents
    lock: MemoryReassemblyLock

    def replace(self, **ports: Any) -> None:
        """Swap ports in deps (e.g. a crashing proxy)."""
        self.deps = dataclasses.replace(self.deps, **ports)


def make_world(
    tmp_path: Path,
    *,
    async_inference: bool = False,
    duplicate_events: bool = False,
    max_receives: int = 5,
) -> World:
    clock = ManualClock()
    queues = MemoryQueues(clock, {name: 60 for name in QueueName}, max_receives=max_receives)

    def on_created(key: str, size: int) -> None:
        for _ in range(2 if duplicate_events else 1):
            notify_created(queues, key, size)

    storage = MemoryObjectStorage(clock, on_created=on_created)
    toolkit = FakeToolkit()
    inference = (FakeAsyncInference if async_inference else FakeInference)(storage)
    fetcher = FakeFetcher()
    push = RecordingPushSender()
    events = MemoryJobEvents()
    lock = MemoryReassemblyLock()
    deps = Deps(
        jobs=MemoryJobStore(),
        completions=MemorySegmentCompletionStore(),
        progress=MemorySegmentProgressStore(),
        reassembly_lock=lock,
        invocations=MemoryInvocationStore(),
        storage=storage,
        queues=DuplicatingQueues(queues) if duplicate_events else queues,
        events=events,
        push_subscriptions=MemoryPushSubscriptionStore(),
        push_sender=push,
        clock=clock,
        scratch=TempScratch(tmp_path / "scratch"),
        toolkit=toolkit,
        inference=inference,
        fetcher=fetcher,
        policy=Policy(segment_seconds=SEGMENT_SECONDS),
    )
    return World(deps, clock, queues, storage, toolkit, inference, fetcher, push, events, lock)


class _DuplicatingQueue:
    def __init__(self, queue: Any) -> None:
        self._queue = queue

    def __getattr__(self, name: str) -> Any:
        return getattr(self._queue, name)

    def send(self, body: str, delay_s: int = 0) -> str:
        self._queue.send(body, delay_s)
        return str(self._queue.send(body, delay_s))


class DuplicatingQueues:
    """Every message a use case sends is delivered twice (at-least-once at its worst)."""

    def __init__(self, queues: MemoryQueues) -> None:
        self._queues = queues

    def __getitem__(self, name: QueueName) -> Any:
        return _DuplicatingQueue(self._queues[name])


def new_job(world: World, output_format: StereoFormat = StereoFormat.HALF_SBS) -> UUID:
    job = jobs.create_job(
        world.deps, output_format=output_format, settings=ConversionSettings(), title="Clip"
    )
    return job.id


def upload(world: World, job_id: UUID, segments: int = 3) -> None:
    """What the browser does: PUT the file to the signed upload URL."""
    url = jobs.request_upload_url(world.deps, job_id, "clip.mp4")
    world.storage.put_via_url(url, fake_video(segments))


# --------------------------------------------------------------------------- crash injection


class Crash(RuntimeError):
    """A simulated worker death at a chosen step."""


class CrashOnce:
    """Proxy for a port: `method` raises Crash once, when `when(*args)` holds.

    after=False crashes before the real call (the step did not happen); after=True makes
    the real call and then crashes (the step happened, the worker died right after).
    """

    def __init__(
        self,
        target: Any,
        method: str,
        when: Callable[..., bool] = lambda *a, **k: True,
        *,
        after: bool = False,
    ) -> None:
        self._target = target
        self._method = method
        self._when = when
        self._after = after
        self.fired = False

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._target, name)
        if name != self._method:
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            armed = not self.fired and self._when(*args, **kwargs)
            if armed and not self._after:
                self.fired = True
                raise Crash(f"crash before {name}")
            result = real(*args, **kwargs)
            if armed:
                self.fired = True
                raise Crash(f"crash after {name}")
            return result

        return call

    def __getitem__(self, name: Any) -> Any:  # Queues
        return self.__getattr__("__getitem__")(name)


class CrashingQueues:
    """Queues whose `queue` crashes once on send (before or after the message is sent)."""

    def __init__(self, queues: Any, queue: QueueName, *, after: bool) -> None:
        self._queues = queues
        self._crashing = CrashOnce(queues[queue], "send", after=after)
        self._queue = queue

    @property
    def fired(self) -> bool:
        return self._crashing.fired

    def __getitem__(self, name: QueueName) -> Any:
        return self._crashing if name is self._queue else self._queues[name]


# --------------------------------------------------------------------------- workers


@dataclasses.dataclass
class DrainReport:
    handled: int = 0
    errors: list[BaseException] = dataclasses.field(default_factory=list)
    dead_lettered: int = 0


def process_one(world: World, name: QueueName, report: DrainReport) -> bool:
    """Receive and handle one message of queue `name` as a worker would; False if none."""
    queue = world.queues[name]
    received = queue.receive(max_messages=1)
    if not received:
        return False
    message = received[0]
    decoded = parse_message(message.body)
    try:
        dispatch.handle_message(world.deps, name, decoded, message.message_id)
    except Exception as exc:
        report.errors.append(exc)
        if message.receive_count >= queue.max_receives:
            dispatch.handle_dead_letter(world.deps, decoded, message.receive_count)
            report.dead_lettered += 1
        return True
    queue.delete(message.receipt)
    report.handled += 1
    return True


def drain(world: World, max_rounds: int = 500) -> DrainReport:
    """Run every queue until all are empty; failed messages reappear after their timeout."""
    report = DrainReport()
    for _ in range(max_rounds):
        progressed = False
        for name in QueueName:
            while process_one(world, name, report):
                progressed = True
        if not progressed:
            if all(world.queues[n].approximate_count() == 0 for n in QueueName):
                return report
            world.clock.advance(61)  # past every visibility timeout: redelivery
    raise AssertionError(f"queues did not drain: {report}")


def snapshot(world: World, job_id: UUID) -> dict[str, Any]:
    """The observable end state of a job, with its id abstracted (to compare two runs)."""
    job = world.deps.jobs.get(job_id)
    stored = {
        key.replace(str(job_id), "{job}")
        for prefix in keys.job_prefixes(job_id)
        for key in world.storage.list_keys(prefix)
    }
    final = keys.final_key(job_id)
    return {
        "status": job.status if job else None,
        "total": job.total_segments if job else None,
        "plan": job.segment_plan if job else None,
        "failure": job.failure_reason if job else None,
        "completions": [c.segment_index for c in world.deps.completions.list(job_id)],
        "keys": sorted(stored),
        "final": world.storage.get_bytes(final) if world.storage.exists(final) else None,
    }
