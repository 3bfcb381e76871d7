"""SQLite access shared by every local store and queue.

- WAL journal, so readers never block the writer, and a busy timeout, so several processes
  on one data directory wait for each other instead of failing.
- One connection per thread and per process (a connection is never shared across threads
  nor inherited across fork), in autocommit mode: transactions are explicit.
- `write()` opens `BEGIN IMMEDIATE`: the write lock is taken up front, so a read-then-write
  inside it (a conditional update) cannot be interleaved with another writer.
- Each store declares its tables with `ensure_schema`; the statements are idempotent and
  run once per process.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

BUSY_TIMEOUT_S = 30.0
_INHERITED: list[sqlite3.Connection] = []


class Database:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._local = threading.local()
        self._schema_done: set[tuple[str, ...]] = set()
        self._schema_lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=True
        )
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        connection.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable across application crashes in WAL mode (not power loss of the
        # last commits), at a fraction of FULL's fsync cost.
        connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (a fresh one after fork)."""
        pid = os.getpid()
        if getattr(self._local, "pid", None) != pid:
            inherited = getattr(self._local, "connection", None)
            if inherited is not None:
                # Closing a connection inherited across fork could disturb the parent's
                # locks and WAL; keep it referenced, unused, for the life of this process.
                _INHERITED.append(inherited)
            self._local.connection = self._open()
            self._local.pid = pid
        connection: sqlite3.Connection = self._local.connection
        return connection

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the database's write lock from its first statement."""
        connection = self.connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:  # the body failed, or COMMIT itself did
                connection.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every statement inside sees the same snapshot."""
        connection = self.connection()
        connection.execute("BEGIN")
        try:
            yield connection
        finally:
            if connection.in_transaction:
                connection.execute("COMMIT")

    def ensure_schema(self, statements: Sequence[str]) -> None:
        """Run idempotent DDL (CREATE ... IF NOT EXISTS) once per process."""
        marker = tuple(statements)
        with self._schema_lock:
            if marker in self._schema_done:
                return
            with self.write() as connection:
                for statement in statements:
                    connection.execute(statement)
            self._schema_done.add(marker)

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None and getattr(self._local, "pid", None) == os.getpid():
            connection.close()
        self._local.__dict__.clear()
