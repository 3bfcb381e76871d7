"""Keeps a message invisible while it is handled, and enforces the shutdown grace period.

A background thread extends the message's visibility every third of its timeout. After a
stop request, once the grace period has run out (or at once on a second stop request), it
releases the message (visibility 0, so another worker takes it at once) and calls
`on_abandon`, which ends the process: the handler cannot be interrupted from outside, and
every handler is idempotent, so a redelivery picks up where this one left off.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from stereospot.domain.ports import Queue

logger = logging.getLogger(__name__)

_NAP_S = 0.25


class StopSignal:
    """Shared between the loop, the signal handlers and the heartbeat threads."""

    def __init__(self) -> None:
        self._requested = threading.Event()
        self._urgent = threading.Event()
        self.requested_at: float | None = None

    def request(self) -> None:
        """First call: stop after the current message. Second call: stop now.

        Only sets flags, so it is safe to call from a signal handler."""
        if self._requested.is_set():
            self._urgent.set()
        else:
            self.requested_at = time.monotonic()
            self._requested.set()

    def wait(self, timeout_s: float) -> bool:
        """Sleep up to timeout_s, waking early on a stop request. True if one came."""
        return self._requested.wait(timeout_s)

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    @property
    def urgent(self) -> bool:
        return self._urgent.is_set()


class Heartbeat:
    """Context manager around the handling of one delivery."""

    def __init__(
        self,
        queue: Queue,
        receipt: str,
        visibility_s: int,
        stop: StopSignal,
        grace_s: float,
        on_abandon: Callable[[], None],
    ) -> None:
        self._queue = queue
        self._receipt = receipt
        self._visibility_s = max(1, visibility_s)
        self._interval_s = max(0.2, self._visibility_s / 3)
        self._stop = stop
        self._grace_s = grace_s
        self._on_abandon = on_abandon
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        next_beat = time.monotonic() + self._interval_s
        while not self._done.is_set():
            if self._grace_over():
                self._abandon()
                return
            now = time.monotonic()
            if now >= next_beat:
                self._extend(self._visibility_s)
                next_beat = now + self._interval_s
            # Short naps so a stop request or the end of handling is noticed quickly.
            self._done.wait(min(next_beat - now, self._until_grace_over(), _NAP_S))

    def _until_grace_over(self) -> float:
        if self._stop.requested_at is None:
            return self._interval_s
        return max(0.0, self._stop.requested_at + self._grace_s - time.monotonic())

    def _grace_over(self) -> bool:
        if self._stop.urgent:
            return True
        started = self._stop.requested_at
        return started is not None and time.monotonic() - started >= self._grace_s

    def _extend(self, timeout_s: int) -> None:
        try:
            self._queue.extend_visibility(self._receipt, timeout_s)
        except Exception:  # a missed beat is retried; the handler must not die of it
            logger.warning("could not extend the message's visibility", exc_info=True)

    def _abandon(self) -> None:
        if self._done.is_set():
            return
        logger.warning(
            "stopping: the message did not finish within the %.0f s grace period; "
            "released it for another worker",
            self._grace_s,
        )
        self._extend(0)
        self._on_abandon()
