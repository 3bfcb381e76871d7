"""MemoryQueue keeps SQS's semantics, on a clock the test moves."""

from __future__ import annotations

import threading
import time

import pytest

from stereospot.adapters.memory.clock import ManualClock
from stereospot.adapters.memory.queues import MemoryQueue, MemoryQueues
from stereospot.domain.routing import QueueName


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def queue(clock: ManualClock) -> MemoryQueue:
    return MemoryQueues(clock, {QueueName.CHUNKING: 30}, max_receives=3)[QueueName.CHUNKING]


def test_received_message_hides_then_reappears(queue: MemoryQueue, clock: ManualClock) -> None:
    message_id = queue.send("hello")
    [first] = queue.receive()
    assert (first.message_id, first.body, first.receive_count) == (message_id, "hello", 1)
    assert queue.receive() == []
    assert queue.approximate_count() == 1  # in flight still counts
    clock.advance(29)
    assert queue.receive() == []
    clock.advance(1)
    [again] = queue.receive()
    assert again.message_id == message_id and again.receive_count == 2
    assert again.receipt != first.receipt


def test_delete_and_stale_receipts(queue: MemoryQueue, clock: ManualClock) -> None:
    queue.send("x")
    [first] = queue.receive(visibility_timeout_s=5)
    clock.advance(5)
    [second] = queue.receive()
    queue.delete(first.receipt)  # stale: the message was delivered again since
    assert queue.approximate_count() == 1
    queue.delete(second.receipt)
    assert queue.approximate_count() == 0
    queue.delete(second.receipt)  # deleting twice is harmless


def test_extend_visibility(queue: MemoryQueue, clock: ManualClock) -> None:
    queue.send("long job")
    [m] = queue.receive(visibility_timeout_s=10)
    clock.advance(8)
    queue.extend_visibility(m.receipt, 60)
    clock.advance(30)
    assert queue.receive() == []
    clock.advance(31)
    assert queue.receive()[0].receive_count == 2


def test_after_max_receives_the_message_moves_to_the_dead_letter_queue(
    queue: MemoryQueue, clock: ManualClock
) -> None:
    message_id = queue.send("poison")
    for attempt in (1, 2, 3):
        [m] = queue.receive()
        assert m.receive_count == attempt
        clock.advance(31)
    assert queue.receive() == []  # the 4th receive dead-letters instead of delivering
    assert queue.approximate_count() == 0
    dlq = queue.dead_letters()
    [dead] = dlq.receive()
    assert (dead.body, dead.message_id, dead.receive_count) == ("poison", message_id, 1)
    with pytest.raises(LookupError):
        dlq.dead_letters()


def test_delay_and_order(queue: MemoryQueue, clock: ManualClock) -> None:
    queue.send("later", delay_s=10)
    queue.send("a")
    queue.send("b")
    assert [m.body for m in queue.receive(max_messages=10)] == ["a", "b"]
    clock.advance(10)
    assert [m.body for m in queue.receive(max_messages=10)] == ["later"]
    with pytest.raises(ValueError):
        queue.receive(max_messages=11)


def test_long_poll_wakes_on_send(queue: MemoryQueue) -> None:
    def send_soon() -> None:
        time.sleep(0.05)
        queue.send("woken")

    thread = threading.Thread(target=send_soon)
    started = time.monotonic()
    thread.start()
    received = queue.receive(wait_s=5)
    thread.join()
    assert [m.body for m in received] == ["woken"]
    assert time.monotonic() - started < 4  # did not wait out the poll


def test_long_poll_returns_empty_after_wait(queue: MemoryQueue) -> None:
    assert queue.receive(wait_s=0.05) == []


def test_racing_receivers_never_get_the_same_delivery(queue: MemoryQueue) -> None:
    for i in range(200):
        queue.send(str(i))
    got: list[str] = []
    lock = threading.Lock()

    def take() -> None:
        while batch := queue.receive(max_messages=3):
            with lock:
                got.extend(m.body for m in batch)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got, key=int) == [str(i) for i in range(200)]


def test_every_queue_name_has_its_own_queue_and_dlq(clock: ManualClock) -> None:
    queues = MemoryQueues(clock, {QueueName.REASSEMBLY: 3600})
    assert {queues[n].name for n in QueueName} == {n.value for n in QueueName}
    assert queues[QueueName.REASSEMBLY].visibility_timeout_s == 3600
    assert queues[QueueName.INGEST].max_receives == 5
    queues[QueueName.INGEST].send("x")
    assert queues[QueueName.DELETION].approximate_count() == 0
    assert queues[QueueName.INGEST].dead_letters() is not queues[QueueName.DELETION].dead_letters()
