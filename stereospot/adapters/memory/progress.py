"""Segment progress reports, one per (job, index)."""

from __future__ import annotations

import threading
from uuid import UUID

from stereospot.domain.model import SegmentProgress


class MemorySegmentProgressStore:
    def __init__(self) -> None:
        self._by_job: dict[UUID, dict[int, SegmentProgress]] = {}
        self._lock = threading.Lock()

    def put(self, report: SegmentProgress) -> None:
        with self._lock:
            segments = self._by_job.setdefault(report.job_id, {})
            stored = segments.get(report.segment_index)
            if stored is None:
                segments[report.segment_index] = report
            elif report.frames_done >= stored.frames_done:
                segments[report.segment_index] = report.model_copy(
                    update={"started_at": stored.started_at}
                )

    def list(self, job_id: UUID) -> list[SegmentProgress]:
        with self._lock:
            segments = self._by_job.get(job_id, {})
            return [segments[i] for i in sorted(segments)]

    def delete_job(self, job_id: UUID) -> None:
        with self._lock:
            self._by_job.pop(job_id, None)
