"""Jobs, their status machine, segment plans and completions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from stereospot.domain.errors import IllegalTransition
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.limits import TITLE_MAX_LENGTH
from stereospot.domain.naming import safe_stem


class JobStatus(StrEnum):
    CREATED = "created"
    INGESTING = "ingesting"
    CHUNKING_IN_PROGRESS = "chunking_in_progress"
    CHUNKING_COMPLETE = "chunking_complete"
    REASSEMBLING = "reassembling"
    COMPLETED = "completed"
    FAILED = "failed"
    DELETED = "deleted"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def in_progress(self) -> bool:
        return self not in TERMINAL_STATUSES and self is not JobStatus.DELETED


TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.DELETED})
IN_PROGRESS_STATUSES = frozenset(s for s in JobStatus if s.in_progress)

# The one transition table. Any non-terminal status may also go to FAILED (added below).
_FORWARD: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.CREATED: frozenset({JobStatus.INGESTING, JobStatus.CHUNKING_IN_PROGRESS}),
    JobStatus.INGESTING: frozenset({JobStatus.CREATED}),
    JobStatus.CHUNKING_IN_PROGRESS: frozenset({JobStatus.CHUNKING_COMPLETE}),
    JobStatus.CHUNKING_COMPLETE: frozenset({JobStatus.REASSEMBLING}),
    JobStatus.REASSEMBLING: frozenset({JobStatus.COMPLETED}),
    JobStatus.COMPLETED: frozenset({JobStatus.DELETED}),
    JobStatus.FAILED: frozenset({JobStatus.DELETED}),
    JobStatus.DELETED: frozenset(),
}
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    status: targets | ({JobStatus.FAILED} if status in IN_PROGRESS_STATUSES else frozenset())
    for status, targets in _FORWARD.items()
}


def can_transition(current: JobStatus, new: JobStatus) -> bool:
    return new in TRANSITIONS[current]


class SegmentPlanEntry(BaseModel):
    """One segment of the split source, as the video toolkit planned it."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(ge=0)
    start_s: float = Field(ge=0)
    duration_s: float = Field(ge=0)
    frame_count: int = Field(ge=0)


class SegmentCompletion(BaseModel):
    """A converted segment, recorded once per (job, index)."""

    model_config = ConfigDict(frozen=True)

    job_id: UUID
    segment_index: int = Field(ge=0)
    output_key: str
    completed_at: datetime


class SegmentProgress(BaseModel):
    """How far the conversion of one segment has got (frames), as its worker last reported.

    started_at: when the conversion of this segment began (kept by later reports);
    updated_at: the time of this report. frames_done never goes back (a retry that starts
    over keeps the furthest count reported); frames_per_second is the worker's
    recent rate, so a slow start (model warm-up) does not weigh on the ETA for long."""

    model_config = ConfigDict(frozen=True)

    job_id: UUID
    segment_index: int = Field(ge=0)
    frames_done: int = Field(ge=0)
    frames_total: int = Field(ge=0)
    started_at: datetime
    updated_at: datetime
    # The worker's recent conversion rate (over its last few seconds); 0 = not known yet.
    frames_per_second: float = Field(default=0.0, ge=0)


class Job(BaseModel):
    """A conversion job. Mutated only through the methods below, which enforce the table.

    `version` is bumped by every save; stores write conditionally on it (optimistic
    concurrency), so two workers can never both win the same transition.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID
    status: JobStatus = JobStatus.CREATED
    output_format: StereoFormat = StereoFormat.HALF_SBS
    settings: ConversionSettings = ConversionSettings()
    title: str = Field(default="", max_length=TITLE_MAX_LENGTH)
    source_url: str | None = None
    created_at: datetime
    uploaded_at: datetime | None = None
    chunked_at: datetime | None = None
    completed_at: datetime | None = None
    # When the job failed; None for jobs that failed before this field existed.
    failed_at: datetime | None = None
    # When its subscribers were told it completed or failed (the push outbox: a job that
    # finished without it is notified by the sweep; see services.outbox).
    notified_at: datetime | None = None
    source_size: int | None = Field(default=None, ge=0)
    source_duration_s: float | None = Field(default=None, ge=0)
    total_segments: int | None = Field(default=None, ge=1)
    segment_plan: tuple[SegmentPlanEntry, ...] = ()
    failure_reason: str | None = None
    status_before_failure: JobStatus | None = None
    version: int = Field(default=0, ge=0)

    def transition(self, new: JobStatus, **changes: object) -> Job:
        """Return a copy in `new` status with `changes` applied; raise if the table forbids it."""
        if not can_transition(self.status, new):
            raise IllegalTransition(
                f"job {self.id} cannot go from {self.status.value} to {new.value}"
            )
        return self.model_copy(update={"status": new, **changes})

    def fail(self, reason: str, at: datetime | None = None) -> Job:
        """Failed with a readable reason; `at` (the caller's clock) becomes failed_at."""
        reason = " ".join(reason.split()) or "The conversion failed."
        return self.transition(
            JobStatus.FAILED,
            failure_reason=reason[:1000],
            status_before_failure=self.status,
            failed_at=at,
        )

    def with_changes(self, **changes: object) -> Job:
        """Field changes that keep the status (status changes must use transition)."""
        if "status" in changes:
            raise IllegalTransition("use transition() to change a job's status")
        return self.model_copy(update=changes)

    @property
    def is_removable(self) -> bool:
        return self.status in (JobStatus.COMPLETED, JobStatus.FAILED)

    @property
    def visible(self) -> bool:
        return self.status is not JobStatus.DELETED

    def download_name(self) -> str:
        """File name for downloads: the title, made safe, plus the player suffix."""
        return f"{safe_stem(self.title or 'stereospot')}{self.output_format.player_suffix}.mp4"
