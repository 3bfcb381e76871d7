"""The platforms the contract suite runs against, and how each builds its adapters.

A `PlatformFactory` builds, for one test, a `PlatformUnderTest` from a fresh temporary
directory: every adapter it offers, plus the clock that adapter's time follows.

- memory, local: a ManualClock; `advance` moves it at once, tests never sleep.
- aws (tests/contract/aws_platform.py, owned by the AWS adapters; it exports
  `FACTORY: PlatformFactory | None`, None when moto is not installed): real time, so its
  clock's `advance` sleeps. Time-dependent tests therefore use timeouts of 1-2 seconds.

Adapters that take `now` as an argument (reassembly lock, invocations) are given times
computed from `clock.now()`, so they need no sleeping anywhere.
"""

from __future__ import annotations

import contextlib
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from stereospot.adapters.local.completions import SqliteSegmentCompletionStore
from stereospot.adapters.local.events import SqliteJobEvents
from stereospot.adapters.local.invocations import SqliteInvocationStore
from stereospot.adapters.local.jobs import SqliteJobStore
from stereospot.adapters.local.progress import SqliteSegmentProgressStore
from stereospot.adapters.local.push import SqlitePushSubscriptionStore
from stereospot.adapters.local.queues import SqliteQueue
from stereospot.adapters.local.reassembly import SqliteReassemblyLock
from stereospot.adapters.local.signing import UrlSigner
from stereospot.adapters.local.sqlite import Database
from stereospot.adapters.local.storage import FilesystemObjectStorage
from stereospot.adapters.memory.clock import ManualClock
from stereospot.adapters.memory.completions import MemorySegmentCompletionStore
from stereospot.adapters.memory.events import MemoryJobEvents
from stereospot.adapters.memory.invocations import MemoryInvocationStore
from stereospot.adapters.memory.jobs import MemoryJobStore
from stereospot.adapters.memory.progress import MemorySegmentProgressStore
from stereospot.adapters.memory.push import MemoryPushSubscriptionStore
from stereospot.adapters.memory.queues import MemoryQueue
from stereospot.adapters.memory.reassembly import MemoryReassemblyLock
from stereospot.adapters.memory.storage import MemoryObjectStorage
from stereospot.domain.errors import SignatureInvalid
from stereospot.domain.ports import (
    InferenceInvocationStore,
    JobEvents,
    JobStore,
    ObjectStorage,
    PushSubscriptionStore,
    Queue,
    ReassemblyLock,
    SegmentCompletionStore,
    SegmentProgressStore,
)

# The port fixtures of tests/contract/conftest.py; a factory says which it can build.
PORT_FIXTURES = frozenset(
    {
        "job_store",
        "completion_store",
        "progress_store",
        "reassembly_lock",
        "invocation_store",
        "object_storage",
        "queue",
        "job_events",
        "push_subscriptions",
    }
)

# The `queue` fixture: a long default visibility (tests pass their own timeouts when they
# want redelivery) and a small receive limit so dead-lettering is quick to reach.
QUEUE_VISIBILITY_S = 30
QUEUE_MAX_RECEIVES = 3


class ContractClock(Protocol):
    def now(self) -> datetime: ...

    def advance(self, seconds: float) -> object:
        """Let `seconds` pass for the platform's adapters."""
        ...


class RealClock:
    """Wall-clock time for platforms whose adapters cannot be given a clock (AWS)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        time.sleep(seconds)


class UrlRejected(Exception):
    """A signed URL that its platform refuses (tampered, expired, or the wrong action)."""


@dataclass(frozen=True)
class UrlGrant:
    key: str
    max_bytes: int | None
    filename: str | None


# check(url, action) with action "upload" or "download"; raises UrlRejected.
UrlChecker = Callable[[str, str], UrlGrant]


class PlatformUnderTest(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def clock(self) -> ContractClock: ...

    def job_store(self) -> JobStore: ...

    def completion_store(self) -> SegmentCompletionStore: ...

    def progress_store(self) -> SegmentProgressStore: ...

    def reassembly_lock(self) -> ReassemblyLock: ...

    def invocation_store(self) -> InferenceInvocationStore: ...

    def object_storage(self) -> ObjectStorage: ...

    def queue(self, *, visibility_timeout_s: int, max_receives: int) -> Queue:
        """A new, empty queue with its own dead-letter queue."""
        ...

    def job_events(self) -> JobEvents: ...

    def push_subscriptions(self) -> PushSubscriptionStore: ...

    def url_checker(self) -> UrlChecker | None:
        """How this platform's own server would judge its signed URLs (None: not testable
        here, e.g. S3's presigned URLs)."""
        ...


