"""The JSON API and its OpenAPI document."""

from __future__ import annotations

from uuid import UUID

from openapi_spec_validator import validate

from stereospot.domain.model import JobStatus
from stereospot.domain.routing import QueueName
from tests.integration.web.conftest import Site


async def test_create_job_with_defaults(site: Site) -> None:
    response = await site.client.post("/api/jobs", json={})
    body = await response.get_json()
    assert response.status_code == 201
    assert body["status"] == "created"
    assert body["output_format"] == "half-sbs"
    assert (body["divergence"], body["convergence"]) == (2.0, 0.5)
    assert body["links"]["page"] == f"http://localhost/jobs/{body['id']}"
    assert body["links"]["download"] is None
    assert site.deps.jobs.get(UUID(body["id"])) is not None


async def test_jobs_carry_pixel_format_lossless_and_a_negative_convergence(site: Site) -> None:
    body = {"pixel_format": "yuv444p", "lossless": True, "convergence": -0.5}
    response = await site.client.post("/api/jobs", json=body)
    assert response.status_code == 201
    created = await response.get_json()
    assert (created["pixel_format"], created["lossless"], created["convergence"]) == (
        "yuv444p", True, -0.5,
    )  # fmt: skip
    job = site.deps.jobs.get(UUID(created["id"]))
    assert job is not None
    assert (job.settings.pixel_format.value, job.settings.lossless) == ("yuv444p", True)
    assert job.settings.convergence == -0.5


async def test_create_job_rejects_bad_input_with_a_readable_message(site: Site) -> None:
    cases = [
        ({"output_format": "hologram"}, "output_format"),
        ({"divergence": 50}, "divergence"),
        ({"convergence": -1.5}, "convergence"),
        ({"pixel_format": "rgb48"}, "pixel_format"),
        ({"source_url": "ftp://example.com/a.mp4"}, "source_url"),
        ({"unknown": 1}, "unknown"),
    ]
    for body, field in cases:
        response = await site.client.post("/api/jobs", json=body)
        assert response.status_code == 400, body
        message = (await response.get_json())["error"]
        assert message.startswith("Invalid request.") and field in message, message
    not_json = await site.client.post("/api/jobs", data="output_format=full-sbs")
    assert not_json.status_code == 400
    assert site.deps.jobs.list_in_progress() == []


async def test_create_from_a_link_queues_the_download(site: Site) -> None:
    response = await site.client.post(
        "/api/jobs", json={"source_url": "https://example.com/v/My%20Trip.webm"}
    )
    body = await response.get_json()
    assert response.status_code == 201
    assert body["title"] == "My Trip"  # the file name until the fetched title
    assert site.queue_count(QueueName.INGEST) == 1


async def test_upload_url_titles_the_job_and_is_refused_once_uploaded(site: Site) -> None:
    job_id = await site.create_job()
    response = await site.client.post(
        f"/api/jobs/{job_id}/upload-url", json={"filename": "Summer Holiday.final.MOV"}
    )
    grant = await response.get_json()
    assert response.status_code == 200
    assert grant["method"] == "PUT"
    assert grant["max_bytes"] == site.settings.max_upload_bytes
    assert grant["url"].startswith(f"http://localhost/files/input/{job_id}/source.mp4?")
    job = await (await site.client.get(f"/api/jobs/{job_id}")).get_json()
    assert job["title"] == "Summer Holiday.final"
    assert job["download_name"] == "Summer_Holiday.final_LR_Half_SBS.mp4"
    await site.client.put(site.signed_path(grant["url"]), data=b"0" * 2048)
    site.start_converting(job_id)
    again = await site.client.post(f"/api/jobs/{job_id}/upload-url", json={})
    assert again.status_code == 409
    assert "already has its video" in (await again.get_json())["error"]


