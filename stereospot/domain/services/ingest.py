"""URL ingest: download the source with the fetcher, then store it as if uploaded.

Order for crash safety: the status returns to created *before* the source is stored, so
chunking (started by the source's object event) always finds a created job; a redelivery
finds either the download undone (and does it) or the source stored (and stops).
"""

from __future__ import annotations

import logging

from stereospot.domain import keys
from stereospot.domain.errors import FetchError
from stereospot.domain.messages import IngestRequested
from stereospot.domain.model import Job, JobStatus
from stereospot.domain.services.jobs import fail_job, title_from_url
from stereospot.domain.services.roles import Ingesting
from stereospot.domain.services.support import context, publish, update_job

log = logging.getLogger(__name__)

_INGESTABLE = (JobStatus.CREATED, JobStatus.INGESTING)


def ingest(deps: Ingesting, message: IngestRequested) -> None:
    job_id = message.job_id
    job = deps.jobs.get(job_id)
    if job is None or job.status not in _INGESTABLE:
        log.info("no ingest: job is gone or past it", extra=context(job_id))
        return
    source_key = keys.source_key(job_id)
    if job.status is JobStatus.CREATED and deps.storage.exists(source_key):
        log.info("source already stored", extra=context(job_id))
        return
    started = update_job(
        deps,
        job_id,
        lambda j: j.transition(JobStatus.INGESTING) if j.status is JobStatus.CREATED else None,
    )
    if started is not None:
        publish(deps, started)
    url = message.source.url
    with deps.scratch.directory() as work:
        try:
            fetched = deps.fetcher.fetch(url, work, deps.policy.max_upload_bytes)
        except FetchError as exc:
            fail_job(deps, job_id, str(exc))
            return
        default_title = title_from_url(url)

        def downloaded(current: Job) -> Job | None:
            if current.status is not JobStatus.INGESTING:
                return None
            keep = current.title and current.title != default_title
            title = current.title if keep else (fetched.title or current.title)[:300]
            return current.transition(JobStatus.CREATED, title=title)

        ready = update_job(deps, job_id, downloaded)
        if ready is None:
            log.info("ingest abandoned: the job moved on", extra=context(job_id))
            return
        publish(deps, ready)
        deps.storage.put_file(source_key, fetched.path)  # fires chunking
    log.info("source downloaded", extra=context(job_id))
