"""The env file Terraform renders drives `stereospot aws smoke-test`.

The names are env.tf's, the values those of a stack `stereospot aws provision` made on
moto's server (Terraform's would differ only in the names' prefix). The file is written in
the output's format (NAME='value' lines) and loaded the way deploy/README.md says
(`set -a; . ./stereospot.env`), then the smoke test runs against it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stereospot.adapters.aws.clients import AwsClients
from stereospot.config import AwsSettings, Settings
from stereospot.ops.provision import provision
from tests.aws_server import REGION, fresh_prefix
from tests.deploy.hcl import APP, load
from tests.deploy.stack_spec import STACK_JSON

pytestmark = pytest.mark.aws

# What Terraform would put for the names that are not the stack's resources.
REPRESENTATIVE = {
    "STEREOSPOT_PLATFORM": "aws",
    "STEREOSPOT_PUBLIC_URL": "http://stereo-dev-web-123456.us-east-1.elb.amazonaws.com",
    "STEREOSPOT_AUTH": "oidc-header",
    "STEREOSPOT_AUTH_OIDC_SIGNER": (
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/dev-web/0123456789abcdef"
    ),
    "STEREOSPOT_TRUSTED_PROXIES": "10.40.0.0/20,10.40.16.0/20",
    "STEREOSPOT_HTTP_IDLE_TIMEOUT_S": "125",  # the balancer's 120 s + 5
    "STEREOSPOT_LOG_LEVEL": "INFO",
    "STEREOSPOT_VAPID_SUBJECT": "mailto:admin@localhost",
    "STEREOSPOT_INFERENCE_BACKEND": "sagemaker",
    "STEREOSPOT_INFERENCE_URL": "",
    "STEREOSPOT_INFERENCE_MAX_IN_FLIGHT": "2",
}


def render_env_file(aws: AwsSettings) -> str:
    stack = json.loads(STACK_JSON.read_text(encoding="utf-8"))
    values = {}
    for name in load(APP).locals["environment_all"]:
        if name == "STEREOSPOT_AWS__LOG_GROUPS":
            value = json.dumps(list(aws.log_groups))  # jsonencode(...) in env.tf
        elif name.startswith("STEREOSPOT_AWS__"):
            value = getattr(aws, name.removeprefix("STEREOSPOT_AWS__").lower())
        elif name.startswith("STEREOSPOT_QUEUE_TIMEOUTS__"):
            queue = name.removeprefix("STEREOSPOT_QUEUE_TIMEOUTS__").lower().replace("_", "-")
            value = stack["queues"][queue]
        elif name == "STEREOSPOT_MAX_RECEIVES":
            value = stack["max_receives"]
        else:
            value = REPRESENTATIVE[name]  # a new name: say here what Terraform puts
        values[name] = str(value)
    # env.tf leaves empty values out, and the output writes one NAME='value' a line.
    return "".join(f"{name}='{value}'\n" for name, value in values.items() if value != "")


def test_smoke_test_passes_with_the_rendered_env_file(moto_server: str, tmp_path: Path) -> None:
    clients = AwsClients.from_settings(AwsSettings(region=REGION, endpoint_url=moto_server))
    base = Settings.model_construct()
    base = base.model_copy(update={"aws": AwsSettings(region=REGION, endpoint_url=moto_server)})
    aws = provision(clients, fresh_prefix(), base)
    env_file = tmp_path / "stereospot.env"
    env_file.write_text(render_env_file(aws), encoding="utf-8")

    clean = {k: v for k, v in os.environ.items() if not k.startswith("STEREOSPOT_")}
    script = (
        'set -a; . "$1"; set +a; '
        'exec "$2" -m stereospot.entrypoints.cli.main aws smoke-test --queue-wait 5'
    )
    result = subprocess.run(
        ["bash", "-c", script, "bash", str(env_file), sys.executable],
        capture_output=True,
        text=True,
        timeout=180,
        # Only the emulator's address comes from outside the file.
        env={**clean, "STEREOSPOT_AWS__ENDPOINT_URL": moto_server},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke test passed" in result.stdout
    assert "FAIL" not in result.stdout
