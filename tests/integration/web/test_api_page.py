"""The API page lists every JSON endpoint with an example; /openapi.json stays JSON."""

from __future__ import annotations

import html as html_lib

from tests.integration.web.conftest import Site


async def test_the_api_page_lists_every_api_route_with_an_example(site: Site) -> None:
    response = await site.client.get("/api-docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = html_lib.unescape(await response.get_data(as_text=True))
    for rule in site.app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            assert f">{rule.rule.replace('<job_id>', '{job_id}')}<" in page, rule.rule
    assert "curl -X POST http://localhost/api/jobs" in page
    assert '"output_format": "half-sbs"' in page
    assert "Create a job." in page  # the endpoint's docstring
    assert 'href="/openapi.json"' in page


async def test_the_nav_links_the_api_page_and_openapi_stays_json(site: Site) -> None:
    dashboard = await (await site.client.get("/")).get_data(as_text=True)
    assert 'href="/api-docs">API<' in dashboard
    document = await site.client.get("/openapi.json")
    assert document.mimetype == "application/json"
