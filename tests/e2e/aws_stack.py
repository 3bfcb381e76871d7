"""The product on the aws platform, against moto's server, as separate processes.

`AwsStack` provisions a fresh stack on the session's moto server (buckets with the S3 ->
SQS notifications of the routing table, queues with DLQs, tables), then starts
`stereospot web`, `stereospot worker media` and `stereospot worker video` with
STEREOSPOT_PLATFORM=aws and the stack's names in their environment, exactly as a
deployment's containers would get them. The test process reads the same stack through the
aws platform container, to check what the processes left behind.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

import httpx

from stereospot.adapters.aws.clients import AwsClients
from stereospot.config import AwsSettings, Platform, QueueTimeouts, Settings
from stereospot.container import build_container
from stereospot.domain.routing import Bucket, QueueName, bucket_for_key
from stereospot.domain.services.deps import Deps
from stereospot.ops.provision import environment, provision
from tests.aws_server import REGION, fresh_prefix, moto_endpoint
from tests.e2e.serve_process import CLI, free_port, stop_gracefully

T = TypeVar("T")

SEGMENT_SECONDS = 1.0
MAX_RECEIVES = 3
# Short visibility timeouts: a message a worker dropped comes back within seconds (the
# workers' heartbeats extend it while a segment is converted).
VISIBILITY_S = 5
_START_TIMEOUT_S = 60


def stack_settings(
    endpoint: str, visibility_s: int = VISIBILITY_S, segment_seconds: float = SEGMENT_SECONDS
) -> Settings:
    """The settings every process of the stack shares (before provisioning names things)."""
    timeouts = {name: visibility_s for name in QueueTimeouts.model_fields}
    return Settings(
        platform=Platform.AWS,
        segment_seconds=segment_seconds,
        max_receives=MAX_RECEIVES,
        device="cpu",
        queue_timeouts=QueueTimeouts(**timeouts),
        aws=AwsSettings(region=REGION, endpoint_url=endpoint),
    )


def process_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    """The environment of the web and worker processes: the stack's names (as Terraform's
    outputs would set them) and the shared settings. AWS credentials are the fake ones
    tests/aws_server.py put in this process's environment."""
    stack = environment(settings.aws)
    # Nothing of the developer's own STEREOSPOT_ configuration leaks in.
    env = {n: v for n, v in os.environ.items() if not n.startswith("STEREOSPOT_")} | stack
    env |= {
        "STEREOSPOT_DATA_DIR": str(data_dir),  # scratch only; the platform keeps nothing here
        "STEREOSPOT_SEGMENT_SECONDS": str(settings.segment_seconds),
        "STEREOSPOT_MAX_RECEIVES": str(settings.max_receives),
        "STEREOSPOT_DEVICE": settings.device,
        "STEREOSPOT_INFERENCE_BACKEND": "local",
        "STEREOSPOT_LOG_LEVEL": "INFO",
        "HF_HUB_OFFLINE": "1",  # no model hub here: the builtin depth at once
    }
    for name, seconds in settings.queue_timeouts.model_dump().items():
        env[f"STEREOSPOT_QUEUE_TIMEOUTS__{name.upper()}"] = str(seconds)
    return env


@dataclass
class ProductProcess:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes] = field(repr=False)

    def log(self) -> str:
        self.log_file.flush()
        return self.log_path.read_text(errors="replace")


class AwsStack:
    """A provisioned stack on moto and the product's processes on it."""

    def __init__(
        self,
        root: Path,
        *,
        visibility_s: int = VISIBILITY_S,
        segment_seconds: float = SEGMENT_SECONDS,
    ) -> None:
        self.root = root
        self.endpoint = moto_endpoint()
        base = stack_settings(self.endpoint, visibility_s, segment_seconds)
        self.clients = AwsClients.from_settings(base.aws)
        self.settings = base.model_copy(
            update={"aws": provision(self.clients, fresh_prefix(), base)}
        )
        self.deps: Deps = build_container(self.settings).deps()
        self.env = process_env(self.settings, root / "data")
        # The aws platform's scratch folders go to the system temp dir: this stack's own.
        self.scratch_dir = root / "scratch"
        self.scratch_dir.mkdir()
        self.env["TMPDIR"] = str(self.scratch_dir)
        self.processes: list[ProductProcess] = []
        self.url = ""

    # ------------------------------------------------------------------ processes

    def start(self, video_workers: int = 1) -> None:
        """The web app and one worker of each kind (or more video workers), all at once;
        returns when the web app answers (the workers need no waiting: SQS keeps what
        arrives before they poll)."""
        port = free_port()
        self._spawn("web", ["web", "--host", "127.0.0.1", "--port", str(port)])
        self._spawn("media-worker", ["worker", "media"])
        for number in range(video_workers):
            self._spawn("video-worker" + (f"-{number + 1}" if number else ""), ["worker", "video"])
        self.url = f"http://127.0.0.1:{port}"
        self.wait(self._web_answers, _START_TIMEOUT_S, "the web app to answer")

    def start_video_worker(self, name: str) -> ProductProcess:
        """One more video worker (e.g. the replacement of one that was killed)."""
        return self._spawn(name, ["worker", "video"])

    def start_web_tasks(self, count: int) -> list[str]:
        """`count` web processes and no workers (as several ECS web tasks); their URLs,
        once each answers."""
        urls = []
        for number in range(count):
            port = free_port()
            self._spawn(f"web-{number + 1}", ["web", "--host", "127.0.0.1", "--port", str(port)])
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            self.url = url
            self.wait(self._web_answers, _START_TIMEOUT_S, f"the web app at {url} to answer")
        return urls

    def _spawn(self, name: str, arguments: list[str]) -> ProductProcess:
        log_path = self.root / f"{name}.log"
        log_file = log_path.open("wb")
        process = subprocess.Popen(
            [*CLI, *arguments], env=self.env, stdout=log_file, stderr=subprocess.STDOUT
        )
        product = ProductProcess(name, process, log_path, log_file)
        self.processes.append(product)
        return product

    def _web_answers(self) -> bool | None:
        for part in self.processes:
            if part.process.poll() is not None:
                raise AssertionError(f"{part.name} exited early\n{self.logs_text()}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200 or None
        except httpx.TransportError:
            return None

    def stop(self) -> None:
        stop_gracefully(part.process for part in self.processes)
        for part in self.processes:
            part.log_file.close()

    def logs_text(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log()[-4000:]}" for p in self.processes)

    def wait(self, probe: Callable[[], T | None], timeout_s: float, what: str) -> T:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = probe()
            if value is not None:
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}\n{self.logs_text()}")

    # ------------------------------------------------------------------ the stack's state

    def dead_letter_counts(self) -> dict[QueueName, int]:
        return {
            name: self.deps.queues[name].dead_letters().approximate_count() for name in QueueName
        }

    def bucket_of(self, key: str) -> str:
        """The name of the bucket the routing table puts `key` in."""
        aws = self.settings.aws
        names = {Bucket.INPUT: aws.input_bucket, Bucket.OUTPUT: aws.output_bucket}
        return names[bucket_for_key(key)]

    def bucket_keys(self) -> list[str]:
        """Every object in both buckets."""
        return self.deps.storage.list_keys("")
