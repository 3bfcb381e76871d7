"""HDR10 static metadata: the mastering display's colour volume and the content light
level, read from decoded frames' side data and handed to libx265.

FFmpeg's decoders attach both to every frame as side data (AVMasteringDisplayMetadata:
twenty AVRationals then two ints; AVContentLightMetadata: two unsigned ints). PyAV
exposes that side data only as bytes, so the two C structs are unpacked here. PyAV has
no way to give the encoder side data, so the values go to libx265 as its own
`master-display` / `max-cll` parameters (which write the same SEI messages).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction
from typing import cast

import av
from av.sidedata.sidedata import SideDataContainer, Type

_MASTERING = struct.Struct("=20i2i")  # 10 AVRationals (num, den) x 2, has_primaries, has_lum
_LIGHT = struct.Struct("=2I")  # MaxCLL, MaxFALL
_CHROMA_UNIT = 50000  # x265 (and the SEI): chromaticities in 0.00002
_LUMA_UNIT = 10000  # luminance in 0.0001 cd/m2
_LIGHT_MAX = 65535  # MaxCLL and MaxFALL are 16-bit in the SEI


@dataclass(frozen=True)
class MasteringDisplay:
    """Chromaticity (x, y) of the red, green and blue primaries and the white point, and
    the display's luminance range in cd/m2."""

    red: tuple[Fraction, Fraction]
    green: tuple[Fraction, Fraction]
    blue: tuple[Fraction, Fraction]
    white: tuple[Fraction, Fraction]
    min_luminance: Fraction
    max_luminance: Fraction

    @property
    def plausible(self) -> bool:
        """Chromaticities inside the CIE 1931 unit square and 0 <= min < max <= 10000
        cd/m2, the ranges the SEI message can carry."""
        points = (self.red, self.green, self.blue, self.white)
        inside = all(0 <= c <= 1 for point in points for c in point)
        return inside and 0 <= self.min_luminance < self.max_luminance <= 10000


@dataclass(frozen=True)
class HdrMetadata:
    """What a PQ/HLG stream says about how it was mastered (either part may be missing)."""

    mastering: MasteringDisplay | None = None
    max_cll: int | None = None  # brightest pixel, cd/m2
    max_fall: int | None = None  # brightest frame average, cd/m2

    @property
    def empty(self) -> bool:
        return self.mastering is None and self.max_cll is None

    def x265_params(self) -> list[str]:
        """libx265 parameters that write this metadata into the output stream. Values
        outside what the SEI can hold are left out (a damaged tag must not stop the
        encoder from opening; players ignore it too)."""
        params = []
        m = self.mastering
        if m is not None and m.plausible:

            def xy(point: tuple[Fraction, Fraction]) -> str:
                return f"{round(point[0] * _CHROMA_UNIT)},{round(point[1] * _CHROMA_UNIT)}"

            params.append(
                f"master-display=G({xy(m.green)})B({xy(m.blue)})R({xy(m.red)})"
                f"WP({xy(m.white)})L({round(m.max_luminance * _LUMA_UNIT)},"
                f"{round(m.min_luminance * _LUMA_UNIT)})"
            )
        if (
            self.max_cll is not None
            and 0 < self.max_cll <= _LIGHT_MAX
            and (self.max_fall is None or 0 <= self.max_fall <= _LIGHT_MAX)
        ):
            params.append(f"max-cll={self.max_cll},{self.max_fall or 0}")
        return params


def _fraction(num: int, den: int) -> Fraction:
    return Fraction(num, den) if den else Fraction(0)


def _side_data(frame: av.VideoFrame, kind: Type) -> bytes | None:
    container = cast(SideDataContainer, frame.side_data)  # the stub says SideData
    for entry in container:
        if entry.type == kind:
            return bytes(entry)
    return None


def read_hdr_metadata(frame: av.VideoFrame) -> HdrMetadata:
    """The mastering display and content light level attached to a decoded frame."""
    mastering = None
    raw = _side_data(frame, Type.MASTERING_DISPLAY_METADATA)
    if raw is not None and len(raw) >= _MASTERING.size:
        v = _MASTERING.unpack_from(raw)
        q = [_fraction(v[2 * i], v[2 * i + 1]) for i in range(10)]
        has_primaries, has_luminance = v[20], v[21]
        if has_primaries and has_luminance:
            mastering = MasteringDisplay(
                red=(q[0], q[1]),
                green=(q[2], q[3]),
                blue=(q[4], q[5]),
                white=(q[6], q[7]),
                min_luminance=q[8],
                max_luminance=q[9],
            )
    max_cll = max_fall = None
    raw = _side_data(frame, Type.CONTENT_LIGHT_LEVEL)
    if raw is not None and len(raw) >= _LIGHT.size:
        max_cll, max_fall = _LIGHT.unpack_from(raw)
    return HdrMetadata(mastering, max_cll, max_fall)
