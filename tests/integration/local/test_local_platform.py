"""The local platform container: data layout, object-created routing, durability."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from stereospot.config import Settings
from stereospot.container import build_container
from stereospot.domain.formats import StereoFormat
from stereospot.domain.keys import (
    final_key,
    output_segment_key,
    reassembly_done_key,
    segment_key,
    source_key,
)
from stereospot.domain.messages import ObjectCreated
from stereospot.domain.ports import Queues
from stereospot.domain.routing import Bucket, QueueName
from stereospot.platforms.local import PlatformContainer


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def platform(data_dir: Path) -> Iterator[PlatformContainer]:
    yield PlatformContainer(settings=Settings(data_dir=data_dir))


def _queued(queues: Queues) -> dict[QueueName, list[ObjectCreated]]:
    """Every message now in every queue, received and then released at once."""
    found: dict[QueueName, list[ObjectCreated]] = {}
    for name in QueueName:
        messages = queues[name].receive(max_messages=10, visibility_timeout_s=0)
        if messages:
            found[name] = [ObjectCreated.model_validate_json(m.body) for m in messages]
    return found


def test_the_data_directory_layout(platform: PlatformContainer, data_dir: Path) -> None:
    storage = platform.storage()
    platform.jobs()
    storage.put_bytes("misc/readme.txt", b"hello")
    assert (data_dir / "objects" / "misc" / "readme.txt").read_bytes() == b"hello"
    assert (data_dir / "tmp").is_dir()
    assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(data_dir / "stereospot.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"jobs", "queue_messages"} <= tables


def test_every_port_is_provided(platform: PlatformContainer) -> None:
    for name in (
        "jobs", "completions", "reassembly_lock", "invocations", "storage", "queues",
        "events", "push_subscriptions", "decoder", "url_signer",
    ):  # fmt: skip
        assert getattr(platform, name)() is not None, name
    body = ObjectCreated(bucket="input", key=source_key(uuid4()), size=1).to_body()
    assert platform.decoder()(body) == [ObjectCreated.model_validate_json(body)]


def test_the_application_container_selects_the_local_platform(data_dir: Path) -> None:
    container = build_container(Settings(data_dir=data_dir))
    deps_storage = container.platform.storage()
    deps_storage.put_bytes(final_key(uuid4()), b"x")
    assert len(list((data_dir / "objects" / "jobs").iterdir())) == 1


def test_object_writes_enqueue_exactly_their_routed_message(platform: PlatformContainer) -> None:
    storage, queues = platform.storage(), platform.queues()
    job = uuid4()
    expectations = [
        (source_key(job), QueueName.CHUNKING, Bucket.INPUT),
        (segment_key(job, 0, 3, StereoFormat.HALF_SBS), QueueName.VIDEO_WORKER, Bucket.INPUT),
        (output_segment_key(job, 0), QueueName.OUTPUT_EVENTS, Bucket.OUTPUT),
        (final_key(job), QueueName.OUTPUT_EVENTS, Bucket.OUTPUT),
        (reassembly_done_key(job), QueueName.OUTPUT_EVENTS, Bucket.OUTPUT),
    ]
    for key, queue_name, bucket in expectations:
        storage.put_bytes(key, b"12345")
        assert _queued(queues) == {
            queue_name: [ObjectCreated(bucket=bucket.value, key=key, size=5)]
        }, key
        queues[queue_name].receive(visibility_timeout_s=60)  # consume it for the next round
        assert queues[queue_name].receive() == []


def test_a_key_no_route_matches_enqueues_nothing(platform: PlatformContainer) -> None:
    storage, queues = platform.storage(), platform.queues()
    job = uuid4()
    for key in (f"input/{job}/notes.txt", f"jobs/{job}/thumbnail.jpg", "misc/readme.txt"):
        storage.put_bytes(key, b"x")
    assert _queued(queues) == {}


def test_queued_messages_outlive_the_process_that_sent_them(data_dir: Path) -> None:
    first = PlatformContainer(settings=Settings(data_dir=data_dir))
    first.storage().put_bytes(source_key(uuid4()), b"x")
    [delivery] = first.queues()[QueueName.CHUNKING].receive(visibility_timeout_s=0)
    # A new container (as a restarted worker) sees the same, still undeleted, message.
    second = PlatformContainer(settings=Settings(data_dir=data_dir))
    [again] = second.queues()[QueueName.CHUNKING].receive()
    assert again.message_id == delivery.message_id and again.receive_count == 2


def test_a_configured_secret_key_signs_urls(data_dir: Path) -> None:
    secret = "s" * 40
    one = PlatformContainer(settings=Settings(data_dir=data_dir, secret_key=secret))
    other = PlatformContainer(settings=Settings(data_dir=data_dir / "other", secret_key=secret))
    key = final_key(uuid4())
    url = one.url_signer().sign(method="GET", key=key, expires_at=2_000_000_000)
    assert other.url_signer().sign(method="GET", key=key, expires_at=2_000_000_000) == url
    assert not (data_dir / "secret_key").exists()
