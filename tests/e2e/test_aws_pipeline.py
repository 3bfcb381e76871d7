"""The whole product on the aws platform: the web app and both workers as separate
processes against moto's server (S3, SQS, DynamoDB over HTTP), the local inference backend.

Driven like a user of the JSON API: create a job, ask for an upload URL (a presigned S3
PUT), PUT the clip to it, poll the job until it is done, fetch the 3D video from its
presigned download URL and check it with PyAV; then remove the job and see every object
and record go. A text file uploaded as a video fails its job with a readable reason; an S3
notification that keeps failing ends in its dead-letter queue with its job failed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import pytest

from stereospot.domain import keys
from stereospot.domain.formats import StereoFormat
from stereospot.domain.routing import QueueName
from tests.aws_server import MOTO_AVAILABLE, REGION
from tests.e2e.aws_stack import MAX_RECEIVES, AwsStack
from tests.e2e.pipeline_harness import video_facts
from tests.media_clips import decoded_frame_count, make_clip

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.aws,
    pytest.mark.skipif(not MOTO_AVAILABLE, reason="moto[server] is not installed"),
]

FPS = 12
SECONDS = 3.0
FINAL = ("completed", "failed")
# Browsers send the file's type with a PUT. A body sent as a form type would be read as a
# form by moto's server (not by S3) and stored empty, so the test names a real type.
VIDEO_TYPE = {"Content-Type": "video/mp4"}


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """160x96, 3 s at 12 fps with audio, a keyframe a second: three 1-second segments."""
    path = tmp_path_factory.mktemp("clips") / "source.mp4"
    return make_clip(path, seconds=SECONDS, fps=FPS, width=160, height=96, gop=FPS)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsStack]:
    stack = AwsStack(tmp_path_factory.mktemp("aws-stack"))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def api(stack: AwsStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=10) as client:
        yield client


def create_and_upload(
    stack: AwsStack, api: httpx.Client, body: bytes, filename: str, output_format: str
) -> dict[str, Any]:
    """What the page does: create the job, get an upload URL, PUT the file to S3."""
    created = api.post("/api/jobs", json={"output_format": output_format})
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["status"] == "created"

    grant = api.post(f"/api/jobs/{job['id']}/upload-url", json={"filename": filename})
    assert grant.status_code == 200, grant.text
    upload = grant.json()
    url = urlsplit(upload["url"])
    # A presigned S3 PUT on the stack's input bucket, not a URL of the web app.
    assert f"{url.scheme}://{url.netloc}" == stack.endpoint
    assert url.path == f"/{stack.settings.aws.input_bucket}/{keys.source_key(UUID(job['id']))}"
    assert "X-Amz-Signature=" in url.query
    assert upload["method"] == "PUT" and upload["max_bytes"] == 5 * 1024**3  # one S3 PUT

    put = httpx.put(upload["url"], content=body, headers=VIDEO_TYPE, timeout=30)
    assert put.status_code == 200, put.text
    return dict(job)


def wait_until_done(stack: AwsStack, api: httpx.Client, job_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        response = api.get(f"/api/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job if job["status"] in FINAL else None

    return stack.wait(done, 120, f"job {job_id} to finish")


def test_the_web_app_runs_on_the_stack_and_lets_its_pages_reach_s3(
    stack: AwsStack, api: httpx.Client
) -> None:
    web = next(p for p in stack.processes if p.name == "web")
    aws = stack.settings.aws
    assert f"data: S3 {aws.input_bucket}, {aws.output_bucket}; DynamoDB" in web.log()
    # The page PUTs the file to S3 and plays the result from there: its CSP allows that.
    job = api.post("/api/jobs", json={}).json()
    page = api.get(f"/jobs/{job['id']}")
    assert page.status_code == 200
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";")
    )
    assert stack.endpoint in policy["connect-src"].split()
    assert stack.endpoint in policy["media-src"].split()


def test_a_job_goes_from_upload_to_a_downloaded_3d_video(
    stack: AwsStack, api: httpx.Client, clip: Path, tmp_path: Path
) -> None:
    job = create_and_upload(stack, api, clip.read_bytes(), "Été à la plage.mp4", "full-sbs")
    job_id = UUID(job["id"])

    done = wait_until_done(stack, api, job["id"])
    assert done["status"] == "completed", (done["failure_reason"], stack.logs_text())
    assert done["title"] == "Été à la plage"
    assert done["progress"]["segments_done"] == done["progress"]["segments_total"] == 3

    # The download: a presigned GET on the output bucket, named as the page says.
    download = httpx.get(done["links"]["download"], timeout=30)
    assert download.status_code == 200
    assert urlsplit(done["links"]["download"]).path.startswith(
        f"/{stack.settings.aws.output_bucket}/"
    )
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert done["download_name"] == "Ete_a_la_plage_LRF_Full_SBS.mp4"
    assert f'filename="{done["download_name"]}"' in disposition
    final = tmp_path / "final.mp4"
    final.write_bytes(download.content)

    result, source = video_facts(final), video_facts(clip)
    assert result.frames == decoded_frame_count(clip) == round(SECONDS * FPS)
    assert abs(result.duration_s - source.duration_s) <= float(Fraction(1, FPS))
    assert result.audio_codec == "aac"
    assert (result.width, result.height) == (2 * source.width, source.height)  # full-sbs

    # In-page playback: the stream URL serves ranges inline.
    ranged = httpx.get(done["links"]["stream"], headers={"Range": "bytes=0-99"}, timeout=10)
    assert ranged.status_code == 206 and len(ranged.content) == 100
    assert ranged.headers["Content-Disposition"] == "inline"

    # The live stream tells the page it is done, and the completed list (a GSI) has it.
    with api.stream("GET", f"/jobs/{job_id}/events") as events:
        assert '"status":"completed"' in "".join(events.iter_text())
    listed = api.get("/api/jobs", params={"status": "completed"}).json()["jobs"]
    assert str(job_id) in [j["id"] for j in listed]

    # What the workers left: every segment's output, the final video, one completion per
    # segment, and nothing dead-lettered (no message failed even once for good).
    assert stack.deps.storage.list_keys(f"jobs/{job_id}/") == sorted(
        [keys.final_key(job_id), keys.poster_key(job_id), keys.reassembly_done_key(job_id)]
        + [keys.output_segment_key(job_id, i) for i in range(3)]
    )
    assert [c.segment_index for c in stack.deps.completions.list(job_id)] == [0, 1, 2]
    assert set(stack.dead_letter_counts().values()) == {0}

    # Remove it: the deletion queue's worker removes every object and record.
    removed = api.delete(f"/api/jobs/{job_id}")
    assert removed.status_code == 202
    assert api.get(f"/api/jobs/{job_id}").status_code == 404

    def cleaned_up() -> bool | None:
        objects = [k for k in stack.bucket_keys() if str(job_id) in k]
        return (not objects and stack.deps.jobs.get(job_id) is None) or None

    stack.wait(cleaned_up, 30, f"job {job_id} to be cleaned up")
    assert stack.deps.completions.list(job_id) == []
    # S3 answers a missing key with 403 rather than 404 unless the signer may list the bucket.
    assert httpx.get(done["links"]["download"], timeout=10).status_code in (403, 404)


def test_a_text_file_uploaded_as_a_video_fails_its_job_with_the_reason(
    stack: AwsStack, api: httpx.Client
) -> None:
    shopping_list = b"eggs, milk, bread\n" * 200
    job = create_and_upload(stack, api, shopping_list, "shopping-list.mp4", "half-sbs")

    done = wait_until_done(stack, api, job["id"])
    assert done["status"] == "failed"
    assert done["failure_reason"] == "This file is not a video: it contains text."
    assert done["failed_at"] is not None
    assert done["links"]["download"] is None
    failed = api.get("/api/jobs", params={"status": "failed"}).json()["jobs"]
    assert [j["failure_reason"] for j in failed if j["id"] == job["id"]] == [done["failure_reason"]]
    # A user's mistake is not retried into the dead-letter queue.
    assert stack.deps.queues[QueueName.CHUNKING].dead_letters().approximate_count() == 0


def s3_notification(bucket: str, key: str, size: int) -> str:
    """An ObjectCreated notification body as S3 sends it to SQS (key URL-encoded)."""
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": "2026-11-24T06:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": key, "size": size, "sequencer": "0055AED6DCD90281E5"},
        },
    }
    return json.dumps({"Records": [record]})


def test_a_segment_notification_that_keeps_failing_is_dead_lettered_and_fails_its_job(
    stack: AwsStack, api: httpx.Client
) -> None:
    # S3 announced a segment that is gone by the time the worker reads it: every attempt
    # fails (not the user's fault, so it is retried) until SQS's redrive policy takes it.
    job = api.post("/api/jobs", json={}).json()
    missing = keys.segment_key(UUID(job["id"]), 0, 1, StereoFormat.HALF_SBS)
    body = s3_notification(stack.bucket_of(missing), missing, 4096)
    queue = stack.deps.queues[QueueName.VIDEO_WORKER]
    queue.send(body)

    done = wait_until_done(stack, api, job["id"])
    assert done["status"] == "failed"
    assert done["failure_reason"].startswith("Processing stopped after repeated errors")
    assert f"{MAX_RECEIVES} attempts" in done["failure_reason"]
    dead = stack.wait(lambda: queue.dead_letters().receive(1, 1) or None, 30, "the DLQ")
    assert [d.body for d in dead] == [body]
    assert queue.approximate_count() == 0
    video_worker = next(p for p in stack.processes if p.name == "video-worker")
    assert video_worker.process.poll() is None  # it lives on
    retries = [
        line
        for line in video_worker.log().splitlines()
        if f"[job={job['id']} seg=0]" in line and "failed (attempt" in line
    ]
    assert len(retries) == MAX_RECEIVES - 1, video_worker.log()
