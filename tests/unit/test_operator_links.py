"""Operator links on AWS job pages: off by default, Logs Insights filtered on the job id,
Cost Explorer filtered on the App tag."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote
from uuid import uuid4

from stereospot.config import Settings
from stereospot.container import platform_container
from stereospot.entrypoints.web import operator


def test_links_only_on_aws_when_enabled(tmp_path: Path) -> None:
    job_id = uuid4()
    assert operator.links(Settings(platform="aws"), job_id) == []
    # Only the aws platform offers console links, and only when they are enabled.
    assert not platform_container(Settings(platform="aws")).console_links()
    for name in ("local", "memory"):
        on = Settings(platform=name, operator_links=True, data_dir=tmp_path)
        assert not platform_container(on).console_links()
    assert operator.no_links(job_id) == []
    assert platform_container(Settings(platform="aws", operator_links=True)).console_links()
    enabled = Settings(platform="aws", operator_links=True, aws={"region": "eu-west-1"})
    (_, logs), (_, cost) = operator.links(enabled, job_id)
    assert logs.startswith(
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
    )
    decoded = unquote(logs.split("queryDetail$3D", 1)[1].replace("*", "%"))
    assert f"filter @message like /{job_id}/" in decoded
    for group in ("/stereospot/web", "/stereospot/media-worker", "/stereospot/video-worker"):
        assert f"'{group}" in decoded
    assert "cost-explorer" in cost
    assert '"value":"stereospot"' in unquote(cost) and '"TagKey"' in unquote(cost)