@dataclass(frozen=True)
class PlatformFactory:
    """build: the platform for one test, from its temporary directory.
    ports: the port fixtures it offers (tests needing others do not run on it).
    deviations: test function name -> why the platform's emulator departs from the port
    there; those tests run as strict expected failures, so a fixed emulator is noticed.
    """

    build: Callable[[Path], AbstractContextManager[PlatformUnderTest]]
    ports: frozenset[str] = PORT_FIXTURES
    deviations: Mapping[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- memory

# The contract's actions as the HTTP methods a signed link grants (memory and local).
_HTTP_METHODS = {"upload": "PUT", "download": "GET"}


class MemoryPlatform:
    name = "memory"

    def __init__(self) -> None:
        self.clock = ManualClock()
        self._storage: MemoryObjectStorage | None = None

    def job_store(self) -> JobStore:
        return MemoryJobStore()

    def completion_store(self) -> SegmentCompletionStore:
        return MemorySegmentCompletionStore()

    def progress_store(self) -> SegmentProgressStore:
        return MemorySegmentProgressStore()

    def reassembly_lock(self) -> ReassemblyLock:
        return MemoryReassemblyLock()

    def invocation_store(self) -> InferenceInvocationStore:
        return MemoryInvocationStore()

    def object_storage(self) -> ObjectStorage:
        self._storage = MemoryObjectStorage(self.clock)
        return self._storage

    def queue(self, *, visibility_timeout_s: int, max_receives: int) -> Queue:
        name = f"contract-{uuid.uuid4().hex[:8]}"
        dlq = MemoryQueue(f"{name}-dlq", self.clock, visibility_timeout_s)
        return MemoryQueue(name, self.clock, visibility_timeout_s, max_receives, dlq)

    def job_events(self) -> JobEvents:
        return MemoryJobEvents()

    def push_subscriptions(self) -> PushSubscriptionStore:
        return MemoryPushSubscriptionStore()

    def url_checker(self) -> UrlChecker | None:
        storage = self._storage

        def check(url: str, action: str) -> UrlGrant:
            assert storage is not None, "build the object storage first"
            try:
                signed = storage.check_url(url, _HTTP_METHODS[action])
            except SignatureInvalid as exc:
                raise UrlRejected(str(exc)) from exc
            return UrlGrant(signed.key, signed.max_bytes, signed.filename)

        return check


@contextlib.contextmanager
def _memory(_tmp_path: Path) -> Iterator[PlatformUnderTest]:
    yield MemoryPlatform()


# --------------------------------------------------------------------------- local

LOCAL_BASE_URL = "http://127.0.0.1:8000"


class LocalPlatform:
    name = "local"

    def __init__(self, tmp_path: Path) -> None:
        self.clock = ManualClock()
        self.database = Database(tmp_path / "stereospot.db")
        self.objects = tmp_path / "objects"
        self.signer = UrlSigner(secrets.token_bytes(32), LOCAL_BASE_URL)

    def epoch_seconds(self) -> float:
        return self.clock.now().timestamp()

    def job_store(self) -> JobStore:
        return SqliteJobStore(self.database)

    def completion_store(self) -> SegmentCompletionStore:
        return SqliteSegmentCompletionStore(self.database)

    def progress_store(self) -> SegmentProgressStore:
        return SqliteSegmentProgressStore(self.database)

    def reassembly_lock(self) -> ReassemblyLock:
        return SqliteReassemblyLock(self.database)

    def invocation_store(self) -> InferenceInvocationStore:
        return SqliteInvocationStore(self.database)

    def object_storage(self) -> ObjectStorage:
        return FilesystemObjectStorage(self.objects, self.signer, clock=self.epoch_seconds)

    def queue(self, *, visibility_timeout_s: int, max_receives: int) -> Queue:
        name = f"contract-{uuid.uuid4().hex[:8]}"
        dlq = SqliteQueue(
            self.database, f"{name}-dlq", visibility_timeout_s, 1, None, self.epoch_seconds
        )
        return SqliteQueue(
            self.database, name, visibility_timeout_s, max_receives, dlq, self.epoch_seconds
        )

    def job_events(self) -> JobEvents:
        return SqliteJobEvents(self.database)

    def push_subscriptions(self) -> PushSubscriptionStore:
        return SqlitePushSubscriptionStore(self.database)

    def url_checker(self) -> UrlChecker | None:
        def check(url: str, action: str) -> UrlGrant:
            try:
                grant = self.signer.verify_url(
                    url, method=_HTTP_METHODS[action], now=int(self.epoch_seconds())
                )
            except SignatureInvalid as exc:
                raise UrlRejected(str(exc)) from exc
            return UrlGrant(grant.key, grant.max_bytes, grant.filename)

        return check


@contextlib.contextmanager
def _local(tmp_path: Path) -> Iterator[PlatformUnderTest]:
    platform = LocalPlatform(tmp_path)
    try:
        yield platform
    finally:
        platform.database.close()


# --------------------------------------------------------------------------- registry


def _optional_factories() -> dict[str, PlatformFactory]:
    try:
        import aws_platform  # owned by the AWS adapters
    except ModuleNotFoundError as exc:
        if exc.name == "aws_platform":
            return {}
        raise
    factory: PlatformFactory | None = aws_platform.FACTORY
    return {"aws": factory} if factory is not None else {}


FACTORIES: dict[str, PlatformFactory] = {
    "memory": PlatformFactory(_memory),
    "local": PlatformFactory(_local),
    **_optional_factories(),
}
