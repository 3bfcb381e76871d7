"""Codec parameter sets (SPS/PPS, and VPS for HEVC) as in-band NAL units.

An mp4 track carries one set of parameter sets in its sample description (avcC / hvcC
"extradata"). Segments encoded by separate encoder runs may each have their own; when a
segment's differ from the previous segment's, its parameter sets are written in front of
its first keyframe, so the decoder switches to them exactly there.
"""

from __future__ import annotations


def inband_parameter_sets(codec: str, extradata: bytes) -> bytes:
    """The parameter sets in `extradata` in the packet format of that codec's mp4 samples.

    Returns b"" when there is nothing usable (unknown codec or layout): the caller then
    joins the segment as is.
    """
    if not extradata:
        return b""
    if extradata.startswith((b"\x00\x00\x00\x01", b"\x00\x00\x01")):
        return extradata  # already Annex B: the packets use start codes too
    try:
        if codec == "h264" and extradata[0] == 1:
            return _length_prefixed(*_avcc_units(extradata))
        if codec == "hevc" and extradata[0] == 1:
            return _length_prefixed(*_hvcc_units(extradata))
    except IndexError:  # a truncated record: ignore rather than write garbage
        return b""
    return b""


def _length_prefixed(length_size: int, units: list[bytes]) -> bytes:
    return b"".join(len(unit).to_bytes(length_size, "big") + unit for unit in units)


def _avcc_units(data: bytes) -> tuple[int, list[bytes]]:
    """AVCDecoderConfigurationRecord (ISO/IEC 14496-15, 5.3.3.1)."""
    length_size = (data[4] & 0x03) + 1
    units: list[bytes] = []
    pos = 6
    for _ in range(data[5] & 0x1F):  # sequence parameter sets
        pos = _read_unit(data, pos, units)
    count = data[pos]
    pos += 1
    for _ in range(count):  # picture parameter sets
        pos = _read_unit(data, pos, units)
    return length_size, units


def _hvcc_units(data: bytes) -> tuple[int, list[bytes]]:
    """HEVCDecoderConfigurationRecord (ISO/IEC 14496-15, 8.3.3.1)."""
    length_size = (data[21] & 0x03) + 1
    units: list[bytes] = []
    pos = 23
    for _ in range(data[22]):  # arrays of VPS, SPS, PPS, SEI
        count = int.from_bytes(data[pos + 1 : pos + 3], "big")
        pos += 3
        for _ in range(count):
            pos = _read_unit(data, pos, units)
    return length_size, units


def _read_unit(data: bytes, pos: int, units: list[bytes]) -> int:
    size = int.from_bytes(data[pos : pos + 2], "big")
    unit = data[pos + 2 : pos + 2 + size]
    if len(unit) != size:
        raise IndexError("parameter set runs past the end of the record")
    units.append(unit)
    return pos + 2 + size
