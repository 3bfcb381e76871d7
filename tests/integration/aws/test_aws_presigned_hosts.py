"""Presigned URLs on AWS itself (no endpoint URL) name the bucket's regional host.

S3 answers a request to the global host `{bucket}.s3.amazonaws.com` for a bucket outside
us-east-1 with a 307 redirect to the regional one until DNS has caught up (up to a day
after the bucket is made), and a browser refuses to follow a redirect of a CORS preflight:
the page's upload would fail. Signing makes no request, so no endpoint is needed here.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from uuid import UUID

import pytest

from stereospot.adapters.aws.clients import AwsClients
from stereospot.adapters.aws.s3_storage import S3ObjectStorage
from stereospot.config import AwsSettings, Platform, Settings
from stereospot.container import build_container
from stereospot.domain.keys import final_key, source_key

JOB = UUID("6c0396c0-aec4-4c9d-8d8b-c34d15c99f9e")


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def storage_in(region: str) -> tuple[S3ObjectStorage, Settings]:
    aws = AwsSettings(region=region, input_bucket="sp-input", output_bucket="sp-output")
    storage = S3ObjectStorage.from_settings(AwsClients.from_settings(aws).s3, aws)
    return storage, Settings(platform=Platform.AWS, aws=aws)


@pytest.mark.parametrize(
    ("region", "input_host", "output_host"),
    [
        (
            "eu-west-1",
            "sp-input.s3.eu-west-1.amazonaws.com",
            "sp-output.s3.eu-west-1.amazonaws.com",
        ),
        (
            "us-east-2",
            "sp-input.s3.us-east-2.amazonaws.com",
            "sp-output.s3.us-east-2.amazonaws.com",
        ),
        # us-east-1's own endpoint is the global one: no redirect there.
        ("us-east-1", "sp-input.s3.amazonaws.com", "sp-output.s3.amazonaws.com"),
    ],
)
def test_presigned_urls_name_the_regional_bucket_host_the_page_may_reach(
    region: str, input_host: str, output_host: str
) -> None:
    storage, settings = storage_in(region)
    upload = urlsplit(storage.upload_url(source_key(JOB), 3600, 1024))
    download = urlsplit(storage.download_url(final_key(JOB), 3600, "clip.mp4"))

    assert (upload.scheme, upload.netloc, upload.path) == (
        "https",
        input_host,
        f"/{source_key(JOB)}",
    )
    assert (download.netloc, download.path) == (output_host, f"/{final_key(JOB)}")
    assert f"%2F{region}%2Fs3%2F" in upload.query  # signed for the bucket's region
    # The page's Content-Security-Policy lets the browser PUT to and play from there.
    origins = build_container(settings).platform.storage_origins()
    assert f"https://{input_host}" in origins and f"https://{output_host}" in origins
