"""The user's journey in real headless Chromium against `stereospot serve`.

Choose a generated clip in the dashboard's file chooser, pick the look, start it with one
click (job + upload), watch the progress reach 100% without a reload (the live stream
survives two refused connections on the way), play the result, download it, remove it; a
non-video upload failing with its reason on the page; no page wider than the screen.
Screenshots of every page, desktop and phone, go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from tests.e2e.serve_process import Server, running_serve
from tests.fault_plugin import fault_env
from tests.media_clips import make_clip

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"  # scripts/browser.sh
CONVERSION_TIMEOUT_MS = 150_000

if not CHROMIUM.exists():  # pragma: no cover - depends on the machine
    print(f"skipping the browser test: {CHROMIUM} is missing (scripts/browser.sh installs it)")
    pytest.skip(f"{CHROMIUM} is missing", allow_module_level=True)

from playwright.sync_api import (  # noqa: E402
    Browser,
    FileChooser,
    Page,
    Route,
    ViewportSize,
    sync_playwright,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 860}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Each segment's conversion is held for a moment, so the page is sure to see the
    # conversion stage live after its refused reconnects, however fast the engine gets.
    slow_segments = fault_env("convert:2.5")
    with running_serve(tmp_path_factory.mktemp("serve"), extra_env=slow_segments) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "holiday.mp4"
    return make_clip(path, seconds=3.0, fps=12, width=160, height=96, gop=12)


def shoot(browser: Browser, url: str, name: str, only: str | None = None) -> None:
    """Desktop and phone screenshots of `url` in fresh pages."""
    for label, viewport, mobile in (("desktop", DESKTOP, False), ("phone", PHONE, True)):
        if only not in (None, label):
            continue
        context = browser.new_context(
            viewport=viewport, is_mobile=mobile, has_touch=mobile, device_scale_factor=1
        )
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_timeout(600)  # live streams never go idle; give them a moment
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        context.close()


PREVIEW_TIMEOUT_MS = 15_000


def _wait_for_preview(page: Page, after: int) -> int:
    """Wait for a preview newer than version `after`; its version."""
    page.wait_for_function(
        f"() => Number(document.querySelector('[data-preview]').dataset.version || 0) > {after}"
        " && document.querySelector('[data-preview]').dataset.state === 'ready'",
        timeout=PREVIEW_TIMEOUT_MS,
    )
    return int(page.get_attribute("[data-preview]", "data-version") or 0)


def _canvas_pixels(page: Page, selector: str) -> np.ndarray:
    width, height, data = page.evaluate(
        """(selector) => {
            const canvas = document.querySelector(selector);
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
            return [canvas.width, canvas.height, Array.from(pixels.data)];
        }""",
        selector,
    )
    return np.array(data, dtype=np.uint8).reshape(height, width, 4)


ANAGLYPH_FRAME = 18  # of the 12 fps clip: 1.5 s in


def _check_anaglyph_view(page: Page) -> None:
    """The red-cyan view's canvas matches an anaglyph made in Python from the same frame
    of the downloaded result (red from the left half, green and blue from the right)."""
    page.click('[data-view-mode="anaglyph"]')
    at = (ANAGLYPH_FRAME + 0.5) / 12
    page.evaluate(f"document.querySelector('video[data-player]').currentTime = {at}")
    page.wait_for_function(
        f"() => Math.abs(Number(document.querySelector('[data-viewer-canvas]').dataset.drawnAt)"
        f" - {at}) < 0.01"
    )
    page.wait_for_timeout(200)
    shown = _canvas_pixels(page, "[data-viewer-canvas]")[..., :3].astype(int)
    video_url = page.get_attribute("video[data-player]", "src")
    body = page.request.get(page.url.split("/jobs/")[0] + str(video_url)).body()
    with av.open(io.BytesIO(body)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number == ANAGLYPH_FRAME:
                rgb = frame.to_ndarray(format="rgb24").astype(int)
                break
    half = rgb.shape[1] // 2
    expected = np.concatenate([rgb[:, :half, :1], rgb[:, half:, 1:]], axis=2)
    assert shown.shape == expected.shape
    error = np.abs(shown - expected).mean()
    print(f"anaglyph canvas vs Python: mean abs difference {error:.2f} levels")
    assert error < 6, error
    page.click('[data-view-mode="wiggle"]')
    page.click('[data-view-mode="cross"]')
    assert _canvas_pixels(page, "[data-viewer-canvas]").shape[1] == 2 * half
    page.click('[data-view-mode="anaglyph"]')


def _check_vr_button(browser: Browser, job_url: str) -> None:
    """ "Enter VR" is hidden without navigator.xr, shown where immersive-vr is supported."""
    for script, shown in (
        ("delete Navigator.prototype.xr;", False),
        (
            "Object.defineProperty(Navigator.prototype, 'xr', {get: () => ("
            "{isSessionSupported: async (mode) => mode === 'immersive-vr'})});",
            True,
        ),
    ):
        context = browser.new_context(viewport=DESKTOP)
        context.add_init_script(script)
        page = context.new_page()
        page.goto(job_url)
        page.wait_for_selector("[data-viewer]")
        page.wait_for_timeout(300)
        assert page.evaluate("'xr' in navigator") is shown
        assert page.locator("[data-enter-vr]").is_visible() is shown
        context.close()


def _tab_to(page: Page, selector: str, limit: int = 40) -> None:
    """Press Tab until `selector` has the focus (and it shows a focus ring)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _open_file_chooser_from_keyboard(page: Page) -> FileChooser:
    """Space on the focused file input opens the chooser; headless Chromium on a loaded
    machine sometimes drops that first key press, so Enter (the other key that activates
    a file input) is tried once more before giving up."""
    for key in ("Space", "Enter"):
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press(key)
            return chooser.value
        except PlaywrightTimeoutError:
            continue
    raise AssertionError("neither Space nor Enter opened the file chooser")


