"""Objects in a dict, with signed `memory://` URLs that expire and can be checked.

A write may notify `on_created(key, size)` (outside the lock), as the local storage's object
events will; the memory platform routes that to the queues.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from stereospot.domain.errors import ObjectNotFound
from stereospot.domain.keys import validate_storage_key, validate_storage_prefix
from stereospot.domain.ports import Clock

OnCreated = Callable[[str, int], None]


class SignedUrlError(Exception):
    """A memory:// URL that is malformed, tampered with, expired or used for the wrong thing."""


@dataclass(frozen=True)
class SignedUrl:
    action: str  # "upload" | "download"
    key: str
    expires_at: int  # unix seconds
    max_bytes: int | None
    filename: str | None


class MemoryObjectStorage:
    def __init__(
        self,
        clock: Clock,
        on_created: OnCreated | None = None,
        secret: bytes | None = None,
    ) -> None:
        self._clock = clock
        self._on_created = on_created
        self._secret = secret or secrets.token_bytes(32)
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

    def upload_url(self, key: str, expires_s: int, max_bytes: int) -> str:
        validate_storage_key(key)
        return self._sign("upload", key, expires_s, {"max_bytes": str(max_bytes)})

    def download_url(self, key: str, expires_s: int, filename: str | None = None) -> str:
        validate_storage_key(key)
        extra = {"filename": filename} if filename else {}
        return self._sign("download", key, expires_s, extra)

    def _signature(self, action: str, key: str, params: dict[str, str]) -> str:
        canonical = "\n".join([action, key, *(f"{k}={params[k]}" for k in sorted(params))])
        return hmac.new(self._secret, canonical.encode(), hashlib.sha256).hexdigest()

    def _sign(self, action: str, key: str, expires_s: int, extra: dict[str, str]) -> str:
        expires_at = int(self._clock.now().timestamp()) + expires_s
        params = {"expires": str(expires_at), **extra}
        params["sig"] = self._signature(action, key, params)
        return f"memory://{action}/{quote(key)}?{urlencode(params)}"

    def check_url(self, url: str, action: str) -> SignedUrl:
        """The URL's meaning if it is genuine, for `action`, and not expired."""
        parts = urlsplit(url)
        if parts.scheme != "memory" or parts.netloc != action:
            raise SignedUrlError(f"not a memory {action} URL")
        key = unquote(parts.path.lstrip("/"))
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        signature = params.pop("sig", "")
        if not hmac.compare_digest(signature, self._signature(action, key, params)):
            raise SignedUrlError("the URL's signature does not match")
        expires_at = int(params.get("expires", "0"))
        if self._clock.now().timestamp() >= expires_at:
            raise SignedUrlError("the URL has expired")
        max_bytes = params.get("max_bytes")
        return SignedUrl(
            action=action,
            key=key,
            expires_at=expires_at,
            max_bytes=int(max_bytes) if max_bytes is not None else None,
            filename=params.get("filename"),
        )

    def put_via_url(self, url: str, data: bytes) -> str:
        """What a browser's PUT to an upload URL does; returns the key written."""
        signed = self.check_url(url, "upload")
        if signed.max_bytes is not None and len(data) > signed.max_bytes:
            raise SignedUrlError(f"the upload is larger than {signed.max_bytes} bytes")
        self.put_bytes(signed.key, data)
        return signed.key

    def get_via_url(self, url: str) -> bytes:
        """What a GET of a download URL returns."""
        return self.get_bytes(self.check_url(url, "download").key)
