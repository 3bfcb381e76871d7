"""CSRF, security headers on every kind of response, and no stack traces to the client."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.web.conftest import Site, build_site


async def test_form_posts_without_a_valid_token_are_refused(site: Site, tiny_video: bytes) -> None:
    job_id = await site.create_job()
    site.complete(job_id, tiny_video)
    form = {"output_format": "full-sbs", "divergence": "2", "convergence": "0.5"}
    missing = await site.client.post("/jobs", form=form)
    assert missing.status_code == 403
    assert "expired or came from another site" in await missing.get_data(as_text=True)
    wrong = await site.client.post("/jobs", form=form | {"csrf_token": "0" * 64})
    assert wrong.status_code == 403
    # A token from another session does not work in this one.
    other = build_site(site.data_dir.parent / "other")
    foreign_token = await other.csrf()
    await site.csrf()  # this session has its own nonce
    foreign = await site.client.post("/jobs", form=form | {"csrf_token": foreign_token})
    assert foreign.status_code == 403
    delete = await site.client.post(f"/jobs/{job_id}/delete", form={})
    assert delete.status_code == 403
    assert len(site.deps.jobs.list_in_progress()) == 0
    stored = site.deps.jobs.get(job_id)
    assert stored is not None and stored.visible


async def test_a_fresh_client_without_a_session_cannot_post(site: Site) -> None:
    token = await site.csrf()
    stranger = site.app.test_client()  # no session cookie
    response = await stranger.post("/jobs", form={"csrf_token": token, "divergence": "2"})
    assert response.status_code == 403


def _assert_security_headers(response: object, where: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, where
    assert "default-src 'self'" in csp and "script-src 'self'" in csp, where
    assert "'unsafe-inline'" not in csp, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "no-referrer", where
    assert headers.get("X-Frame-Options") == "DENY", where


async def test_every_kind_of_response_carries_the_security_headers(
    site: Site, tiny_video: bytes
) -> None:
    job_id = await site.create_job()
    site.complete(job_id, tiny_video)
    video = (await site.client.get(f"/jobs/{job_id}/video")).headers["Location"]
    paths = [
        "/",
        f"/jobs/{job_id}",
        "/players",
        "/playlist.m3u",
        "/api/jobs",
        "/openapi.json",
        "/static/app.css",
        "/static/app.js",
        "/sw.js",
        "/healthz",
        "/jobs/not-a-job",
        "/no/such/page",
        f"/jobs/{job_id}/download",
        site.signed_path(video),
    ]
    for path in paths:
        _assert_security_headers(await site.client.get(path), path)
    _assert_security_headers(await site.client.post("/jobs", form={}), "csrf 403")
    _assert_security_headers(await site.client.put("/", data=b"x"), "405")
    async with site.stream(f"/jobs/{job_id}/events") as connection:
        await connection.send_complete()
        await connection.receive()
        assert connection.headers is not None
        _assert_security_headers(connection, "sse")
        await connection.disconnect()


async def test_html_pages_are_not_cached_and_cookies_are_protected(site: Site) -> None:
    response = await site.client.get("/")
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers.get("Set-Cookie", "")
    assert "stereospot_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


async def test_an_unexpected_error_is_a_generic_500_without_internals(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = await site.create_job()

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("db password is hunter2 at /srv/secret.py line 42")

    monkeypatch.setattr(site.deps.jobs, "get", broken)
    for path in (f"/jobs/{job_id}", f"/api/jobs/{job_id}"):
        response = await site.client.get(path)
        text = await response.get_data(as_text=True)
        assert response.status_code == 500, path
        assert "Something went wrong on our side" in text
        assert "hunter2" not in text and "Traceback" not in text and "secret.py" not in text
        _assert_security_headers(response, path)


async def test_a_route_that_raises_returns_the_generic_500_page(tmp_path: Path) -> None:
    site = build_site(tmp_path)

    @site.app.get("/explode")
    async def explode() -> str:
        raise ValueError("internal detail /etc/shadow")

    response = await site.client.get("/explode", headers={"Accept": "text/html"})
    html = await response.get_data(as_text=True)
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in html
    assert "/etc/shadow" not in html and "ValueError" not in html


async def test_large_bodies_outside_signed_uploads_are_refused(site: Site) -> None:
    token = await site.csrf()
    big = {"csrf_token": token, "source_url": "https://example.com/" + "a" * (2 * 1024 * 1024)}
    response = await site.client.post("/jobs", form=big)
    assert response.status_code == 413
    api = await site.client.post(
        "/api/jobs",
        data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert api.status_code == 413
