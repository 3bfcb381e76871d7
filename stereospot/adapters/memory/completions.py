"""Segment completions, one per (job, index)."""

from __future__ import annotations

import threading
from uuid import UUID

from stereospot.domain.model import SegmentCompletion


class MemorySegmentCompletionStore:
    def __init__(self) -> None:
        self._by_job: dict[UUID, dict[int, SegmentCompletion]] = {}
        self._lock = threading.Lock()

    def put(self, completion: SegmentCompletion) -> bool:
        with self._lock:
            segments = self._by_job.setdefault(completion.job_id, {})
            if completion.segment_index in segments:
                return False
            segments[completion.segment_index] = completion
            return True

    def list(self, job_id: UUID) -> list[SegmentCompletion]:
        with self._lock:
            segments = self._by_job.get(job_id, {})
            return [segments[i] for i in sorted(segments)]

    def delete_job(self, job_id: UUID) -> None:
        with self._lock:
            self._by_job.pop(job_id, None)
