"""Web Push (RFC 8030 + VAPID RFC 8292, aes128gcm payloads) with pywebpush.

The VAPID key comes from the platform container (STEREOSPOT_VAPID_PRIVATE_KEY: a PEM, or
the urlsafe base64 raw/DER form that `vapid --gen` and web-push tools print; the local
platform generates one into its data directory when none is set). Without a key push is
simply off: `push_sender` gives a `NoopPushSender`.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from stereospot.domain.ports import PushSubscription, SubscriptionGone

logger = logging.getLogger(__name__)

_GONE_STATUSES = frozenset({404, 410})


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class NoopPushSender:
    """Push is not configured: notifications are dropped (and the UI offers none)."""

    public_key: str | None = None

    def send(self, subscription: PushSubscription, payload: dict[str, object]) -> None:
        logger.debug("push is not configured; dropping a notification")


class WebPushSender:
    def __init__(
        self, vapid: Any, subject: str, *, ttl_s: int = 24 * 3600, timeout_s: float = 10.0
    ) -> None:
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
        """Encrypt and deliver; SubscriptionGone when the push service forgot it (404/410)."""
        info = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }
        try:
            webpush(
                subscription_info=info,
                data=json.dumps(payload),
                vapid_private_key=self._vapid,
                # A fresh dict each time: pywebpush writes aud and exp into it.
                vapid_claims={"sub": self._subject},
                ttl=self._ttl_s,
                timeout=self._timeout_s,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in _GONE_STATUSES:
                raise SubscriptionGone(f"the push service no longer knows {status}") from exc
            raise


def vapid_from_string(text: str) -> Any:
    """A VAPID key from a PEM, or from urlsafe base64 (raw 32-byte key or DER)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return Vapid.from_pem(text.encode("ascii"))
    return Vapid.from_string(text)


def push_sender(vapid_key: str | None, subject: str) -> WebPushSender | NoopPushSender:
    """The sender for this VAPID key (see vapid_from_string); push is off without one."""
    if vapid_key is None:
        logger.info("Web Push is off: no VAPID key is configured")
        return NoopPushSender()
    return WebPushSender(vapid_from_string(vapid_key), subject)


def generate_vapid_pem() -> bytes:
    """A new VAPID private key (P-256), PEM-encoded."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
