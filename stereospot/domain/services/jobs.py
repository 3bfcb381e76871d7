"""Job use cases the web app calls: create, upload, progress, lists, download, fail, cancel,
delete."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from urllib.parse import unquote, urlsplit
from uuid import UUID

from stereospot.domain import keys, naming, policies
from stereospot.domain.errors import (
    FetchError,
    IllegalTransition,
    InvalidKey,
    JobNotFound,
    JobNotRemovable,
)
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.ids import new_job_id
from stereospot.domain.limits import TITLE_MAX_LENGTH, URL_MAX_LENGTH
from stereospot.domain.messages import DeletionRequested, IngestRequested, PlatformSource, UrlSource
from stereospot.domain.model import Job, JobStatus
from stereospot.domain.ports import Page, PushSubscription
from stereospot.domain.routing import QueueName
from stereospot.domain.services.roles import (
    Announcing,
    Expiring,
    Failing,
    HasJobs,
    HasStorage,
    Linking,
    Listing,
    Reading,
    Removing,
    Requesting,
    Subscribing,
)
from stereospot.domain.services.support import (
    context,
    notify_outcome,
    publish,
    update_job,
)
from stereospot.domain.wording import STATUS_WORDING

log = logging.getLogger(__name__)

# Links to a video file are downloaded directly; anything else is a page for yt-dlp.
DIRECT_VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv")
CANCELLED_REASON = "Cancelled before the upload."

__all__ = [
    "CANCELLED_REASON",
    "awaits_upload",
    "cancel_job",
    "create_job",
    "create_job_from_url",
    "download_url",
    "fail_job",
    "get_visible_job",
    "job_progress",
    "jobs_progress",
    "list_completed",
    "list_failed",
    "list_in_progress",
    "poster",
    "remove_abandoned_uploads",
    "request_deletion",
    "request_upload_url",
    "source_received",
    "subscribe_push",
    "title_from_url",
]


def create_job(
    deps: Announcing, *, output_format: StereoFormat, settings: ConversionSettings, title: str = ""
) -> Job:
    job = Job(
        id=new_job_id(),
        output_format=output_format,
        settings=settings,
        title=" ".join(title.split())[:TITLE_MAX_LENGTH],
        created_at=deps.clock.now(),
    )
    deps.jobs.create(job)
    log.info("job created", extra=context(job.id))
    publish(deps, job)
    return job


def title_from_url(url: str) -> str:
    """A link job's title until the fetched video's own title is known: the link's file
    name ('https://host/videos/My%20Clip.mp4' -> 'My Clip'), else the host name."""
    parts = urlsplit(url)
    tail = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
    tail = naming.title_from_filename(tail) if tail else ""
    return (tail or parts.hostname or "video")[:TITLE_MAX_LENGTH]


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > URL_MAX_LENGTH:
        raise FetchError("That link is too long.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("Please give a link that starts with http:// or https://.")
    return url


def create_job_from_url(
    deps: Requesting,
    *,
    url: str,
    output_format: StereoFormat,
    settings: ConversionSettings,
    title: str = "",
) -> Job:
    """Create a job and ask the media worker to download its source (FetchError if the
    link is not an http(s) URL)."""
    url = _check_url(url)
    source = (
        UrlSource(url=url)
        if urlsplit(url).path.lower().endswith(DIRECT_VIDEO_SUFFIXES)
        else PlatformSource(url=url)
    )
    job = Job(
        id=new_job_id(),
        output_format=output_format,
        settings=settings,
        title=" ".join(title.split())[:TITLE_MAX_LENGTH] or title_from_url(url),
        source_url=url,
        created_at=deps.clock.now(),
    )
    deps.jobs.create(job)
    publish(deps, job)
    try:
        deps.queues[QueueName.INGEST].send(IngestRequested(job_id=job.id, source=source).to_body())
    except Exception:
        # Without its message the job would wait forever: fail it so the user sees why.
        fail_job(deps, job.id, "The download could not be started. Please try again.")
        raise
    log.info("job created from a URL", extra=context(job.id))
    return job


def get_visible_job(deps: HasJobs, job_id: UUID) -> Job:
    job = deps.jobs.get(job_id)
    if job is None or not job.visible:
        raise JobNotFound(f"There is no job {job_id}.")
    return job


def request_upload_url(deps: Linking, job_id: UUID, filename: str | None) -> str:
    job = get_visible_job(deps, job_id)
    if job.status is not JobStatus.CREATED:
        raise IllegalTransition(
            f"Job {job_id} already has its video (it is {job.status.value.replace('_', ' ')})."
        )
    if filename and not job.title:
        title = naming.title_from_filename(filename)
        update_job(deps, job_id, lambda j: j.with_changes(title=title) if not j.title else None)
    return deps.storage.upload_url(
        keys.source_key(job_id), deps.policy.upload_url_expiry_s, deps.policy.max_upload_bytes
    )


def source_received(deps: Announcing, key: str) -> None:
    """An upload this process received has landed: tell the live pages (the job shows
    "Uploaded, waiting to start" before a worker takes it). Other keys: nothing."""
    try:
        parsed = keys.parse_key(key)
    except InvalidKey:
        return
    if isinstance(parsed, keys.SourceKey):
        job = deps.jobs.get(parsed.job_id)
        if job is not None:
            publish(deps, job, uploaded=True)


def job_progress(deps: Reading, job: Job) -> policies.Progress:
    return jobs_progress(deps, [job])[0]


def jobs_progress(deps: Reading, jobs: Sequence[Job]) -> list[policies.Progress]:
    """Each job's progress, with the ETA's average rate read once for them all (the
    dashboard's stream polls every second)."""
    if not jobs:
        return []
    recent = deps.jobs.list_completed(limit=deps.policy.eta_sample_size).jobs
    rate = policies.average_seconds_per_mb(recent)
    now = deps.clock.now()
    shown = []
    for job in jobs:
        # A completed job has every segment (policies.progress counts them): no read.
        counted = job.status.in_progress or job.status is JobStatus.FAILED
        done = [c.segment_index for c in deps.completions.list(job.id)] if counted else []
        reports = deps.progress.list(job.id) if job.status.in_progress else []
        shown.append(policies.progress(job, done, seconds_per_mb=rate, now=now, reports=reports))
    return shown


def awaits_upload(deps: HasStorage, job: Job) -> bool:
    """Created for an upload that has not arrived (no link to fetch, no source stored)."""
    return (
        job.status is JobStatus.CREATED
        and not job.source_url
        and not deps.storage.exists(keys.source_key(job.id))
    )


def list_in_progress(deps: Listing, limit: int = 100) -> list[Job]:
    """Jobs under way, newest first. A job still waiting for its file is not listed: it
    was left behind unless its upload is running in the page that created it."""
    return [job for job in deps.jobs.list_in_progress(limit) if not awaits_upload(deps, job)]


def _give_up(reason: str, now: datetime) -> Callable[[Job], Job | None]:
    return lambda job: job.fail(reason, at=now) if job.status is JobStatus.CREATED else None


def remove_abandoned_uploads(deps: Expiring, limit: int = 1000) -> int:
    """Remove the jobs that waited longer than policy.abandoned_upload_s for their file;
    how many. Run now and then by the media worker (idempotent)."""
    older_than = deps.policy.abandoned_upload_s
    cutoff = deps.clock.now().timestamp() - older_than
    reason = f"No video arrived within {round(older_than / 3600, 1):g} h."
    removed = 0
    for job in deps.jobs.list_in_progress(limit):
        if job.created_at.timestamp() > cutoff or not awaits_upload(deps, job):
            continue
        gave_up = update_job(deps, job.id, _give_up(reason, deps.clock.now()))
        if gave_up is None:
            continue
        try:
            request_deletion(deps, job.id)
        except JobNotFound:  # removed meanwhile
            continue
        log.info("job removed: its upload never arrived", extra=context(job.id))
        removed += 1
    return removed


def list_completed(deps: HasJobs, limit: int = 20, cursor: str | None = None) -> Page:
    return deps.jobs.list_completed(limit, cursor)


def list_failed(deps: HasJobs, limit: int = 20, cursor: str | None = None) -> Page:
    """Failed jobs, newest failure first (ValueError for a cursor the store cannot read)."""
    return deps.jobs.list_failed(limit, cursor)


def download_url(
    deps: Linking, job_id: UUID, *, attachment: bool, expires_s: int | None = None
) -> str:
    job = get_visible_job(deps, job_id)
    if job.status is not JobStatus.COMPLETED:
        raise JobNotFound(f"Job {job_id} has no result yet.")
    return deps.storage.download_url(
        keys.final_key(job_id),
        expires_s if expires_s is not None else deps.policy.download_url_expiry_s,
        job.download_name() if attachment else None,
    )


def poster(deps: Linking, job_id: UUID) -> bytes:
    """The completed result's poster frame (JPEG); JobNotFound when there is none."""
    job = get_visible_job(deps, job_id)
    key = keys.poster_key(job_id)
    if job.status is not JobStatus.COMPLETED or not deps.storage.exists(key):
        raise JobNotFound(f"Job {job_id} has no poster frame.")
    return deps.storage.get_bytes(key)


def fail_job(deps: Failing, job_id: UUID, reason: str) -> Job | None:
    """Mark the job failed with a reason a person can read; None if missing or terminal."""
    now = deps.clock.now()
    failed = update_job(
        deps, job_id, lambda j: None if j.status.is_terminal else j.fail(reason, at=now)
    )
    if failed is None:
        return None
    log.warning("job failed: %s", failed.failure_reason, extra=context(job_id))
    publish(deps, failed, reason=failed.failure_reason)
    notify_outcome(deps, failed)
    return failed


def cancel_job(deps: Announcing, job_id: UUID) -> Job:
    """Give up a job that is still waiting for its video: it fails with CANCELLED_REASON,
    so it can be removed. Only CREATED jobs (IllegalTransition otherwise); cancelling a
    job cancelled already returns it unchanged. A source that lands afterwards is ignored
    by chunking (the job is terminal) and removed with the job."""
    now = deps.clock.now()

    def cancel(job: Job) -> Job | None:
        if not job.visible:
            raise JobNotFound(f"There is no job {job_id}.")
        if job.status is JobStatus.FAILED and job.failure_reason == CANCELLED_REASON:
            return None  # a repeated click
        if job.status is not JobStatus.CREATED:
            raise IllegalTransition(_not_cancellable(job))
        # Nobody waits for a notification about their own cancel.
        return job.fail(CANCELLED_REASON, at=now).with_changes(notified_at=now)

    get_visible_job(deps, job_id)
    cancelled = update_job(deps, job_id, cancel)
    if cancelled is None:
        return get_visible_job(deps, job_id)
    log.info("job cancelled before its upload", extra=context(job_id))
    publish(deps, cancelled, reason=cancelled.failure_reason)
    return cancelled


def _not_cancellable(job: Job) -> str:
    if job.status.is_terminal:
        return f"Job {job.id} has already {job.status.value}; there is nothing to cancel."
    return (
        f"Job {job.id} has already started (it is {STATUS_WORDING[job.status].doing}); "
        "only a job still waiting for its video can be cancelled."
    )


def request_deletion(deps: Removing, job_id: UUID) -> Job:
    """Soft delete (status first), then ask for the cleanup; only completed or failed jobs."""

    def soft_delete(job: Job) -> Job | None:
        if not job.visible:
            return None
        if not job.is_removable:
            raise JobNotRemovable(
                f"Job {job_id} is still {job.status.value.replace('_', ' ')}; "
                "it can be removed once it has completed or failed."
            )
        return job.transition(JobStatus.DELETED)

    current = get_visible_job(deps, job_id)
    soft_delete(current)  # refuses a job in flight before anything is sent
    # The outbox of the soft delete: the cleanup request goes first, delayed a little
    # past the save, so a process dying right after the save still has its cleanup on
    # the way. Cleanup refuses a job that is still visible: a request for a save that
    # never happened (the process died before it) removes nothing.
    cleanup = DeletionRequested(job_id=job_id).to_body()
    deps.queues[QueueName.DELETION].send(cleanup, delay_s=deps.policy.deletion_delay_s)
    deleted = update_job(deps, job_id, soft_delete)
    if deleted is None:  # removed meanwhile by a concurrent request
        raise JobNotFound(f"There is no job {job_id}.")
    publish(deps, deleted)
    log.info("job removed; cleanup requested", extra=context(job_id))
    return deleted


def subscribe_push(deps: Subscribing, job_id: UUID, subscription: PushSubscription) -> None:
    get_visible_job(deps, job_id)
    deps.push_subscriptions.add(job_id, subscription)
