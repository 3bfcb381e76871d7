"""Chunking: probe and split the uploaded source, store its segments, record the plan.

Crash safety: the status moves to chunking_in_progress first; segments are overwritten
idempotently; total, plan and chunking_complete are one save; readiness is re-checked after
it (segments may have finished before it). A redelivery re-runs whatever is not recorded.
"""

from __future__ import annotations

import logging
from uuid import UUID

from stereospot.domain import keys
from stereospot.domain.errors import MediaError
from stereospot.domain.model import Job, JobStatus
from stereospot.domain.services.jobs import fail_job
from stereospot.domain.services.reassembly import trigger_if_ready
from stereospot.domain.services.roles import Chunking, HasPolicy, HasStorage
from stereospot.domain.services.support import context, publish, update_job

log = logging.getLogger(__name__)

_ALREADY_CHUNKED = (JobStatus.CHUNKING_COMPLETE, JobStatus.REASSEMBLING)


class SourceNotReady(Exception):
    """The job is still downloading its source; the message will be retried."""


def chunk_source(deps: Chunking, job_id: UUID) -> None:
    job = deps.jobs.get(job_id)
    if job is None or job.status is JobStatus.DELETED:
        _remove_stray_source(deps, job_id)
        return
    if job.status.is_terminal:  # e.g. cancelled: removing the job removes the source
        log.info("no chunking: job is finished", extra=context(job_id))
        return
    if job.status in _ALREADY_CHUNKED:
        trigger_if_ready(deps, job_id)
        return
    if job.status is JobStatus.INGESTING:
        raise SourceNotReady(f"job {job_id} is still downloading its source")
    if job.status is JobStatus.CREATED:
        started = _start(deps, job_id)
        if started is None:
            return
        job = started
    _split_and_store(deps, job)


def _remove_stray_source(deps: HasStorage, job_id: UUID) -> None:
    """An upload that landed after its job was removed (a presigned PUT cannot be
    revoked) would outlive the cleanup: remove whatever it left."""
    removed = sum(deps.storage.delete_prefix(prefix) for prefix in keys.job_prefixes(job_id))
    log.info("no chunking: job is gone (%d stray objects removed)", removed, extra=context(job_id))


def _start(deps: Chunking, job_id: UUID) -> Job | None:
    size = deps.storage.size(keys.source_key(job_id))
    if size is None:
        log.warning("source event but no source object", extra=context(job_id))
        return None
    now = deps.clock.now()

    def begin(job: Job) -> Job | None:
        if job.status is not JobStatus.CREATED:
            return None
        return job.transition(JobStatus.CHUNKING_IN_PROGRESS, uploaded_at=now, source_size=size)

    started = update_job(deps, job_id, begin)
    if started is None:  # another delivery moved it on; let it (or a redelivery) finish
        current = deps.jobs.get(job_id)
        if current is None or current.status is not JobStatus.CHUNKING_IN_PROGRESS:
            return None
        return current
    publish(deps, started)
    return started


def _too_large(deps: HasPolicy, job: Job) -> str | None:
    """Presigned S3 PUTs cannot cap a size, so the limit is enforced here too."""
    limit = deps.policy.max_upload_bytes
    if job.source_size is None or job.source_size <= limit:
        return None
    return (
        f"The file is {job.source_size / 1e9:.1f} GB; the largest accepted upload is "
        f"{limit / 1e9:.1f} GB."
    )


def _split_and_store(deps: Chunking, job: Job) -> None:
    if reason := _too_large(deps, job):
        fail_job(deps, job.id, reason)
        return
    with deps.scratch.directory() as download, deps.scratch.directory() as pieces:
        source = download / "source.mp4"
        deps.storage.get_file(keys.source_key(job.id), source)
        try:
            info = deps.toolkit.probe(source)
            segments = deps.toolkit.split(source, pieces, deps.policy.segment_seconds)
            if not segments:
                raise MediaError("The video has no frames to convert.")
            if len(segments) > keys.MAX_SEGMENTS:
                raise MediaError("The video is too long to convert.")
        except MediaError as exc:
            fail_job(deps, job.id, str(exc))
            return
        total = len(segments)
        for segment in segments:
            key = keys.segment_key(job.id, segment.plan.index, total, job.output_format)
            deps.storage.put_file(key, segment.path)
        log.info("source split into %d segments", total, extra=context(job.id))
    now = deps.clock.now()
    plan = tuple(s.plan for s in segments)

    def complete(current: Job) -> Job | None:
        if current.status is not JobStatus.CHUNKING_IN_PROGRESS:
            return None  # recorded by a concurrent delivery, or failed meanwhile
        return current.transition(
            JobStatus.CHUNKING_COMPLETE,
            total_segments=total,
            segment_plan=plan,
            source_duration_s=info.duration_s,
            chunked_at=now,
        )

    saved = update_job(deps, job.id, complete)
    if saved is not None:
        publish(deps, saved, segments_done=len(deps.completions.list(job.id)))
    trigger_if_ready(deps, job.id)
