"""Signed, expiring URLs for the storages that StereoSpot serves itself (local and memory).

    {base_url}/files/{key}?m=PUT&e=1764000000&x=1048576&n=film.mp4&s=<signature>

m: the HTTP method granted; e: expiry (epoch seconds); x: most bytes an upload may have;
n: download file name (Content-Disposition attachment). x and n are left out when unset.
s: the signature, made by itsdangerous (HMAC-SHA256 with a key derived from the secret and
the format's salt, urlsafe base64 without padding, compared in constant time) over every
field, so any change to the method, key, expiry, size limit or file name invalidates it.

The local storage's links are answered by the web app (/files/...); the memory storage
hands out the same links under its own base URL and checks them with the same signer, so
tests on the memory platform see exactly the local platform's rules and errors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from itsdangerous import Signer

from stereospot.domain.errors import InvalidKey, SignatureExpired, SignatureInvalid
from stereospot.domain.keys import validate_storage_key

_SIGNED_METHODS = ("GET", "PUT")
_SIGNATURE_VERSION = "stereospot-url-v1"  # the salt: another format never verifies


@dataclass(frozen=True)
class SignedGrant:
    """What a verified URL allows."""

    key: str
    method: str
    max_bytes: int | None
    filename: str | None


def _message(
    method: str, key: str, expires_at: int, max_bytes: int | None, filename: str | None
) -> bytes:
    # JSON keeps the fields unambiguous whatever characters a file name holds.
    return json.dumps([method, key, expires_at, max_bytes, filename]).encode("utf-8")


class UrlSigner:
    def __init__(self, secret: bytes, base_url: str) -> None:
        if len(secret) < 16:
            raise ValueError("the URL signing secret must be at least 16 bytes long")
        self._signer = Signer(
            secret, salt=_SIGNATURE_VERSION, key_derivation="hmac", digest_method=hashlib.sha256
        )
        self._base_url = base_url.rstrip("/")

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
        signature = self._signer.get_signature(
            _message(method, key, expires_at, max_bytes, filename)
        )
        query["s"] = signature.decode("ascii")
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
        message = _message(signed_method, key, expires_at, max_bytes, filename)
        if not self._signer.verify_signature(message, signature.encode("ascii", "replace")):
            raise SignatureInvalid("the link's signature does not match")
        if signed_method != method.upper():
            raise SignatureInvalid(f"this link allows {signed_method} requests only")
        if now >= expires_at:
            raise SignatureExpired("the link has expired")
        return SignedGrant(key=key, method=signed_method, max_bytes=max_bytes, filename=filename)

    def verify_url(self, url: str, *, method: str, now: int) -> SignedGrant:
        """verify() for a whole URL, which must be one of this signer's (its base URL)."""
        parts = urlsplit(url)
        base = urlsplit(self._base_url)
        prefix = base.path + "/files/"
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(
            prefix
        ):
            raise SignatureInvalid("the link is not one of this server's file links")
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return self.verify(
            method=method, key=unquote(parts.path[len(prefix) :]), query=query, now=now
        )
