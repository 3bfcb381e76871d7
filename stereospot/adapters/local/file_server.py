"""What the web app needs to answer the local storage's signed URLs itself (/files/...)."""

from __future__ import annotations

from dataclasses import dataclass

from stereospot.adapters.local.signing import UrlSigner
from stereospot.adapters.local.storage import FilesystemObjectStorage


@dataclass(frozen=True)
class LocalFileServer:
    signer: UrlSigner  # verifies the links the storage handed out
    storage: FilesystemObjectStorage  # the files behind them
