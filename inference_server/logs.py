"""Structured JSON logs for the inference servers: one object a line, with job_id and
segment_index on every line written while an invocation is handled."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from uuid import UUID

_job_id: ContextVar[str | None] = ContextVar("inference_job_id", default=None)
_segment_index: ContextVar[int | None] = ContextVar("inference_segment_index", default=None)


@contextmanager
def invocation_context(job_id: UUID | None, segment_index: int | None) -> Iterator[None]:
    job_token = _job_id.set(None if job_id is None else str(job_id))
    segment_token = _segment_index.set(segment_index)
    try:
        yield
    finally:
        _segment_index.reset(segment_token)
        _job_id.reset(job_token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "job_id": getattr(record, "job_id", None) or _job_id.get(),
            "segment_index": getattr(record, "segment_index", None),
        }
        if entry["segment_index"] is None:
            entry["segment_index"] = _segment_index.get()
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_json_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
