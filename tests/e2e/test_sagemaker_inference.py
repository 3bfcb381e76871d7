"""The `sagemaker` backend on moto's server, three video-worker processes, the test playing
the async endpoint.

S3, SQS, DynamoDB and the SageMaker control plane (DescribeEndpoint) are moto's. moto's
InvokeEndpointAsync answers with a made-up bucket and one fixed key for every call, so the
runtime API is played here instead, on loopback: it takes each invocation as SageMaker
does (InputLocation header, 202 with OutputLocation/FailureLocation under the prefixes the
deployment configures), then, one at a time, reads the request JSON from S3, converts with
the engine (the inference server's service, s3:// URIs on moto) and writes the status JSON
to the output location, or an error to the failure location, or nothing (a lost response).
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import boto3
import httpx
import pytest

from inference_server.service import InferenceService, ServiceOptions
from stereospot.container import engine_storage
from stereospot.domain.inference import parse_request
from stereospot.domain.routing import INFERENCE_FAILURE_PREFIX, INFERENCE_RESPONSE_PREFIX
from tests.aws_server import MOTO_AVAILABLE, REGION
from tests.e2e.aws_stack import AwsStack
from tests.e2e.pipeline_harness import video_facts
from tests.e2e.test_aws_pipeline import create_and_upload, wait_until_done
from tests.media_clips import decoded_frame_count, make_clip

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.aws,
    pytest.mark.slow,
    pytest.mark.timeout(400),
    pytest.mark.skipif(not MOTO_AVAILABLE, reason="moto[server] is not installed"),
]

CAP = 2
VIDEO_WORKERS = 3
# Long enough for every answer in the first test on a loaded machine (an invocation whose
# slot expired no longer counts: its TTL is the timeout), short for the lost-response test.
SLOT_TTL_S = 45


@dataclass
class Pending:
    input_location: str
    output_location: str
    failure_location: str
    submitted_at: float = field(default_factory=time.monotonic)


class PlayedEndpoint:
    """InvokeEndpointAsync over HTTP, and a thread that answers the invocations in order."""

    def __init__(self, stack: AwsStack) -> None:
        self.stack = stack
        self.output_bucket = stack.settings.aws.output_bucket
        self.s3 = boto3.client("s3", endpoint_url=stack.endpoint, region_name=REGION)
        self.pending: list[Pending] = []
        self.answered: list[Pending] = []
        self.fail_jobs: set[str] = set()
        self.lose_jobs: set[str] = set()
        self.most_pending = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        options = ServiceOptions(
            depth_model="builtin", device="cpu", aws_endpoint_url=stack.endpoint
        )
        self.service = InferenceService(options, engine_storage(options))
        self.service.load()
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                name = uuid.uuid4().hex
                bucket = f"s3://{endpoint.output_bucket}"
                call = Pending(
                    self.headers["X-Amzn-SageMaker-InputLocation"],
                    f"{bucket}/{INFERENCE_RESPONSE_PREFIX}{name}.out",
                    f"{bucket}/{INFERENCE_FAILURE_PREFIX}{name}-error.out",
                )
                with endpoint.lock:
                    endpoint.pending.append(call)
                    endpoint.most_pending = max(endpoint.most_pending, len(endpoint.pending))
                payload = json.dumps({"InferenceId": name}).encode()
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Amzn-SageMaker-OutputLocation", call.output_location)
                self.send_header("X-Amzn-SageMaker-FailureLocation", call.failure_location)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.worker = threading.Thread(target=self._answer_loop, daemon=True)
        self.worker.start()

    def _object(self, location: str) -> tuple[str, str]:
        parsed = urlparse(location)
        return parsed.netloc, unquote(parsed.path.lstrip("/"))

    def _answer_loop(self) -> None:
        while not self.stopping.is_set():
            with self.lock:
                ready = [p for p in self.pending if time.monotonic() - p.submitted_at > 0.5]
            if not ready:
                time.sleep(0.1)
                continue
            call = ready[0]
            bucket, key = self._object(call.input_location)
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            request = parse_request(body)
            job = str(request.job_id)
            time.sleep(0.5)  # the conversion takes a while: others queue up behind the cap
            if job in self.lose_jobs:
                pass  # never answered
            elif job in self.fail_jobs:
                bucket, key = self._object(call.failure_location)
                self.s3.put_object(Bucket=bucket, Key=key, Body=b"CUDA error: out of memory")
            else:
                result = self.service.convert(request)
                bucket, key = self._object(call.output_location)
                self.s3.put_object(Bucket=bucket, Key=key, Body=result.model_dump_json().encode())
            with self.lock:
                self.pending.remove(call)
                self.answered.append(call)

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


class CapWatch:
    """Samples the live in-flight slots in the store, all the time."""

    def __init__(self, stack: AwsStack) -> None:
        self.stack = stack
        self.samples: list[int] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        invocations = self.stack.deps.invocations
        while not self.stopping.is_set():
            now = self.stack.deps.clock.now()
            self.samples.append(invocations.live_slots(now, CAP + 5))
            time.sleep(0.1)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AwsStack, PlayedEndpoint]]:
    stack = AwsStack(tmp_path_factory.mktemp("sagemaker-stack"))
    control = boto3.client("sagemaker", endpoint_url=stack.endpoint, region_name=REGION)
    name = f"stereo-{uuid.uuid4().hex[:8]}"
    role = "arn:aws:iam::123456789012:role/sagemaker"
    control.create_model(
        ModelName=name, ExecutionRoleArn=role, PrimaryContainer={"Image": "stereospot:latest"}
    )
    control.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "main",
                "ModelName": name,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.g4dn.xlarge",
            }
        ],
    )
    control.create_endpoint(EndpointName=name, EndpointConfigName=name)
    endpoint = PlayedEndpoint(stack)
    stack.env |= {
        "STEREOSPOT_INFERENCE_BACKEND": "sagemaker",
        "STEREOSPOT_AWS__SAGEMAKER_ENDPOINT": name,
        "STEREOSPOT_AWS__SAGEMAKER_RUNTIME_URL": endpoint.url,
        "STEREOSPOT_INFERENCE_MAX_IN_FLIGHT": str(CAP),
        "STEREOSPOT_INFERENCE_INVOCATION_TIMEOUT_S": str(SLOT_TTL_S),
        "STEREOSPOT_INFERENCE_SLOT_WAIT_S": "1",
    }
    try:
        stack.start(video_workers=VIDEO_WORKERS)
        yield stack, endpoint
    finally:
        stack.stop()
        endpoint.close()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "source.mp4"
    return make_clip(path, seconds=4.0, fps=12, width=128, height=80, gop=12)


@pytest.fixture
def api(world: tuple[AwsStack, PlayedEndpoint]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=world[0].url, timeout=10) as client:
        yield client


def test_two_jobs_complete_and_three_workers_never_exceed_the_cap(
    world: tuple[AwsStack, PlayedEndpoint], api: httpx.Client, clip: Path, tmp_path: Path
) -> None:
    stack, endpoint = world
    watch = CapWatch(stack)
    try:
        jobs = [
            create_and_upload(stack, api, clip.read_bytes(), f"c{i}.mp4", "half-sbs")
            for i in range(2)
        ]
        done = [wait_until_done(stack, api, job["id"]) for job in jobs]
    finally:
        watch.close()
    for job in done:
        assert job["status"] == "completed", (job["failure_reason"], stack.logs_text())
    assert max(watch.samples) <= CAP
    assert max(watch.samples) == CAP  # the cap was reached: the test measured something
    assert endpoint.most_pending <= CAP
    assert len(endpoint.answered) == 8  # 2 jobs x 4 segments, each invoked once
    assert "every inference slot is taken" in stack.logs_text()
    final = tmp_path / "final.mp4"
    stack.deps.storage.get_file(f"jobs/{done[0]['id']}/final.mp4", final)
    assert video_facts(final).frames == decoded_frame_count(clip)
    assert watch.samples[-1] == 0


def test_a_failure_object_fails_the_job_with_its_reason(
    world: tuple[AwsStack, PlayedEndpoint], api: httpx.Client, clip: Path
) -> None:
    stack, endpoint = world
    job = api.post("/api/jobs", json={"output_format": "anaglyph"}).json()
    endpoint.fail_jobs.add(job["id"])
    job = create_and_upload_existing(stack, api, job, clip)
    done = wait_until_done(stack, api, job["id"])
    assert done["status"] == "failed"
    assert "could not be converted: the inference endpoint failed" in done["failure_reason"]
    assert "CUDA error" not in done["failure_reason"]
    assert "CUDA error: out of memory" in stack.logs_text()  # the detail is logged


def test_a_lost_response_frees_its_slot_after_the_ttl(
    world: tuple[AwsStack, PlayedEndpoint], api: httpx.Client, tmp_path: Path
) -> None:
    stack, endpoint = world
    clip = make_clip(tmp_path / "three.mp4", seconds=3.0, fps=12, width=128, height=80, gop=12)
    job = api.post("/api/jobs", json={"output_format": "half-sbs"}).json()
    endpoint.lose_jobs.add(job["id"])
    create_and_upload_existing(stack, api, job, clip)

    def calls() -> list[Pending]:
        with endpoint.lock:
            everything = endpoint.answered + endpoint.pending
            return [c for c in everything if job["id"] in c.input_location]

    # Three segments, two slots, no answers: the third is invoked only once the TTL of
    # the first two has freed their slots.
    stack.wait(lambda: len(calls()) >= 3 or None, 2 * SLOT_TTL_S + 60, "all three invocations")
    submitted = sorted(c.submitted_at for c in calls())
    assert submitted[2] - submitted[0] >= SLOT_TTL_S - 2
    assert len(calls()) == 3


def create_and_upload_existing(
    stack: AwsStack, api: httpx.Client, job: dict[str, object], clip: Path
) -> dict[str, object]:
    grant = api.post(f"/api/jobs/{job['id']}/upload-url", json={"filename": "clip.mp4"})
    assert grant.status_code == 200, grant.text
    put = httpx.put(
        grant.json()["url"], content=clip.read_bytes(), headers={"Content-Type": "video/mp4"}
    )
    assert put.status_code == 200, put.text
    return job
