"""Every log line carries job_id and segment_index where known.

Use cases pass them with `extra=`; the worker loop sets them for the message it handles
(`job_context`), so lines from libraries and from code that does not pass `extra` carry
them too. A record's own `extra` wins over the context.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from uuid import UUID

LOG_FORMAT = (
    "%(asctime)s %(levelname)s [job=%(job_id)s seg=%(segment_index)s] %(name)s: %(message)s"
)

_UNKNOWN = "-"
_job_id: ContextVar[str] = ContextVar("stereospot_job_id", default=_UNKNOWN)
_segment_index: ContextVar[str] = ContextVar("stereospot_segment_index", default=_UNKNOWN)


@contextmanager
def job_context(job_id: UUID | str | None, segment_index: int | None = None) -> Iterator[None]:
    """Within this block, log records without their own job_id/segment_index get these."""
    job_token = _job_id.set(_UNKNOWN if job_id is None else str(job_id))
    seg_token = _segment_index.set(_UNKNOWN if segment_index is None else str(segment_index))
    try:
        yield
    finally:
        _segment_index.reset(seg_token)
        _job_id.reset(job_token)


class JobContextFilter(logging.Filter):
    """Fills record.job_id / record.segment_index from the context when the call site
    did not pass them (a handler filter, so it sees records from every logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "job_id", None) is None:
            record.job_id = _job_id.get()
        if getattr(record, "segment_index", None) is None:
            record.segment_index = _segment_index.get()
        return True


def configure_logging(level: str = "INFO", role: str | None = None) -> None:
    """Root logging to stderr in LOG_FORMAT (with the process role, e.g. media-worker)."""
    fmt = LOG_FORMAT if role is None else LOG_FORMAT.replace("%(name)s", f"{role} %(name)s")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(JobContextFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
