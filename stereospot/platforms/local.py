"""The local platform (the embedded default): SQLite and the filesystem under one data dir.

    <data_dir>/
      stereospot.db     jobs, segment completions, reassembly locks, invocations, push
                        subscriptions, the job event log, and every queue (SQLite, WAL)
      objects/          object storage: objects/<key>, e.g. objects/jobs/<job>/final.mp4
      tmp/              scratch directories of the workers
      secret_key        signs URLs and CSRF tokens (0600), unless STEREOSPOT_SECRET_KEY is set
      vapid_private.pem the Web Push key (0600), unless STEREOSPOT_VAPID_PRIVATE_KEY is set

Several processes (web app, workers) share one data directory: SQLite serialises their
writes, object writes are atomic renames, and object-created events go through the queues.
The web app serves the storage's signed links itself (file_server).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dependency_injector import providers

from stereospot.adapters.local.completions import SqliteSegmentCompletionStore
from stereospot.adapters.local.events import SqliteJobEvents
from stereospot.adapters.local.file_server import LocalFileServer
from stereospot.adapters.local.invocations import SqliteInvocationStore
from stereospot.adapters.local.jobs import SqliteJobStore
from stereospot.adapters.local.keyfile import load_or_create
from stereospot.adapters.local.object_events import ObjectEventRouter
from stereospot.adapters.local.progress import SqliteSegmentProgressStore
from stereospot.adapters.local.push import SqlitePushSubscriptionStore
from stereospot.adapters.local.queues import SqliteQueues
from stereospot.adapters.local.reassembly import SqliteReassemblyLock
from stereospot.adapters.local.secret import secret_key
from stereospot.adapters.local.signing import UrlSigner
from stereospot.adapters.local.sqlite import Database
from stereospot.adapters.local.storage import FilesystemObjectStorage
from stereospot.adapters.local.system import TempScratch
from stereospot.config import Settings
from stereospot.domain.urls import origin
from stereospot.platforms.base import PlatformProviders, configured_vapid_key, decode_own_messages

VAPID_KEY_FILENAME = "vapid_private.pem"


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

    @property
    def vapid_key(self) -> Path:
        return self.root / VAPID_KEY_FILENAME

    @classmethod
    def create(cls, settings: Settings) -> DataLayout:
        layout = cls(settings.resolved_data_dir())
        for directory in (layout.root, layout.objects, layout.tmp):
            directory.mkdir(parents=True, exist_ok=True)
        return layout


def _database(layout: DataLayout) -> Database:
    return Database(layout.database)


def _secret_key(settings: Settings, layout: DataLayout) -> bytes:
    # The layout is a dependency so the data directory exists before the key is kept there.
    return secret_key(settings)


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


def _storage_origins(settings: Settings) -> tuple[str, ...]:
    """The links point at this web app's public URL (which may differ from the page's)."""
    public = origin(settings.public_url)
    return (public,) if public else ()


def _vapid_key(settings: Settings, layout: DataLayout) -> str:
    """The configured key, else the one generated once into the data directory."""
    from stereospot.adapters.push.webpush import generate_vapid_pem

    configured = configured_vapid_key(settings)
    if configured is not None:
        return configured
    return load_or_create(layout.vapid_key, generate_vapid_pem).decode("ascii")


class PlatformContainer(PlatformProviders):
    settings = providers.Dependency(instance_of=Settings)

    layout = providers.Singleton(DataLayout.create, settings)
    database = providers.Singleton(_database, layout)
    secret_key = providers.Singleton(_secret_key, settings, layout)
    url_signer = providers.Singleton(
        UrlSigner, secret_key, providers.Callable(lambda s: s.public_url, settings)
    )

    jobs = providers.Singleton(SqliteJobStore, database)
    completions = providers.Singleton(SqliteSegmentCompletionStore, database)
    progress = providers.Singleton(SqliteSegmentProgressStore, database)
    reassembly_lock = providers.Singleton(SqliteReassemblyLock, database)
    invocations = providers.Singleton(SqliteInvocationStore, database)
    push_subscriptions = providers.Singleton(SqlitePushSubscriptionStore, database)
    events = providers.Singleton(SqliteJobEvents, database)
    queues = providers.Singleton(_queues, settings, database)
    storage = providers.Singleton(_storage, layout, url_signer, queues)
    decoder = providers.Object(decode_own_messages)
    scratch = providers.Singleton(TempScratch, layout.provided.tmp)

    max_upload_bytes = providers.Callable(lambda s: s.max_upload_bytes, settings)
    storage_origins = providers.Callable(_storage_origins, settings)
    file_server = providers.Singleton(LocalFileServer, url_signer, storage)
    vapid_key = providers.Singleton(_vapid_key, settings, layout)
    data_location = providers.Callable(lambda s: str(s.resolved_data_dir()), settings)
    loopback_hosts = providers.Object(True)
    console_links = providers.Object(False)
    # Which message each worker process holds (a dead one's is released at once).
    claims_dir = providers.Callable(lambda layout: layout.tmp / "claims", layout)
