"""Job events as an in-memory append-only log; the cursor is a position in it."""

from __future__ import annotations

import threading

from stereospot.domain.ports import JobEvent


class MemoryJobEvents:
    def __init__(self) -> None:
        self._log: list[JobEvent] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        """Nothing to set up: every reader reads the same log."""

    def close(self) -> None:
        """Nothing to tear down."""

    def publish(self, event: JobEvent) -> None:
        with self._lock:
            self._log.append(event)

    def read_after(self, cursor: str | None, limit: int = 100) -> tuple[list[JobEvent], str]:
        with self._lock:
            end = len(self._log)
            start = self._position(cursor, end)
            events = self._log[start : start + limit]
            return events, str(start + len(events))

    @staticmethod
    def _position(cursor: str | None, end: int) -> int:
        """None, or a cursor this log never gave out, means "from now on"."""
        if cursor is None or not cursor.isdigit():
            return end
        position = int(cursor)
        return position if position <= end else end

    def all(self) -> list[JobEvent]:
        """Every event so far (tests)."""
        with self._lock:
            return list(self._log)
