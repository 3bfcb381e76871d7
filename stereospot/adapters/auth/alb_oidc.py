"""The identity an AWS Application Load Balancer's authenticate-oidc (or Cognito) action
passes on: the `x-amzn-oidc-data` header, an ES256-signed JWT.

Its signature is checked with the ALB's public key for the JWT's `kid`, fetched from the
region's key endpoint (https://public-keys.auth.elb.<region>.amazonaws.com/<kid>, a PEM)
and cached. The token must not be expired, and, when a signer (the ALB's ARN) is
configured, must name it. Anything else is InvalidIdentity.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from stereospot.domain.errors import InvalidIdentity

__all__ = ["AlbOidcVerifier", "InvalidIdentity"]

DEFAULT_KEY_URL = "https://public-keys.auth.elb.{region}.amazonaws.com/{kid}"
_KID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_LEEWAY_S = 60


def _unb64(text: str) -> bytes:
    # The ALB pads its base64url segments; plain JWT libraries do not: accept both.
    text = text.rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _fetch_pem(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - the configured key endpoint
        pem: bytes = response.read(16 * 1024)
        return pem


class AlbOidcVerifier:
    def __init__(
        self,
        region: str,
        *,
        key_url: str = DEFAULT_KEY_URL,
        signer: str = "",
        fetch: Callable[[str], bytes] = _fetch_pem,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._region = region
        self._key_url = key_url
        self._signer = signer
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self._lock = threading.Lock()

    def _key(self, kid: str) -> ec.EllipticCurvePublicKey:
        with self._lock:
            cached = self._keys.get(kid)
        if cached is not None:
            return cached
        url = self._key_url.format(region=self._region, kid=kid)
        try:
            key = serialization.load_pem_public_key(self._fetch(url))
        except Exception as exc:
            raise InvalidIdentity(f"no public key for kid {kid}") from exc
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise InvalidIdentity("the signing key is not an EC key")
        with self._lock:
            self._keys[kid] = key
        return key

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, if it is genuine and current."""
        try:
            head_b64, body_b64, signature_b64 = token.strip().split(".")
            header = json.loads(_unb64(head_b64))
            claims = json.loads(_unb64(body_b64))
            signature = _unb64(signature_b64)
        except (ValueError, TypeError) as exc:
            raise InvalidIdentity("malformed token") from exc
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise InvalidIdentity("malformed token")
        if header.get("alg") != "ES256" or len(signature) != 64:
            raise InvalidIdentity("not an ES256 token")
        kid = str(header.get("kid", ""))
        if not _KID.match(kid):
            raise InvalidIdentity("bad kid")
        if self._signer and header.get("signer") != self._signer:
            raise InvalidIdentity("signed by another load balancer")
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        signed = f"{head_b64}.{body_b64}".encode("ascii")
        try:
            self._key(kid).verify(der, signed, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise InvalidIdentity("bad signature") from exc
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or expires + _LEEWAY_S < self._clock():
            raise InvalidIdentity("expired")
        return claims
