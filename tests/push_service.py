"""A Web Push service on loopback that does what a browser vendor's does with a request:
checks the VAPID JWT (RFC 8292: aud is the endpoint's origin, exp in the future and at
most 24 h away, ES256 signature by the key in `k`), and decrypts the aes128gcm payload
(RFC 8291) with the subscription's private key and auth secret, as the browser would.

Each endpoint path is one subscription (`Browser`); a path can be made to answer 404/410
(the subscription is gone) or 5xx, always or as a sequence (503 then 201), with a
Retry-After. What it accepted is kept per path, decrypted; every request's arrival time too.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from stereospot.domain.ports import PushSubscription


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Rejected(Exception):
    """The request is not one a push service would accept (401/400)."""


@dataclass
class Browser:
    """The browser side of one subscription: its ECDH key pair and auth secret."""

    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @classmethod
    def new(cls) -> Browser:
        return cls(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    def subscription(self, endpoint: str) -> PushSubscription:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return PushSubscription(endpoint=endpoint, p256dh=b64(point), auth=b64(self.auth))

    def decrypt(self, body: bytes) -> Any:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


def check_vapid(authorization: str, origin: str, now: float) -> dict[str, Any]:
    """The JWT's claims, if RFC 8292 holds: `vapid t=<jwt>, k=<p256 public key>`."""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise Rejected(f"authorization scheme {scheme!r} is not vapid")
    fields = dict(part.strip().split("=", 1) for part in credentials.split(","))
    token, key = fields.get("t", ""), fields.get("k", "")
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(unb64(header_b64))
    claims: dict[str, Any] = json.loads(unb64(payload_b64))
    if header.get("alg") != "ES256":
        raise Rejected(f"JWT alg {header.get('alg')!r} is not ES256")
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
    raw = unb64(signature_b64)
    if len(raw) != 64:
        raise Rejected("the JWT signature is not a raw 64-byte ES256 signature")
    signature = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    try:
        public_key.verify(
            signature, f"{header_b64}.{payload_b64}".encode(), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        raise Rejected("the JWT is not signed by the key in k") from None
    if claims.get("aud") != origin:
        raise Rejected(f"JWT aud {claims.get('aud')!r} is not {origin!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or not now < exp <= now + 24 * 3600:
        raise Rejected(f"JWT exp {exp!r} is not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise Rejected("JWT sub must be a mailto: or https: contact")
    return claims


@dataclass
class PushService:
    origin: str = ""
    browsers: dict[str, Browser] = field(default_factory=dict)
    # path -> status (default 201), or statuses to answer in turn (the last one repeats)
    answers: dict[str, int | list[int]] = field(default_factory=dict)
    retry_after: dict[str, str] = field(default_factory=dict)  # path -> Retry-After on 429/5xx
    arrivals: dict[str, list[float]] = field(default_factory=dict)  # path -> monotonic times
    delivered: dict[str, list[Any]] = field(default_factory=dict)  # path -> payloads
    rejected: list[str] = field(default_factory=list)
    vapid_keys: set[str] = field(default_factory=set)

    def subscribe(self, path: str) -> PushSubscription:
        browser = self.browsers[path] = Browser.new()
        return browser.subscription(f"{self.origin}{path}")

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        if path not in self.browsers:
            return 404
        self.arrivals.setdefault(path, []).append(time.monotonic())
        status = self._next_answer(path)
        if status >= 300:
            return status
        try:
            claims = check_vapid(headers.get("authorization", ""), self.origin, time.time())
            if headers.get("content-encoding") != "aes128gcm":
                raise Rejected("payloads must be aes128gcm")
            if int(headers.get("ttl", "-1")) < 0:
                raise Rejected("a TTL header is required")
            payload = self.browsers[path].decrypt(body)
        except Exception as exc:  # what the service would answer 400/401 to
            self.rejected.append(f"{path}: {exc}")
            return 401
        self.vapid_keys.add(headers["authorization"].split("k=")[-1].strip())
        assert claims["aud"] == self.origin
        self.delivered.setdefault(path, []).append(payload)
        return 201

    def _next_answer(self, path: str) -> int:
        answer = self.answers.get(path, 201)
        if isinstance(answer, int):
            return answer
        return answer.pop(0) if len(answer) > 1 else answer[0]


@contextmanager
def running_push_service() -> Iterator[PushService]:
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = service.handle(self.path, headers, body)
            self.send_response(status)
            if status in (429, 503) and self.path in service.retry_after:
                self.send_header("Retry-After", service.retry_after[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
