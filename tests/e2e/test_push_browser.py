"""The notification buttons in a real browser (headless Chromium): visible on the job page
and the dashboard of a localhost site, the permission asked only after a click, and every
refusal shown as a sentence, never as the browser's raw exception text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.serve_process import Server, running_serve

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():  # pragma: no cover - depends on the machine
    pytest.skip(f"{CHROMIUM} is missing", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
RAW = ("Registration failed", "DOMException", "permission denied", "undefined")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_serve(tmp_path_factory.mktemp("serve")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def _running_job(server: Server) -> str:
    """A job converting (no file needed: its page only has to show the button)."""
    from stereospot.config import Settings
    from stereospot.container import build_container
    from stereospot.domain.formats import ConversionSettings, StereoFormat
    from stereospot.domain.model import JobStatus
    from stereospot.domain.services import jobs

    assert server.data_dir is not None
    deps = build_container(Settings(platform="local", data_dir=server.data_dir)).deps()
    job = jobs.create_job(deps, output_format=StereoFormat.HALF_SBS, settings=ConversionSettings())
    deps.jobs.save(job.transition(JobStatus.INGESTING))
    return str(job.id)


def _status_after_click(page: Page) -> str:
    page.click("[data-push-button]")
    page.wait_for_function(
        "() => { const s = document.querySelector('[data-push-status]');"
        " return s && !s.hidden && !s.textContent.startsWith('Asking'); }",
        timeout=15_000,
    )
    return page.inner_text("[data-push-status]")


def test_a_refused_permission_reads_as_a_sentence(server: Server, browser: Browser) -> None:
    job_id = _running_job(server)
    context = browser.new_context()
    page = context.new_page()
    asked: list[str] = []
    page.expose_function("__asked", lambda: asked.append("asked"))
    page.add_init_script(
        "const original = Notification.requestPermission.bind(Notification);"
        "Notification.requestPermission = () => { window.__asked(); return original(); };"
    )
    page.goto(f"{server.url}/jobs/{job_id}")
    page.wait_for_selector("[data-push-button]:not([hidden])")
    page.wait_for_timeout(300)
    assert asked == [], "no permission prompt before a click"
    message = _status_after_click(page)
    assert asked == ["asked"]
    assert message.endswith(".") and not any(raw in message for raw in RAW), message
    assert "blocked" in message or "not allowed" in message, message
    context.close()


def test_with_permission_the_outcome_is_still_a_sentence(server: Server, browser: Browser) -> None:
    """Headless Chromium has no push service: subscribing fails, readably."""
    context = browser.new_context()
    context.grant_permissions(["notifications"], origin=server.url)
    page = context.new_page()
    page.goto(server.url)  # the dashboard's button
    page.wait_for_selector("[data-push-button]:not([hidden])")
    message = _status_after_click(page)
    assert message.endswith(".") and not any(raw in message for raw in RAW), message
    context.close()
