"""Removal: after the soft delete, remove every object and record of the job (idempotent)."""

from __future__ import annotations

import logging
from uuid import UUID

from stereospot.domain import keys
from stereospot.domain.services.roles import Cleaning
from stereospot.domain.services.support import context

log = logging.getLogger(__name__)


def cleanup_job(deps: Cleaning, job_id: UUID) -> None:
    job = deps.jobs.get(job_id)
    if job is not None and job.visible:
        log.warning("cleanup refused: the job was not removed", extra=context(job_id))
        return
    removed = sum(deps.storage.delete_prefix(prefix) for prefix in keys.job_prefixes(job_id))
    deps.completions.delete_job(job_id)
    deps.progress.delete_job(job_id)
    deps.reassembly_lock.delete(job_id)
    deps.push_subscriptions.delete_job(job_id)
    deps.jobs.delete(job_id)  # last: until here a redelivery can still find the work
    log.info("job cleaned up (%d objects)", removed, extra=context(job_id))
