"""The JSON API beside the pages: create, get, list, upload URL, cancel, delete.

Documented at /openapi.json (quart-schema). Writes must be JSON and same-origin when they
come from a browser (see security.require_same_origin), so no CSRF token is needed here.
"""

from __future__ import annotations

from uuid import UUID

from quart import Blueprint, abort, request, url_for
from quart_schema import (
    tag,
    validate_querystring,
    validate_request,
    validate_response,
)

from stereospot.domain.formats import ConversionSettings
from stereospot.domain.ids import parse_job_id
from stereospot.domain.model import Job, JobStatus
from stereospot.domain.services import jobs as usecases
from stereospot.domain.services.roles import Linking, Reading, Requesting, WebPorts
from stereospot.entrypoints.web.api_models import (
    Accepted,
    ApiError,
    CreateJob,
    JobLinks,
    JobList,
    JobListQuery,
    JobOut,
    ProgressOut,
    UploadUrl,
    UploadUrlRequest,
)
from stereospot.entrypoints.web.presenters import JobView, view_of
from stereospot.entrypoints.web.runtime import call
from stereospot.entrypoints.web.security import Security
from stereospot.entrypoints.web.urls import ClientUrls

# What a cross-site HTML form can send without a CORS preflight: refused on body-less
# writes, so they never rest on the Origin check alone.
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})


def create(deps: Requesting, body: CreateJob) -> Job:
    settings = ConversionSettings(
        divergence=body.divergence,
        convergence=body.convergence,
        pixel_format=body.pixel_format,
        lossless=body.lossless,
    )
    if body.source_url:
        return usecases.create_job_from_url(
            deps,
            url=body.source_url,
            output_format=body.output_format,
            settings=settings,
            title=body.title,
        )
    return usecases.create_job(
        deps, output_format=body.output_format, settings=settings, title=body.title
    )


def _signed_links(deps: Linking, view: JobView) -> tuple[str | None, str | None]:
    if view.job.status is not JobStatus.COMPLETED:
        return None, None
    download = usecases.download_url(deps, view.id, attachment=True)
    stream = usecases.download_url(deps, view.id, attachment=False)
    return download, stream


def _load(deps: Reading, job: Job) -> tuple[JobView, str | None, str | None]:
    view = view_of(deps, job)
    return (view, *_signed_links(deps, view))


def job_out(
    view: JobView, download: str | None, stream: str | None, client_url: ClientUrls
) -> JobOut:
    job, progress = view.job, view.progress
    return JobOut(
        id=job.id,
        status=job.status.value,
        title=view.title,
        output_format=job.output_format,
        divergence=job.settings.divergence,
        convergence=job.settings.convergence,
        pixel_format=job.settings.pixel_format,
        lossless=job.settings.lossless,
        created_at=job.created_at,
        completed_at=job.completed_at,
        failed_at=job.failed_at,
        failure_reason=job.failure_reason,
        download_name=view.download_name,
        conversion_seconds=view.conversion_seconds,
        seconds_per_mb=view.seconds_per_mb,
        progress=ProgressOut(
            stage=progress.stage,
            percent=progress.percent,
            segments_done=progress.segments_done,
            segments_total=progress.segments_total,
            eta_seconds=progress.eta_seconds,
            frames_done=progress.frames_done,
            frames_total=progress.frames_total,
        ),
        links=JobLinks(
            page=url_for("pages.job_page", job_id=str(job.id), _external=True),
            events=url_for("events.job_events", job_id=str(job.id), _external=True),
            download=client_url(download) if download else None,
            stream=client_url(stream) if stream else None,
        ),
    )


def blueprint(deps: WebPorts, security: Security, client_url: ClientUrls) -> Blueprint:
    """The JSON API on `deps`; writes checked by `security`, links re-based by `client_url`."""
    blueprint = Blueprint("api", __name__, url_prefix="/api")
    blueprint.before_request(security.require_same_origin)

    async def _job_out(job: Job) -> JobOut:
        return job_out(*await call(_load, deps, job), client_url)

    @blueprint.post("/jobs")
    @tag(["jobs"])
    @validate_request(CreateJob)
    @validate_response(JobOut, 201)
    @validate_response(ApiError, 400)
    async def create_job(data: CreateJob) -> tuple[JobOut, int]:
        """Create a job. Then ask for an upload URL, or give `source_url` to have it fetched."""
        job = await call(create, deps, data)
        return await _job_out(job), 201

    @blueprint.get("/jobs")
    @tag(["jobs"])
    @validate_querystring(JobListQuery)
    @validate_response(JobList)
    @validate_response(ApiError, 400)
    async def list_jobs(query_args: JobListQuery) -> JobList:
        """Jobs in progress (newest first), or completed jobs (newest completion first) or
        failed jobs (newest failure first), those two paginated with `next_cursor`."""
        if query_args.status == "in_progress":
            jobs = await call(usecases.list_in_progress, deps, query_args.limit)
            cursor = None
        else:
            listing = (
                usecases.list_failed if query_args.status == "failed" else usecases.list_completed
            )
            try:
                page = await call(listing, deps, query_args.limit, query_args.cursor)
            except ValueError:
                abort(400, "That page of results does not exist.")
            jobs, cursor = page.jobs, page.next_cursor
        return JobList(jobs=[await _job_out(job) for job in jobs], next_cursor=cursor)

    @blueprint.get("/jobs/<job_id>")
    @tag(["jobs"])
    @validate_response(JobOut)
    @validate_response(ApiError, 404)
    async def get_job(job_id: str) -> JobOut:
        """A job with its live progress; completed jobs carry signed download/stream URLs."""
        job = await call(usecases.get_visible_job, deps, parse_job_id(job_id))
        return await _job_out(job)

    @blueprint.post("/jobs/<job_id>/upload-url")
    @tag(["jobs"])
    @validate_request(UploadUrlRequest)
    @validate_response(UploadUrl)
    @validate_response(ApiError, 409)
    async def upload_url(job_id: str, data: UploadUrlRequest) -> UploadUrl:
        """A URL to PUT the source video to (the job must still wait for its upload).
        The file name becomes the job's title when it has none."""
        url = await call(usecases.request_upload_url, deps, parse_job_id(job_id), data.filename)
        return UploadUrl(
            url=client_url(url),
            max_bytes=deps.policy.max_upload_bytes,
            expires_in_s=deps.policy.upload_url_expiry_s,
        )

    @blueprint.post("/jobs/<job_id>/cancel")
    @tag(["jobs"])
    @validate_response(JobOut)
    @validate_response(ApiError, 404)
    @validate_response(ApiError, 409)
    @validate_response(ApiError, 415)
    async def cancel_job(job_id: str) -> JobOut:
        """Cancel a job still waiting for its video (status `created`): it fails with the
        reason "Cancelled before the upload." and can then be removed. 409 once it started.
        Send no body (or JSON)."""
        if request.mimetype in _FORM_TYPES:
            abort(415, "Send no body, or a JSON one.")
        job = await call(usecases.cancel_job, deps, parse_job_id(job_id))
        return await _job_out(job)

    @blueprint.delete("/jobs/<job_id>")
    @tag(["jobs"])
    @validate_response(Accepted, 202)
    @validate_response(ApiError, 409)
    async def delete_job(job_id: str) -> tuple[Accepted, int]:
        """Remove a completed or failed job; its files and records are cleaned up shortly."""
        identifier: UUID = parse_job_id(job_id)
        await call(usecases.request_deletion, deps, identifier)
        return Accepted(status="deleted"), 202

    return blueprint
