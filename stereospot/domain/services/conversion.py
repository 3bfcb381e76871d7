"""Converting segments and reacting to what lands in the output bucket.

Crash safety: a segment whose output already exists is not converted again but handled as
if its output event had arrived (a crash between the write and its event); completions are
idempotent; completing a job is a conditional save whose winner alone sends Web Push.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from datetime import datetime
from uuid import UUID

from stereospot.domain import keys, routing
from stereospot.domain.errors import InvalidKey, MediaError
from stereospot.domain.inference import failure_reason
from stereospot.domain.messages import SegmentReady
from stereospot.domain.model import Job, JobStatus, SegmentCompletion, SegmentProgress
from stereospot.domain.ports import ConversionRequest, Invocation, ProgressCallback
from stereospot.domain.services.jobs import fail_job
from stereospot.domain.services.reassembly import trigger_if_ready
from stereospot.domain.services.roles import Converting, RecordingOutputs, ReportingProgress
from stereospot.domain.services.support import (
    context,
    notify_outcome,
    publish,
    update_job,
)

log = logging.getLogger(__name__)

_INFERENCE_PREFIXES = (routing.INFERENCE_RESPONSE_PREFIX, routing.INFERENCE_FAILURE_PREFIX)


class UnknownInvocation(Exception):
    """An inference result whose invocation is not (yet) recorded; retried by the queue."""


def location_key(location: str) -> str:
    """An async inference output location as an object key ('s3://bucket/k' -> 'k')."""
    if location.startswith("s3://"):
        return location[len("s3://") :].partition("/")[2]
    return location


def handle_segment_ready(
    deps: Converting,
    job_id: UUID,
    segment_index: int,
    total_segments: int,
    input_key: str,
    on_progress: ProgressCallback | None = None,
) -> None:
    extra = context(job_id, segment_index)
    job = deps.jobs.get(job_id)
    if job is None or job.status.is_terminal:
        log.info("segment skipped: job is gone or finished", extra=extra)
        return
    output_key = keys.output_segment_key(job_id, segment_index)
    if deps.storage.exists(output_key):
        log.info("segment already converted", extra=extra)
        handle_output_object(deps, output_key)
        return
    previous = (
        keys.segment_key(job_id, segment_index - 1, total_segments, job.output_format)
        if segment_index > 0
        else None
    )
    request = ConversionRequest(
        job_id=job_id,
        segment_index=segment_index,
        input_key=input_key,
        output_key=output_key,
        output_format=job.output_format,
        settings=job.settings,
        previous_input_key=previous,
    )
    asynchronous = bool(getattr(deps.inference, "asynchronous", False))
    holder = slot_holder(job_id, segment_index)
    if asynchronous and not _take_slot(deps, holder, total_segments, input_key, request):
        return
    reporter = ProgressReporter(deps, job, segment_index, on_progress)
    reporter.start()
    try:
        result = deps.inference.convert(request, reporter)
    except MediaError as exc:
        if asynchronous:
            deps.invocations.release_slot(holder)
        fail_job(deps, job_id, str(exc))
        return
    except Exception:
        if asynchronous:
            deps.invocations.release_slot(holder)
        raise
    if not result.completed and result.output_location is not None:
        now, ttl_s = deps.clock.now(), deps.policy.invocation_ttl_s
        for location in (result.output_location, result.failure_location):
            if location is not None:
                deps.invocations.put(
                    Invocation(location_key(location), job_id, segment_index), now, ttl_s
                )
        log.info("segment submitted for async inference", extra=extra)
    else:
        log.info("segment converted", extra=extra)
        if result.completed and not result.output_event:
            handle_output_object(deps, output_key)


RATE_WINDOW_S = 8.0  # the worker's rate is measured over about this many recent seconds


class ProgressReporter:
    """The engine's progress callback for one segment: records frames done in the
    SegmentProgressStore at most once per `policy.progress_interval_s` (and the last
    frame), publishes a progress event with each write, and passes every call on to
    `inner` (the worker's log line). A failing write is logged, never raised: progress
    must not stop a conversion."""

    def __init__(
        self, deps: ReportingProgress, job: Job, segment_index: int, inner: ProgressCallback | None
    ) -> None:
        self._deps = deps
        self._job = job
        self._index = segment_index
        self._inner = inner
        self._started = deps.clock.now()
        self._last_write: datetime | None = None
        self._window: deque[tuple[datetime, int]] = deque()
        planned = {e.index: e.frame_count for e in job.segment_plan}
        self._planned = planned.get(segment_index, 0)

    def start(self) -> None:
        """The conversion begins: frames 0 of the planned count (starts the rate clock)."""
        self._write(0, self._planned, self._started)

    def __call__(self, done: int, total: int) -> None:
        if self._inner is not None:
            self._inner(done, total)
        now = self._deps.clock.now()
        interval = self._deps.policy.progress_interval_s
        last = self._last_write
        if done < total and last is not None and (now - last).total_seconds() < interval:
            return
        self._write(done, total, now)

    def _rate(self, done: int, now: datetime) -> float:
        """Frames per second over the last RATE_WINDOW_S (0 until a second is measured).
        The window opens at the first frames done: the warm-up before them (model load,
        the first batch) says nothing about how fast the remaining frames will go."""
        if done <= 0:
            return 0.0
        self._window.append((now, done))
        while len(self._window) > 2 and (now - self._window[1][0]).total_seconds() >= (
            RATE_WINDOW_S
        ):
            self._window.popleft()
        first_at, first_done = self._window[0]
        span = (now - first_at).total_seconds()
        return (done - first_done) / span if span >= 1.0 and done > first_done else 0.0

    def _write(self, done: int, total: int, now: datetime) -> None:
        self._last_write = now
        rate = self._rate(done, now)
        report = SegmentProgress(
            job_id=self._job.id,
            segment_index=self._index,
            frames_done=max(0, done),
            frames_total=max(0, total),
            started_at=self._started,
            updated_at=now,
            frames_per_second=rate,
        )
        try:
            self._deps.progress.put(report)
        except Exception:
            log.exception("could not record progress", extra=context(self._job.id, self._index))
            return
        publish(
            self._deps,
            self._job,
            segment_index=self._index,
            frames_done=report.frames_done,
            frames_total=report.frames_total,
        )


def slot_holder(job_id: UUID, segment_index: int) -> str:
    return f"{job_id}/{segment_index}"


def _take_slot(
    deps: Converting, holder: str, total_segments: int, input_key: str, request: ConversionRequest
) -> bool:
    """An in-flight slot for an async invocation (the cap holds across every video worker),
    or, when all are taken, the segment offered again in a while (a new message, so waiting
    never uses up the queue's receives) and False."""
    slot = deps.invocations.acquire_slot(
        holder, deps.clock.now(), deps.policy.invocation_ttl_s, deps.policy.max_in_flight
    )
    if slot is not None:
        return True
    again = SegmentReady(
        job_id=request.job_id,
        segment_index=request.segment_index,
        total_segments=total_segments,
        key=input_key,
    )
    deps.queues[routing.QueueName.VIDEO_WORKER].send(again.to_body(), deps.policy.slot_wait_s)
    log.info(
        "every inference slot is taken; segment offered again in %d s",
        deps.policy.slot_wait_s,
        extra=context(request.job_id, request.segment_index),
    )
    return False


def handle_output_object(deps: RecordingOutputs, key: str) -> None:
    """React to a new object under jobs/ (or an async inference result)."""
    if key.startswith(_INFERENCE_PREFIXES):
        _handle_inference_result(deps, key)
        return
    try:
        parsed = keys.parse_key(key)
    except InvalidKey:
        log.warning("ignoring output event for an unknown key %r", key)
        return
    match parsed:
        case keys.OutputSegmentKey(job_id=job_id, index=index):
            _record_completion(deps, job_id, index, key)
        case keys.FinalKey(job_id=job_id) | keys.ReassemblyDoneKey(job_id=job_id):
            _complete(deps, job_id)
        case _:
            log.warning("ignoring output event for input key %r", key)


def _record_completion(deps: RecordingOutputs, job_id: UUID, index: int, key: str) -> None:
    extra = context(job_id, index)
    job = deps.jobs.get(job_id)
    if job is None or job.status.is_terminal:
        log.info("completion ignored: job is gone or finished", extra=extra)
        return
    if job.total_segments is not None and index >= job.total_segments:
        log.warning("completion ignored: index beyond the plan", extra=extra)
        return
    if not deps.storage.exists(key):
        log.warning("completion ignored: the output object is missing", extra=extra)
        return
    completion = SegmentCompletion(
        job_id=job_id, segment_index=index, output_key=key, completed_at=deps.clock.now()
    )
    if deps.completions.put(completion):
        done = len(deps.completions.list(job_id))
        log.info("segment completed (%d done)", done, extra=extra)
        publish(deps, job, segments_done=done, segment_index=index)
    trigger_if_ready(deps, job_id)


def _complete(deps: RecordingOutputs, job_id: UUID) -> None:
    if not deps.storage.exists(keys.final_key(job_id)):
        log.warning("completion signal without final.mp4; ignored", extra=context(job_id))
        return
    now = deps.clock.now()

    def finish(job: Job) -> Job | None:
        if job.status is JobStatus.CHUNKING_COMPLETE:  # the reassembling save was lost
            job = job.transition(JobStatus.REASSEMBLING)
        if job.status is not JobStatus.REASSEMBLING:
            return None
        return job.transition(JobStatus.COMPLETED, completed_at=now)

    completed = update_job(deps, job_id, finish)
    if completed is None:
        current = deps.jobs.get(job_id)
        if (
            current is not None
            and current.status is JobStatus.COMPLETED
            and current.notified_at is None  # redelivered: we died before the push
        ):
            notify_outcome(deps, current)
        log.info("completion signal: nothing to do", extra=context(job_id))
        return
    log.info("job completed", extra=context(job_id))
    publish(deps, completed, segments_done=completed.total_segments)
    notify_outcome(deps, completed)


def _handle_inference_result(deps: RecordingOutputs, key: str) -> None:
    """A SageMaker async response (status JSON: the server wrote the segment itself) or
    failure object arrived: complete or fail the segment, then free its in-flight slot."""
    invocation = deps.invocations.get(key, deps.clock.now())
    if invocation is None:
        raise UnknownInvocation(f"no invocation recorded for {key!r} (yet)")
    job_id, index = invocation.job_id, invocation.segment_index
    extra = context(job_id, index)
    body = deps.storage.get_bytes(key)
    if key.startswith(routing.INFERENCE_FAILURE_PREFIX) or _says_error(body):
        reason = f"Segment {index + 1} could not be converted"
        if _says_error(body):  # our server's status JSON: its reason is a sentence
            detail = failure_reason(body[:4096])
            fail_job(deps, job_id, f"{reason}: {detail}" if detail else f"{reason}.")
        else:  # the platform's own text (a crash, a timeout): for the log, not the user
            raw = failure_reason(body[:4096])
            log.warning("inference endpoint failure: %s", raw or "(empty)", extra=extra)
            fail_job(deps, job_id, f"{reason}: the inference endpoint failed on it.")
    else:
        output_key = keys.output_segment_key(job_id, index)
        if not deps.storage.exists(output_key):  # a response that is the video itself
            with deps.scratch.directory() as work:
                result = work / "result.mp4"
                deps.storage.get_file(key, result)
                deps.storage.put_file(output_key, result)  # fires the segment's output event
        _record_completion(deps, job_id, index, output_key)
        log.info("async inference result recorded", extra=extra)
    deps.invocations.release_slot(slot_holder(job_id, index))
    deps.invocations.delete(key)


def _says_error(body: bytes) -> bool:
    """A response object holding our status JSON with status "error"."""
    if not body.startswith(b"{"):
        return False
    try:
        return bool(json.loads(body).get("status") == "error")
    except (ValueError, AttributeError):
        return False
