"""Failed jobs on the dashboard and in the API; cancelling a job that waits for its video."""

from __future__ import annotations

import re
from uuid import UUID, uuid4

import pytest

from stereospot.domain import keys
from stereospot.domain.model import JobStatus
from stereospot.domain.routing import QueueName
from stereospot.domain.services import pipeline
from stereospot.domain.services.jobs import CANCELLED_REASON, fail_job
from tests.integration.web.conftest import Site
from tests.integration.web.test_events import SseReader

LONG_REASON = "The file is not a video we can read: " + "x" * 300


def _failed_section(html: str) -> str:
    match = re.search(r'<section class="card" id="failed".*?</section>', html, re.S)
    assert match, "the dashboard has a Failed section"
    return match.group(0)


def _running_item(html: str, job_id: UUID) -> str:
    match = re.search(rf'<li class="job-item" data-job-id="{job_id}">.*?</li>', html, re.S)
    assert match, f"job {job_id} is listed as running"
    return match.group(0)


async def _failed_jobs(site: Site, count: int) -> list[UUID]:
    ids = []
    for number in range(count):
        job_id = await site.create_job(title=f"Broken {number:02d}")
        fail_job(site.deps, job_id, f"Reason number {number:02d}.")
        ids.append(job_id)
    return ids


# --------------------------------------------------------------------------- dashboard


async def test_no_failed_section_while_nothing_failed(site: Site) -> None:
    await site.create_job()
    html = await (await site.client.get("/")).get_data(as_text=True)
    assert 'id="failed"' not in html and "data-newest-failed" not in html


async def test_failed_jobs_are_listed_newest_first_with_reason_link_and_remove(
    site: Site,
) -> None:
    older = await site.create_job(title="Old failure")
    fail_job(site.deps, older, "The file has no video stream.")
    newer = await site.create_job(title="New failure")
    fail_job(site.deps, newer, LONG_REASON)
    html = await (await site.client.get("/")).get_data(as_text=True)
    section = _failed_section(html)
    assert section.index("New failure") < section.index("Old failure")
    assert f'data-newest-failed="{newer}"' in section
    assert "The file has no video stream." in section
    # The reason is clipped by CSS to two lines, the whole sentence in a tooltip.
    assert f'class="reason-line" title="{LONG_REASON}"' in section
    assert f'href="/jobs/{newer}"' in section and f'href="/jobs/{older}"' in section
    for job_id in (older, newer):
        form = re.search(rf'<form[^>]*action="/jobs/{job_id}/delete".*?</form>', section, re.S)
        assert form and 'name="csrf_token"' in form.group(0)
        assert ">Remove for good<" in form.group(0)
    # Neither job is still shown as running.
    assert f'data-job-id="{newer}"' not in html and f'data-job-id="{older}"' not in html


async def test_failed_jobs_page_like_completed_ones(site: Site) -> None:
    ids = await _failed_jobs(site, 7)
    first = _failed_section(await (await site.client.get("/")).get_data(as_text=True))
    assert "Broken 06" in first and "Broken 02" in first and "Broken 01" not in first
    older = re.search(r'href="(/\?failed_cursor=[^"#]+)#failed">Older', first)
    assert older, "a link to older failed jobs"
    second_html = await (await site.client.get(older.group(1).replace("&amp;", "&"))).get_data(
        as_text=True
    )
    second = _failed_section(second_html)
    assert "Broken 01" in second and "Broken 00" in second and "Broken 02" not in second
    assert 'data-live="off"' in second_html  # an older page does not refresh itself
    assert ">Newest<" in second and ">Older<" not in second
    assert len(ids) == 7


async def test_a_bad_failed_cursor_is_a_readable_400(site: Site) -> None:
    response = await site.client.get("/?failed_cursor=%%%not-a-cursor")
    assert response.status_code == 400
    assert "page of results" in await response.get_data(as_text=True)


