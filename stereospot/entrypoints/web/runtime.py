"""What every request handler needs: the ports, the settings, and a way off the event loop.

The app keeps one `WebState` (built once in create_app). Handlers reach it with `state()`
and run every synchronous use case or port call through `call()`, a worker thread, so the
event loop never blocks on SQLite, the filesystem or the network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

from quart import current_app

from stereospot.config import Settings
from stereospot.domain.services.deps import Deps
from stereospot.entrypoints.web.feed import EventFeed

EXTENSION_KEY = "stereospot"

P = ParamSpec("P")
R = TypeVar("R")


class UrlVerifier(Protocol):
    """The local platform's URL signer (stereospot.adapters.local.signing.UrlSigner)."""

    def verify(self, *, method: str, key: str, query: Any, now: int) -> Any: ...


class LocalFiles(Protocol):
    """What the files blueprint needs beyond the ObjectStorage port (local platform only)."""

    def path_for(self, key: str) -> Path: ...

    def open_writer(self, key: str, max_bytes: int | None = None) -> Any: ...


class FileServer(Protocol):
    """A platform whose links this app serves (stereospot.adapters.local.file_server)."""

    @property
    def signer(self) -> UrlVerifier: ...

    @property
    def storage(self) -> LocalFiles: ...


@dataclass(frozen=True)
class WebState:
    settings: Settings
    deps: Deps
    secret: bytes
    # Set where signed URLs are served by this app (files blueprint); None elsewhere.
    file_server: FileServer | None
    push_public_key: str | None
    storage_origins: tuple[str, ...]  # where upload/download URLs point (CSP)
    feed: EventFeed  # the process's one job-event feed, shared by every SSE stream
    host_policy: Any  # security.HostPolicy: trusted hosts and proxies

    @property
    def serves_files(self) -> bool:
        return self.file_server is not None


def state() -> WebState:
    web_state: WebState = current_app.extensions[EXTENSION_KEY]
    return web_state


async def call(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a blocking function in a worker thread."""
    return await asyncio.to_thread(function, *args, **kwargs)
