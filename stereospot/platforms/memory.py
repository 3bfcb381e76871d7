"""The memory platform: every store, queue and the storage in process memory (tests).

Objects written to the storage are routed to the queues by the domain's routing table,
as the local platform and S3 notifications do.
"""

from __future__ import annotations

from collections.abc import Callable

from dependency_injector import containers, providers

from stereospot.adapters.local.system import SystemClock
from stereospot.adapters.memory.completions import MemorySegmentCompletionStore
from stereospot.adapters.memory.events import MemoryJobEvents
from stereospot.adapters.memory.invocations import MemoryInvocationStore
from stereospot.adapters.memory.jobs import MemoryJobStore
from stereospot.adapters.memory.progress import MemorySegmentProgressStore
from stereospot.adapters.memory.push import MemoryPushSubscriptionStore
from stereospot.adapters.memory.queues import MemoryQueues
from stereospot.adapters.memory.reassembly import MemoryReassemblyLock
from stereospot.adapters.memory.storage import MemoryObjectStorage
from stereospot.config import Settings
from stereospot.domain.messages import parse_message
from stereospot.domain.ports import Clock, Queues
from stereospot.domain.services.object_events import notify_created


def decode(body: str) -> list[object]:
    """MessageDecoder for platforms whose queues carry our own message bodies."""
    return [parse_message(body)]


def _queues(settings: Settings, clock: Clock) -> MemoryQueues:
    return MemoryQueues(
        clock, settings.queue_timeouts.by_queue(), max_receives=settings.max_receives
    )


def _object_events(queues: Queues) -> Callable[[str, int], None]:
    def on_created(key: str, size: int) -> None:
        notify_created(queues, key, size)

    return on_created


def _storage(settings: Settings, clock: Clock, queues: Queues) -> MemoryObjectStorage:
    secret = settings.secret_key.get_secret_value().encode() if settings.secret_key else None
    return MemoryObjectStorage(clock, on_created=_object_events(queues), secret=secret)


class PlatformContainer(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    jobs = providers.Singleton(MemoryJobStore)
    completions = providers.Singleton(MemorySegmentCompletionStore)
    progress = providers.Singleton(MemorySegmentProgressStore)
    reassembly_lock = providers.Singleton(MemoryReassemblyLock)
    invocations = providers.Singleton(MemoryInvocationStore)
    queues = providers.Singleton(_queues, settings, clock)
    storage = providers.Singleton(_storage, settings, clock, queues)
    events = providers.Singleton(MemoryJobEvents)
    push_subscriptions = providers.Singleton(MemoryPushSubscriptionStore)
    decoder = providers.Object(decode)
