"""The web form's bounds (min/max/step/maxlength) are the API's: what the browser lets a
person type is what the API accepts, at the form's granularity, and the help says so."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from pydantic import ValidationError

from stereospot.domain import limits
from stereospot.entrypoints.web.api_models import CreateJob
from tests.integration.web.conftest import Site


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, dict[str, str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        if tag == "input" and "name" in named:
            self.inputs[named["name"]] = named


async def _form(site: Site) -> tuple[dict[str, dict[str, str]], str]:
    html = await (await site.client.get("/")).get_data(as_text=True)
    parser = _Inputs()
    parser.feed(html)
    return parser.inputs, html


def _accepts(**fields: object) -> bool:
    try:
        CreateJob.model_validate(fields)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("name", ["divergence", "convergence"])
async def test_the_number_fields_allow_exactly_what_the_api_accepts(site: Site, name: str) -> None:
    inputs, _html = await _form(site)
    field = inputs[name]
    low, high, step = float(field["min"]), float(field["max"]), float(field["step"])
    assert _accepts(**{name: low}) and _accepts(**{name: high})
    assert not _accepts(**{name: round(low - step, 6)}), f"the API takes {name} below the form"
    assert not _accepts(**{name: round(high + step, 6)}), f"the API takes {name} above the form"
    assert float(field["value"]) == CreateJob.model_fields[name].default


async def test_the_link_field_is_as_long_as_the_api_takes(site: Site) -> None:
    inputs, _html = await _form(site)
    longest = int(inputs["source_url"]["maxlength"])
    url = "https://example.com/"
    assert _accepts(source_url=url + "a" * (longest - len(url)))
    assert not _accepts(source_url=url + "a" * (longest + 1 - len(url)))


async def test_the_help_and_the_error_sentence_state_the_same_bounds(site: Site) -> None:
    _inputs, html = await _form(site)
    assert limits.DIVERGENCE_RANGE_TEXT in html  # the help under the field
    token = await site.csrf()
    response = await site.client.post(
        "/jobs",
        form={"csrf_token": token, "output_format": "full-sbs", "divergence": "10.5",
              "convergence": "0.5"},
    )  # fmt: skip
    refused = await response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"3D strength must be {limits.DIVERGENCE_RANGE_TEXT}" in refused
    assert f"screen plane {limits.CONVERGENCE_RANGE_TEXT}" in refused
