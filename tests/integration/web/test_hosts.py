"""Trusted hosts (DNS rebinding), Origin with its scheme, forwarded headers only from
trusted proxies, and Secure cookies / HSTS only on real https."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.web.conftest import Site, build_site

PROXY = {"client": ("10.0.0.5", 40000)}


@pytest.fixture
def proxied(tmp_path: Path) -> Site:
    return build_site(
        tmp_path,
        public_url="https://stereo.example.com",
        trusted_proxies="10.0.0.0/24",
    )


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8000", "127.0.0.1.nip.io", "localhost.evil.example"]
)
async def test_a_host_that_is_not_ours_gets_400(site: Site, host: str) -> None:
    for path in ("/", "/api/jobs", "/openapi.json"):
        response = await site.client.get(path, headers={"Host": host})
        assert response.status_code == 400, (path, host)
        assert "does not answer to that host name" in await response.get_data(as_text=True)
    write = await site.client.post("/api/jobs", json={}, headers={"Host": host})
    assert write.status_code == 400


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:9", "[::1]:8000"])
async def test_loopback_names_are_answered_locally(site: Site, host: str) -> None:
    assert (await site.client.get("/", headers={"Host": host})).status_code == 200


async def test_health_checks_answer_any_host(site: Site) -> None:
    response = await site.client.get("/healthz", headers={"Host": "10.1.2.3:8000"})
    assert response.status_code == 200


async def test_origin_must_match_with_its_scheme(site: Site) -> None:
    body = {"output_format": "anaglyph"}
    same = await site.client.post("/api/jobs", json=body, headers={"Origin": "http://localhost"})
    assert same.status_code == 201
    for origin in ("https://localhost", "http://evil.example", "null", "http://localhost:1"):
        response = await site.client.post("/api/jobs", json=body, headers={"Origin": origin})
        assert response.status_code == 403, origin
    no_origin = await site.client.post("/api/jobs", json=body)  # a CLI, not a browser
    assert no_origin.status_code == 201


async def test_forwarded_proto_counts_only_from_a_trusted_proxy(proxied: Site) -> None:
    host = {"Host": "stereo.example.com"}
    claimed = host | {"X-Forwarded-Proto": "https"}
    stranger = await proxied.client.get("/", headers=claimed)
    assert "Strict-Transport-Security" not in stranger.headers
    assert "Secure" not in stranger.headers.get("Set-Cookie", "")
    fresh = proxied.app.test_client()  # no session yet: the page sets the cookie
    via_proxy = await fresh.get("/", headers=claimed, scope_base=PROXY)
    assert via_proxy.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in via_proxy.headers["Set-Cookie"]
    # The browser's https origin matches only when the proxy vouches for https.
    body = {"output_format": "anaglyph"}
    origin = {"Origin": "https://stereo.example.com"}
    refused = await proxied.client.post("/api/jobs", json=body, headers=claimed | origin)
    assert refused.status_code == 403
    accepted = await proxied.client.post(
        "/api/jobs", json=body, headers=claimed | origin, scope_base=PROXY
    )
    assert accepted.status_code == 201


async def test_signed_links_are_built_on_the_trusted_host(site: Site) -> None:
    job_id = await site.create_job()
    response = await site.client.post(
        f"/api/jobs/{job_id}/upload-url", json={"filename": "a.mp4"}, headers={"Host": "[::1]:8000"}
    )
    assert (await response.get_json())["url"].startswith("http://[::1]:8000/files/")


async def test_an_upload_link_stops_working_once_the_job_has_its_video(
    site: Site, tiny_video: bytes
) -> None:
    job_id = await site.create_job()
    url = await site.upload_url(job_id)
    path = url.split("localhost", 1)[1]
    site.start_converting(job_id)
    replaced = await site.client.put(path, data=b"not the original")
    assert replaced.status_code == 409
    assert "no longer works" in (await replaced.get_json())["error"]
