"""The whole flow on memory adapters: happy path, duplicates, orderings, races, DLQ."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from stereospot.domain import keys
from stereospot.domain.messages import ReassemblyRequested, parse_message
from stereospot.domain.model import JobStatus
from stereospot.domain.ports import Invocation, PushSubscription
from stereospot.domain.routing import INFERENCE_FAILURE_PREFIX, INFERENCE_RESPONSE_PREFIX, QueueName
from stereospot.domain.services import dispatch, jobs, pipeline
from stereospot.domain.services.conversion import UnknownInvocation
from stereospot.domain.services.deps import Policy
from tests.unit.fakes import (
    DrainReport,
    World,
    drain,
    fake_video,
    make_world,
    new_job,
    process_one,
    snapshot,
    upload,
)

SUBSCRIPTION = PushSubscription(endpoint="https://push.example/1", p256dh="k", auth="a")


def expected_final(segments: int) -> bytes:
    parts = [f"3d(segment {i} of {segments})".encode() for i in range(segments)]
    return b"|".join(parts) + b"+audio"


def test_upload_to_completed(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    jobs.subscribe_push(world.deps, job_id, SUBSCRIPTION)
    upload(world, job_id, segments=3)

    report = drain(world)

    job = jobs.get_visible_job(world.deps, job_id)
    assert job.status is JobStatus.COMPLETED
    assert job.total_segments == 3 and len(job.segment_plan) == 3
    assert job.uploaded_at is not None and job.completed_at is not None
    assert job.source_size == len(fake_video(3))
    assert world.storage.get_bytes(keys.final_key(job_id)) == expected_final(3)
    assert world.storage.get_bytes(keys.poster_key(job_id)).startswith(b"FAKEJPEG of ")
    assert world.storage.exists(keys.reassembly_done_key(job_id))
    assert [c.segment_index for c in world.deps.completions.list(job_id)] == [0, 1, 2]
    assert world.toolkit.concat_calls == 1
    assert report.errors == []
    assert [p.payload["type"] for p in world.push.sent] == ["job_completed"]
    statuses = [e.status for e in world.events.all() if e.job_id == job_id]
    assert statuses[0] == "created" and statuses[-1] == "completed"
    assert "reassembling" in statuses


def test_segments_carry_the_previous_segment_for_warm_up(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    upload(world, job_id, segments=3)
    drain(world)
    by_index = {r.segment_index: r for r in world.inference.requests}
    assert by_index[0].previous_input_key is None
    assert by_index[2].previous_input_key == keys.segment_key(
        job_id, 1, 3, by_index[2].output_format
    )


def test_every_message_delivered_twice_ends_the_same(tmp_path: Path) -> None:
    reference = make_world(tmp_path / "ref")
    ref_id = new_job(reference)
    jobs.subscribe_push(reference.deps, ref_id, SUBSCRIPTION)
    upload(reference, ref_id)
    drain(reference)

    world = make_world(tmp_path / "dup", duplicate_events=True)
    job_id = new_job(world)
    jobs.subscribe_push(world.deps, job_id, SUBSCRIPTION)
    upload(world, job_id)
    report = drain(world)

    assert snapshot(world, job_id) == snapshot(reference, ref_id)
    assert world.toolkit.concat_calls == 1
    assert len(world.push.sent) == 1  # the job completes once, so it notifies once
    assert report.errors == []


@pytest.mark.parametrize("order", list(itertools.permutations(["chunked", "out0", "out1", "out2"])))
def test_every_order_of_completions_and_chunking(tmp_path: Path, order: tuple[str, ...]) -> None:
    """Segments may finish before chunking records its total; no order loses the trigger."""
    world = make_world(tmp_path)
    job_id = new_job(world)
    upload(world, job_id, segments=3)
    # Chunking has started (status saved) but has not recorded its plan yet.
    job = world.deps.jobs.get(job_id)
    assert job is not None
    world.deps.jobs.save(job.transition(JobStatus.CHUNKING_IN_PROGRESS))
    for i in range(3):
        world.storage.put_bytes(
            keys.output_segment_key(job_id, i), f"3d(segment {i} of 3)".encode()
        )
    steps: dict[str, Any] = {
        "chunked": lambda: pipeline.chunk_source(world.deps, job_id),
        **{
            f"out{i}": (
                lambda i=i: pipeline.handle_output_object(
                    world.deps, keys.output_segment_key(job_id, i)
                )
            )
            for i in range(3)
        },
    }
    for step in order:
        steps[step]()
    for step in order:  # and every one delivered again
        steps[step]()
    reassembly = [parse_message(b) for b in world.queues[QueueName.REASSEMBLY].bodies()]
    assert reassembly == [ReassemblyRequested(job_id=job_id)]
    assert world.deps.jobs.get(job_id).status is JobStatus.REASSEMBLING  # type: ignore[union-attr]

    drain(world)
    assert snapshot(world, job_id)["status"] is JobStatus.COMPLETED
    assert world.storage.get_bytes(keys.final_key(job_id)) == expected_final(3)
    assert world.toolkit.concat_calls == 1


class _Barrier:
    """Proxy: `method` waits for `parties` callers before running (forces a real race)."""

    def __init__(self, target: Any, method: str, parties: int) -> None:
        self._target = target
        self._method = method
        self._barrier = threading.Barrier(parties, timeout=5)

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._target, name)
        if name != self._method:
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            self._barrier.wait()
            return real(*args, **kwargs)

        return call


def _run_in_threads(*calls: Any) -> None:
    errors: list[BaseException] = []

    def run(call: Any) -> None:
        try:
            call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []


def _ready_job(world: World) -> Any:
    """A job whose every segment is converted, just before anyone noticed."""
    job_id = new_job(world)
    upload(world, job_id, segments=2)
    for name in (QueueName.CHUNKING, QueueName.VIDEO_WORKER):
        while received := world.queues[name].receive():
            for m in received:
                dispatch.handle_message(world.deps, name, parse_message(m.body), m.message_id)
                world.queues[name].delete(m.receipt)
    return job_id


@pytest.mark.parametrize("attempt", range(5))
def test_two_workers_race_to_trigger_and_to_claim(tmp_path: Path, attempt: int) -> None:
    world = make_world(tmp_path)
    job_id = _ready_job(world)
    plain = world.deps
    # Two output-event workers see the last completion at the same moment.
    world.replace(completions=_Barrier(world.deps.completions, "list", 2))
    outputs = [keys.output_segment_key(job_id, i) for i in (0, 1)]
    _run_in_threads(*(lambda k=k: pipeline.handle_output_object(world.deps, k) for k in outputs))
    assert world.deps.jobs.get(job_id).status is JobStatus.REASSEMBLING  # type: ignore[union-attr]
    requests = world.queues[QueueName.REASSEMBLY].receive(max_messages=10)
    assert 1 <= len(requests) <= 2  # both may send; the claim makes that harmless
    claimants = [r.message_id for r in requests]
    if len(claimants) == 1:
        claimants.append("a-second-delivery")

    # Two reassembly workers claim at the same moment: exactly one joins the segments.
    world.replace(reassembly_lock=_Barrier(world.lock, "claim", 2))
    _run_in_threads(*(lambda c=c: pipeline.reassemble(world.deps, job_id, c) for c in claimants))
    assert world.toolkit.concat_calls == 1
    assert world.lock.claimant(job_id) in claimants
    for r in requests:
        world.queues[QueueName.REASSEMBLY].delete(r.receipt)
    world.deps = plain
    report = drain(world)
    assert report.errors == []
    assert world.deps.jobs.get(job_id).status is JobStatus.COMPLETED  # type: ignore[union-attr]
    assert world.toolkit.concat_calls == 1


def test_two_worker_threads_run_the_whole_flow(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_ids = [new_job(world) for _ in range(3)]
    for job_id in job_ids:
        upload(world, job_id, segments=4)
    stop = threading.Event()

    def worker() -> None:
        report = DrainReport()
        while not stop.is_set():
            busy = any(process_one(world, name, report) for name in QueueName)
            if not busy:
                stop.wait(0.005)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(2000):
            done = all(
                world.deps.jobs.get(j).status is JobStatus.COMPLETED  # type: ignore[union-attr]
                for j in job_ids
            )
            if done and all(world.queues[n].approximate_count() == 0 for n in QueueName):
                break
            stop.wait(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join(5)
    for job_id in job_ids:
        assert snapshot(world, job_id)["status"] is JobStatus.COMPLETED
        assert world.storage.get_bytes(keys.final_key(job_id)) == expected_final(4)
    assert world.toolkit.concat_calls == 3


def test_poison_message_fails_the_job_and_reaches_the_dead_letter_queue(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path, max_receives=3)
    job_id = new_job(world)
    upload(world, job_id, segments=2)

    class Broken:
        def convert(self, request: Any, on_progress: Any = None) -> Any:
            raise RuntimeError("GPU fell off the bus")

    world.replace(inference=Broken())
    report = drain(world)

    job = world.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.FAILED
    assert job.failure_reason is not None
    assert job.failure_reason == (
        "Processing stopped after repeated errors while converting segment 1 of 2 (3 attempts)."
    ) or job.failure_reason == (
        "Processing stopped after repeated errors while converting segment 2 of 2 (3 attempts)."
    )
    assert "GPU" not in job.failure_reason  # the exception's text stays in the log
    assert job.status_before_failure is JobStatus.CHUNKING_COMPLETE
    # The first segment message to use up its receives fails the job and is dead-lettered;
    # the other one, delivered again, finds the job failed and is dropped.
    assert report.dead_lettered == 1
    assert len(report.errors) == 2 * 3 - 1
    assert world.queues[QueueName.VIDEO_WORKER].dead_letters().approximate_count() == 1
    assert [p.payload["type"] for p in world.push.sent] == []  # nobody subscribed


def test_unreadable_video_fails_the_job_without_retries(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    url = jobs.request_upload_url(world.deps, job_id, "notes.txt")
    world.storage.put_via_url(url, b"this is not a video")
    report = drain(world)
    job = world.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.FAILED
    assert job.failure_reason == "This file is not a video we can read."
    assert report.errors == []
    assert world.storage.list_keys(f"segments/{job_id}/") == []


def test_async_inference_results_are_recorded(tmp_path: Path) -> None:
    world = make_world(tmp_path, async_inference=True)
    job_id = new_job(world)
    upload(world, job_id, segments=3)
    drain(world)
    assert snapshot(world, job_id)["status"] is JobStatus.COMPLETED
    assert world.storage.get_bytes(keys.final_key(job_id)) == expected_final(3)


RAW_FAILURE = b"CUDA out of memory"
OUR_FAILURE = b'{"status": "error", "reason": "The input is not a video file we can read."}'


@pytest.mark.parametrize(
    ("body", "reason", "logged"),
    [
        # The platform's raw text is for the log; the user reads a sentence.
        (RAW_FAILURE, "the inference endpoint failed on it.", "CUDA out of memory"),
        # Our server's status JSON carries a sentence written for the user.
        (OUR_FAILURE, "The input is not a video file we can read.", None),
    ],
)
def test_async_inference_failure_fails_the_job(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    reason: str,
    logged: str | None,
) -> None:
    world = make_world(tmp_path, async_inference=True)
    job_id = new_job(world)
    upload(world, job_id, segments=1)
    for name in (QueueName.CHUNKING, QueueName.VIDEO_WORKER):
        for m in world.queues[name].receive(max_messages=10):
            dispatch.handle_message(world.deps, name, parse_message(m.body), m.message_id)
            world.queues[name].delete(m.receipt)
    # The invocation was recorded under the result's key (the s3:// location normalised).
    response = world.storage.list_keys(INFERENCE_RESPONSE_PREFIX)[0]
    invocation = world.deps.invocations.get(response, world.clock.now())
    assert invocation == Invocation(response, job_id, 0)
    # The endpoint reports a failure instead of a result.
    failure = f"{INFERENCE_FAILURE_PREFIX}x.out"
    world.deps.invocations.put(Invocation(failure, job_id, 0), world.clock.now(), 3600)
    world.storage.put_bytes(failure, body)
    with caplog.at_level(logging.WARNING):
        pipeline.handle_output_object(world.deps, failure)

    job = world.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.FAILED
    assert job.failure_reason == f"Segment 1 could not be converted: {reason}"
    if logged is not None:
        assert logged in caplog.text
    assert world.deps.invocations.get(failure, world.clock.now()) is None
    drain(world)  # the late result changes nothing
    assert world.deps.jobs.get(job_id).status is JobStatus.FAILED  # type: ignore[union-attr]


def test_inference_result_before_its_invocation_is_retried(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    key = f"{INFERENCE_RESPONSE_PREFIX}early.out"
    world.storage.put_bytes(key, b"3d(...)")
    with pytest.raises(UnknownInvocation):
        pipeline.handle_output_object(world.deps, key)


def test_a_source_over_the_upload_limit_fails_the_job_readably(tmp_path: Path) -> None:
    # On S3 a presigned PUT cannot cap its size, so chunking enforces the limit.
    world = make_world(tmp_path)
    world = dataclasses.replace(
        world, deps=dataclasses.replace(world.deps, policy=Policy(max_upload_bytes=10))
    )
    job_id = new_job(world)
    world.storage.put_bytes(keys.source_key(job_id), fake_video(2))  # as a presigned S3 PUT would
    drain(world)
    job = world.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.FAILED
    assert job.failure_reason is not None and "largest accepted upload" in job.failure_reason
    assert world.toolkit.concat_calls == 0
    assert not world.storage.list_keys(f"segments/{job_id}/")
