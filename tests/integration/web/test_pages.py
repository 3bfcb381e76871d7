"""The pages: dashboard, create form, job page in every state, remove, bad ids."""

from __future__ import annotations

import re
import uuid
from uuid import UUID

import pytest

from stereospot.domain import keys
from stereospot.domain.model import JobStatus
from stereospot.domain.routing import QueueName
from stereospot.domain.services import pipeline
from stereospot.domain.services.jobs import request_deletion
from tests.integration.web.conftest import Site


async def test_dashboard_offers_a_create_form_with_defaults_and_help(site: Site) -> None:
    response = await site.client.get("/")
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="output_format"' in html
    assert 'name="divergence" id="divergence" value="2.0"' in html
    assert 'name="convergence" id="convergence" value="0.5"' in html
    assert "3D strength: the largest shift between the eyes" in html
    assert "Screen plane: 0 puts everything behind the screen" in html
    assert "Side-by-side (full width)" in html
    assert "Nothing is converting right now." in html


async def test_form_post_creates_a_job_and_shows_its_upload_page(site: Site) -> None:
    token = await site.csrf()
    response = await site.client.post(
        "/jobs",
        form={
            "csrf_token": token,
            "output_format": "full-tb",
            "divergence": "3.5",
            "convergence": "0.25",
        },
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    job_id = UUID(location.rsplit("/", 1)[1])
    job = site.deps.jobs.get(job_id)
    assert job is not None
    assert job.output_format.value == "full-tb"
    assert (job.settings.divergence, job.settings.convergence) == (3.5, 0.25)
    page = await (await site.client.get(location)).get_data(as_text=True)
    assert "data-upload-form" in page and 'type="file"' in page
    assert "Waiting for upload" in page


async def test_form_carries_pixel_format_lossless_and_a_negative_convergence(site: Site) -> None:
    html = await (await site.client.get("/")).get_data(as_text=True)
    assert 'name="pixel_format"' in html and 'name="lossless"' in html
    assert 'name="convergence" id="convergence" value="0.5" min="-1"' in html
    token = await site.csrf()
    form = {"csrf_token": token, "output_format": "full-sbs", "divergence": "2",
            "convergence": "-0.5", "pixel_format": "yuv420p10le", "lossless": "on"}  # fmt: skip
    response = await site.client.post("/jobs", form=form)
    assert response.status_code == 303
    job = site.deps.jobs.get(UUID(response.headers["Location"].rsplit("/", 1)[1]))
    assert job is not None
    settings = job.settings
    assert (settings.convergence, settings.pixel_format.value, settings.lossless) == (
        -0.5, "yuv420p10le", True,
    )  # fmt: skip


async def test_form_post_with_bad_values_says_what_is_wrong(site: Site) -> None:
    token = await site.csrf()
    response = await site.client.post(
        "/jobs",
        form={
            "csrf_token": token,
            "output_format": "full-sbs",
            "divergence": "50",
            "convergence": "x",
        },
    )
    html = await response.get_data(as_text=True)
    assert response.status_code == 400
    assert "3D strength must be above 0 and at most 10" in html
    assert site.deps.jobs.list_in_progress() == []


async def test_form_post_with_a_link_queues_a_download(site: Site) -> None:
    token = await site.csrf()
    response = await site.client.post(
        "/jobs",
        form={
            "csrf_token": token,
            "output_format": "anaglyph",
            "divergence": "2",
            "convergence": "0.5",
            "source_url": "https://videos.example/clips/Beach%20Day.mp4",
        },
    )
    assert response.status_code == 303
    assert site.queue_count(QueueName.INGEST) == 1
    page = await (await site.client.get(response.headers["Location"])).get_data(as_text=True)
    assert "Waiting to download" in page
    assert "data-upload-form" not in page


async def test_job_page_while_converting_shows_stage_segments_and_live_hooks(site: Site) -> None:
    job_id = await site.create_job(title="Holiday")
    site.start_converting(job_id, total=4)
    site.complete_segment(job_id, 0)
    site.complete_segment(job_id, 2)
    html = await (await site.client.get(f"/jobs/{job_id}")).get_data(as_text=True)
    assert "Converting to 3D" in html
    assert "2 of 4 segments" in html
    assert 'value="50.0"' in html  # 5 + 90 * 2/4
    assert f'data-events-url="/jobs/{job_id}/events"' in html
    assert "Remove this job" not in html  # not removable while converting


async def test_completed_job_page_has_player_download_and_statistics(
    site: Site, tiny_video: bytes
) -> None:
    job_id = await site.create_job(output_format="full-sbs")
    site.complete(job_id, tiny_video, title="holiday")
    html = await (await site.client.get(f"/jobs/{job_id}")).get_data(as_text=True)
    assert f'src="/jobs/{job_id}/video"' in html
    assert f'href="/jobs/{job_id}/download"' in html
    assert "holiday_LRF_Full_SBS.mp4" in html
    assert "Time taken" in html and "Converted at" in html
    assert re.search(r'data-stat="speed">\d+\.\d+x real time<', html), "a speed, not s/MB"
    assert "Open in 3D player" in html
    assert "Remove this job" in html


async def test_download_link_redirects_to_a_signed_attachment_with_the_suffix(
    site: Site, tiny_video: bytes
) -> None:
    job_id = await site.create_job(output_format="full-sbs")
    site.complete(job_id, tiny_video, title="holiday")
    redirect = await site.client.get(f"/jobs/{job_id}/download")
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert location.startswith("http://localhost/files/jobs/")
    response = await site.client.get(site.signed_path(location))
    assert response.status_code == 200
    assert await response.get_data() == tiny_video
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "holiday_LRF_Full_SBS.mp4" in disposition
    inline = await site.client.get(f"/jobs/{job_id}/video")
    played = await site.client.get(site.signed_path(inline.headers["Location"]))
    assert played.status_code == 200 and played.mimetype == "video/mp4"
    assert "Content-Disposition" not in played.headers


async def test_non_video_upload_fails_the_job_with_the_toolkits_reason(site: Site) -> None:
    job_id = await site.create_job()
    url = await site.upload_url(job_id, "notes.mp4")
    put = await site.client.put(site.signed_path(url), data=b"this is not a video at all\n" * 40)
    assert put.status_code == 200
    assert site.queue_count(QueueName.CHUNKING) == 1
    waiting = await (await site.client.get(f"/jobs/{job_id}")).get_data(as_text=True)
    assert "Uploaded, waiting to start" in waiting and "data-upload-form" not in waiting
    pipeline.chunk_source(site.deps, job_id)  # what the media worker does with that message
    job = site.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.FAILED
    assert job.failure_reason
    html = await (await site.client.get(f"/jobs/{job_id}")).get_data(as_text=True)
    assert "The conversion failed" in html
    assert job.failure_reason.replace("'", "&#39;").replace('"', "&#34;") in html
    assert "Remove this job" in html


async def test_removing_a_completed_job_makes_its_urls_answer_404(
    site: Site, tiny_video: bytes
) -> None:
    job_id = await site.create_job()
    site.complete(job_id, tiny_video)
    stream = await site.client.get(f"/jobs/{job_id}/video")
    file_path = site.signed_path(stream.headers["Location"])
    token = await site.csrf()
    response = await site.client.post(f"/jobs/{job_id}/delete", form={"csrf_token": token})
    assert response.status_code == 303
    assert site.queue_count(QueueName.DELETION) == 1
    dashboard = await (await site.client.get("/")).get_data(as_text=True)
    assert "was removed" in dashboard
    for path in (f"/jobs/{job_id}", f"/api/jobs/{job_id}", f"/jobs/{job_id}/download", file_path):
        assert (await site.client.get(path)).status_code == 404, path
    # The asynchronous cleanup then removes every object and record.
    pipeline.cleanup_job(site.deps, job_id)
    assert site.deps.storage.list_keys(f"jobs/{job_id}/") == []
    assert site.deps.jobs.get(job_id) is None
    assert (await site.client.get(f"/jobs/{job_id}")).status_code == 404


async def test_removing_a_job_in_flight_is_refused_and_removes_nothing(site: Site) -> None:
    job_id = await site.create_job()
    url = await site.upload_url(job_id)
    await site.client.put(site.signed_path(url), data=b"x" * 2048)
    site.start_converting(job_id)
    token = await site.csrf()
    response = await site.client.post(f"/jobs/{job_id}/delete", form={"csrf_token": token})
    html = await response.get_data(as_text=True)
    assert response.status_code == 409
    assert "it can be removed once it has completed or failed" in html
    job = site.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.CHUNKING_COMPLETE
    assert site.deps.storage.exists(keys.source_key(job_id))
    assert site.queue_count(QueueName.DELETION) == 0
    api = await site.client.delete(f"/api/jobs/{job_id}")
    assert api.status_code == 409
    assert "still" in (await api.get_json())["error"]


JOB_ROUTES = (
    "/jobs/{id}",
    "/jobs/{id}/panel",
    "/jobs/{id}/events",
    "/jobs/{id}/download",
    "/jobs/{id}/video",
    "/jobs/{id}/players",
    "/jobs/{id}/playlist.m3u",
    "/api/jobs/{id}",
)
BAD_IDS = ("not-a-uuid", "12345", "0" * 36, str(uuid.uuid4()).upper(), "..%2F..%2Fsecret_key")


@pytest.mark.parametrize("route", JOB_ROUTES)
async def test_bad_and_unknown_ids_answer_404_everywhere(site: Site, route: str) -> None:
    for bad in (*BAD_IDS, str(uuid.uuid4())):
        response = await site.client.get(route.format(id=bad))
        assert response.status_code == 404, (route, bad)


async def test_bad_ids_on_writes_answer_404(site: Site) -> None:
    token = await site.csrf()
    for bad in ("not-a-uuid", str(uuid.uuid4())):
        form = await site.client.post(f"/jobs/{bad}/delete", form={"csrf_token": token})
        assert form.status_code == 404
        assert (await site.client.delete(f"/api/jobs/{bad}")).status_code == 404
        upload = await site.client.post(f"/api/jobs/{bad}/upload-url", json={"filename": "a.mp4"})
        assert upload.status_code == 404


@pytest.mark.parametrize("route", JOB_ROUTES)
async def test_a_deleted_job_is_gone_on_every_route(
    site: Site, tiny_video: bytes, route: str
) -> None:
    job_id = await site.create_job()
    site.complete(job_id, tiny_video)
    request_deletion(site.deps, job_id)
    assert (await site.client.get(route.format(id=job_id))).status_code == 404


async def test_dashboard_lists_running_and_paginates_completed_newest_first(
    site: Site, tiny_video: bytes
) -> None:
    running = await site.create_job(title="Still going")
    site.start_converting(running)
    finished = []
    for number in range(12):
        job_id = await site.create_job(title=f"Film {number:02d}")
        site.complete(job_id, tiny_video)
        finished.append(job_id)
    first = await (await site.client.get("/")).get_data(as_text=True)
    assert "Still going" in first
    assert first.index("Film 11") < first.index("Film 10")
    assert "Film 01" not in first
    older = re.search(r'href="(/\?cursor=[^"]+)">Older', first)
    assert older, "a link to older completed jobs"
    second = await (await site.client.get(older.group(1).replace("&amp;", "&"))).get_data(
        as_text=True
    )
    assert "Film 01" in second and "Film 00" in second and "Film 11" not in second
    fragment = await (await site.client.get("/fragments/jobs")).get_data(as_text=True)
    assert "Still going" in fragment and "<html" not in fragment


async def test_a_bad_page_cursor_is_a_readable_400(site: Site) -> None:
    response = await site.client.get("/?cursor=%%%not-a-cursor")
    assert response.status_code == 400
    assert "page of results" in await response.get_data(as_text=True)


async def test_the_poster_frame_serves_the_thumbnail_once_made(
    site: Site, tiny_video: bytes
) -> None:
    from stereospot.domain import keys as object_keys

    job_id = await site.create_job(output_format="full-sbs")
    assert (await site.client.get(f"/jobs/{job_id}/poster.jpg")).status_code == 404
    site.complete(job_id, tiny_video, title="holiday")
    assert (await site.client.get(f"/jobs/{job_id}/poster.jpg")).status_code == 404  # none made
    site.deps.storage.put_bytes(object_keys.poster_key(job_id), b"\xff\xd8 a jpeg")
    poster = await site.client.get(f"/jobs/{job_id}/poster.jpg")
    assert poster.status_code == 200 and poster.mimetype == "image/jpeg"
    assert await poster.get_data() == b"\xff\xd8 a jpeg"
    html = await (await site.client.get(f"/jobs/{job_id}")).get_data(as_text=True)
    assert f'poster="/jobs/{job_id}/poster.jpg"' in html
    assert 'data-view-mode="anaglyph"' in html and "data-enter-vr hidden" in html
    dashboard = await (await site.client.get("/")).get_data(as_text=True)
    assert f'src="/jobs/{job_id}/poster.jpg"' in dashboard


async def test_the_pages_script_reads_the_domains_wording(site: Site) -> None:
    from stereospot.domain.model import TERMINAL_STATUSES
    from stereospot.domain.wording import STAGE_UPLOADED

    html = await (await site.client.get("/")).get_data(as_text=True)
    found = re.search(r'data-terminal-statuses="([^"]*)"', html)
    assert found is not None
    assert set(found.group(1).split()) == {status.value for status in TERMINAL_STATUSES}
    assert f'data-stage-uploaded="{STAGE_UPLOADED}"' in html
