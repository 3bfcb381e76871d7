"""Reassembly: trigger it exactly when a job is ready, and join the segments once.

Crash safety: the trigger is re-run on every completion event and after chunking, and each
of its steps is idempotent (lock create, message send, status save), so a crash between any
two of them is repaired by the next redelivery. Duplicate reassembly messages are harmless:
only one claimant holds the lock, and a finished job is skipped.
"""

from __future__ import annotations

import logging
from pathlib import Path
from uuid import UUID

from stereospot.domain import keys, policies
from stereospot.domain.errors import MediaError
from stereospot.domain.messages import ReassemblyRequested
from stereospot.domain.model import Job, JobStatus
from stereospot.domain.routing import QueueName
from stereospot.domain.services.jobs import fail_job
from stereospot.domain.services.roles import Reassembling, Triggering
from stereospot.domain.services.support import context, publish, update_job

log = logging.getLogger(__name__)

_REASSEMBLABLE = (JobStatus.CHUNKING_COMPLETE, JobStatus.REASSEMBLING)


def trigger_if_ready(deps: Triggering, job_id: UUID) -> bool:
    """If every segment is converted and chunking is recorded, start reassembly once.

    Returns True iff this call found the job ready (and sent the request).
    """
    job = deps.jobs.get(job_id)
    if job is None:
        return False
    indices = [c.segment_index for c in deps.completions.list(job_id)]
    if not policies.is_ready_for_reassembly(job, indices):
        return False
    now = deps.clock.now()
    created = deps.reassembly_lock.create(job_id, now, deps.policy.reassembly_lock_ttl_s)
    log.info("job ready for reassembly (lock newly created: %s)", created, extra=context(job_id))
    deps.queues[QueueName.REASSEMBLY].send(ReassemblyRequested(job_id=job_id).to_body())

    def to_reassembling(current: Job) -> Job | None:
        if current.status is not JobStatus.CHUNKING_COMPLETE:
            return None  # someone else moved it on (or it failed): fine
        return current.transition(JobStatus.REASSEMBLING)

    saved = update_job(deps, job_id, to_reassembling)
    if saved is not None:
        publish(deps, saved, segments_done=len(set(indices)))
    return True


def reassemble(deps: Reassembling, job_id: UUID, claimant: str) -> None:
    """Join the converted segments and the source audio into final.mp4, then write the
    .reassembly-done marker (the completion signal). `claimant` is the queue message id."""
    job = deps.jobs.get(job_id)
    final_key, done_key = keys.final_key(job_id), keys.reassembly_done_key(job_id)
    if job is not None and job.status is JobStatus.COMPLETED:
        # final.mp4's own event completed the job before the marker was written (a crash
        # between the two); finish the step so the end state is the same as without one.
        if deps.storage.exists(final_key) and not deps.storage.exists(done_key):
            deps.storage.put_bytes(done_key, claimant.encode())
        return
    if job is None or job.status not in _REASSEMBLABLE or job.total_segments is None:
        log.info("nothing to reassemble", extra=context(job_id))
        return
    if deps.storage.exists(final_key) and deps.storage.exists(done_key):
        log.info("already reassembled", extra=context(job_id))
        return
    if not _claim(deps, job_id, claimant):
        log.info("another worker holds the reassembly", extra=context(job_id))
        return
    if not deps.storage.exists(final_key):  # a crash after final.mp4 only lacks the marker
        try:
            _join(deps, job_id, job.total_segments)
        except MediaError as exc:
            fail_job(deps, job_id, str(exc))
            return
    deps.storage.put_bytes(done_key, claimant.encode())
    log.info("reassembled", extra=context(job_id))


def _claim(deps: Reassembling, job_id: UUID, claimant: str) -> bool:
    now = deps.clock.now()
    lease = deps.policy.reassembly_lease_s
    if deps.reassembly_lock.claim(job_id, claimant, now, lease):
        return True
    # The lock may be missing (the trigger crashed before creating it, or it expired):
    # create it; if that succeeds nobody else can hold it, so claim it.
    if deps.reassembly_lock.create(job_id, now, deps.policy.reassembly_lock_ttl_s):
        return deps.reassembly_lock.claim(job_id, claimant, now, lease)
    return False


def _join(deps: Reassembling, job_id: UUID, total: int) -> None:
    with deps.scratch.directory() as work:
        segments = []
        for index in range(total):
            path = work / f"{index:05d}.mp4"
            deps.storage.get_file(keys.output_segment_key(job_id, index), path)
            segments.append(path)
        source = work / "source.mp4"
        deps.storage.get_file(keys.source_key(job_id), source)
        final = work / "final.mp4"
        deps.toolkit.concat(segments, source, final)
        _poster(deps, job_id, final, work / "poster.jpg")
        deps.storage.put_file(keys.final_key(job_id), final)


def _poster(deps: Reassembling, job_id: UUID, final: Path, out: Path) -> None:
    """The poster goes first: final.mp4's event completes the job. Without one the page
    simply shows no poster, so a failure here never fails the job."""
    try:
        deps.toolkit.poster(final, out)
        deps.storage.put_file(keys.poster_key(job_id), out)
    except Exception:
        log.warning("no poster frame for the result", exc_info=True, extra=context(job_id))
