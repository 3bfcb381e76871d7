"""Web Push end to end against a push service on loopback that checks the VAPID JWT and
decrypts each payload with the subscription's keys (tests/push_service.py): a job that
completes or fails notifies every browser subscribed to it, with a message whose click
opens the job; subscriptions the service forgot (404/410) are removed; a busy or
unreachable service is tried again (honouring Retry-After), and what still fails is left
for the outbox sweep."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from stereospot.domain import keys
from stereospot.domain.model import JobStatus
from stereospot.domain.ports import PushSubscription
from stereospot.domain.services import outbox
from stereospot.domain.services.conversion import handle_output_object
from stereospot.domain.services.jobs import fail_job
from tests.integration.web.conftest import Site, build_site
from tests.push_service import PushService, Rejected, check_vapid, running_push_service


@pytest.fixture
def push_service() -> Iterator[PushService]:
    with running_push_service() as service:
        yield service


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return build_site(
        tmp_path,
        fetch_allow_private="true",  # the push service is on loopback
        push_retries=3,
        push_retry_base_s=0.05,  # fast backoff; Retry-After is honoured up to the cap
        push_retry_max_wait_s=2.0,
    )


async def _subscribe(site: Site, job_id: UUID, push_service: PushService, path: str) -> None:
    """A browser subscribed on the job page. The API only takes https endpoints from
    browsers (test_push.py checks it); this service is plain http on loopback, so the
    subscription is stored as the API stores it."""
    site.deps.push_subscriptions.add(job_id, push_service.subscribe(path))


async def test_a_completed_job_notifies_every_subscribed_browser(
    site: Site, push_service: PushService, tiny_video: bytes
) -> None:
    job_id = await site.create_job(title="Holiday in Rome")
    site.start_converting(job_id, total=1)
    await _subscribe(site, job_id, push_service, "/push/phone")
    await _subscribe(site, job_id, push_service, "/push/laptop")
    site.advance(job_id, JobStatus.REASSEMBLING)
    site.deps.storage.put_bytes(keys.final_key(job_id), tiny_video)
    handle_output_object(site.deps, keys.final_key(job_id))  # the final.mp4 event

    assert push_service.rejected == []
    for path in ("/push/phone", "/push/laptop"):
        [message] = push_service.delivered[path]
        assert message["title"] == "Your 3D video is ready"
        assert message["body"] == "Holiday in Rome"
        assert message["url"] == f"/jobs/{job_id}"  # the service worker opens this on click
        assert message["type"] == "job_completed" and message["status"] == "completed"
    [public_key] = push_service.vapid_keys
    served = await (await site.client.get("/api/push/public-key")).get_json()
    assert served["public_key"] == public_key  # the key the page subscribed with


async def test_a_failed_job_notifies_with_its_reason(site: Site, push_service: PushService) -> None:
    job_id = await site.create_job(title="Trip")
    site.start_converting(job_id)
    await _subscribe(site, job_id, push_service, "/push/1")
    fail_job(site.deps, job_id, "The file has no video stream.")
    [message] = push_service.delivered["/push/1"]
    assert message["title"] == "The conversion failed"
    assert message["body"] == "Trip: The file has no video stream."
    assert message["url"] == f"/jobs/{job_id}"


@pytest.mark.parametrize("status", [404, 410])
async def test_subscriptions_the_service_forgot_are_removed(
    site: Site, push_service: PushService, status: int
) -> None:
    job_id = await site.create_job()
    site.start_converting(job_id)
    await _subscribe(site, job_id, push_service, "/push/gone")
    await _subscribe(site, job_id, push_service, "/push/alive")
    push_service.answers["/push/gone"] = status
    fail_job(site.deps, job_id, "broken")
    remaining = [s.endpoint for s in site.deps.push_subscriptions.list(job_id)]
    assert remaining == [f"{push_service.origin}/push/alive"]
    assert len(push_service.delivered["/push/alive"]) == 1


@pytest.mark.parametrize("busy", [503, 429])
async def test_a_busy_push_service_is_tried_again_after_its_retry_after(
    site: Site, push_service: PushService, busy: int
) -> None:
    job_id = await site.create_job(title="Trip")
    site.start_converting(job_id)
    await _subscribe(site, job_id, push_service, "/push/busy")
    push_service.answers["/push/busy"] = [busy, 201]
    push_service.retry_after["/push/busy"] = "1"
    fail_job(site.deps, job_id, "broken")
    first, second = push_service.arrivals["/push/busy"]
    assert second - first >= 0.9  # Retry-After: 1, not the 0.05 s backoff
    [message] = push_service.delivered["/push/busy"]
    assert message["type"] == "job_failed"
    job = site.deps.jobs.get(job_id)
    assert job is not None and job.notified_at is not None  # told: the sweep leaves it


async def test_a_push_service_that_stays_down_leaves_the_job_for_the_sweep(
    site: Site, push_service: PushService
) -> None:
    job_id = await site.create_job(title="Trip")
    site.start_converting(job_id)
    await _subscribe(site, job_id, push_service, "/push/down")
    push_service.answers["/push/down"] = 503
    fail_job(site.deps, job_id, "broken")
    assert len(push_service.arrivals["/push/down"]) == 4  # the first try and 3 retries
    assert len(site.deps.push_subscriptions.list(job_id)) == 1  # not gone, only busy
    job = site.deps.jobs.get(job_id)
    assert job is not None and job.notified_at is None  # not counted as sent
    # Later the service is back, and the media worker's sweep tells the browser.
    push_service.answers["/push/down"] = 201
    sweeping = dataclasses.replace(
        site.deps, policy=dataclasses.replace(site.deps.policy, notify_grace_s=0)
    )
    assert outbox.sweep_notifications(sweeping) == 1
    [message] = push_service.delivered["/push/down"]
    assert message["type"] == "job_failed" and message["url"] == f"/jobs/{job_id}"
    job = site.deps.jobs.get(job_id)
    assert job is not None and job.notified_at is not None
    assert outbox.sweep_notifications(sweeping) == 0


async def test_an_unreachable_push_service_leaves_the_job_for_the_sweep(
    site: Site, push_service: PushService
) -> None:
    with socket.socket() as closed:  # a port nothing listens on once this closes
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    job_id = await site.create_job()
    site.start_converting(job_id)
    subscription = push_service.subscribe("/push/elsewhere")
    site.deps.push_subscriptions.add(
        job_id,
        PushSubscription(f"http://127.0.0.1:{port}/push/x", subscription.p256dh, subscription.auth),
    )
    fail_job(site.deps, job_id, "broken")
    assert len(site.deps.push_subscriptions.list(job_id)) == 1
    job = site.deps.jobs.get(job_id)
    assert job is not None and job.notified_at is None


def test_the_local_push_service_refuses_a_wrong_audience_or_signature(
    push_service: PushService,
) -> None:
    """The checks are real: a JWT for another origin, or signed by another key, fails."""
    from py_vapid import Vapid

    vapid = Vapid()
    vapid.generate_keys()
    claims = {"sub": "mailto:a@example.com", "aud": "https://other.example", "exp": 0}
    claims["exp"] = int(time.time()) + 3600
    headers = vapid.sign(dict(claims))
    with pytest.raises(Rejected, match="aud"):
        check_vapid(headers["Authorization"], push_service.origin, time.time())
    claims["aud"] = push_service.origin
    good = vapid.sign(dict(claims))["Authorization"]
    assert check_vapid(good, push_service.origin, time.time())["aud"] == push_service.origin
    other = Vapid()
    other.generate_keys()
    forged = good.split("k=")[0] + "k=" + vapid_key(other)
    with pytest.raises(Rejected, match="signed"):
        check_vapid(forged, push_service.origin, time.time())


def vapid_key(vapid: object) -> str:
    from cryptography.hazmat.primitives import serialization

    from tests.push_service import b64

    point = vapid.public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64(point)
