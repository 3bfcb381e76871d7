"""The worker loop against real queues, with a scripted handler in place of the use cases.

Covers: delete after success, retry with backoff, dead-lettering on the last receive,
malformed bodies, the visibility heartbeat, round-robin over queues, stop and grace.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from uuid import UUID, uuid4

from stereospot.domain.errors import InvalidKey
from stereospot.domain.messages import Message, ReassemblyRequested, SegmentReady, parse_message
from stereospot.domain.ports import ProgressCallback, Queues, ReceivedMessage
from stereospot.domain.routing import QueueName
from stereospot.domain.services.dispatch import dead_letter_reason
from stereospot.entrypoints.workers.log_context import LOG_FORMAT, JobContextFilter
from stereospot.entrypoints.workers.loop import LoopOptions, Worker, one_line

VISIBILITY = {name: 30 for name in QueueName}


def decode(body: str) -> list[object]:
    return [parse_message(body)]


class ScriptedHandler:
    """Records calls; `behaviour(message)` may sleep or raise."""

    def __init__(self, behaviour: Callable[[Message], None] = lambda _m: None) -> None:
        self.behaviour = behaviour
        self.handled: list[tuple[QueueName, Message, str]] = []
        self.dead: list[tuple[Message, int]] = []

    def handle(
        self,
        queue: QueueName,
        message: Message,
        message_id: str,
        on_progress: ProgressCallback | None,
    ) -> None:
        self.handled.append((queue, message, message_id))
        logging.getLogger("test.handler").info("handling")
        self.behaviour(message)

    def dead_letter(self, message: Message, attempts: int) -> None:
        self.dead.append((message, attempts))


def segment(job: UUID | None = None, index: int = 1) -> SegmentReady:
    job = job or uuid4()
    return SegmentReady(
        job_id=job, segment_index=index, total_segments=3, key=f"segments/{job}/x.mp4"
    )


def make_worker(
    queues: Queues,
    handler: ScriptedHandler,
    names: tuple[QueueName, ...] = (QueueName.VIDEO_WORKER,),
    visibility: dict[QueueName, int] | None = None,
    grace_s: float = 5.0,
    on_abandon: Callable[[], None] = lambda: None,
) -> Worker:
    opts = LoopOptions(idle_wait_s=0.2, grace_s=grace_s, retry_base_s=1)
    return Worker(
        queues, names, visibility or VISIBILITY, decode, handler, opts, on_abandon=on_abandon
    )


def run_in_thread(worker: Worker) -> threading.Event:
    """Start worker.run() in a thread; the event is set when it returns."""
    finished = threading.Event()

    def run() -> None:
        worker.run()
        finished.set()

    threading.Thread(target=run, daemon=True).start()
    return finished


def test_a_handled_message_is_deleted_and_the_handler_sees_it(queues: Queues) -> None:
    queue = queues[QueueName.VIDEO_WORKER]
    message = segment()
    message_id = queue.send(message.to_body())
    handler = ScriptedHandler()

    assert make_worker(queues, handler).poll_once() is True

    assert handler.handled == [(QueueName.VIDEO_WORKER, message, message_id)]
    assert queue.approximate_count() == 0


@contextmanager
def captured_log() -> Iterator[io.StringIO]:
    """The root log as the workers write it (LOG_FORMAT, with the job context filter)."""
    stream = io.StringIO()
    log_handler = logging.StreamHandler(stream)
    log_handler.setFormatter(logging.Formatter(LOG_FORMAT))
    log_handler.addFilter(JobContextFilter())
    root = logging.getLogger()
    root.addHandler(log_handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(log_handler)
        root.setLevel(old_level)


def test_log_lines_carry_the_job_and_segment(queues: Queues) -> None:
    message = segment(index=2)
    with captured_log() as stream:
        queues[QueueName.VIDEO_WORKER].send(message.to_body())
        make_worker(queues, ScriptedHandler()).poll_once()
    handler_lines = [line for line in stream.getvalue().splitlines() if "test.handler" in line]
    assert handler_lines, stream.getvalue()
    assert all(f"[job={message.job_id} seg=2]" in line for line in handler_lines)


def test_a_failure_is_retried_after_a_short_backoff(queues: Queues) -> None:
    queue = queues[QueueName.VIDEO_WORKER]
    queue.send(segment().to_body())
    attempts: list[float] = []

    def fail_once(_message: Message) -> None:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise RuntimeError("transient")

    handler = ScriptedHandler(fail_once)
    worker = make_worker(queues, handler)
    worker.poll_once()
    assert queue.approximate_count() == 1  # left to reappear
    deadline = time.monotonic() + 10
    while len(attempts) < 2 and time.monotonic() < deadline:
        worker.poll_once()
    assert len(attempts) == 2
    # retry_base_s=1: visible again after about a second, not the 30 s visibility timeout
    assert attempts[1] - attempts[0] < 5
    assert queue.approximate_count() == 0
    assert handler.dead == []


def test_the_last_failure_dead_letters_the_message_and_reports_it(queues: Queues) -> None:
    queue = queues[QueueName.VIDEO_WORKER]
    message = segment()
    queue.send(message.to_body())

    def always_fail(_message: Message) -> None:
        raise RuntimeError("the engine crashed\n  at frame 12")

    handler = ScriptedHandler(always_fail)
    worker = make_worker(queues, handler)
    deadline = time.monotonic() + 20
    with captured_log() as stream:
        while queue.approximate_count() and time.monotonic() < deadline:
            worker.poll_once()

    assert len(handler.handled) == 3  # max_receives
    # The handler (dispatch) is told how many attempts were made, never the exception's
    # text: the job's reason is a sentence about the step.
    assert handler.dead == [(message, 3)]
    assert dead_letter_reason(message, 3) == (
        "Processing stopped after repeated errors while converting segment 2 of 3 (3 attempts)."
    )
    # The detail is in the log, on the line that carries the job and the segment.
    [last] = [ln for ln in stream.getvalue().splitlines() if "last attempt" in ln]
    assert f"[job={message.job_id} seg=1]" in last
    assert "RuntimeError: the engine crashed at frame 12" in last
    assert "Traceback" in stream.getvalue()
    dead = queue.dead_letters().receive(1, 1.0)
    assert [parse_message(d.body) for d in dead] == [message]


def test_a_message_that_can_never_succeed_is_dead_lettered_without_retries(
    queues: Queues,
) -> None:
    queue = queues[QueueName.VIDEO_WORKER]
    message = segment()
    queue.send(message.to_body())

    def bad_key(_message: Message) -> None:
        raise InvalidKey("no key pattern accepts 'segments/x'")

    handler = ScriptedHandler(bad_key)
    with captured_log() as stream:
        make_worker(queues, handler).poll_once()

    assert len(handler.handled) == 1  # not retried
    assert handler.dead == [(message, 1)]
    assert queue.approximate_count() == 0
    dead = queue.dead_letters().receive(1, 1.0)
    assert [parse_message(d.body) for d in dead] == [message]
    assert "InvalidKey: no key pattern accepts" in stream.getvalue()


def test_a_malformed_body_goes_straight_to_the_dead_letter_queue(queues: Queues) -> None:
    queue = queues[QueueName.VIDEO_WORKER]
    queue.send('{"type": "nonsense"}')
    handler = ScriptedHandler()

    make_worker(queues, handler).poll_once()

    assert handler.handled == []
    assert queue.approximate_count() == 0
    assert [d.body for d in queue.dead_letters().receive(1, 1.0)] == ['{"type": "nonsense"}']


def test_a_malformed_body_on_a_queue_without_a_dlq_is_dropped(queues: Queues) -> None:
    dlq = queues[QueueName.VIDEO_WORKER].dead_letters()  # a DLQ has no DLQ of its own
    dlq.send("not json")
    only_dlq = {QueueName.VIDEO_WORKER: dlq}
    names = (QueueName.VIDEO_WORKER,)
    worker = Worker(only_dlq, names, VISIBILITY, decode, ScriptedHandler())

    assert worker.poll_once() is True
    assert dlq.approximate_count() == 0


def test_a_queue_error_does_not_kill_the_worker(queues: Queues) -> None:
    real = queues[QueueName.CHUNKING]
    real.send(ReassemblyRequested(job_id=uuid4()).to_body())
    failures = [RuntimeError("database is locked")]

    class Flaky:
        name, max_receives = real.name, real.max_receives

        def __getattr__(self, attr: str) -> object:
            return getattr(real, attr)

        def receive(self, *args: object) -> list[ReceivedMessage]:
            if failures:
                raise failures.pop()
            return real.receive(*args)  # type: ignore[arg-type]

    handler = ScriptedHandler(lambda _m: worker.stop.request())
    options = LoopOptions(idle_wait_s=0.1)
    worker = Worker(
        {QueueName.CHUNKING: Flaky()},  # type: ignore[dict-item]
        (QueueName.CHUNKING,),
        VISIBILITY,
        decode,
        handler,
        options,
    )
    finished = run_in_thread(worker)

    assert finished.wait(10)
    assert len(handler.handled) == 1  # handled after the failed poll, then stopped


def test_the_heartbeat_keeps_a_long_message_invisible(queues: Queues) -> None:
    queue = queues[QueueName.VIDEO_WORKER]
    queue.send(segment().to_body())
    seen_by_other: list[int] = []

    def slow(_message: Message) -> None:
        # Visibility is 1 s; without the heartbeat another consumer would get it now.
        for _ in range(3):
            time.sleep(0.8)
            seen_by_other.append(len(queue.receive(1, 0.0)))

    handler = ScriptedHandler(slow)
    make_worker(queues, handler, visibility={QueueName.VIDEO_WORKER: 1}).poll_once()

    assert seen_by_other == [0, 0, 0]
    assert queue.approximate_count() == 0


def test_several_queues_are_served_in_turn(queues: Queues) -> None:
    video, events = queues[QueueName.VIDEO_WORKER], queues[QueueName.OUTPUT_EVENTS]
    for i in range(2):
        video.send(segment(index=i).to_body())
        events.send(ReassemblyRequested(job_id=uuid4()).to_body())
    handler = ScriptedHandler()
    worker = make_worker(queues, handler, names=(QueueName.VIDEO_WORKER, QueueName.OUTPUT_EVENTS))

    for _ in range(4):
        assert worker.poll_once()

    order = [queue for queue, _m, _id in handler.handled]
    assert order == [QueueName.VIDEO_WORKER, QueueName.OUTPUT_EVENTS] * 2


def test_stop_lets_the_current_message_finish(queues: Queues) -> None:
    queue = queues[QueueName.VIDEO_WORKER]
    queue.send(segment().to_body())
    queue.send(segment().to_body())
    worker: Worker

    def stop_midway(_message: Message) -> None:
        worker.stop.request()
        time.sleep(0.5)

    handler = ScriptedHandler(stop_midway)
    worker = make_worker(queues, handler)
    worker.run()  # returns once the first message is done

    assert len(handler.handled) == 1
    assert queue.approximate_count() == 1  # the second was never taken


def test_a_message_that_outlives_the_grace_period_is_released(queues: Queues) -> None:
    queue = queues[QueueName.VIDEO_WORKER]
    message = segment()
    queue.send(message.to_body())
    abandoned = threading.Event()
    again: list[ReceivedMessage] = []
    worker: Worker

    def on_abandon() -> None:
        # A real worker exits here; the test looks at the queue at that moment instead.
        again.extend(queue.receive(1, 1.0))  # released: visible now, not in 30 s
        abandoned.set()

    def too_slow(_message: Message) -> None:
        worker.stop.request()
        abandoned.wait(10)

    handler = ScriptedHandler(too_slow)
    worker = make_worker(queues, handler, grace_s=0.5, on_abandon=on_abandon)
    started = time.monotonic()
    worker.poll_once()

    assert abandoned.is_set()
    assert time.monotonic() - started < 5
    assert [parse_message(d.body) for d in again] == [message]
    assert again[0].receive_count == 2


def test_a_second_stop_request_releases_the_message_at_once(queues: Queues) -> None:
    queue = queues[QueueName.VIDEO_WORKER]
    queue.send(segment().to_body())
    abandoned = threading.Event()
    worker: Worker

    def stopped_twice(_message: Message) -> None:
        worker.stop.request()
        worker.stop.request()  # e.g. Ctrl-C pressed again
        abandoned.wait(10)

    worker = make_worker(
        queues, ScriptedHandler(stopped_twice), grace_s=60, on_abandon=abandoned.set
    )
    started = time.monotonic()
    worker.poll_once()

    assert abandoned.is_set()
    assert time.monotonic() - started < 5  # not the 60 s grace period


def test_a_worker_whose_parent_is_gone_stops(queues: Queues) -> None:
    options = LoopOptions(idle_wait_s=0.1, parent_pid=os.getppid() + 1_000_000)
    worker = Worker(queues, (QueueName.CHUNKING,), VISIBILITY, decode, ScriptedHandler(), options)
    finished = run_in_thread(worker)
    assert finished.wait(5)


def test_the_logged_detail_is_one_line_with_the_exception_type() -> None:
    assert one_line(RuntimeError("disk\nfull.")) == "RuntimeError: disk full."
    assert one_line(ValueError()) == "ValueError"