async def test_get_job_while_converting_reports_progress(site: Site) -> None:
    job_id = await site.create_job()
    site.start_converting(job_id, total=4)
    site.complete_segment(job_id, 1)
    body = await (await site.client.get(f"/api/jobs/{job_id}")).get_json()
    assert body["status"] == "chunking_complete"
    assert body["progress"]["segments_done"] == 1
    assert body["progress"]["segments_total"] == 4
    assert body["progress"]["percent"] == 27.5
    assert body["progress"]["stage"] == "Converting to 3D"


async def test_completed_job_carries_signed_links(site: Site, tiny_video: bytes) -> None:
    job_id = await site.create_job(output_format="full-sbs")
    site.complete(job_id, tiny_video, title="holiday")
    body = await (await site.client.get(f"/api/jobs/{job_id}")).get_json()
    assert body["status"] == "completed"
    assert body["conversion_seconds"] is not None and body["seconds_per_mb"] is not None
    download = await site.client.get(site.signed_path(body["links"]["download"]))
    assert download.status_code == 200
    assert "holiday_LRF_Full_SBS.mp4" in download.headers["Content-Disposition"]
    stream = await site.client.get(site.signed_path(body["links"]["stream"]))
    assert await stream.get_data() == tiny_video


async def test_list_jobs_in_progress_and_completed_paginated(site: Site, tiny_video: bytes) -> None:
    running = await site.create_job(title="running")
    site.store_source(running)
    await site.create_job(title="no file yet")  # listed nowhere
    done = []
    for number in range(3):
        job_id = await site.create_job(title=f"done {number}")
        site.complete(job_id, tiny_video)
        done.append(str(job_id))
    in_progress = await (await site.client.get("/api/jobs?status=in_progress")).get_json()
    assert [job["id"] for job in in_progress["jobs"]] == [str(running)]
    first = await (await site.client.get("/api/jobs?limit=2")).get_json()
    assert [job["id"] for job in first["jobs"]] == done[::-1][:2]
    assert first["next_cursor"]
    second = await (
        await site.client.get(
            "/api/jobs", query_string={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).get_json()
    assert [job["id"] for job in second["jobs"]] == [done[0]]
    assert second["next_cursor"] is None
    bad = await site.client.get("/api/jobs?limit=1000")
    assert bad.status_code == 400


async def test_delete_a_finished_job(site: Site, tiny_video: bytes) -> None:
    job_id = await site.create_job()
    site.complete(job_id, tiny_video)
    response = await site.client.delete(f"/api/jobs/{job_id}")
    assert response.status_code == 202
    assert site.queue_count(QueueName.DELETION) == 1
    stored = site.deps.jobs.get(job_id)
    assert stored is not None and stored.status is JobStatus.DELETED
    assert (await site.client.get(f"/api/jobs/{job_id}")).status_code == 404
    assert (await site.client.delete(f"/api/jobs/{job_id}")).status_code == 404


async def test_cross_site_writes_are_refused(site: Site) -> None:
    evil = {"Origin": "https://evil.example"}
    response = await site.client.post("/api/jobs", json={}, headers=evil)
    assert response.status_code == 403
    null_origin = await site.client.post("/api/jobs", json={}, headers={"Origin": "null"})
    assert null_origin.status_code == 403
    same = await site.client.post("/api/jobs", json={}, headers={"Origin": "http://localhost"})
    assert same.status_code == 201
    assert len(site.deps.jobs.list_in_progress()) == 1


async def test_openapi_document_is_valid_and_lists_the_api(site: Site) -> None:
    response = await site.client.get("/openapi.json")
    document = await response.get_json()
    assert response.status_code == 200
    validate(document)
    paths = document["paths"]
    assert set(paths["/api/jobs"]) >= {"get", "post"}
    assert set(paths["/api/jobs/{job_id}"]) >= {"get", "delete"}
    assert "post" in paths["/api/jobs/{job_id}/upload-url"]
    assert "post" in paths["/api/jobs/{job_id}/push-subscriptions"]
    assert "get" in paths["/api/push/public-key"]
    assert not [path for path in paths if not path.startswith("/api/")], "pages are not API"
    create = paths["/api/jobs"]["post"]
    assert "201" in create["responses"] and "requestBody" in create
