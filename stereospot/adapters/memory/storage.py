"""Objects in a dict, with signed URLs that expire and can be checked.

The URLs are the local storage's (stereospot.adapters.local.signing, under the base URL
`memory://storage`), checked by the same signer with the same errors.

A write may notify `on_created(key, size)` (outside the lock), as the local storage's object
events will; the memory platform routes that to the queues.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from pathlib import Path

from stereospot.adapters.local.signing import SignedGrant, UrlSigner
from stereospot.domain.errors import ObjectNotFound, ObjectTooLarge
from stereospot.domain.keys import validate_storage_key, validate_storage_prefix
from stereospot.domain.ports import Clock

OnCreated = Callable[[str, int], None]
MEMORY_BASE_URL = "memory://storage"


class MemoryObjectStorage:
    def __init__(
        self,
        clock: Clock,
        on_created: OnCreated | None = None,
        secret: bytes | None = None,
        base_url: str = MEMORY_BASE_URL,
    ) -> None:
        self._clock = clock
        self._on_created = on_created
        self._signer = UrlSigner(secret or secrets.token_bytes(32), base_url)
        self._objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ objects

    def put_bytes(self, key: str, data: bytes) -> None:
        validate_storage_key(key)
        with self._lock:
            self._objects[key] = bytes(data)
        if self._on_created is not None:
            self._on_created(key, len(data))

    def put_file(self, key: str, source: Path) -> None:
        self.put_bytes(key, source.read_bytes())

    def get_bytes(self, key: str) -> bytes:
        validate_storage_key(key)
        with self._lock:
            data = self._objects.get(key)
        if data is None:
            raise ObjectNotFound(key)
        return data

    def get_file(self, key: str, dest: Path) -> None:
        data = self.get_bytes(key)
        partial = dest.with_name(dest.name + ".part")
        partial.write_bytes(data)
        partial.replace(dest)

    def exists(self, key: str) -> bool:
        validate_storage_key(key)
        with self._lock:
            return key in self._objects

    def size(self, key: str) -> int | None:
        validate_storage_key(key)
        with self._lock:
            data = self._objects.get(key)
            return None if data is None else len(data)

    def list_keys(self, prefix: str) -> list[str]:
        validate_storage_prefix(prefix)
        with self._lock:
            return sorted(k for k in self._objects if k.startswith(prefix))

    def delete_prefix(self, prefix: str) -> int:
        validate_storage_prefix(prefix)
        with self._lock:
            doomed = [k for k in self._objects if k.startswith(prefix)]
            for key in doomed:
                del self._objects[key]
            return len(doomed)

    # ------------------------------------------------------------------ signed URLs

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    def upload_url(self, key: str, expires_s: int, max_bytes: int) -> str:
        return self._signer.sign(
            method="PUT", key=key, expires_at=self._now() + expires_s, max_bytes=max_bytes
        )

    def download_url(self, key: str, expires_s: int, filename: str | None = None) -> str:
        return self._signer.sign(
            method="GET", key=key, expires_at=self._now() + expires_s, filename=filename
        )

    def check_url(self, url: str, method: str) -> SignedGrant:
        """What the URL grants a `method` request, as the local file server would judge
        it (SignatureInvalid, or SignatureExpired)."""
        return self._signer.verify_url(url, method=method, now=self._now())

    def put_via_url(self, url: str, data: bytes) -> str:
        """What a browser's PUT to an upload URL does; returns the key written."""
        grant = self.check_url(url, "PUT")
        if grant.max_bytes is not None and len(data) > grant.max_bytes:
            raise ObjectTooLarge(f"the file is larger than the allowed {grant.max_bytes} bytes")
        self.put_bytes(grant.key, data)
        return grant.key

    def get_via_url(self, url: str) -> bytes:
        """What a GET of a download URL returns."""
        return self.get_bytes(self.check_url(url, "GET").key)
