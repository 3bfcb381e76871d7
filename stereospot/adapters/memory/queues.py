"""SQS-like queues in memory: visibility timeouts, receive counts, dead-letter queues.

Queue time (visibility, delays) follows the injected clock, so tests move it instead of
sleeping. A long poll (wait_s) waits in real time for a send, re-checking as it goes.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from stereospot.domain.ports import Clock, ReceivedMessage
from stereospot.domain.routing import QueueName

DEFAULT_MAX_RECEIVES = 5
_POLL_SLICE_S = 0.05  # a long poll re-checks this often (the clock may have moved)


@dataclass
class _Stored:
    message_id: str
    body: str
    visible_at: datetime
    receive_count: int = 0
    receipt: str | None = None


class MemoryQueue:
    def __init__(
        self,
        name: str,
        clock: Clock,
        visibility_timeout_s: int = 30,
        max_receives: int = DEFAULT_MAX_RECEIVES,
        dead_letter_queue: MemoryQueue | None = None,
    ) -> None:
        if max_receives < 1:
            raise ValueError("max_receives must be at least 1")
        self.name = name
        self.max_receives = max_receives
        self.visibility_timeout_s = visibility_timeout_s
        self._clock = clock
        self._dlq = dead_letter_queue
        self._messages: dict[str, _Stored] = {}  # insertion order = send order
        self._receipts: dict[str, str] = {}  # current receipt -> message id
        self._changed = threading.Condition()

    def send(self, body: str, delay_s: int = 0) -> str:
        return self._accept(str(uuid.uuid4()), body, delay_s)

    def _accept(self, message_id: str, body: str, delay_s: int = 0) -> str:
        visible_at = self._clock.now() + timedelta(seconds=delay_s)
        with self._changed:
            self._messages[message_id] = _Stored(message_id, body, visible_at)
            self._changed.notify_all()
        return message_id

    def receive(
        self, max_messages: int = 1, wait_s: float = 0.0, visibility_timeout_s: int | None = None
    ) -> list[ReceivedMessage]:
        if not 1 <= max_messages <= 10:
            raise ValueError("max_messages must be between 1 and 10")
        timeout = visibility_timeout_s
        if timeout is None:
            timeout = self.visibility_timeout_s
        deadline = time.monotonic() + max(0.0, wait_s)
        with self._changed:
            while True:
                received = self._take_visible(max_messages, timeout)
                remaining = deadline - time.monotonic()
                if received or remaining <= 0:
                    return received
                self._changed.wait(min(remaining, _POLL_SLICE_S))

    def _take_visible(self, max_messages: int, timeout_s: int) -> list[ReceivedMessage]:
        now = self._clock.now()
        received: list[ReceivedMessage] = []
        for stored in list(self._messages.values()):
            if len(received) >= max_messages:
                break
            if stored.visible_at > now:
                continue
            if self._dlq is not None and stored.receive_count >= self.max_receives:
                self._drop(stored)
                self._dlq._accept(stored.message_id, stored.body)  # SQS keeps the id
                continue
            if stored.receipt is not None:
                self._receipts.pop(stored.receipt, None)
            stored.receive_count += 1
            stored.receipt = f"{stored.message_id}/{stored.receive_count}/{uuid.uuid4().hex}"
            stored.visible_at = now + timedelta(seconds=timeout_s)
            self._receipts[stored.receipt] = stored.message_id
            received.append(
                ReceivedMessage(
                    message_id=stored.message_id,
                    body=stored.body,
                    receipt=stored.receipt,
                    receive_count=stored.receive_count,
                )
            )
        return received

    def _drop(self, stored: _Stored) -> None:
        del self._messages[stored.message_id]
        if stored.receipt is not None:
            self._receipts.pop(stored.receipt, None)

    def _current(self, receipt: str) -> _Stored | None:
        message_id = self._receipts.get(receipt)
        return None if message_id is None else self._messages.get(message_id)

    def delete(self, receipt: str) -> None:
        with self._changed:
            stored = self._current(receipt)
            if stored is not None:  # a stale receipt is ignored
                self._drop(stored)

    def extend_visibility(self, receipt: str, timeout_s: int) -> None:
        with self._changed:
            stored = self._current(receipt)
            if stored is not None:
                stored.visible_at = self._clock.now() + timedelta(seconds=timeout_s)
                self._changed.notify_all()

    def approximate_count(self) -> int:
        with self._changed:
            return len(self._messages)

    def dead_letters(self) -> MemoryQueue:
        if self._dlq is None:
            raise LookupError(f"queue {self.name} has no dead-letter queue")
        return self._dlq

    def bodies(self) -> list[str]:
        """Every stored body, visible or not, in send order (tests)."""
        with self._changed:
            return [m.body for m in self._messages.values()]


class MemoryQueues:
    """One MemoryQueue per QueueName, each with its own dead-letter queue."""

    def __init__(
        self,
        clock: Clock,
        visibility_timeouts: Mapping[QueueName, int] | None = None,
        max_receives: int = DEFAULT_MAX_RECEIVES,
    ) -> None:
        timeouts = visibility_timeouts or {}
        self._queues: dict[QueueName, MemoryQueue] = {}
        for name in QueueName:
            timeout = timeouts.get(name, 30)
            dlq = MemoryQueue(f"{name.value}-dlq", clock, timeout, max_receives=1)
            self._queues[name] = MemoryQueue(
                name.value, clock, timeout, max_receives=max_receives, dead_letter_queue=dlq
            )

    def __getitem__(self, name: QueueName) -> MemoryQueue:
        return self._queues[name]
