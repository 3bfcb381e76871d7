"""Fixtures for the worker tests: real queues of each platform that has them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stereospot.adapters.local.queues import SqliteQueues
from stereospot.adapters.local.sqlite import Database
from stereospot.adapters.local.system import SystemClock
from stereospot.adapters.memory.queues import MemoryQueues
from stereospot.domain.ports import Queues
from stereospot.domain.routing import QueueName

MAX_RECEIVES = 3


def _memory(_tmp: Path) -> Queues:
    return MemoryQueues(SystemClock(), max_receives=MAX_RECEIVES)


def _local(tmp: Path) -> Queues:
    timeouts = {name: 30 for name in QueueName}
    return SqliteQueues(Database(tmp / "queues.db"), timeouts, max_receives=MAX_RECEIVES)


QUEUE_FACTORIES: dict[str, Callable[[Path], Queues]] = {"memory": _memory, "local": _local}


@pytest.fixture(params=sorted(QUEUE_FACTORIES))
def queues(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Queues]:
    yield QUEUE_FACTORIES[request.param](tmp_path)
