"""build_container(platform=memory) gives a working Deps, without importing optional parts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dependency_injector import providers

from stereospot.adapters.memory.clock import ManualClock
from stereospot.adapters.memory.push import RecordingPushSender
from stereospot.config import Settings
from stereospot.container import build_container
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.messages import ObjectCreated, parse_message
from stereospot.domain.model import JobStatus
from stereospot.domain.routing import QueueName
from stereospot.domain.services import dispatch, jobs
from tests.unit.fakes import FakeInference, FakeToolkit, fake_video


def test_memory_container_runs_the_flow(tmp_path: Path) -> None:
    container = build_container(Settings(platform="memory", data_dir=tmp_path))
    clock = ManualClock()
    container.clock.override(providers.Object(clock))
    container.platform.clock.override(providers.Object(clock))
    container.toolkit.override(providers.Object(FakeToolkit()))
    container.inference.override(providers.Object(FakeInference(container.platform.storage())))
    container.push_sender.override(providers.Object(RecordingPushSender()))
    deps = container.deps()
    assert container.deps() is deps
    decode = container.platform.decoder()

    job = jobs.create_job(deps, output_format=StereoFormat.FULL_SBS, settings=ConversionSettings())
    url = jobs.request_upload_url(deps, job.id, "beach.mp4")
    container.platform.storage().put_via_url(url, fake_video(2))
    [event] = deps.queues[QueueName.CHUNKING].receive()
    [message] = decode(event.body)
    assert isinstance(message, ObjectCreated) and message.bucket == "input"

    # Run every queue until empty, as the workers would.
    pending = [(QueueName.CHUNKING, event)]
    while pending:
        name, received = pending.pop()
        dispatch.handle_message(deps, name, parse_message(received.body), received.message_id)
        deps.queues[name].delete(received.receipt)
        pending += [(n, m) for n in QueueName for m in deps.queues[n].receive(max_messages=10)]
    finished = jobs.get_visible_job(deps, job.id)
    assert finished.status is JobStatus.COMPLETED
    assert finished.title == "beach"


def test_optional_parts_are_not_imported_to_build_deps(tmp_path: Path) -> None:
    """Building Deps imports no optional heavy part (torch and the engine load when the
    first segment is converted; boto3 only on the aws platform)."""
    script = (
        "import sys\n"
        "from stereospot.config import Settings\n"
        "from stereospot.container import build_container\n"
        f"build_container(Settings(platform='memory', data_dir={str(tmp_path)!r})).deps()\n"
        "heavy = {'torch', 'boto3', 'inference_server.api'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stderr
