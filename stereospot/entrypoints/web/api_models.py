"""Request and response bodies of the JSON API (they also make the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from stereospot.domain import limits
from stereospot.domain.formats import CONVERGENCE_HELP, DIVERGENCE_HELP, PixelFormat, StereoFormat


class CreateJob(BaseModel):
    model_config = ConfigDict(extra="forbid")

    output_format: StereoFormat = Field(
        default=StereoFormat.HALF_SBS, description="How the two views are packed."
    )
    divergence: float = Field(
        default=2.0,
        gt=limits.DIVERGENCE_ABOVE,
        le=limits.DIVERGENCE_MAX,
        description=DIVERGENCE_HELP,
    )
    convergence: float = Field(
        default=0.5,
        ge=limits.CONVERGENCE_MIN,
        le=limits.CONVERGENCE_MAX,
        description=CONVERGENCE_HELP,
    )
    pixel_format: PixelFormat = Field(
        default=PixelFormat.AUTO,
        description="auto (yuv420p; 10-bit for HDR sources) | yuv420p | yuv444p | yuv420p10le.",
    )
    lossless: bool = Field(default=False, description="Lossless 4:4:4 video (qp 0).")
    title: str = Field(
        default="", max_length=limits.TITLE_MAX_LENGTH, description="Defaults to the file name."
    )
    source_url: str | None = Field(
        default=None,
        max_length=limits.URL_MAX_LENGTH,
        pattern=r"^https?://",
        description="Download the source from this link instead of uploading it.",
    )


class ProgressOut(BaseModel):
    stage: str
    percent: float
    segments_done: int
    segments_total: int | None
    eta_seconds: float | None
    # Frames of every segment, as the video workers report them (0 before any report).
    frames_done: int = 0
    frames_total: int = 0


class JobLinks(BaseModel):
    page: str
    events: str
    download: str | None = Field(
        default=None, description="Signed URL of the 3D video (attachment); completed jobs."
    )
    stream: str | None = Field(default=None, description="Signed URL for in-page playback.")


class JobOut(BaseModel):
    id: UUID
    status: str
    title: str
    output_format: StereoFormat
    divergence: float
    convergence: float
    pixel_format: PixelFormat = PixelFormat.AUTO
    lossless: bool = False
    created_at: datetime
    completed_at: datetime | None
    failed_at: datetime | None = Field(default=None, description="When a failed job failed.")
    failure_reason: str | None
    download_name: str
    conversion_seconds: float | None
    seconds_per_mb: float | None
    progress: ProgressOut
    links: JobLinks


class JobListQuery(BaseModel):
    status: Literal["in_progress", "completed", "failed"] = "completed"
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=20, ge=1, le=100)


class JobList(BaseModel):
    jobs: list[JobOut]
    next_cursor: str | None


class UploadUrlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str | None = Field(default=None, max_length=limits.FILENAME_MAX_LENGTH)


class UploadUrl(BaseModel):
    url: str = Field(description="PUT the file body here (plain PUT, no form encoding).")
    method: Literal["PUT"] = "PUT"
    max_bytes: int
    expires_in_s: int


class PushKeys(BaseModel):
    p256dh: str = Field(min_length=20, max_length=200)
    auth: str = Field(min_length=8, max_length=100)


class PushSubscriptionIn(BaseModel):
    endpoint: str = Field(min_length=12, max_length=2000, pattern=r"^https://")
    keys: PushKeys


class PushPublicKey(BaseModel):
    public_key: str


class Accepted(BaseModel):
    status: str


class ApiError(BaseModel):
    error: str
    status: int
