"""One job-event feed per web process, broadcast to every open SSE stream.

The feed reads the platform's JobEvents (local: the SQLite change log; AWS: this task's
own queue of the job-events topic) in ONE loop per process and hands each event to every
subscriber, so an open page costs no store reads until something about its job happens.
Where the platform has no event source, the same loop becomes the process's only poller:
it compares the running jobs (status, version, frames) once per tick and emits an event
for each job that changed, or left the running list.

Subscribers are asyncio queues; the loop runs as a task on the app's event loop and does
its blocking reads in worker threads. It starts with the first subscriber and stops when
the last one leaves, so a process with no open page reads nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from uuid import UUID

from stereospot.domain.ports import JobEvent, JobEvents
from stereospot.domain.services.roles import Polling

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 1000  # events a slow stream may lag behind before it is told to resync


@dataclass(eq=False)
class Subscription:
    """One SSE stream's inbox. `job_id` None: every job (the dashboard)."""

    job_id: UUID | None
    queue: asyncio.Queue[JobEvent | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_LIMIT)
    )

    def wants(self, event: JobEvent) -> bool:
        return self.job_id is None or event.job_id == self.job_id

    def offer(self, event: JobEvent | None) -> None:
        # A lagging stream loses nothing by a drop: it re-reads its whole state anyway.
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(event)

    async def next(self, timeout_s: float) -> bool:
        """Wait up to timeout_s for news; True if there was some. Every queued event is
        taken at once (a burst of progress reports costs the stream one read)."""
        try:
            await asyncio.wait_for(self.queue.get(), timeout_s)
        except TimeoutError:
            return False
        while not self.queue.empty():
            self.queue.get_nowait()
        return True


class JobPoller:
    """The feed's source where the platform has none: the running jobs, read once per
    tick for the whole process, turned into events for the jobs that changed."""

    def __init__(self, deps: Polling) -> None:
        self._deps = deps
        self._last: dict[UUID, tuple[object, ...]] = {}

    def poll(self) -> list[JobEvent]:
        current: dict[UUID, tuple[object, ...]] = {}
        statuses: dict[UUID, str] = {}
        for job in self._deps.jobs.list_in_progress():
            frames = tuple(r.frames_done for r in self._deps.progress.list(job.id))
            current[job.id] = (job.status, job.version, frames)
            statuses[job.id] = job.status.value
        events = [
            JobEvent(job_id=job_id, status=statuses[job_id])
            for job_id, state in current.items()
            if self._last.get(job_id) != state
        ]
        for job_id in self._last.keys() - current.keys():  # finished, failed or removed
            gone = self._deps.jobs.get(job_id)
            status = gone.status.value if gone is not None else "gone"
            events.append(JobEvent(job_id=job_id, status=status))
        self._last = current
        return events


class EventFeed:
    """read: one batch of new events (blocking; run in a thread). Either the platform's
    JobEvents (`from_events`) or a JobPoller (`polling`)."""

    def __init__(
        self,
        read: Callable[[], list[JobEvent]],
        interval_s: float,
        prime: Callable[[], object] | None = None,
    ) -> None:
        self._read = read
        # Sets the starting point: what happened before the first subscriber is not news.
        self._prime = prime or (lambda: None)
        self._interval_s = interval_s
        self._subscribers: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0  # events handed out (tests and logs)

    @classmethod
    def from_events(cls, events: JobEvents, interval_s: float = 0.25) -> EventFeed:
        cursor: list[str | None] = [None]

        def read() -> list[JobEvent]:
            batch, cursor[0] = events.read_after(cursor[0], limit=500)
            return batch

        return cls(read, interval_s, prime=read)

    @classmethod
    def polling(cls, deps: Polling, interval_s: float = 1.0) -> EventFeed:
        poller = JobPoller(deps)
        return cls(poller.poll, interval_s, prime=poller.poll)

    @contextlib.asynccontextmanager
    async def subscribe(self, job_id: UUID | None) -> AsyncIterator[Subscription]:
        subscription = Subscription(job_id)
        await self._ensure_running()
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)
            if not self._subscribers and self._task is not None:
                self._task.cancel()
                self._task = None

    async def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            # Read up to now before the stream sends its first state, so no event that
            # comes after that state is missed and none before it is replayed.
            await asyncio.to_thread(self._prime)
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                batch = await asyncio.to_thread(self._read)
            except Exception:
                logger.exception("could not read job events; retrying")
                batch = []
            for event in batch:
                for subscription in list(self._subscribers):
                    if subscription.wants(event):
                        subscription.offer(event)
                        self.delivered += 1
            if not batch:
                await asyncio.sleep(self._interval_s)
