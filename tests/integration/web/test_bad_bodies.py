"""A request body the server cannot decode is the client's mistake: 400, never 500."""

from __future__ import annotations

import pytest

from tests.integration.web.conftest import Site

JSON_HEADERS = {"Origin": "http://localhost", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested-deeper-than-the-parser"),
        pytest.param(b'{"title": "\xff\xfe"}', id="invalid-utf-8"),
        pytest.param(b"{nope", id="not-json"),
    ],
)
async def test_an_undecodable_json_body_is_a_400_with_a_sentence(site: Site, body: bytes) -> None:
    response = await site.client.post("/api/jobs", data=body, headers=JSON_HEADERS)

    assert response.status_code == 400
    payload = await response.get_json()
    assert payload["status"] == 400
    assert "Something went wrong" not in payload["error"]


async def test_a_valid_body_still_creates_the_job(site: Site) -> None:
    response = await site.client.post("/api/jobs", json={}, headers={"Origin": "http://localhost"})

    assert response.status_code in (200, 201)
