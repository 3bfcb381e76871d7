"""Fixtures of the AWS integration tests: moto's server, and fresh stacks on it."""

from __future__ import annotations

import pytest

from stereospot.adapters.aws.clients import AwsClients
from stereospot.config import AwsSettings, Platform, Settings
from stereospot.ops.provision import provision
from tests.aws_server import REGION, TEST_MULTIPART_THRESHOLD, fresh_prefix, moto_server

__all__ = ["moto_server"]


@pytest.fixture
def clients(moto_server: str) -> AwsClients:
    return AwsClients.from_settings(AwsSettings(region=REGION, endpoint_url=moto_server))


@pytest.fixture
def settings(moto_server: str, clients: AwsClients) -> Settings:
    """Settings for the aws platform over a whole stack of its own (one prefix per test)."""
    base = Settings(
        platform=Platform.AWS,
        max_receives=3,
        aws=AwsSettings(
            region=REGION,
            endpoint_url=moto_server,
            multipart_threshold_bytes=TEST_MULTIPART_THRESHOLD,
        ),
    )
    return base.model_copy(update={"aws": provision(clients, fresh_prefix(), base)})
