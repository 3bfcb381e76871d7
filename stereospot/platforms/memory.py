"""The memory platform: every store, queue and the storage in process memory (tests).

Objects written to the storage are routed to the queues by the domain's routing table,
as the local platform and S3 notifications do. Nothing is shared between processes: the
secret key and scratch directories are per process, push is off unless a VAPID key is set.
"""

from __future__ import annotations

from collections.abc import Callable

from dependency_injector import providers

from stereospot.adapters.local.secret import process_secret
from stereospot.adapters.local.system import SystemClock, TempScratch
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
from stereospot.domain.ports import Clock, Queues
from stereospot.domain.services.object_events import notify_created
from stereospot.platforms.base import (
    PlatformProviders,
    configured_vapid_key,
    decode_own_messages,
)


def _queues(settings: Settings, clock: Clock) -> MemoryQueues:
    return MemoryQueues(
        clock, settings.queue_timeouts.by_queue(), max_receives=settings.max_receives
    )


def _object_events(queues: Queues) -> Callable[[str, int], None]:
    def on_created(key: str, size: int) -> None:
        notify_created(queues, key, size)

    return on_created


def _storage(clock: Clock, queues: Queues, secret: bytes) -> MemoryObjectStorage:
    return MemoryObjectStorage(clock, on_created=_object_events(queues), secret=secret)


class PlatformContainer(PlatformProviders):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    jobs = providers.Singleton(MemoryJobStore)
    completions = providers.Singleton(MemorySegmentCompletionStore)
    progress = providers.Singleton(MemorySegmentProgressStore)
    reassembly_lock = providers.Singleton(MemoryReassemblyLock)
    invocations = providers.Singleton(MemoryInvocationStore)
    push_subscriptions = providers.Singleton(MemoryPushSubscriptionStore)
    secret_key = providers.Singleton(process_secret, settings)
    queues = providers.Singleton(_queues, settings, clock)
    storage = providers.Singleton(_storage, clock, queues, secret_key)
    events = providers.Singleton(MemoryJobEvents)
    decoder = providers.Object(decode_own_messages)
    scratch = providers.Singleton(TempScratch)

    max_upload_bytes = providers.Callable(lambda s: s.max_upload_bytes, settings)
    storage_origins = providers.Object(())
    file_server = providers.Object(None)
    vapid_key = providers.Callable(configured_vapid_key, settings)
    data_location = providers.Object("process memory (gone when the process exits)")
    loopback_hosts = providers.Object(True)
    console_links = providers.Object(False)
    claims_dir: providers.Object[None] = providers.Object(None)
