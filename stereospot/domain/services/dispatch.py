"""Routing a decoded queue message to its use case, and giving up on one that keeps failing."""

from __future__ import annotations

import logging
from uuid import UUID

from stereospot.domain import keys
from stereospot.domain.errors import InvalidKey
from stereospot.domain.messages import (
    DeletionRequested,
    IngestRequested,
    Message,
    ObjectCreated,
    ReassemblyRequested,
    SegmentReady,
)
from stereospot.domain.ports import ProgressCallback
from stereospot.domain.routing import QueueName, route
from stereospot.domain.services import pipeline
from stereospot.domain.services.jobs import fail_job
from stereospot.domain.services.roles import DeadLettering, Working
from stereospot.domain.services.support import context

log = logging.getLogger(__name__)


def handle_message(
    deps: Working,
    queue: QueueName,
    message: Message,
    message_id: str,
    on_progress: ProgressCallback | None = None,
) -> None:
    match message:
        case ObjectCreated(key=key):
            _handle_object(deps, queue, key, on_progress)
        case SegmentReady():
            parsed = _parsed_or_none(message.key)
            if not (
                isinstance(parsed, keys.SegmentKey)
                and (parsed.job_id, parsed.index, parsed.total)
                == (message.job_id, message.segment_index, message.total_segments)
            ):
                log.warning("ignoring a segment message whose key does not match it")
                return
            pipeline.handle_segment_ready(
                deps,
                message.job_id,
                message.segment_index,
                message.total_segments,
                message.key,
                on_progress,
            )
        case ReassemblyRequested(job_id=job_id):
            pipeline.reassemble(deps, job_id, claimant=message_id)
        case DeletionRequested(job_id=job_id):
            pipeline.cleanup_job(deps, job_id)
        case IngestRequested():
            pipeline.ingest(deps, message)


def _handle_object(
    deps: Working, queue: QueueName, key: str, on_progress: ProgressCallback | None
) -> None:
    if route(key) is not queue:
        log.warning("ignoring %r: it is not for the %s queue", key, queue.value)
        return
    if queue is QueueName.OUTPUT_EVENTS:
        pipeline.handle_output_object(deps, key)  # also takes inference results
        return
    try:
        parsed = keys.parse_key(key)
    except InvalidKey:
        log.warning("ignoring an object event for an unknown key %r", key)
        return
    match parsed:
        case keys.SourceKey(job_id=job_id) if queue is QueueName.CHUNKING:
            pipeline.chunk_source(deps, job_id)
        case keys.SegmentKey() if queue is QueueName.VIDEO_WORKER:
            pipeline.handle_segment_ready(
                deps, parsed.job_id, parsed.index, parsed.total, key, on_progress
            )
        case _:
            log.warning("ignoring %r on the %s queue", key, queue.value)


def _parsed_or_none(key: str) -> keys.ParsedKey | None:
    try:
        return keys.parse_key(key)
    except InvalidKey:
        return None


def job_id_of(message: Message) -> UUID | None:
    if isinstance(message, ObjectCreated):
        try:
            return keys.parse_key(message.key).job_id
        except InvalidKey:
            return None
    return message.job_id


def handle_dead_letter(deps: DeadLettering, message: Message, attempts: int) -> None:
    """A message kept failing (or can never succeed): fail its job, so it is not left
    waiting forever. The reason is a sentence; what went wrong is in the worker's log."""
    job_id = job_id_of(message)
    if job_id is None and isinstance(message, ObjectCreated):
        invocation = deps.invocations.get(message.key, deps.clock.now())
        job_id = invocation.job_id if invocation is not None else None
    if job_id is None:
        log.error("dead letter with no job after %d attempt(s): %s", attempts, message.type)
        return
    log.error("giving up on a message after %d attempt(s)", attempts, extra=context(job_id))
    fail_job(deps, job_id, dead_letter_reason(message, attempts))


def dead_letter_reason(message: Message, attempts: int) -> str:
    """The failure reason a person reads when a message was given up on."""
    plural = "s" if attempts != 1 else ""
    return (
        f"Processing stopped after repeated errors while {step_of(message)} "
        f"({attempts} attempt{plural})."
    )


def step_of(message: Message) -> str:
    """What the system was doing with this message, in words a user understands."""
    match message:
        case SegmentReady(segment_index=index, total_segments=total):
            return f"converting segment {index + 1} of {total}"
        case ReassemblyRequested():
            return "joining the converted segments"
        case DeletionRequested():
            return "removing the job"
        case IngestRequested():
            return "downloading the video"
        case ObjectCreated(key=key):
            match _parsed_or_none(key):
                case keys.SourceKey():
                    return "splitting the video into segments"
                case keys.SegmentKey(index=index, total=total):
                    return f"converting segment {index + 1} of {total}"
                case keys.OutputSegmentKey(index=index):
                    return f"recording converted segment {index + 1}"
                case keys.FinalKey() | keys.ReassemblyDoneKey():
                    return "finishing the job"
    return "converting the video"
