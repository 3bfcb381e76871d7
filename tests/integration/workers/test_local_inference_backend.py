"""LocalInferenceBackend on the local platform's storage, with the real engine."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import av
import pytest

import inference_server.api as engine_api
from stereospot.adapters.inference.local import LocalInferenceBackend
from stereospot.adapters.local.system import TempScratch
from stereospot.config import Platform, Settings
from stereospot.container import build_container
from stereospot.domain import keys
from stereospot.domain.errors import InferenceError, MediaError
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.messages import ObjectCreated, parse_message
from stereospot.domain.ports import ConversionRequest, ObjectStorage, Queues
from stereospot.domain.routing import QueueName
from tests.media_clips import decoded_frame_count, make_clip

JOB = uuid4()


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[tuple[ObjectStorage, Queues, TempScratch]]:
    container = build_container(Settings(platform=Platform.LOCAL, data_dir=tmp_path / "data"))
    yield container.platform.storage(), container.platform.queues(), TempScratch(tmp_path / "s")


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("segments")
    return [
        make_clip(root / f"{i}.mp4", seconds=1.0, fps=12, width=96, height=64, audio=False)
        for i in range(2)
    ]


def put_segments(storage: ObjectStorage, segments: list[Path]) -> list[str]:
    segment_keys = [
        keys.segment_key(JOB, i, len(segments), StereoFormat.HALF_SBS) for i in range(2)
    ]
    for key, path in zip(segment_keys, segments, strict=True):
        storage.put_file(key, path)
    return segment_keys


def request(index: int, segment_keys: list[str], previous: str | None = None) -> ConversionRequest:
    return ConversionRequest(
        job_id=JOB,
        segment_index=index,
        input_key=segment_keys[index],
        output_key=keys.output_segment_key(JOB, index),
        output_format=StereoFormat.HALF_SBS,
        settings=ConversionSettings(),
        previous_input_key=previous,
    )


class EngineSpy:
    """Wraps the real convert_video, recording calls and how many overlap."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, delay_s: float = 0.0) -> None:
        self.real = engine_api.convert_video
        self.calls: list[dict[str, Any]] = []
        self.running = 0
        self.max_running = 0
        self.delay_s = delay_s
        self._lock = threading.Lock()
        monkeypatch.setattr(engine_api, "convert_video", self)

    def __call__(self, input_path: Path, output_path: Path, **kwargs: Any) -> Any:
        warmup = kwargs.get("warmup_path")
        with self._lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
            self.calls.append({**kwargs, "warmup_exists": warmup is not None and warmup.exists()})
        try:
            time.sleep(self.delay_s)
            return self.real(input_path, output_path, **kwargs)
        finally:
            with self._lock:
                self.running -= 1


def test_converts_a_segment_and_the_write_fires_the_output_event(
    platform: tuple[ObjectStorage, Queues, TempScratch],
    segments: list[Path],
    tmp_path: Path,
) -> None:
    storage, queues, scratch = platform
    segment_keys = put_segments(storage, segments)
    backend = LocalInferenceBackend(storage, scratch, device="cpu")
    progress: list[tuple[int, int]] = []

    result = backend.convert(request(0, segment_keys), lambda d, t: progress.append((d, t)))

    assert result.completed is True
    out = tmp_path / "out.mp4"
    storage.get_file(keys.output_segment_key(JOB, 0), out)
    assert decoded_frame_count(out) == decoded_frame_count(segments[0])
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (96, 64)  # half side-by-side keeps the size
        assert not container.streams.audio
    assert progress and progress[-1][0] == progress[-1][1]
    events = [parse_message(m.body) for m in queues[QueueName.OUTPUT_EVENTS].receive(10, 1.0)]
    assert [e.key for e in events if isinstance(e, ObjectCreated)] == [
        keys.output_segment_key(JOB, 0)
    ]
    assert list((tmp_path / "s").iterdir()) == []  # scratch cleaned up


def test_the_previous_segment_warms_up_the_engine(
    platform: tuple[ObjectStorage, Queues, TempScratch],
    segments: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage, _queues, scratch = platform
    segment_keys = put_segments(storage, segments)
    spy = EngineSpy(monkeypatch)
    backend = LocalInferenceBackend(storage, scratch, device="cpu")

    backend.convert(request(1, segment_keys, previous=segment_keys[0]))
    storage.delete_prefix(f"segments/{JOB}/")
    storage.put_file(segment_keys[1], segments[1])  # the previous one is gone now
    backend.convert(request(1, segment_keys, previous=segment_keys[0]))

    assert [c["warmup_exists"] for c in spy.calls] == [True, False]
    assert all(c["copy_audio"] is False for c in spy.calls)


@pytest.mark.parametrize("slots", [1, 2])
def test_concurrent_conversions_are_bounded(
    platform: tuple[ObjectStorage, Queues, TempScratch],
    segments: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    slots: int,
) -> None:
    storage, _queues, scratch = platform
    segment_keys = put_segments(storage, segments)
    spy = EngineSpy(monkeypatch, delay_s=0.3)
    backend = LocalInferenceBackend(storage, scratch, device="cpu", concurrency=slots)

    threads = [
        threading.Thread(target=backend.convert, args=(request(i % 2, segment_keys),))
        for i in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(spy.calls) == 3
    assert spy.max_running == slots


def test_a_file_that_is_not_a_video_is_a_media_error(
    platform: tuple[ObjectStorage, Queues, TempScratch], tmp_path: Path
) -> None:
    storage, _queues, scratch = platform
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    key = keys.segment_key(JOB, 0, 1, StereoFormat.HALF_SBS)
    storage.put_file(key, junk)
    backend = LocalInferenceBackend(storage, scratch, device="cpu")

    with pytest.raises(MediaError):
        backend.convert(request(0, [key]))
    assert not storage.exists(keys.output_segment_key(JOB, 0))


def test_an_engine_crash_is_an_inference_error_worth_retrying(
    platform: tuple[ObjectStorage, Queues, TempScratch],
    segments: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage, _queues, scratch = platform
    segment_keys = put_segments(storage, segments)

    def crash(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(engine_api, "convert_video", crash)
    backend = LocalInferenceBackend(storage, scratch, device="cpu")

    with pytest.raises(InferenceError, match="segment 1 could not be converted: out of memory"):
        backend.convert(request(1, segment_keys))


def test_built_from_settings_by_the_container(tmp_path: Path) -> None:
    settings = Settings(platform=Platform.LOCAL, data_dir=tmp_path, inference_concurrency=3)
    backend = build_container(settings).inference()
    assert isinstance(backend, LocalInferenceBackend)
    assert backend.concurrency == 3
