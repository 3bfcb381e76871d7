"""Several processes on one data directory: SQLite keeps conditional writes and queue
deliveries exclusive across processes, not only across threads."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from stereospot.adapters.local.jobs import SqliteJobStore
from stereospot.adapters.local.queues import SqliteQueue
from stereospot.adapters.local.reassembly import SqliteReassemblyLock
from stereospot.adapters.local.secret import load_or_create_secret
from stereospot.adapters.local.sqlite import Database
from stereospot.domain.errors import ConditionFailed
from stereospot.domain.model import Job

PROCESSES = 4
# fork: the children inherit the test's functions; the Database opens a fresh connection
# in each child (a connection is never used across a fork).
CONTEXT = multiprocessing.get_context("fork")


def _run_in_processes(target: Callable[..., None], *args: Any) -> list[Any]:
    barrier = CONTEXT.Barrier(PROCESSES)
    results = CONTEXT.Queue()
    processes = [
        CONTEXT.Process(target=target, args=(barrier, results, n, *args)) for n in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    collected = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return collected


def _save_once(barrier: Barrier, results: Any, n: int, db_path: Path, job_json: str) -> None:
    store = SqliteJobStore(Database(db_path))
    job = Job.model_validate_json(job_json)
    barrier.wait()
    try:
        store.save(job.with_changes(title=f"process {n}"))
        results.put(("won", n))
    except ConditionFailed:
        results.put(("lost", n))


def test_processes_racing_to_save_one_version_have_one_winner(tmp_path: Path) -> None:
    db_path = tmp_path / "stereospot.db"
    store = SqliteJobStore(Database(db_path))
    job = Job(id=uuid4(), created_at=datetime(2026, 3, 1, tzinfo=UTC))
    store.create(job)
    outcomes = _run_in_processes(_save_once, db_path, job.model_dump_json())
    winners = [n for outcome, n in outcomes if outcome == "won"]
    assert len(winners) == 1
    assert sorted(outcome for outcome, _ in outcomes) == ["lost"] * (PROCESSES - 1) + ["won"]
    stored = store.get(job.id)
    assert stored is not None
    assert stored.title == f"process {winners[0]}" and stored.version == 1


def _claim(barrier: Barrier, results: Any, n: int, db_path: Path, job_id: UUID) -> None:
    lock = SqliteReassemblyLock(Database(db_path))
    now = datetime(2026, 3, 1, tzinfo=UTC)
    barrier.wait()
    results.put(lock.claim(job_id, f"worker-{n}", now, lease_s=600))


def test_processes_racing_to_claim_reassembly_have_one_winner(tmp_path: Path) -> None:
    db_path = tmp_path / "stereospot.db"
    job_id = uuid4()
    SqliteReassemblyLock(Database(db_path)).create(job_id, datetime(2026, 3, 1, tzinfo=UTC), 3600)
    assert sorted(_run_in_processes(_claim, db_path, job_id)) == [False] * (PROCESSES - 1) + [True]


def _drain(barrier: Barrier, results: Any, n: int, db_path: Path, queue_name: str) -> None:
    queue = SqliteQueue(Database(db_path), queue_name, 300, 5, None)
    barrier.wait()
    bodies: list[str] = []
    while messages := queue.receive(max_messages=3, wait_s=0.3):
        for message in messages:
            bodies.append(message.body)
            queue.delete(message.receipt)
    results.put(bodies)


def test_processes_draining_one_queue_receive_each_message_once(tmp_path: Path) -> None:
    db_path = tmp_path / "stereospot.db"
    queue = SqliteQueue(Database(db_path), "shared", 300, 5, None)
    sent = [f"message {i}" for i in range(60)]
    for body in sent:
        queue.send(body)
    per_process = _run_in_processes(_drain, db_path, "shared")
    received = [body for bodies in per_process for body in bodies]
    assert sorted(received) == sorted(sent)  # none lost, none twice
    assert queue.approximate_count() == 0


def _secret(barrier: Barrier, results: Any, _n: int, data_dir: Path) -> None:
    barrier.wait()
    results.put(load_or_create_secret(data_dir))


def test_processes_starting_together_share_one_generated_secret(tmp_path: Path) -> None:
    secrets = _run_in_processes(_secret, tmp_path / "data")
    assert len(set(secrets)) == 1
    assert (tmp_path / "data" / "secret_key").read_bytes().strip() == secrets[0]
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["secret_key"]


@pytest.fixture(autouse=True)
def _no_leftover_children() -> Any:
    yield
    assert multiprocessing.active_children() == []


def _send_through_inherited(
    barrier: Barrier, results: Any, n: int, queue: SqliteQueue, store: SqliteJobStore
) -> None:
    barrier.wait()
    queue.send(f"from child {n}")
    results.put(len(store.list_in_progress()))


def test_stores_built_before_a_fork_work_in_parent_and_children(tmp_path: Path) -> None:
    database = Database(tmp_path / "stereospot.db")
    queue = SqliteQueue(database, "inherited", 300, 5, None)
    store = SqliteJobStore(database)
    store.create(Job(id=uuid4(), created_at=datetime(2026, 3, 1, tzinfo=UTC)))
    queue.send("from parent")  # the parent's connection is open when the children fork
    counts = _run_in_processes(_send_through_inherited, queue, store)
    assert counts == [1] * PROCESSES
    bodies = sorted(m.body for m in queue.receive(max_messages=10))
    assert bodies == sorted(["from parent", *(f"from child {n}" for n in range(PROCESSES))])
    store.create(Job(id=uuid4(), created_at=datetime(2026, 3, 2, tzinfo=UTC)))
    assert len(store.list_in_progress()) == 2
