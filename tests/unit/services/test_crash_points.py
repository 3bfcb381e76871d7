"""Crash safety: a worker dying between any two steps, then the message being delivered
again, ends in the same state as a run with no crash (one final.mp4, each segment
recorded once, the job completed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stereospot.domain import keys
from stereospot.domain.messages import parse_message
from stereospot.domain.model import JobStatus
from stereospot.domain.ports import PushSubscription
from stereospot.domain.routing import QueueName
from stereospot.domain.services import dispatch, jobs, pipeline
from tests.unit.fakes import (
    Crash,
    CrashingQueues,
    CrashOnce,
    World,
    drain,
    make_world,
    new_job,
    snapshot,
    upload,
)

SUBSCRIPTION = PushSubscription(endpoint="https://push.example/1", p256dh="k", auth="a")
SEGMENTS = 3


def _status(status: JobStatus) -> Callable[..., bool]:
    return lambda job, *a, **k: job.status is status


def _key_endswith(suffix: str) -> Callable[..., bool]:
    return lambda key, *a, **k: key.endswith(suffix)


def _segment_key(index: int) -> Callable[..., bool]:
    return lambda key, *a, **k: key.startswith("segments/") and f"/{index:05d}_" in key


@dataclass(frozen=True)
class CrashPoint:
    name: str
    install: Callable[[World], Any]  # returns the proxy (has .fired)
    pushes: int = 1  # notifications the user gets in the end


def _port(attr: str, method: str, when: Callable[..., bool] | None = None, *, after: bool) -> Any:
    def install(world: World) -> Any:
        kwargs = {"when": when} if when is not None else {}
        proxy = CrashOnce(getattr(world.deps, attr), method, after=after, **kwargs)
        world.replace(**{attr: proxy})
        return proxy

    return install


def _queue_send(queue: QueueName, *, after: bool) -> Callable[[World], Any]:
    def install(world: World) -> Any:
        proxy = CrashingQueues(world.deps.queues, queue, after=after)
        world.replace(queues=proxy)
        return proxy

    return install


CRASH_POINTS = [
    CrashPoint(
        "chunking: before the chunking-started save",
        _port("jobs", "save", _status(JobStatus.CHUNKING_IN_PROGRESS), after=False),
    ),
    CrashPoint(
        "chunking: status saved, source not split",
        _port("toolkit", "split", after=False),
    ),
    CrashPoint(
        "chunking: some segments stored, not all",
        _port("storage", "put_file", _segment_key(1), after=True),
    ),
    CrashPoint(
        "chunking: all segments stored, total and plan not saved",
        _port("jobs", "save", _status(JobStatus.CHUNKING_COMPLETE), after=False),
    ),
    CrashPoint(
        "chunking: total and plan saved, readiness not re-checked",
        _port("jobs", "save", _status(JobStatus.CHUNKING_COMPLETE), after=True),
    ),
    CrashPoint(
        "conversion: before the inference call",
        _port("inference", "convert", after=False),
    ),
    CrashPoint(
        "conversion: segment converted, call not returned",
        _port("inference", "convert", after=True),
    ),
    CrashPoint(
        "output event: before recording the completion",
        _port("completions", "put", after=False),
    ),
    CrashPoint(
        "output event: completion recorded, readiness not checked",
        _port("completions", "put", after=True),
    ),
    CrashPoint(
        "trigger: ready, before the lock is created",
        _port("reassembly_lock", "create", after=False),
    ),
    CrashPoint(
        "trigger: lock created, reassembly not requested",
        _port("reassembly_lock", "create", after=True),
    ),
    CrashPoint(
        "trigger: reassembly requested, status not saved",
        _queue_send(QueueName.REASSEMBLY, after=True),
    ),
    CrashPoint(
        "trigger: before the reassembly request is sent",
        _queue_send(QueueName.REASSEMBLY, after=False),
    ),
    CrashPoint(
        "trigger: status saved as reassembling, message not deleted",
        _port("jobs", "save", _status(JobStatus.REASSEMBLING), after=True),
    ),
    CrashPoint(
        "reassembly: lock claimed, segments not joined",
        _port("toolkit", "concat", after=False),
    ),
    CrashPoint(
        "reassembly: final.mp4 written, marker not",
        _port("storage", "put_bytes", _key_endswith("/.reassembly-done"), after=False),
    ),
    CrashPoint(
        "reassembly: marker written, message not deleted",
        _port("storage", "put_bytes", _key_endswith("/.reassembly-done"), after=True),
    ),
    CrashPoint(
        "completion: before the completed save",
        _port("jobs", "save", _status(JobStatus.COMPLETED), after=False),
    ),
    CrashPoint(
        # The redelivered completion finds the job completed but not notified (the push
        # outbox: notified_at), and sends the notification then.
        "completion: completed saved, push not sent",
        _port("jobs", "save", _status(JobStatus.COMPLETED), after=True),
    ),
]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    world = make_world(tmp_path_factory.mktemp("reference"))
    job_id = new_job(world)
    upload(world, job_id, segments=SEGMENTS)
    drain(world)
    state = snapshot(world, job_id)
    assert state["status"] is JobStatus.COMPLETED
    return state


@pytest.mark.parametrize("point", CRASH_POINTS, ids=[p.name for p in CRASH_POINTS])
def test_crash_then_redelivery_ends_like_no_crash(
    tmp_path: Path, point: CrashPoint, reference: dict[str, Any]
) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    jobs.subscribe_push(world.deps, job_id, SUBSCRIPTION)
    crashing = point.install(world)
    upload(world, job_id, segments=SEGMENTS)

    report = drain(world)

    assert crashing.fired, "the crash point was never reached"
    assert any(isinstance(e, Crash) for e in report.errors)
    assert report.dead_lettered == 0
    assert snapshot(world, job_id) == reference
    assert world.storage.list_keys(f"jobs/{job_id}/") == [
        keys.reassembly_done_key(job_id),
        keys.final_key(job_id),
        keys.poster_key(job_id),
        *(keys.output_segment_key(job_id, i) for i in range(SEGMENTS)),
    ]
    assert len(world.push.sent) == point.pushes


def test_late_duplicate_reassembly_request_is_a_no_op(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    upload(world, job_id, segments=2)
    drain(world)
    world.lock.delete(job_id)  # even with the lock gone (TTL)
    pipeline.reassemble(world.deps, job_id, "late-duplicate")
    assert world.toolkit.concat_calls == 1
    assert world.deps.jobs.get(job_id).status is JobStatus.COMPLETED  # type: ignore[union-attr]


def test_reassemble_creates_a_missing_lock_then_claims_it(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    upload(world, job_id, segments=2)
    drain_until_reassembly_requested(world)
    world.lock.delete(job_id)
    pipeline.reassemble(world.deps, job_id, "message-1")
    assert world.lock.claimant(job_id) == "message-1"
    assert world.storage.exists(keys.reassembly_done_key(job_id))
    # Another claimant cannot take a lease that is held; the same claimant can.
    now = world.clock.now()
    assert not world.lock.claim(job_id, "message-2", now, 60)
    assert world.lock.claim(job_id, "message-1", now, 60)


def drain_until_reassembly_requested(world: World) -> None:
    for name in (QueueName.CHUNKING, QueueName.VIDEO_WORKER, QueueName.OUTPUT_EVENTS):
        while received := world.queues[name].receive(max_messages=10):
            for m in received:
                dispatch.handle_message(world.deps, name, parse_message(m.body), m.message_id)
                world.queues[name].delete(m.receipt)
    assert world.queues[QueueName.REASSEMBLY].approximate_count() == 1
