"""Jobs as the pages and the API show them: labels, progress, statistics.

Blocking reads (the store, the completions) happen in `load_job_view` /
`load_dashboard`, which handlers run in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from markupsafe import Markup

from stereospot.domain import keys, policies, wording
from stereospot.domain.formats import (
    CONVERGENCE_HELP as CONVERGENCE_HELP,
)
from stereospot.domain.formats import (
    DIVERGENCE_HELP as DIVERGENCE_HELP,
)
from stereospot.domain.formats import (
    ConversionSettings,
    PixelFormat,
    StereoFormat,
)
from stereospot.domain.model import TERMINAL_STATUSES, Job, JobStatus
from stereospot.domain.ports import Page
from stereospot.domain.services import jobs as usecases
from stereospot.domain.services.roles import Reading

# What the pages' script needs of the wording table (base.html puts it on <body>).
PAGE_WORDING = {
    "terminal_statuses": " ".join(sorted(s.value for s in TERMINAL_STATUSES)),
    "stage_uploaded": wording.STAGE_UPLOADED,
}

FORMAT_HELP = "How the two eyes' views are packed; pick what your player or headset expects."
PIXEL_FORMAT_HELP = (
    "Colour of the video file: auto is 8-bit 4:2:0 (plays everywhere), or 10-bit for HDR "
    "sources; 4:4:4 keeps full-resolution colour; 10-bit is HEVC."
)
LOSSLESS_HELP = "A lossless 4:4:4 file, for measuring quality (large)."
DEFAULTS = ConversionSettings()


@dataclass(frozen=True)
class JobView:
    job: Job
    progress: policies.Progress
    # The source is in storage but no worker has started on it yet (job still CREATED).
    uploaded: bool = False

    @property
    def id(self) -> UUID:
        return self.job.id

    @property
    def title(self) -> str:
        return self.job.title or "Untitled video"

    @property
    def status(self) -> str:
        return self.job.status.value

    @property
    def status_label(self) -> str:
        return wording.STATUS_WORDING[self.job.status].label

    @property
    def stage(self) -> str:
        if self.job.status is JobStatus.CREATED and self.job.source_url:
            return wording.STAGE_WAITING_TO_DOWNLOAD
        if self.job.status is JobStatus.CREATED and self.uploaded:
            return wording.STAGE_UPLOADED
        return self.progress.stage

    @property
    def awaits_upload(self) -> bool:
        waiting = self.job.status is JobStatus.CREATED
        return waiting and not self.job.source_url and not self.uploaded

    @property
    def in_progress(self) -> bool:
        return self.job.status.in_progress

    @property
    def cancellable(self) -> bool:
        """usecases.cancel_job accepts it: the job has not started on its video."""
        return self.job.status is JobStatus.CREATED

    @property
    def download_name(self) -> str:
        return self.job.download_name()

    @property
    def conversion_seconds(self) -> float | None:
        return policies.conversion_seconds(self.job)

    @property
    def seconds_per_mb(self) -> float | None:
        return policies.seconds_per_mb(self.job)

    @property
    def speed(self) -> float | None:
        """How many seconds of video were converted per second of work (0.8 = a bit slower
        than real time)."""
        seconds, length = self.conversion_seconds, self.job.source_duration_s
        if not seconds or not length:
            return None
        return length / seconds

    @property
    def speed_label(self) -> str:
        """'converted at 0.8x real time' (or '—')."""
        speed = self.speed
        if speed is None:
            return "—"
        shown = f"{speed:.2f}" if speed < 0.1 else f"{speed:.1f}"
        return f"{shown}x real time"

    @property
    def source_mb(self) -> float | None:
        size = self.job.source_size
        return None if size is None else size / 1_000_000

    def snapshot(self) -> dict[str, Any]:
        """The live state the SSE stream and the API send."""
        progress = self.progress
        return {
            "id": str(self.job.id),
            "status": self.job.status.value,
            "status_label": self.status_label,
            "stage": self.stage,
            "percent": progress.percent,
            "segments_done": progress.segments_done,
            "segments_total": progress.segments_total,
            "frames_done": progress.frames_done,
            "frames_total": progress.frames_total,
            "eta_seconds": None if progress.eta_seconds is None else round(progress.eta_seconds),
            "failure_reason": self.job.failure_reason,
            "title": self.title,
        }


def load_job_view(deps: Reading, job_id: UUID) -> JobView:
    job = usecases.get_visible_job(deps, job_id)
    uploaded = job.status is JobStatus.CREATED and deps.storage.exists(keys.source_key(job_id))
    return JobView(job, usecases.job_progress(deps, job), uploaded)


def view_of(deps: Reading, job: Job) -> JobView:
    return JobView(job, usecases.job_progress(deps, job))


@dataclass(frozen=True)
class Dashboard:
    in_progress: list[JobView]
    completed: list[JobView]
    next_cursor: str | None
    failed: list[JobView] = field(default_factory=list)
    failed_next_cursor: str | None = None


def views_of(deps: Reading, jobs: list[Job]) -> list[JobView]:
    """Many jobs at once, their progress as usecases.jobs_progress computes it."""
    return [
        JobView(job, shown)
        for job, shown in zip(jobs, usecases.jobs_progress(deps, jobs), strict=True)
    ]


def load_dashboard(
    deps: Reading,
    cursor: str | None,
    page_size: int,
    failed_cursor: str | None = None,
    failed_page_size: int | None = None,
) -> Dashboard:
    """Running jobs, a page of completed and a page of failed ones (each newest first);
    ValueError for a cursor the store cannot read."""
    running = views_of(deps, usecases.list_in_progress(deps))
    page: Page = usecases.list_completed(deps, limit=page_size, cursor=cursor)
    failed: Page = usecases.list_failed(
        deps, limit=failed_page_size or page_size, cursor=failed_cursor
    )
    return Dashboard(
        running,
        views_of(deps, page.jobs),
        page.next_cursor,
        views_of(deps, failed.jobs),
        failed.next_cursor,
    )


def _newest_id(page: Page) -> str | None:
    return str(page.jobs[0].id) if page.jobs else None


def live_summary(deps: Reading) -> dict[str, Any]:
    """What the dashboard's live stream compares: running jobs and the newest completion
    and failure."""
    running = [view.snapshot() for view in views_of(deps, usecases.list_in_progress(deps))]
    return {
        "in_progress": running,
        "newest_completed": _newest_id(usecases.list_completed(deps, limit=1)),
        "newest_failed": _newest_id(usecases.list_failed(deps, limit=1)),
    }


def format_choices() -> list[tuple[str, str]]:
    return [(f.value, f.label) for f in StereoFormat]


def duration(seconds: float | None) -> str:
    """'1 h 02 min', '3 min 05 s', '42 s' (jinja filter)."""
    if seconds is None:
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def percent(value: float) -> str:
    """'5', '27.5' (jinja filter; the page's script formats live values the same way)."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def when(moment: datetime | None) -> Markup:
    """A <time> element: a short UTC timestamp that the page's script rewrites in the
    reader's own time zone (jinja filter)."""
    if moment is None:
        return Markup("—")
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return Markup('<time datetime="{}" data-local-time>{}</time>').format(
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"), utc.strftime("%Y-%m-%d %H:%M UTC")
    )


def pixel_format_choices() -> list[tuple[str, str]]:
    """(value, label) for the pixel format select."""
    labels = {
        PixelFormat.AUTO: "Auto (8-bit, 10-bit for HDR)",
        PixelFormat.YUV420P: "8-bit 4:2:0",
        PixelFormat.YUV444P: "8-bit 4:4:4",
        PixelFormat.YUV420P10LE: "10-bit 4:2:0 (HEVC)",
    }
    return [(f.value, labels[f]) for f in PixelFormat]
