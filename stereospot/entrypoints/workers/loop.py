"""The generic worker loop: receive -> decode -> handle through the use case -> delete.

Semantics (the same on every platform):
- Several queues are polled round-robin: a quick look at each, then, when all were empty,
  a long poll on the next one for idle_wait_s / (number of queues), so a message on any
  queue waits at most about idle_wait_s while the worker is idle.
- A handler that raises leaves the message to reappear. It is made visible again after a
  short backoff (doubling per receive, capped by the queue's visibility timeout) rather
  than after the whole timeout, so a passing fault costs seconds, not an hour.
- On the last allowed receive (receive_count >= queue.max_receives) a failure calls the
  dead-letter handler (which fails the job with the reason) and makes the message visible
  at once, so the queue moves it to its dead-letter queue on the next receive.
- A body the decoder cannot read (MalformedMessage) can never succeed: it is sent straight
  to the dead-letter queue, kept for inspection, and deleted from the work queue. So is a
  message whose handler raises one of PERMANENT (a malformed message, key or job id: the
  same body fails the same way every time), after its job is failed.
- Errors a person caused (MediaError, FetchError) never reach the loop: the use cases fail
  the job with their sentence at once. Everything else (storage, queue and inference
  outages, OSError, bugs) is taken as passing and retried.
- The job's failure reason is a sentence without the exception's text ("Processing stopped
  after repeated errors while converting segment 2 of 3 (3 attempts)."); the exception
  and its traceback go to the log, on a line carrying the job and segment.
- While a message is handled a heartbeat extends its visibility. After a stop request the
  loop takes no new message; the current one may finish within the grace period, else it
  is released (visibility 0) and the process exits (see heartbeat.py).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, cast
from uuid import UUID

from stereospot.domain import keys
from stereospot.domain.errors import InvalidJobId, InvalidKey, MalformedMessage
from stereospot.domain.messages import (
    DeletionRequested,
    IngestRequested,
    Message,
    ObjectCreated,
    ReassemblyRequested,
    SegmentReady,
)
from stereospot.domain.ports import (
    MessageDecoder,
    ProgressCallback,
    Queue,
    Queues,
    ReceivedMessage,
)
from stereospot.domain.routing import QueueName
from stereospot.entrypoints.workers.claims import Claims
from stereospot.entrypoints.workers.heartbeat import Heartbeat, StopSignal
from stereospot.entrypoints.workers.log_context import job_context

logger = logging.getLogger(__name__)

_POLL_ERROR_PAUSE_S = 2.0
# Raised by a handler, these mean the message itself is wrong: no retry can succeed.
PERMANENT: tuple[type[Exception], ...] = (MalformedMessage, InvalidKey, InvalidJobId)


class MessageHandler(Protocol):
    """What the loop calls; the real one routes to the use cases (handlers.py)."""

    def handle(
        self,
        queue: QueueName,
        message: Message,
        message_id: str,
        on_progress: ProgressCallback | None,
    ) -> None: ...

    def dead_letter(self, message: Message, attempts: int) -> None: ...


@dataclass(frozen=True)
class LoopOptions:
    idle_wait_s: float = 1.0  # the longest a new message waits while the worker is idle
    grace_s: float = 25.0  # after a stop request, how long the current message may run
    retry_base_s: int = 2  # first retry delay after a failure; doubles per receive
    parent_pid: int | None = None  # stop when this process is no longer our parent


@dataclass(frozen=True)
class _Binding:
    name: QueueName
    queue: Queue
    visibility_s: int


def exit_process() -> None:
    """Default abandon action: flush the logs and leave at once with status 0."""
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)


class Worker:
    def __init__(
        self,
        queues: Queues,
        queue_names: Sequence[QueueName],
        visibility_s: Mapping[QueueName, int],
        decoder: MessageDecoder,
        handler: MessageHandler,
        options: LoopOptions = LoopOptions(),
        *,
        stop: StopSignal | None = None,
        on_abandon: Callable[[], None] = exit_process,
        claims: Claims | None = None,
    ) -> None:
        if not queue_names:
            raise ValueError("a worker needs at least one queue")
        self._bindings = [_Binding(n, queues[n], visibility_s[n]) for n in queue_names]
        self._decoder = decoder
        self._handler = handler
        self._options = options
        self.stop = stop or StopSignal()
        self._on_abandon = on_abandon
        self._claims = claims
        self._next = 0

    # ------------------------------------------------------------------ driving

    def run(self) -> None:
        """Handle messages until a stop is requested."""
        names = ", ".join(b.name.value for b in self._bindings)
        logger.info("worker started on %s (pid %d)", names, os.getpid())
        while not self.stop.requested:
            if self._orphaned():
                logger.warning("parent process is gone; stopping")
                break
            try:
                self.poll_once()
            except Exception:  # the queue or store is unreachable: wait, then try again
                logger.exception("polling failed; retrying in %.0f s", _POLL_ERROR_PAUSE_S)
                self.stop.wait(_POLL_ERROR_PAUSE_S)
        logger.info("worker stopped")

    def poll_once(self) -> bool:
        """Receive and handle at most one message. True if one was handled."""
        received = self._receive()
        if received is None:
            return False
        binding, delivery = received
        if self.stop.requested:  # received just as we were told to stop: give it back
            binding.queue.extend_visibility(delivery.receipt, 0)
            return False
        self._handle_delivery(binding, delivery)
        return True

    def _receive(self) -> tuple[_Binding, ReceivedMessage] | None:
        count = len(self._bindings)
        if count > 1:
            for offset in range(count):
                binding = self._bindings[(self._next + offset) % count]
                got = binding.queue.receive(1, 0.0, binding.visibility_s)
                if got:
                    self._next = (self._next + offset + 1) % count
                    return binding, got[0]
        binding = self._bindings[self._next]
        self._next = (self._next + 1) % count
        wait_s = self._options.idle_wait_s / count
        got = binding.queue.receive(1, wait_s, binding.visibility_s)
        return (binding, got[0]) if got else None

    def _orphaned(self) -> bool:
        parent = self._options.parent_pid
        return parent is not None and os.getppid() != parent

    # ------------------------------------------------------------------ one delivery

    def _handle_delivery(self, binding: _Binding, delivery: ReceivedMessage) -> None:
        queue = binding.queue
        try:
            messages = cast(list[Message], self._decoder(delivery.body))
        except MalformedMessage as exc:
            logger.error(
                "%s: message %s cannot be read (%s); moved to the dead-letter queue",
                binding.name.value,
                delivery.message_id,
                exc,
            )
            _move_to_dead_letters(queue, delivery)
            return

        heartbeat = Heartbeat(
            queue,
            delivery.receipt,
            binding.visibility_s,
            self.stop,
            self._options.grace_s,
            self._on_abandon,
        )
        failure: tuple[Message, Exception] | None = None
        claims = self._claims
        if claims is not None:  # if this process dies now, its message is released
            _try(lambda: claims.hold(binding.name, delivery.receipt))
        try:
            with heartbeat:
                for message in messages:
                    with job_context(*describe(message)):
                        error = self._handle_one(binding, delivery, message)
                    if error is not None:
                        failure = (message, error)
                        break
        finally:
            if claims is not None:
                _try(claims.clear)
        # The heartbeat has stopped: it can no longer undo the retry delay set here.
        if failure is None:
            queue.delete(delivery.receipt)
            return
        message, error = failure
        with job_context(*describe(message)):
            self._on_failure(binding, delivery, message, error)

    def _handle_one(
        self, binding: _Binding, delivery: ReceivedMessage, message: Message
    ) -> Exception | None:
        """Handle one message; the exception it raised, or None on success."""
        started = time.monotonic()
        segment_index = describe(message)[1]
        try:
            self._handler.handle(
                binding.name,
                message,
                delivery.message_id,
                _progress_logger() if segment_index is not None else None,
            )
        except Exception as exc:
            return exc
        logger.info(
            "%s: handled %s in %.2f s",
            binding.name.value,
            message.type,
            time.monotonic() - started,
        )
        return None

    def _on_failure(
        self, binding: _Binding, delivery: ReceivedMessage, message: Message, exc: Exception
    ) -> None:
        queue = binding.queue
        attempt, allowed = delivery.receive_count, queue.max_receives
        if isinstance(exc, PERMANENT):
            logger.error(
                "%s: %s cannot succeed (%s); failing its job and dead-lettering it",
                binding.name.value,
                message.type,
                one_line(exc),
                exc_info=exc,
            )
            _try(lambda: self._handler.dead_letter(message, attempt))
            _try(lambda: _move_to_dead_letters(queue, delivery))
            return
        if attempt < allowed:
            delay = min(binding.visibility_s, self._options.retry_base_s * 2 ** (attempt - 1))
            logger.error(
                "%s: %s failed (attempt %d of %d); retrying in %d s",
                binding.name.value,
                message.type,
                attempt,
                allowed,
                delay,
                exc_info=exc,
            )
            _try(lambda: queue.extend_visibility(delivery.receipt, delay))
            return
        logger.error(
            "%s: %s failed on its last attempt (%d of %d); dead-lettering it: %s",
            binding.name.value,
            message.type,
            attempt,
            allowed,
            one_line(exc),
            exc_info=exc,
        )
        _try(lambda: self._handler.dead_letter(message, attempt))
        _try(lambda: queue.extend_visibility(delivery.receipt, 0))


# ---------------------------------------------------------------------- helpers


def describe(message: Message) -> tuple[UUID | None, int | None]:
    """The job id and segment index a message is about, for log lines."""
    if isinstance(message, SegmentReady):
        return message.job_id, message.segment_index
    if isinstance(message, ReassemblyRequested | DeletionRequested | IngestRequested):
        return message.job_id, None
    if isinstance(message, ObjectCreated):
        try:
            parsed = keys.parse_key(message.key)
        except InvalidKey:
            return None, None
        index = getattr(parsed, "index", None)
        return parsed.job_id, index if isinstance(index, int) else None
    return None, None


def one_line(exc: BaseException) -> str:
    """The exception's type and text on one line, for the log (never for the user)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _move_to_dead_letters(queue: Queue, delivery: ReceivedMessage) -> None:
    try:
        queue.dead_letters().send(delivery.body)
    except LookupError:  # a queue without a DLQ: the log line is all that is kept
        logger.error("%s has no dead-letter queue; dropped the message", queue.name)
    queue.delete(delivery.receipt)


def _try(action: Callable[[], object]) -> None:
    try:
        action()
    except Exception:
        logger.exception("cleanup after a failed message failed too")


def _progress_logger(every_s: float = 10.0) -> ProgressCallback:
    """Logs conversion progress at most every `every_s` seconds, and at the end."""
    last = [time.monotonic()]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= every_s:
            last[0] = now
            logger.info("converted %d of %d frames", done, total)

    return report
