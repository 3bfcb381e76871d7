"""Signed, expiring URLs for the local object storage, served and verified by the web app.

    {base_url}/files/{key}?m=PUT&e=1764000000&x=1048576&n=film.mp4&s=<signature>

m: the HTTP method granted; e: expiry (epoch seconds); x: most bytes an upload may have;
n: download file name (Content-Disposition attachment). x and n are left out when unset.
s: HMAC-SHA256 over every field, urlsafe base64 without padding. Any change to the method,
key, expiry, size limit or file name invalidates the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from stereospot.domain.errors import InvalidKey, SignatureExpired, SignatureInvalid
from stereospot.domain.keys import validate_storage_key

_SIGNED_METHODS = ("GET", "PUT")
_SIGNATURE_VERSION = "stereospot-url-v1"


@dataclass(frozen=True)
class SignedGrant:
    """What a verified URL allows."""

    key: str
    method: str
    max_bytes: int | None
    filename: str | None


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class UrlSigner:
    def __init__(self, secret: bytes, base_url: str) -> None:
        if len(secret) < 16:
            raise ValueError("the URL signing secret must be at least 16 bytes long")
        self._secret = secret
        self._base_url = base_url.rstrip("/")

    def _signature(
        self, method: str, key: str, expires_at: int, max_bytes: int | None, filename: str | None
    ) -> str:
        # JSON keeps the fields unambiguous whatever characters a file name holds.
        message = json.dumps([_SIGNATURE_VERSION, method, key, expires_at, max_bytes, filename])
        digest = hmac.new(self._secret, message.encode("utf-8"), hashlib.sha256).digest()
        return _encode(digest)

    def sign(
        self,
        *,
        method: Literal["GET", "PUT"],
        key: str,
        expires_at: int,
        max_bytes: int | None = None,
        filename: str | None = None,
    ) -> str:
        if method not in _SIGNED_METHODS:
            raise ValueError(f"only {', '.join(_SIGNED_METHODS)} URLs can be signed")
        validate_storage_key(key)
        query: dict[str, str] = {"m": method, "e": str(expires_at)}
        if max_bytes is not None:
            query["x"] = str(max_bytes)
        if filename is not None:
            query["n"] = filename
        query["s"] = self._signature(method, key, expires_at, max_bytes, filename)
        return f"{self._base_url}/files/{key}?{urlencode(query)}"

    def verify(self, *, method: str, key: str, query: Mapping[str, str], now: int) -> SignedGrant:
        """The grant of a URL for a `method` request on `key`, or SignatureInvalid/Expired.

        The signature is checked before the expiry, so a tampered expiry reads as invalid.
        """
        try:
            validate_storage_key(key)
        except InvalidKey as exc:
            raise SignatureInvalid(f"{key!r} is not a valid object key") from exc
        signed_method = query.get("m")
        signature = query.get("s")
        try:
            expires_at = int(query["e"])
            max_bytes = int(query["x"]) if "x" in query else None
        except (KeyError, ValueError) as exc:
            raise SignatureInvalid("the link is incomplete or malformed") from exc
        filename = query.get("n")
        if signed_method not in _SIGNED_METHODS or signature is None:
            raise SignatureInvalid("the link is incomplete or malformed")
        expected = self._signature(signed_method, key, expires_at, max_bytes, filename)
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
            raise SignatureInvalid("the link's signature does not match")
        if signed_method != method.upper():
            raise SignatureInvalid(f"this link allows {signed_method} requests only")
        if now >= expires_at:
            raise SignatureExpired("the link has expired")
        return SignedGrant(key=key, method=signed_method, max_bytes=max_bytes, filename=filename)