async def test_remove_from_the_failed_list(site: Site) -> None:
    [job_id] = await _failed_jobs(site, 1)
    token = await site.csrf()
    response = await site.client.post(f"/jobs/{job_id}/delete", form={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    html = await (await site.client.get("/")).get_data(as_text=True)
    assert "“Broken 00” was removed." in html and 'id="failed"' not in html
    assert site.queue_count(QueueName.DELETION) == 1


async def test_the_live_fragment_carries_the_failed_list(site: Site) -> None:
    [job_id] = await _failed_jobs(site, 1)
    waiting = await site.create_job(title="Waiting")
    site.store_source(waiting)  # uploaded, not started: still cancellable
    fragment = await (await site.client.get("/fragments/jobs")).get_data(as_text=True)
    assert "<html" not in fragment
    assert f'data-newest-failed="{job_id}"' in _failed_section(fragment)
    assert f'action="/jobs/{waiting}/cancel"' in _running_item(fragment, waiting)


async def test_the_dashboard_stream_reports_the_newest_failure(site: Site) -> None:
    job_id = await site.create_job(title="about to fail")
    async with site.stream("/events") as connection:
        await connection.send_complete()
        reader = SseReader(connection)
        _name, _id, summary = await reader.next_event()  # type: ignore[misc]
        assert summary["newest_failed"] is None
        fail_job(site.deps, job_id, "The file has no video stream.")
        _name, _id, summary = await reader.next_event()  # type: ignore[misc]
        assert summary["newest_failed"] == str(job_id) and summary["in_progress"] == []
        await connection.disconnect()


# --------------------------------------------------------------------------- cancel (pages)


async def test_cancel_from_the_upload_page_shows_the_job_failed_and_removable(
    site: Site,
) -> None:
    job_id = await site.create_job(title="Never uploaded")
    page = await (await site.client.get(f"/jobs/{job_id}")).get_data(as_text=True)
    form = re.search(
        rf'<form class="cancel-form"[^>]*action="/jobs/{job_id}/cancel".*?</form>', page, re.S
    )
    assert form, "the upload page offers Cancel"
    assert 'name="return_to" value="job"' in form.group(0) and "data-upload-form" in page
    token = await site.csrf()
    response = await site.client.post(
        f"/jobs/{job_id}/cancel", form={"csrf_token": token, "return_to": "job"}
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/jobs/{job_id}"
    html = await (await site.client.get(f"/jobs/{job_id}")).get_data(as_text=True)
    assert "“Never uploaded” was cancelled." in html
    assert CANCELLED_REASON in html and "Remove this job" in html
    assert "data-upload-form" not in html and "data-cancel-button" not in html
    job = site.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.FAILED and job.failed_at is not None


async def test_cancel_from_a_dashboard_row(site: Site) -> None:
    job_id = await site.create_job(title="Forgotten")
    site.store_source(job_id)
    converting = await site.create_job(title="Busy")
    site.start_converting(converting)
    html = await (await site.client.get("/")).get_data(as_text=True)
    row = _running_item(html, job_id)
    assert f'action="/jobs/{job_id}/cancel"' in row and 'value="dashboard"' in row
    assert 'name="csrf_token"' in row
    assert "/cancel" not in _running_item(html, converting)  # started: nothing to cancel
    token = await site.csrf()
    response = await site.client.post(
        f"/jobs/{job_id}/cancel", form={"csrf_token": token, "return_to": "dashboard"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/"
    after = await (await site.client.get("/")).get_data(as_text=True)
    assert "“Forgotten” was cancelled." in after
    assert f'data-job-id="{job_id}"' not in after
    assert CANCELLED_REASON in _failed_section(after)


async def test_cancel_needs_the_csrf_token(site: Site) -> None:
    job_id = await site.create_job()
    await site.csrf()
    response = await site.client.post(f"/jobs/{job_id}/cancel", form={"csrf_token": "forged"})
    assert response.status_code == 403
    job = site.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.CREATED


async def test_cancelling_a_started_job_is_refused_readably(site: Site) -> None:
    job_id = await site.create_job()
    site.start_converting(job_id)
    token = await site.csrf()
    response = await site.client.post(f"/jobs/{job_id}/cancel", form={"csrf_token": token})
    assert response.status_code == 409
    assert "only a job still waiting for its video can be cancelled" in (
        await response.get_data(as_text=True)
    )
    job = site.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.CHUNKING_COMPLETE


@pytest.mark.parametrize("bad", ["not-a-uuid", str(uuid4())])
async def test_cancel_of_bad_or_unknown_ids_is_404(site: Site, bad: str) -> None:
    token = await site.csrf()
    assert (
        await site.client.post(f"/jobs/{bad}/cancel", form={"csrf_token": token})
    ).status_code == 404
    assert (await site.client.post(f"/api/jobs/{bad}/cancel")).status_code == 404


async def test_an_upload_after_cancel_is_ignored_and_removed_with_the_job(
    site: Site, tiny_video: bytes
) -> None:
    job_id = await site.create_job(title="Late upload")
    url = await site.upload_url(job_id)  # the page got its URL...
    assert (await site.client.post(f"/api/jobs/{job_id}/cancel")).status_code == 200
    put = await site.client.put(site.signed_path(url), data=tiny_video)  # ...the PUT comes
    assert put.status_code == 409  # upload links work only while the job waits for its file
    assert not site.deps.storage.exists(keys.source_key(job_id))
    assert site.queue_count(QueueName.CHUNKING) == 0
    job = site.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.FAILED
    assert job.failure_reason == CANCELLED_REASON and job.total_segments is None

    assert (await site.client.delete(f"/api/jobs/{job_id}")).status_code == 202
    pipeline.cleanup_job(site.deps, job_id)
    assert [k for p in keys.job_prefixes(job_id) for k in site.deps.storage.list_keys(p)] == []
    assert site.deps.jobs.get(job_id) is None


# --------------------------------------------------------------------------- API


async def test_api_cancel_returns_the_failed_job(site: Site) -> None:
    job_id = await site.create_job()
    response = await site.client.post(f"/api/jobs/{job_id}/cancel")
    body = await response.get_json()
    assert response.status_code == 200
    assert body["status"] == "failed" and body["failure_reason"] == CANCELLED_REASON
    assert body["failed_at"] is not None and body["id"] == str(job_id)
    again = await site.client.post(f"/api/jobs/{job_id}/cancel", json={})
    assert again.status_code == 200 and (await again.get_json())["failed_at"] == body["failed_at"]


async def test_api_cancel_of_a_started_job_is_409(site: Site) -> None:
    job_id = await site.create_job()
    site.start_converting(job_id)
    response = await site.client.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 409
    assert "already started" in (await response.get_json())["error"]


async def test_api_cancel_refuses_cross_site_and_form_posts(site: Site) -> None:
    job_id = await site.create_job()
    cross = await site.client.post(
        f"/api/jobs/{job_id}/cancel", headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    form = await site.client.post(f"/api/jobs/{job_id}/cancel", form={"x": "1"})
    assert form.status_code == 415
    job = site.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.CREATED


async def test_api_lists_failed_jobs_newest_first_paginated(site: Site) -> None:
    ids = await _failed_jobs(site, 3)
    await site.create_job()  # waiting: not failed
    first = await (
        await site.client.get("/api/jobs", query_string={"status": "failed", "limit": 2})
    ).get_json()
    assert [job["id"] for job in first["jobs"]] == [str(ids[2]), str(ids[1])]
    assert first["jobs"][0]["failure_reason"] == "Reason number 02."
    assert first["jobs"][0]["failed_at"] is not None
    second = await (
        await site.client.get(
            "/api/jobs",
            query_string={"status": "failed", "limit": 2, "cursor": first["next_cursor"]},
        )
    ).get_json()
    assert [job["id"] for job in second["jobs"]] == [str(ids[0])]
    assert second["next_cursor"] is None


@pytest.mark.parametrize("status", ["failed", "completed"])
async def test_api_bad_cursor_is_a_readable_400(site: Site, status: str) -> None:
    response = await site.client.get(
        "/api/jobs", query_string={"status": status, "cursor": "%%%not-a-cursor"}
    )
    assert response.status_code == 400
    assert "page of results" in (await response.get_json())["error"]


async def test_openapi_documents_cancel_and_the_failed_listing(site: Site) -> None:
    document = await (await site.client.get("/openapi.json")).get_json()
    cancel = document["paths"]["/api/jobs/{job_id}/cancel"]["post"]
    assert {"200", "404", "409"} <= set(cancel["responses"])
    assert "Cancelled before the upload." in cancel["description"]
    parameters = document["paths"]["/api/jobs"]["get"]["parameters"]
    [status] = [p for p in parameters if p["name"] == "status"]
    assert "failed" in str(status["schema"])
