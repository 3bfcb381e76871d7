"""What the video toolkit tells us about a source, and what splitting produced."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from stereospot.domain.model import SegmentPlanEntry

# The largest picture side (pixels) a video may have; larger ones are refused at the probe.
MAX_PICTURE_SIDE = 8192


class VideoInfo(BaseModel):
    """Result of probing a file that is a playable video."""

    model_config = ConfigDict(frozen=True)

    duration_s: float = Field(ge=0)
    fps: float = Field(gt=0, description="Average frame rate.")
    variable_frame_rate: bool
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    rotation: int = Field(description="Display rotation in degrees (0, 90, 180, 270).")
    pixel_format: str
    bit_depth: int = Field(gt=0)
    codec: str
    frame_count: int = Field(ge=0)
    frame_count_exact: bool
    keyframe_interval_s: float | None = Field(
        default=None, description="Longest distance between keyframes, if measured."
    )
    has_audio: bool
    audio_codec: str | None = None
    size_bytes: int = Field(ge=0)


class SegmentFile(BaseModel):
    """A segment written by split(): its file and its plan entry."""

    model_config = ConfigDict(frozen=True)

    path: Path
    plan: SegmentPlanEntry
