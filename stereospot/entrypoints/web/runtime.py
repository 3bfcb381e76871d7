"""A way off the event loop, and what the files blueprint needs of the local platform.

Handlers get their ports from the blueprint factories (create_app passes them in) and run
every synchronous use case or port call through `call()`, a worker thread, so the event
loop never blocks on SQLite, the filesystem or the network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

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


async def call(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a blocking function in a worker thread."""
    return await asyncio.to_thread(function, *args, **kwargs)
