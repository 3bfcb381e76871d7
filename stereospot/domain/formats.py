"""Output formats and conversion settings."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from stereospot.domain import limits
from stereospot.domain.limits import CONVERGENCE_RANGE_TEXT, DIVERGENCE_RANGE_TEXT


class StereoFormat(StrEnum):
    FULL_SBS = "full-sbs"
    HALF_SBS = "half-sbs"
    FULL_TB = "full-tb"
    HALF_TB = "half-tb"
    ANAGLYPH = "anaglyph"  # Dubois red-cyan
    ANAGLYPH_COLOR = "anaglyph-color"
    CROSS_EYED = "cross-eyed"
    DEPTH = "depth"  # grayscale depth-map export

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def player_suffix(self) -> str:
        """File-name suffix that VR/3D players use to detect the layout."""
        return _SUFFIXES[self]


_LABELS: dict[StereoFormat, str] = {
    StereoFormat.FULL_SBS: "Side-by-side (full width)",
    StereoFormat.HALF_SBS: "Side-by-side (half width)",
    StereoFormat.FULL_TB: "Top-bottom (full height)",
    StereoFormat.HALF_TB: "Top-bottom (half height)",
    StereoFormat.ANAGLYPH: "Anaglyph red-cyan (Dubois)",
    StereoFormat.ANAGLYPH_COLOR: "Anaglyph red-cyan (colour)",
    StereoFormat.CROSS_EYED: "Cross-eyed (right-left)",
    StereoFormat.DEPTH: "Depth map",
}

_SUFFIXES: dict[StereoFormat, str] = {
    StereoFormat.FULL_SBS: "_LRF_Full_SBS",
    StereoFormat.HALF_SBS: "_LR_Half_SBS",
    StereoFormat.FULL_TB: "_LRF_Full_TB",
    StereoFormat.HALF_TB: "_LR_Half_TB",
    StereoFormat.ANAGLYPH: "_Anaglyph",
    StereoFormat.ANAGLYPH_COLOR: "_Anaglyph_Color",
    StereoFormat.CROSS_EYED: "_RLF_Full_SBS",
    StereoFormat.DEPTH: "_Depth",
}


class SyntheticView(StrEnum):
    """Which eyes are synthesised: both symmetrically, or one with the source as the other."""

    BOTH = "both"
    LEFT = "left"
    RIGHT = "right"


class PixelFormat(StrEnum):
    """The output video's pixel format. AUTO: yuv420p, or 10-bit 4:2:0 for a PQ/HLG source."""

    AUTO = "auto"
    YUV420P = "yuv420p"  # 8-bit 4:2:0 H.264 (plays everywhere)
    YUV444P = "yuv444p"  # 8-bit 4:4:4 H.264 (full-resolution colour)
    YUV420P10LE = "yuv420p10le"  # 10-bit 4:2:0 HEVC main10 (HDR)


CONVERGENCE_HELP = (
    "Screen plane: 0 puts everything behind the screen, 1 in front of it; below 0 "
    f"(down to {limits.bound_text(limits.CONVERGENCE_MIN)}) is a parallel rig, everything in "
    "front of the screen."
)
DIVERGENCE_HELP = (
    "3D strength: the largest shift between the eyes, in % of the frame width "
    f"({DIVERGENCE_RANGE_TEXT})."
)
# The sentence for settings out of bounds (the form, the preview).
SETTINGS_BOUNDS_TEXT = (
    f"3D strength must be {DIVERGENCE_RANGE_TEXT}, screen plane {CONVERGENCE_RANGE_TEXT}"
)


class ConversionSettings(BaseModel):
    """How a video is turned into 3D. Validated, immutable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    divergence: float = Field(
        default=2.0,
        gt=limits.DIVERGENCE_ABOVE,
        le=limits.DIVERGENCE_MAX,
        description="Maximum parallax, in % of the frame width.",
    )
    convergence: float = Field(
        default=0.5,
        ge=limits.CONVERGENCE_MIN,
        le=limits.CONVERGENCE_MAX,
        description=CONVERGENCE_HELP,
    )
    synthetic_view: SyntheticView = SyntheticView.BOTH
    depth_model: str = Field(default="auto", min_length=1, max_length=200)
    pixel_format: PixelFormat = Field(
        default=PixelFormat.AUTO,
        description="Output pixel format: auto (yuv420p; 10-bit for HDR sources), yuv420p, "
        "yuv444p or yuv420p10le (10-bit HEVC).",
    )
    lossless: bool = Field(
        default=False, description="Mathematically lossless video (4:4:4, qp 0), for measuring."
    )
