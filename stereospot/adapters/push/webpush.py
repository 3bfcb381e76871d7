"""Web Push (RFC 8030 + VAPID RFC 8292, aes128gcm payloads) with pywebpush.

The VAPID key comes from the platform container (STEREOSPOT_VAPID_PRIVATE_KEY: a PEM, or
the urlsafe base64 raw/DER form that `vapid --gen` and web-push tools print; the local
platform generates one into its data directory when none is set). Without a key push is
simply off: `push_sender` gives a `NoopPushSender`.

Endpoints are user input: only https ones are sent to, and only through the outbound guard
(one loopback proxy per process, see adapters/outbound), so an endpoint that is, resolves
to, or redirects to a private address is never connected to.

A push service that is busy or down (5xx, 429, a refused or dropped connection) is tried
again by urllib3's Retry on the session (`PushRetry`: a few attempts, exponential backoff,
honouring Retry-After up to a cap). What still fails raises PushUndelivered, so the job is
left for the outbox sweep rather than counted as told; 404/410 raise SubscriptionGone.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from stereospot.adapters.outbound.addresses import (
    PrivateAllowance,
    Refused,
    Unreachable,
    is_public,
    vet,
)
from stereospot.adapters.outbound.proxy import GuardProxy, Limits
from stereospot.domain.ports import PushSubscription, PushUndelivered, SubscriptionGone

logger = logging.getLogger(__name__)

_GONE_STATUSES = frozenset({404, 410})
# Worth another try: the service is overloaded, rate-limits us, or is having trouble.
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class PushRetry:
    """How hard one send tries: `retries` more attempts after the first, waiting
    base_s, 2*base_s, ... (capped at max_wait_s) or what Retry-After asks, capped too, so
    one send never holds its worker for long; the outbox sweep takes over after that."""

    retries: int = 3
    base_s: float = 0.5
    max_wait_s: float = 5.0

    def urllib3(self) -> Retry:
        return Retry(
            total=self.retries,
            connect=self.retries,
            read=self.retries,
            status=self.retries,
            other=0,
            redirect=False,
            allowed_methods=frozenset({"POST"}),  # a repeated push replaces itself (its tag)
            status_forcelist=_RETRY_STATUSES,
            backoff_factor=self.base_s,
            backoff_max=self.max_wait_s,
            respect_retry_after_header=True,
            retry_after_max=max(1, int(self.max_wait_s)),
            raise_on_status=False,  # the last answer reaches pywebpush, which raises on it
        )


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class NoopPushSender:
    """Push is not configured: notifications are dropped (and the UI offers none)."""

    public_key: str | None = None

    def send(self, subscription: PushSubscription, payload: dict[str, object]) -> None:
        logger.debug("push is not configured; dropping a notification")


class EndpointRefused(SubscriptionGone):
    """The subscription's endpoint is not an https URL on a public address: it can never
    be delivered to, so it is removed like one the push service forgot."""


class _GuardedSession:
    """A requests session whose every connection goes through one process-wide guard."""

    def __init__(self, allowance: PrivateAllowance, retry: PushRetry) -> None:
        self._allowance = allowance
        self._retry = retry
        self._lock = threading.Lock()
        self._proxy: GuardProxy | None = None

    def session(self) -> requests.Session:
        with self._lock:
            if self._proxy is None:
                limits = Limits(max_bytes=1024 * 1024, total_timeout_s=float("inf"))
                self._proxy = GuardProxy(self._allowance, limits).start()
            url = self._proxy.url
        session = requests.Session()
        session.trust_env = False  # no environment proxy may bypass the guard
        session.max_redirects = 3
        session.proxies = {"http": url, "https": url}
        adapter = HTTPAdapter(max_retries=self._retry.urllib3())
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session


class WebPushSender:
    def __init__(
        self,
        vapid: Any,
        subject: str,
        *,
        ttl_s: int = 24 * 3600,
        timeout_s: float = 10.0,
        allow_private: PrivateAllowance | str | bool = False,
        retry: PushRetry | None = None,
    ) -> None:
        allowance = (
            allow_private
            if isinstance(allow_private, PrivateAllowance)
            else PrivateAllowance.parse(allow_private)
        )
        self._allowance = allowance
        self._sessions = _GuardedSession(allowance, retry or PushRetry())
        self._vapid = vapid
        self._subject = subject
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        public_key: ec.EllipticCurvePublicKey = vapid.public_key
        point = public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        # What the browser's pushManager.subscribe wants as applicationServerKey.
        self.public_key: str | None = _b64url(point)

    def send(self, subscription: PushSubscription, payload: dict[str, object]) -> None:
        """Encrypt and deliver; SubscriptionGone when the push service forgot it (404/410);
        EndpointRefused for an endpoint that is not https on a public address;
        PushUndelivered when the service was still busy or unreachable after the retries."""
        parts = urlsplit(subscription.endpoint)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise EndpointRefused("push endpoints must be https URLs")
        try:  # at once, before any encryption (the proxy checks again when connecting)
            target = vet(parts.hostname, parts.port or 443, self._allowance)
        except (Refused, Unreachable, ValueError) as exc:
            logger.warning("outbound guard refused push endpoint %s (%s)", parts.hostname, exc)
            raise EndpointRefused(f"{parts.hostname} was refused by the outbound guard") from None
        # Plain http only to a push service on an allowed private network (tests, intranets).
        if parts.scheme == "http" and any(is_public(a) for a in target.addresses):
            raise EndpointRefused("push endpoints must be https URLs")
        info = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }
        session = self._sessions.session()
        try:
            webpush(
                subscription_info=info,
                data=json.dumps(payload),
                vapid_private_key=self._vapid,
                # A fresh dict each time: pywebpush writes aud and exp into it.
                vapid_claims={"sub": self._subject},
                ttl=self._ttl_s,
                timeout=self._timeout_s,
                requests_session=session,
            )
        except requests.exceptions.ProxyError as exc:
            # The guard answers a CONNECT with 403 for a refused address, 502 when the
            # (allowed) push service cannot be reached: only the first is the endpoint's fault.
            if "403" in str(exc):
                raise EndpointRefused(
                    f"{subscription.endpoint} was refused by the outbound guard"
                ) from exc
            raise PushUndelivered(f"{parts.hostname} could not be reached: {exc}") from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise PushUndelivered(f"{parts.hostname} could not be reached: {exc}") from exc
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in _GONE_STATUSES:
                raise SubscriptionGone(f"the push service no longer knows {status}") from exc
            if status in _RETRY_STATUSES:
                raise PushUndelivered(f"{parts.hostname} still answered {status}") from exc
            raise


def vapid_from_string(text: str) -> Any:
    """A VAPID key from a PEM, or from urlsafe base64 (raw 32-byte key or DER)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return Vapid.from_pem(text.encode("ascii"))
    return Vapid.from_string(text)


def push_sender(
    vapid_key: str | None,
    subject: str,
    allow_private: PrivateAllowance | str | bool = False,
    retry: PushRetry | None = None,
) -> WebPushSender | NoopPushSender:
    """The sender for this VAPID key (see vapid_from_string); push is off without one."""
    if vapid_key is None:
        logger.info("Web Push is off: no VAPID key is configured")
        return NoopPushSender()
    return WebPushSender(
        vapid_from_string(vapid_key), subject, allow_private=allow_private, retry=retry
    )


def generate_vapid_pem() -> bytes:
    """A new VAPID private key (P-256), PEM-encoded."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
