"""Web Push (RFC 8030 + VAPID RFC 8292, aes128gcm payloads) with pywebpush.

VAPID keys come from Settings (STEREOSPOT_VAPID_PRIVATE_KEY: a PEM, or the urlsafe base64
raw/DER form that `vapid --gen` and web-push tools print). On the local platform, when none
is set, one key pair is generated once into <data_dir>/vapid_private.pem and reused by every
process. Anywhere else without keys, push is simply off: `NoopPushSender`.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from stereospot.config import Platform, Settings
from stereospot.domain.ports import PushSubscription, SubscriptionGone

logger = logging.getLogger(__name__)

VAPID_KEY_FILENAME = "vapid_private.pem"
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

    @classmethod
    def from_settings(cls, settings: Settings) -> WebPushSender | NoopPushSender:
        if settings.vapid_private_key is not None:
            vapid = vapid_from_string(settings.vapid_private_key.get_secret_value())
        elif settings.platform is Platform.LOCAL:
            vapid = load_or_create_vapid(settings.resolved_data_dir() / VAPID_KEY_FILENAME)
        else:
            logger.info("Web Push is off: no VAPID key is configured")
            return NoopPushSender()
        return cls(vapid, settings.vapid_subject)

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


def load_or_create_vapid(path: Path) -> Any:
    """The key in `path`, generated there first if absent (0600; safe if processes race)."""
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temp, path)  # fails if another process won: keep theirs
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    return vapid_from_string(path.read_text("ascii"))
