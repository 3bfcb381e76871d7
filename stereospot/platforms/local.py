"""The local platform (the embedded default): SQLite and the filesystem under one data dir.

    <data_dir>/
      stereospot.db     jobs, segment completions, reassembly locks, invocations, push
                        subscriptions, the job event log, and every queue (SQLite, WAL)
      objects/          object storage: objects/<key>, e.g. objects/jobs/<job>/final.mp4
      tmp/              scratch directories of the workers
      secret_key        signs URLs and CSRF tokens (0600), unless STEREOSPOT_SECRET_KEY is set

Several processes (web app, workers) share one data directory: SQLite serialises their
writes, object writes are atomic renames, and object-created events go through the queues.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dependency_injector import containers, providers

from stereospot.adapters.local.completions import SqliteSegmentCompletionStore
from stereospot.adapters.local.events import SqliteJobEvents
from stereospot.adapters.local.invocations import SqliteInvocationStore
from stereospot.adapters.local.jobs import SqliteJobStore
from stereospot.adapters.local.object_events import ObjectEventRouter
from stereospot.adapters.local.progress import SqliteSegmentProgressStore
from stereospot.adapters.local.push import SqlitePushSubscriptionStore
from stereospot.adapters.local.queues import SqliteQueues
from stereospot.adapters.local.reassembly import SqliteReassemblyLock
from stereospot.adapters.local.secret import secret_key
from stereospot.adapters.local.signing import UrlSigner
from stereospot.adapters.local.sqlite import Database
from stereospot.adapters.local.storage import FilesystemObjectStorage
from stereospot.config import Settings

# One convention for both in-process platforms: queue bodies are our own messages, and
# visibility timeouts come from the same settings.
from stereospot.platforms.memory import decode


@dataclass(frozen=True)
class DataLayout:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "stereospot.db"

    @property
    def objects(self) -> Path:
        return self.root / "objects"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @classmethod
    def create(cls, settings: Settings) -> DataLayout:
        layout = cls(settings.resolved_data_dir())
        for directory in (layout.root, layout.objects, layout.tmp):
            directory.mkdir(parents=True, exist_ok=True)
        return layout


def _database(layout: DataLayout) -> Database:
    return Database(layout.database)


def _url_signer(settings: Settings, layout: DataLayout) -> UrlSigner:
    # The layout is a dependency so the data directory exists before the key is kept there.
    return UrlSigner(secret_key(settings), settings.public_url)


def _queues(settings: Settings, database: Database) -> SqliteQueues:
    return SqliteQueues(
        database, settings.queue_timeouts.by_queue(), max_receives=settings.max_receives
    )


def _storage(
    layout: DataLayout, signer: UrlSigner, queues: SqliteQueues
) -> FilesystemObjectStorage:
    return FilesystemObjectStorage(
        layout.objects, signer, on_created=ObjectEventRouter(queues).on_created
    )


class PlatformContainer(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    layout = providers.Singleton(DataLayout.create, settings)
    database = providers.Singleton(_database, layout)
    url_signer = providers.Singleton(_url_signer, settings, layout)

    jobs = providers.Singleton(SqliteJobStore, database)
    completions = providers.Singleton(SqliteSegmentCompletionStore, database)
    progress = providers.Singleton(SqliteSegmentProgressStore, database)
    reassembly_lock = providers.Singleton(SqliteReassemblyLock, database)
    invocations = providers.Singleton(SqliteInvocationStore, database)
    push_subscriptions = providers.Singleton(SqlitePushSubscriptionStore, database)
    events = providers.Singleton(SqliteJobEvents, database)
    queues = providers.Singleton(_queues, settings, database)
    storage = providers.Singleton(_storage, layout, url_signer, queues)
    decoder = providers.Object(decode)
