"""Object keys: the only module that builds or parses them.

    input/{job}/source.mp4
    segments/{job}/{index:05d}_{total:05d}_{format}.mp4
    jobs/{job}/segments/{index:05d}.mp4
    jobs/{job}/final.mp4
    jobs/{job}/poster.jpg     (no event is routed for it)
    jobs/{job}/.reassembly-done
    sagemaker-invocation-requests/{job}/{index:05d}.json   (async inference request bodies)

Parsing is strict: a job id that is not a canonical UUID, or any `..`, never parses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import UUID

from stereospot.domain.errors import InvalidKey
from stereospot.domain.formats import StereoFormat

MAX_SEGMENTS = 99_999

_UUID = r"(?P<job>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
_FORMATS = "|".join(re.escape(f.value) for f in StereoFormat)

_SOURCE_RE = re.compile(rf"input/{_UUID}/source\.mp4")
_SEGMENT_RE = re.compile(
    rf"segments/{_UUID}/(?P<index>\d{{5}})_(?P<total>\d{{5}})_(?P<format>{_FORMATS})\.mp4"
)
_OUTPUT_SEGMENT_RE = re.compile(rf"jobs/{_UUID}/segments/(?P<index>\d{{5}})\.mp4")
_FINAL_RE = re.compile(rf"jobs/{_UUID}/final\.mp4")
_DONE_RE = re.compile(rf"jobs/{_UUID}/\.reassembly-done")


def _check_index(index: int, total: int | None = None) -> None:
    if not 0 <= index < MAX_SEGMENTS:
        raise InvalidKey(f"segment index {index} is out of range")
    if total is not None and not (1 <= total <= MAX_SEGMENTS and index < total):
        raise InvalidKey(f"segment {index} of {total} is out of range")


def source_key(job_id: UUID) -> str:
    return f"input/{job_id}/source.mp4"


def segment_key(job_id: UUID, index: int, total: int, output_format: StereoFormat) -> str:
    _check_index(index, total)
    return f"segments/{job_id}/{index:05d}_{total:05d}_{output_format.value}.mp4"


def output_segment_key(job_id: UUID, index: int) -> str:
    _check_index(index)
    return f"jobs/{job_id}/segments/{index:05d}.mp4"


def final_key(job_id: UUID) -> str:
    return f"jobs/{job_id}/final.mp4"


def poster_key(job_id: UUID) -> str:
    """The result's poster frame (written before final.mp4, so it is there on completion)."""
    return f"jobs/{job_id}/poster.jpg"


def reassembly_done_key(job_id: UUID) -> str:
    return f"jobs/{job_id}/.reassembly-done"


INVOCATION_REQUEST_PREFIX = "sagemaker-invocation-requests/"


def invocation_request_key(job_id: UUID, index: int) -> str:
    """Where the request JSON of a segment's async inference is stored (InputLocation)."""
    _check_index(index)
    return f"{INVOCATION_REQUEST_PREFIX}{job_id}/{index:05d}.json"


def job_prefixes(job_id: UUID) -> tuple[str, ...]:
    """Every prefix under which objects of this job live (for removal)."""
    return (
        f"input/{job_id}/",
        f"segments/{job_id}/",
        f"jobs/{job_id}/",
        f"{INVOCATION_REQUEST_PREFIX}{job_id}/",
    )


@dataclass(frozen=True)
class SourceKey:
    job_id: UUID


@dataclass(frozen=True)
class SegmentKey:
    job_id: UUID
    index: int
    total: int
    output_format: StereoFormat


@dataclass(frozen=True)
class OutputSegmentKey:
    job_id: UUID
    index: int


@dataclass(frozen=True)
class FinalKey:
    job_id: UUID


@dataclass(frozen=True)
class ReassemblyDoneKey:
    job_id: UUID


ParsedKey = SourceKey | SegmentKey | OutputSegmentKey | FinalKey | ReassemblyDoneKey


def parse_key(key: str) -> ParsedKey:
    """Parse any key of the layout above, or raise InvalidKey."""
    if ".." in key or "\\" in key or "\x00" in key:
        raise InvalidKey(f"{key!r} is not a valid object key")
    if m := _SOURCE_RE.fullmatch(key):
        return SourceKey(UUID(m["job"]))
    if m := _SEGMENT_RE.fullmatch(key):
        index, total = int(m["index"]), int(m["total"])
        _check_index(index, total)
        return SegmentKey(UUID(m["job"]), index, total, StereoFormat(m["format"]))
    if m := _OUTPUT_SEGMENT_RE.fullmatch(key):
        index = int(m["index"])
        _check_index(index)  # what output_segment_key refuses to build never parses
        return OutputSegmentKey(UUID(m["job"]), index)
    if m := _FINAL_RE.fullmatch(key):
        return FinalKey(UUID(m["job"]))
    if m := _DONE_RE.fullmatch(key):
        return ReassemblyDoneKey(UUID(m["job"]))
    raise InvalidKey(f"{key!r} is not a valid object key")


_SAFE_KEY_RE = re.compile(r"[A-Za-z0-9._/-]{1,1024}")


def validate_storage_key(key: str) -> str:
    """Any key a storage adapter accepts: relative, no `..`, no empty segments, safe chars.

    Storage adapters call this so nothing can escape their root, whatever a caller passes.
    """
    parts = key.split("/")
    if (
        not _SAFE_KEY_RE.fullmatch(key)
        or key.startswith("/")
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise InvalidKey(f"{key!r} is not a valid object key")
    return key


def validate_storage_prefix(prefix: str) -> str:
    """A prefix is a key ending in '/' (or the empty string for everything)."""
    if prefix == "":
        return prefix
    if not prefix.endswith("/"):
        raise InvalidKey(f"{prefix!r} is not a valid prefix (it must end with '/')")
    validate_storage_key(prefix[:-1])
    return prefix
