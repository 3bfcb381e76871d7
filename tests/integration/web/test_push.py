"""Web Push: the VAPID key endpoint, subscriptions, and real deliveries (RFC 8291
encryption, VAPID auth) to a push service on loopback that decrypts what it receives."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException

from stereospot.adapters.push.webpush import NoopPushSender, WebPushSender
from stereospot.config import Settings
from stereospot.container import build_container
from stereospot.domain.ports import PushUndelivered, SubscriptionGone
from stereospot.domain.services.jobs import fail_job
from tests.integration.web.conftest import Site, build_site
from tests.push_service import Browser, b64, unb64


@dataclass
class PushService:
    """A push service on loopback: records each POST, answers `status`."""

    url: str
    status: int = 201
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {name.lower(): value for name, value in self.headers.items()}
            service.received.append({"path": self.path, "headers": headers, "body": body})
            self.send_response(service.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield service
    server.shutdown()
    server.server_close()


def _push_sender(settings: Settings) -> object:
    """The push sender the composition root builds for these settings."""
    return build_container(settings).push_sender()


def _sender(tmp_path: Path, **settings_: Any) -> WebPushSender:
    # The push service is on loopback: allowed explicitly (the guard refuses it otherwise).
    settings = Settings(
        platform="local", data_dir=tmp_path, fetch_allow_private="true", **settings_
    )
    sender = _push_sender(settings)
    assert isinstance(sender, WebPushSender)
    return sender


def test_a_notification_arrives_encrypted_with_vapid_auth(
    tmp_path: Path, push_service: PushService
) -> None:
    sender = _sender(tmp_path)
    browser = Browser.new()
    payload: dict[str, object] = {"title": "Your 3D video is ready", "url": "/jobs/x"}
    sender.send(browser.subscription(f"{push_service.url}/push/abc"), payload)
    [request] = push_service.received
    headers = request["headers"]
    assert request["path"] == "/push/abc"
    assert headers["content-encoding"] == "aes128gcm"
    assert int(headers["ttl"]) > 0
    assert b"Your 3D video" not in request["body"]
    assert browser.decrypt(request["body"]) == payload
    scheme, _, credentials = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in credentials.split(","))
    assert fields["k"] == sender.public_key
    assert Vapid.verify(headers["authorization"])  # the JWT is signed by that key


@pytest.mark.parametrize("status", [404, 410])
def test_a_forgotten_subscription_raises_subscription_gone(
    tmp_path: Path, push_service: PushService, status: int
) -> None:
    push_service.status = status
    with pytest.raises(SubscriptionGone):
        _sender(tmp_path).send(Browser.new().subscription(f"{push_service.url}/p"), {"a": 1})


def test_other_push_service_errors_are_not_mistaken_for_gone(
    tmp_path: Path, push_service: PushService
) -> None:
    push_service.status = 500  # busy: tried again, then left for the sweep
    with pytest.raises(PushUndelivered):
        _sender(tmp_path, push_retry_base_s=0.01).send(
            Browser.new().subscription(f"{push_service.url}/p"), {"a": 1}
        )
    push_service.status = 400  # refused for good: neither gone nor worth another try
    with pytest.raises(WebPushException):
        _sender(tmp_path).send(Browser.new().subscription(f"{push_service.url}/p"), {"a": 1})


def test_the_local_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = _sender(tmp_path)
    key_file = tmp_path / "vapid_private.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert _sender(tmp_path).public_key == first.public_key
    point = unb64(first.public_key or "")
    assert len(point) == 65 and point[0] == 4  # an uncompressed P-256 point


def test_configured_keys_are_used_in_pem_and_raw_form(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    raw = b64(key.private_numbers().private_value.to_bytes(32, "big"))
    expected = b64(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    for configured in (pem, raw):
        settings = Settings(platform="aws", data_dir=tmp_path, vapid_private_key=configured)
        sender = _push_sender(settings)
        assert isinstance(sender, WebPushSender)
        assert sender.public_key == expected
    assert not (tmp_path / "vapid_private.pem").exists()


def test_without_keys_off_the_local_platform_push_is_off(tmp_path: Path) -> None:
    sender = _push_sender(Settings(platform="memory", data_dir=tmp_path))
    assert isinstance(sender, NoopPushSender)
    assert sender.public_key is None


async def test_public_key_is_served_only_where_browsers_allow_push(tmp_path: Path) -> None:
    # stereo.example.com reaches us through a proxy on loopback that terminates TLS.
    site = build_site(tmp_path, trusted_hosts="stereo.example.com", trusted_proxies="127.0.0.0/8")
    local = await site.client.get("/api/push/public-key")
    assert local.status_code == 200
    key = (await local.get_json())["public_key"]
    assert key == _sender(site.data_dir).public_key
    plain_http = await site.client.get(
        "/api/push/public-key", headers={"Host": "stereo.example.com"}
    )
    assert plain_http.status_code == 404
    assert "HTTPS" in (await plain_http.get_json())["error"]
    claimed = {"Host": "stereo.example.com", "X-Forwarded-Proto": "https"}
    from_anyone = await site.client.get("/api/push/public-key", headers=claimed)
    assert from_anyone.status_code == 404  # only a trusted proxy's word counts
    proxied = await site.client.get(
        "/api/push/public-key", headers=claimed, scope_base={"client": ("127.0.0.1", 4711)}
    )
    assert proxied.status_code == 200


async def test_public_key_is_404_when_push_is_not_configured(tmp_path: Path) -> None:
    from quart import Quart

    from stereospot.container import build_container
    from stereospot.entrypoints.web.app import create_app

    app: Quart = create_app(build_container(Settings(platform="memory", data_dir=tmp_path)))
    response = await app.test_client().get("/api/push/public-key")
    assert response.status_code == 404
    assert "not configured" in (await response.get_json())["error"]


async def test_subscriptions_are_validated_and_stored(site: Site) -> None:
    job_id = await site.create_job()
    browser = Browser.new()
    good = browser.subscription("https://push.example.net/send/xyz")
    body = {"endpoint": good.endpoint, "keys": {"p256dh": good.p256dh, "auth": good.auth}}
    response = await site.client.post(f"/api/jobs/{job_id}/push-subscriptions", json=body)
    assert response.status_code == 201
    assert site.deps.push_subscriptions.list(job_id) == [good]
    insecure = body | {"endpoint": "http://push.example.net/send/xyz"}
    bad = await site.client.post(f"/api/jobs/{job_id}/push-subscriptions", json=insecure)
    assert bad.status_code == 400
    unknown = await site.client.post(f"/api/jobs/{uuid.uuid4()}/push-subscriptions", json=body)
    assert unknown.status_code == 404
    cross = await site.client.post(
        f"/api/jobs/{job_id}/push-subscriptions", json=body, headers={"Origin": "https://x.example"}
    )
    assert cross.status_code == 403
    assert len(site.deps.push_subscriptions.list(job_id)) == 1


async def test_a_failed_job_notifies_its_subscribers(
    tmp_path: Path, push_service: PushService
) -> None:
    site = build_site(tmp_path, fetch_allow_private="true")  # the push service is on loopback
    job_id = await site.create_job(title="Trip")
    site.start_converting(job_id)
    browser = Browser.new()
    site.deps.push_subscriptions.add(job_id, browser.subscription(f"{push_service.url}/s/1"))
    fail_job(site.deps, job_id, "The file has no video stream.")
    [request] = push_service.received
    message = browser.decrypt(request["body"])
    assert message["title"] == "The conversion failed"
    assert "no video stream" in message["body"]
    assert message["url"] == f"/jobs/{job_id}"