def axe_problems(page: Page, name: str) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now."""
    if not AXE.exists():  # pragma: no cover - depends on the machine
        pytest.skip(f"{AXE} is missing (scripts/browser.sh installs it)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    violations: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                          targets: v.nodes.slice(0, 3).map((n) => n.target.join(' '))}))"""
    )
    return [f"{name}: {v['impact']} {v['id']} ({v['help']}) at {v['targets']}" for v in violations]


def _progress_log(page: Page) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = page.evaluate("window.__progress")
    return log


def test_choose_a_file_convert_follow_play_download_remove(
    server: Server, browser: Browser, clip: Path, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    # Every job page records the progress events it receives, from its first one.
    context.add_init_script(
        """document.addEventListener('DOMContentLoaded', () => {
            const panel = document.getElementById('job-panel');
            if (!panel) return;
            window.__progress = [];
            panel.addEventListener(
                'stereospot:progress', (event) => window.__progress.push(event.detail));
        });"""
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The first two stream connections are refused: the page must reconnect on its own.
    stream_requests: list[str] = []

    def refuse_twice(route: Route) -> None:
        stream_requests.append(route.request.url)
        if len(stream_requests) <= 2:
            route.fulfill(status=503, body="busy")
        else:
            route.continue_()

    page.route("**/jobs/*/events", refuse_twice)

    page.goto(server.url)
    shoot(browser, server.url, "01-dashboard-empty")
    # File first: the file, then the look beside it, then one click.
    with page.expect_file_chooser() as chooser:
        page.click("[data-file-input]")
    chooser.value.set_files(str(clip))
    assert "holiday.mp4" in page.inner_text("[data-file-name]")
    page.select_option("#output_format", "full-sbs")

    # The preview: one frame of the chosen file, in a few seconds, changing with the strength.
    version = _wait_for_preview(page, after=0)
    latencies = [int(page.get_attribute("[data-preview]", "data-latency-ms") or 0)]
    weak = _canvas_pixels(page, "[data-preview-canvas]")
    assert weak.shape == (96, 320, 4), "full side by side of the 160x96 clip"
    page.fill("#divergence", "8")
    version = _wait_for_preview(page, after=version)
    latencies.append(int(page.get_attribute("[data-preview]", "data-latency-ms") or 0))
    strong = _canvas_pixels(page, "[data-preview-canvas]")
    assert np.abs(weak.astype(int) - strong.astype(int)).mean() > 0.5, "stronger 3D, new pixels"
    print(f"preview latency (ms, 160x96 frame, 2 cores): {latencies}")
    for view in ("anaglyph", "wiggle", "format"):
        page.click(f'[data-preview-view="{view}"]')
        assert page.get_attribute("[data-preview-canvas]", "data-view") == view
        if view == "anaglyph":
            assert _canvas_pixels(page, "[data-preview-canvas]").shape == (96, 160, 4)
    page.fill("#divergence", "2.0")
    _wait_for_preview(page, after=version)
    problems = axe_problems(page, "dashboard with a preview")
    page.screenshot(path=str(SCREENSHOTS / "02-dashboard-file-chosen-desktop.png"), full_page=True)
    page.click("[data-start-button]")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"), timeout=30_000)
    job_url = page.url
    assert page.inner_text("h1.job-name") == "holiday"

    # Count full page loads from here on: following the conversion must not reload.
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))
    page.wait_for_selector("[data-live-progress]", timeout=CONVERSION_TIMEOUT_MS)
    page.screenshot(path=str(SCREENSHOTS / "03-job-converting-desktop.png"), full_page=True)
    problems += axe_problems(page, "job converting")
    shoot(browser, job_url, "03-job-converting", only="phone")
    page.wait_for_selector(
        '#job-panel[data-status="completed"] video[data-player]', timeout=CONVERSION_TIMEOUT_MS
    )
    progress = _progress_log(page)
    assert loads == [], f"the page reloaded: {loads}"
    assert errors == [], errors
    assert len(stream_requests) >= 3, "the page reopened the refused stream"
    assert progress[-1]["status"] == "completed" and progress[-1]["percent"] == 100
    percents = [event["percent"] for event in progress]
    assert percents == sorted(percents), f"progress went backwards: {percents}"
    assert any(event["status"] == "chunking_complete" for event in progress), progress

    # Play it: the element learns a duration and time advances.
    page.evaluate("document.querySelector('video[data-player]').muted = true")
    page.evaluate("document.querySelector('video[data-player]').play()")
    page.wait_for_function(
        "() => { const v = document.querySelector('video[data-player]');"
        " return v.duration > 2 && v.currentTime > 0.4; }",
        timeout=20_000,
    )
    duration = page.evaluate("document.querySelector('video[data-player]').duration")
    assert 2.5 <= duration <= 3.5
    page.evaluate("document.querySelector('video[data-player]').pause()")
    _check_anaglyph_view(page)
    problems += axe_problems(page, "job completed, red-cyan view")
    assert problems == []
    _check_vr_button(browser, job_url)
    shoot(browser, job_url, "04-job-completed")

    # Download: the file name carries the title and the format's suffix.
    with page.expect_download() as download_info:
        page.click("[data-download]")
    download = download_info.value
    assert download.suggested_filename == "holiday_LRF_Full_SBS.mp4"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with av.open(str(saved)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 96)
    video_link = page.get_attribute("video[data-player]", "src")
    assert video_link
    signed_video = page.request.get(server.url + video_link, max_redirects=0).headers["location"]

    shoot(browser, job_url + "/players", "05-players")
    shoot(browser, server.url, "06-dashboard-with-result")

    # Remove it: the job and its file answer 404 after.
    page.click("text=Remove this job")
    page.click("[data-remove-button]")
    page.wait_for_url(server.url + "/")
    assert "was removed" in page.inner_text(".flash")
    gone = page.goto(job_url)
    assert gone is not None and gone.status == 404
    page.screenshot(path=str(SCREENSHOTS / "07-removed-404-desktop.png"), full_page=True)
    assert page.request.get(signed_video).status == 404
    assert page.request.get(server.url + video_link).status == 404
    context.close()


