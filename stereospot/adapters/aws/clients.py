"""boto3 clients for one deployment: the region and an optional endpoint from Settings.aws.

Credentials come from boto3's default chain (environment, shared config, the ECS task role);
nothing here reads, stores or passes keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from stereospot.config import AwsSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

# Standard retries with backoff on throttling; enough connections for parallel transfers.
_BASE_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=32)


@dataclass(frozen=True)
class AwsClients:
    """One client per service. boto3 clients are thread-safe, so one set serves a process."""

    s3: S3Client
    sqs: SQSClient
    dynamodb: DynamoDBClient
    sns: SNSClient
    region: str

    @classmethod
    def from_settings(cls, aws: AwsSettings) -> AwsClients:
        session = boto3.session.Session(region_name=aws.region)
        endpoint = aws.endpoint_url or None
        # SigV4 is the only signature S3 accepts for new regions and for presigned URLs up
        # to 7 days. Path-style addressing for emulators (moto, LocalStack) on a bare host.
        # On AWS, "virtual" presigns on the bucket's regional host ({bucket}.s3.{region}...);
        # "auto" presigns on the global one, which S3 answers with a 307 for a bucket outside
        # us-east-1 until DNS catches up, and a browser does not follow a redirected CORS
        # preflight. (A bucket name with dots would not match S3's certificate; provision
        # makes none.)
        s3_config = _BASE_CONFIG.merge(
            Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if endpoint else "virtual"},
            )
        )
        return cls(
            s3=session.client("s3", endpoint_url=endpoint, config=s3_config),
            sqs=session.client("sqs", endpoint_url=endpoint, config=_BASE_CONFIG),
            dynamodb=session.client("dynamodb", endpoint_url=endpoint, config=_BASE_CONFIG),
            sns=session.client("sns", endpoint_url=endpoint, config=_BASE_CONFIG),
            region=aws.region,
        )


def error_code(exc: ClientError) -> str:
    """The AWS error code of a failed call ("ConditionalCheckFailedException", "404", ...)."""
    return str(exc.response.get("Error", {}).get("Code", ""))
