"""Queue contract (SQS semantics): visibility, redelivery, receipts, receive counts, DLQ,
long polling.

Redelivery is made immediate with a visibility timeout of 0 where the test is not about
time; tests about time use 1-second timeouts and `clock.advance` (a sleep on real time).
"""

from __future__ import annotations

import threading
import time

import pytest
from platforms import QUEUE_MAX_RECEIVES, ContractClock

from stereospot.domain.ports import Queue, ReceivedMessage


def receive_all(
    queue: Queue, expected: int, visibility_timeout_s: int = 30
) -> list[ReceivedMessage]:
    """Receive until `expected` messages came (a real queue may return fewer per call)."""
    received: list[ReceivedMessage] = []
    for _ in range(20):
        if len(received) >= expected:
            break
        received += queue.receive(
            max_messages=10, wait_s=0.2, visibility_timeout_s=visibility_timeout_s
        )
    return received


def test_send_then_receive(queue: Queue) -> None:
    message_id = queue.send('{"hello": "world"}')
    [message] = queue.receive(wait_s=1)
    assert message.message_id == message_id
    assert message.body == '{"hello": "world"}'
    assert message.receive_count == 1
    assert message.receipt


def test_receive_on_an_empty_queue_returns_nothing(queue: Queue) -> None:
    assert queue.receive() == []
    assert queue.approximate_count() == 0


def test_a_received_message_is_invisible_until_its_timeout(
    queue: Queue, clock: ContractClock
) -> None:
    queue.send("body")
    [first] = queue.receive(visibility_timeout_s=1)
    assert queue.receive() == []
    assert queue.approximate_count() == 1  # in flight still counts
    clock.advance(1.5)
    [again] = queue.receive(wait_s=1)
    assert again.message_id == first.message_id and again.body == "body"
    assert again.receive_count == 2
    assert again.receipt != first.receipt


def test_the_queue_default_visibility_applies(queue: Queue, clock: ContractClock) -> None:
    queue.send("body")
    assert len(queue.receive()) == 1  # the fixture's queue hides for 30 s
    clock.advance(1.5)
    assert queue.receive() == []


def test_delete_removes_the_message(queue: Queue, clock: ContractClock) -> None:
    queue.send("done soon")
    [message] = queue.receive(visibility_timeout_s=1)
    queue.delete(message.receipt)
    assert queue.approximate_count() == 0
    clock.advance(1.5)
    assert queue.receive() == []


def test_a_stale_receipt_never_raises(queue: Queue) -> None:
    # What workers rely on: a late delete after a redelivery is harmless. SQS documents
    # that such a delete "succeeds, but the message might not be deleted", so whether
    # the newer delivery survives is not part of the cross-platform contract.
    queue.send("redelivered")
    [first] = queue.receive(visibility_timeout_s=0)
    [second] = queue.receive(wait_s=1, visibility_timeout_s=30)
    assert second.message_id == first.message_id
    queue.delete(first.receipt)
    queue.delete(second.receipt)
    assert queue.approximate_count() == 0
    assert queue.receive() == []


@pytest.mark.platforms("memory", "local")
def test_a_stale_receipt_deletes_nothing(queue: Queue) -> None:
    queue.send("redelivered")
    [first] = queue.receive(visibility_timeout_s=0)
    [second] = queue.receive(wait_s=1, visibility_timeout_s=30)
    assert second.message_id == first.message_id
    queue.delete(first.receipt)  # the first delivery's worker finishes late
    assert queue.approximate_count() == 1
    queue.delete(second.receipt)
    assert queue.approximate_count() == 0


def test_extend_visibility_keeps_a_message_hidden(queue: Queue, clock: ContractClock) -> None:
    queue.send("long job")
    [message] = queue.receive(visibility_timeout_s=1)
    queue.extend_visibility(message.receipt, 30)
    clock.advance(1.5)
    assert queue.receive() == []
    queue.extend_visibility(message.receipt, 0)  # give it back now
    [again] = queue.receive(wait_s=1)
    assert again.message_id == message.message_id and again.receive_count == 2


def test_every_delivery_counts(queue: Queue) -> None:
    queue.send("again and again")
    counts = [queue.receive(wait_s=1, visibility_timeout_s=0)[0].receive_count for _ in range(3)]
    assert counts == [1, 2, 3]


def test_a_message_received_too_often_goes_to_the_dead_letter_queue(
    queue: Queue, dlq: Queue
) -> None:
    assert queue.max_receives == QUEUE_MAX_RECEIVES
    queue.send("poison")
    queue.send("healthy")
    poison_deliveries = 0
    for _ in range(QUEUE_MAX_RECEIVES + 3):
        for message in queue.receive(max_messages=10, wait_s=0.2, visibility_timeout_s=0):
            if message.body == "poison":
                poison_deliveries += 1
                assert message.receive_count <= QUEUE_MAX_RECEIVES
            else:
                queue.delete(message.receipt)
    assert poison_deliveries == QUEUE_MAX_RECEIVES
    assert queue.approximate_count() == 0
    [dead] = receive_all(dlq, expected=1)
    assert dead.body == "poison"
    assert dlq.approximate_count() == 1


def test_a_batch_receive_gives_distinct_messages(queue: Queue) -> None:
    sent = {queue.send(f"message {i}") for i in range(5)}
    first = queue.receive(max_messages=3, wait_s=1)
    assert 1 <= len(first) <= 3
    received = first + receive_all(queue, expected=5 - len(first))
    assert len(received) == 5
    assert {m.message_id for m in received} == sent
    assert {m.body for m in received} == {f"message {i}" for i in range(5)}


def test_racing_receivers_get_one_message_once(queue: Queue) -> None:
    queue.send("only one")
    racers = 4
    start = threading.Barrier(racers)
    got: list[ReceivedMessage] = []

    def race() -> None:
        start.wait()
        got.extend(queue.receive(wait_s=0.5))

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [m.body for m in got] == ["only one"]


def test_a_delayed_message_appears_after_its_delay(queue: Queue, clock: ContractClock) -> None:
    queue.send("later", delay_s=1)
    assert queue.receive() == []
    clock.advance(1.5)
    [message] = queue.receive(wait_s=1)
    assert message.body == "later"


def test_a_long_poll_returns_as_soon_as_a_message_arrives(queue: Queue) -> None:
    sender = threading.Timer(0.3, queue.send, args=("arrived",))
    started = time.monotonic()
    sender.start()
    try:
        messages = queue.receive(wait_s=10)
    finally:
        sender.join()
    waited = time.monotonic() - started
    assert [m.body for m in messages] == ["arrived"]
    assert waited < 8, f"the long poll waited {waited:.1f} s for a message sent after 0.3 s"


def test_a_long_poll_on_an_empty_queue_waits(queue: Queue) -> None:
    started = time.monotonic()
    assert queue.receive(wait_s=1) == []
    assert time.monotonic() - started >= 0.8
