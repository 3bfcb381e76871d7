"""Durable queues on SQLite with SQS's semantics (see ports.Queue).

Every queue lives in one table, keyed by queue name; a dead-letter queue is the queue
named `<name>-dlq`. A delivery sets a fresh receipt and hides the message until
`visible_at`; delete and extend_visibility act only through the latest receipt, so a stale
one (the message was delivered again since) does nothing.

Long polling: a receiver checks, then sleeps a little and checks again until `wait_s` has
passed. Senders in the same process wake their receivers at once; other processes' sends
are seen at the next check (at most _MAX_POLL_S later).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import ClassVar

from stereospot.adapters.local.sqlite import Database
from stereospot.domain.ports import ReceivedMessage
from stereospot.domain.routing import QueueName

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS queue_messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL,
        visible_at REAL NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        receipt TEXT UNIQUE
    )""",
    "CREATE INDEX IF NOT EXISTS queue_messages_visible ON queue_messages (queue, visible_at, seq)",
)
_MIN_POLL_S = 0.01
_MAX_POLL_S = 0.2
MAX_BATCH = 10  # as SQS
# A dead-letter queue never dead-letters; its max_receives is this effectively endless count.
UNLIMITED_RECEIVES = 2**31 - 1


class _Arrivals:
    """Wakes this process's receivers of one queue when a message is sent to it."""

    _registry: ClassVar[dict[tuple[str, str], _Arrivals]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._generation = 0

    @classmethod
    def of(cls, database: Database, queue: str) -> _Arrivals:
        with cls._registry_lock:
            return cls._registry.setdefault((str(database.path), queue), cls())

    @property
    def generation(self) -> int:
        return self._generation

    def notify(self) -> None:
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def wait(self, seen_generation: int, timeout_s: float) -> None:
        with self._condition:
            self._condition.wait_for(lambda: self._generation != seen_generation, timeout_s)


class SqliteQueue:
    def __init__(
        self,
        database: Database,
        name: str,
        visibility_timeout_s: int,
        max_receives: int,
        dead_letter_queue: SqliteQueue | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_receives < 1:
            raise ValueError("max_receives must be at least 1")
        self.name = name
        self.max_receives = max_receives if dead_letter_queue else UNLIMITED_RECEIVES
        self.visibility_timeout_s = visibility_timeout_s
        self._db = database
        self._dlq = dead_letter_queue
        self._clock = clock
        self._arrivals = _Arrivals.of(database, name)
        self._db.ensure_schema(_SCHEMA)

    def send(self, body: str, delay_s: int = 0) -> str:
        message_id = str(uuid.uuid4())
        with self._db.write() as db:
            db.execute(
                "INSERT INTO queue_messages (queue, message_id, body, visible_at)"
                " VALUES (?, ?, ?, ?)",
                (self.name, message_id, body, self._clock() + max(0, delay_s)),
            )
        self._arrivals.notify()
        return message_id

    def receive(
        self, max_messages: int = 1, wait_s: float = 0.0, visibility_timeout_s: int | None = None
    ) -> list[ReceivedMessage]:
        if not 1 <= max_messages <= MAX_BATCH:
            raise ValueError(f"max_messages must be between 1 and {MAX_BATCH}")
        timeout = (
            self.visibility_timeout_s if visibility_timeout_s is None else visibility_timeout_s
        )
        deadline = time.monotonic() + max(0.0, wait_s)
        pause = _MIN_POLL_S
        while True:
            generation = self._arrivals.generation
            if messages := self._receive_visible(max_messages, timeout):
                return messages
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._arrivals.wait(generation, min(pause, remaining))
            pause = min(pause * 2, _MAX_POLL_S)

    def _any_visible(self, now: float) -> bool:
        row = (
            self._db.connection()
            .execute(
                "SELECT 1 FROM queue_messages WHERE queue = ? AND visible_at <= ? LIMIT 1",
                (self.name, now),
            )
            .fetchone()
        )
        return row is not None

    def _receive_visible(self, max_messages: int, timeout_s: int) -> list[ReceivedMessage]:
        now = self._clock()
        if not self._any_visible(now):  # a cheap read before taking the write lock
            return []
        delivered: list[ReceivedMessage] = []
        dead_lettered = False
        with self._db.write() as db:
            # One pass: a message is delivered at most once per call. Messages moved to the
            # dead-letter queue may leave the batch short (SQS batches may be short too).
            rows = db.execute(
                "SELECT seq, message_id, body, receive_count FROM queue_messages"
                " WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?",
                (self.name, now, max_messages),
            ).fetchall()
            for seq, message_id, body, receive_count in rows:
                if self._dlq is not None and receive_count >= self.max_receives:
                    db.execute(
                        "UPDATE queue_messages SET queue = ?, receive_count = 0,"
                        " visible_at = ?, receipt = NULL WHERE seq = ?",
                        (self._dlq.name, now, seq),
                    )
                    dead_lettered = True
                    continue
                receipt = secrets.token_urlsafe(18)
                db.execute(
                    "UPDATE queue_messages SET receive_count = receive_count + 1,"
                    " visible_at = ?, receipt = ? WHERE seq = ?",
                    (now + timeout_s, receipt, seq),
                )
                delivered.append(
                    ReceivedMessage(
                        message_id=message_id,
                        body=body,
                        receipt=receipt,
                        receive_count=receive_count + 1,
                    )
                )
        if dead_lettered and self._dlq is not None:
            self._dlq._arrivals.notify()
        return delivered

    def delete(self, receipt: str) -> None:
        with self._db.write() as db:
            db.execute(
                "DELETE FROM queue_messages WHERE queue = ? AND receipt = ?", (self.name, receipt)
            )

    def extend_visibility(self, receipt: str, timeout_s: int) -> None:
        with self._db.write() as db:
            db.execute(
                "UPDATE queue_messages SET visible_at = ? WHERE queue = ? AND receipt = ?",
                (self._clock() + timeout_s, self.name, receipt),
            )

    def approximate_count(self) -> int:
        row = (
            self._db.connection()
            .execute("SELECT COUNT(*) FROM queue_messages WHERE queue = ?", (self.name,))
            .fetchone()
        )
        return int(row[0])

    def dead_letters(self) -> SqliteQueue:
        if self._dlq is None:
            raise LookupError(f"queue {self.name!r} is a dead-letter queue; it has none itself")
        return self._dlq


class SqliteQueues:
    """Every application queue, each with its dead-letter queue `<name>-dlq`."""

    def __init__(
        self,
        database: Database,
        visibility_timeouts: Mapping[QueueName, int],
        max_receives: int = 5,
        clock: Callable[[], float] = time.time,
        dead_letter_visibility_s: int = 60,
    ) -> None:
        missing = [name.value for name in QueueName if name not in visibility_timeouts]
        if missing:
            raise ValueError(f"no visibility timeout for queues: {', '.join(missing)}")
        self._queues: dict[QueueName, SqliteQueue] = {}
        for name in QueueName:
            dlq = SqliteQueue(
                database, f"{name.value}-dlq", dead_letter_visibility_s, 1, None, clock
            )
            self._queues[name] = SqliteQueue(
                database, name.value, visibility_timeouts[name], max_receives, dlq, clock
            )

    def __getitem__(self, name: QueueName) -> SqliteQueue:
        return self._queues[QueueName(name)]