def test_a_non_video_upload_fails_with_the_reason_on_the_page(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(server.url)
    # Keyboard only: Tab to the button, Enter (nothing chosen yet: said so), Tab to the
    # file chooser, Space opens it; a strength typed in; Tab to the button, Enter.
    _tab_to(page, "[data-start-button]")
    page.keyboard.press("Enter")
    assert "Choose a video first" in page.inner_text("[data-upload-error]")
    page.goto(server.url)
    bogus = tmp_path / "shopping-list.mp4"
    bogus.write_text("eggs, milk, bread\n" * 200)
    _tab_to(page, "[data-file-input]")
    _open_file_chooser_from_keyboard(page).set_files(str(bogus))
    _tab_to(page, "#divergence")
    page.keyboard.press("Control+a")
    page.keyboard.type("3")
    _tab_to(page, "[data-start-button]")
    page.keyboard.press("Enter")
    page.wait_for_selector('#job-panel[data-status="failed"] .reason', timeout=60_000)
    reason = page.inner_text(".reason")
    assert len(reason) > 15 and "Traceback" not in reason
    assert axe_problems(page, "job failed") == []
    shoot(browser, page.url, "08-job-failed")
    page.close()


def test_a_job_without_its_file_is_listed_nowhere_and_can_be_cancelled_then_removed(
    server: Server, browser: Browser
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(server.url)
    created = page.request.post(f"{server.url}/api/jobs", data={"title": "Never sent"})
    job_id = created.json()["id"]
    job_url = f"{server.url}/jobs/{job_id}"
    page.goto(server.url)
    page.wait_for_selector("[data-live-indicator]:not([hidden])")
    assert page.locator(f'[data-job-id="{job_id}"]').count() == 0, "waiting jobs are not listed"
    listed = page.request.get(f"{server.url}/api/jobs?status=in_progress").json()["jobs"]
    assert job_id not in [job["id"] for job in listed]

    # Its own page still offers the upload (for API users) and Cancel.
    page.goto(job_url)
    assert axe_problems(page, "job waiting for its upload") == []
    shoot(browser, job_url, "02-job-upload")
    page.click("[data-cancel-button]")
    page.wait_for_selector('#job-panel[data-status="failed"] .reason')
    assert page.url == job_url
    assert page.inner_text(".reason") == "Cancelled before the upload."

    # The open dashboard takes a new failure in without a reload.
    other = page.request.post(f"{server.url}/api/jobs", data={"title": "Given up"})
    other_id = other.json()["id"]
    page.goto(server.url)
    page.wait_for_selector("[data-live-indicator]:not([hidden])")
    assert page.request.post(f"{server.url}/api/jobs/{other_id}/cancel").status == 200
    page.wait_for_selector(f'[data-failed-id="{other_id}"]', timeout=15_000)
    reason = page.locator(f'[data-failed-id="{job_id}"] .reason-line')
    assert reason.inner_text() == "Cancelled before the upload."
    shoot(browser, server.url, "09-dashboard-failed")

    page.click(f'[data-failed-id="{job_id}"] [data-remove-button]')
    assert page.request.get(job_url).status == 200, "nothing is removed before confirming"
    page.click(f'[data-failed-id="{job_id}"] [data-remove-confirm]')
    page.wait_for_selector(".flash")
    assert "was removed" in page.inner_text(".flash")
    assert page.locator(f'[data-failed-id="{job_id}"]').count() == 0
    assert page.request.get(job_url).status == 404
    page.close()


LONG_TITLE = "A very long holiday video title " * 6 + "Supercalifragilisticexpialidocious" * 3
LONG_REASON = "The file is not a video we can read: " + "unreadable_" * 40


def _seed_many_jobs(server: Server, count: int = 30) -> list[str]:
    """Long titles, long failure reasons, `count` failed and completed jobs, written
    through the use cases into the running server's own data directory."""
    from stereospot.config import Settings
    from stereospot.container import build_container
    from stereospot.domain.formats import ConversionSettings, StereoFormat
    from stereospot.domain.model import JobStatus
    from stereospot.domain.services import jobs as usecases

    assert server.data_dir is not None
    deps = build_container(Settings(platform="local", data_dir=server.data_dir)).deps()
    ids = []
    for number in range(count):
        job = usecases.create_job(
            deps,
            output_format=StereoFormat.HALF_SBS,
            settings=ConversionSettings(),
            title=f"{number:02d} {LONG_TITLE}",
        )
        if number % 2:
            usecases.fail_job(deps, job.id, LONG_REASON)
        else:
            now = deps.clock.now()
            for status in (JobStatus.CHUNKING_IN_PROGRESS, JobStatus.CHUNKING_COMPLETE):
                job = deps.jobs.save(job.transition(status))
            job = deps.jobs.save(
                job.with_changes(uploaded_at=now, source_size=2_000_000, source_duration_s=6.0)
            )
            for status in (JobStatus.REASSEMBLING, JobStatus.COMPLETED):
                job = deps.jobs.save(job.transition(status))
            deps.jobs.save(job.with_changes(completed_at=now))
        ids.append(str(job.id))
    return ids


def test_no_page_is_wider_than_the_screen(server: Server, browser: Browser) -> None:
    ids = _seed_many_jobs(server)
    pages = {
        "10-dashboard-many": server.url + "/",
        "11-job-failed-long": f"{server.url}/jobs/{ids[1]}",
        "12-job-completed-long": f"{server.url}/jobs/{ids[0]}",
        "13-players-many": server.url + "/players",
        "14-api": server.url + "/api-docs",
        "15-not-found": server.url + "/jobs/00000000-0000-4000-8000-000000000000",
    }
    too_wide: list[str] = []
    inaccessible: list[str] = []
    for name, url in pages.items():
        for label, viewport, mobile in (("desktop", DESKTOP, False), ("phone", PHONE, True)):
            context = browser.new_context(
                viewport=viewport, is_mobile=mobile, has_touch=mobile, device_scale_factor=1
            )
            page = context.new_page()
            page.goto(url, wait_until="load")
            page.wait_for_timeout(300)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                too_wide.append(f"{name} {label}: {width} px > {viewport['width']} px")
            inaccessible.extend(axe_problems(page, f"{name} {label}"))
            if name == "10-dashboard-many" and label == "desktop":
                lists = page.evaluate("document.getElementById('job-lists').offsetWidth")
                assert lists > 600, f"the job lists are squeezed into {lists} px"
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
            context.close()
    assert too_wide == []
    assert inaccessible == []
