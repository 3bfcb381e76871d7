"""S3ObjectStorage against moto over HTTP: routing to buckets, presigned URLs used with
real HTTP requests, multipart uploads, and deletes beyond one DeleteObjects batch."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import pytest

from stereospot.adapters.aws.clients import AwsClients
from stereospot.adapters.aws.s3_storage import (
    DELETE_BATCH_MAX,
    PRESIGN_MAX_S,
    S3ObjectStorage,
    content_disposition,
)
from stereospot.domain.keys import final_key, output_segment_key, source_key
from stereospot.domain.routing import Bucket
from stereospot.ops.provision import create_bucket
from tests.aws_server import REGION, TEST_MULTIPART_THRESHOLD, fresh_prefix


@pytest.fixture
def buckets(clients: AwsClients) -> dict[Bucket, str]:
    prefix = fresh_prefix()
    names = {Bucket.INPUT: f"{prefix}-input", Bucket.OUTPUT: f"{prefix}-output"}
    for name in names.values():
        create_bucket(clients.s3, name, REGION)
    return names


@pytest.fixture
def storage(clients: AwsClients, buckets: dict[Bucket, str]) -> S3ObjectStorage:
    return S3ObjectStorage(clients.s3, buckets, multipart_threshold_bytes=TEST_MULTIPART_THRESHOLD)


def _keys_in(clients: AwsClients, bucket: str) -> set[str]:
    listing = clients.s3.list_objects_v2(Bucket=bucket)
    return {entry["Key"] for entry in listing.get("Contents", [])}


def _http(
    url: str, method: str = "GET", data: bytes | None = None, **headers: str
) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.headers, response.read()


def test_keys_go_to_the_bucket_the_routing_table_names(
    storage: S3ObjectStorage, clients: AwsClients, buckets: dict[Bucket, str]
) -> None:
    job = uuid4()
    storage.put_bytes(source_key(job), b"source")
    storage.put_bytes(final_key(job), b"final")
    assert _keys_in(clients, buckets[Bucket.INPUT]) == {source_key(job)}
    assert _keys_in(clients, buckets[Bucket.OUTPUT]) == {final_key(job)}
    assert storage.list_keys("") == sorted([source_key(job), final_key(job)])
    head = clients.s3.head_object(Bucket=buckets[Bucket.OUTPUT], Key=final_key(job))
    assert head["ContentType"] == "video/mp4"  # so a presigned GET plays in the browser


def test_presigned_put_then_get_over_http(storage: S3ObjectStorage) -> None:
    job = uuid4()
    key = source_key(job)
    payload = os.urandom(100_000)
    upload = storage.upload_url(key, 600, max_bytes=len(payload))
    status, _, _ = _http(upload, "PUT", payload, **{"Content-Type": "video/mp4"})
    assert status == 200
    assert storage.get_bytes(key) == payload

    named = storage.download_url(key, 600, filename="Holiday été_LR_Half_SBS.mp4")
    status, headers, body = _http(named, Range="bytes=10-19")
    assert status == 206 and body == payload[10:20]
    assert headers["Content-Range"] == f"bytes 10-19/{len(payload)}"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Holiday _t__LR_Half_SBS.mp4"')
    assert "filename*=UTF-8''Holiday%20%C3%A9t%C3%A9_LR_Half_SBS.mp4" in disposition

    status, headers, body = _http(storage.download_url(key, 600))
    assert status == 200 and body == payload
    assert headers["Content-Disposition"] == "inline"


def test_presigned_urls_carry_their_expiry_and_refuse_more_than_seven_days(
    storage: S3ObjectStorage,
) -> None:
    url = storage.download_url(final_key(uuid4()), 3600)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]  # SigV4: the 7-day kind
    assert query["X-Amz-Expires"] == ["3600"]
    assert storage.upload_url(source_key(uuid4()), PRESIGN_MAX_S, 10)  # 7 days is fine
    for expires in (0, PRESIGN_MAX_S + 1):
        with pytest.raises(ValueError, match="7 days"):
            storage.download_url(final_key(uuid4()), expires)


def test_a_missing_object_is_a_404_over_http(storage: S3ObjectStorage) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        _http(storage.download_url(final_key(uuid4()), 60))
    # S3 answers 403 rather than 404 when the signer may not list the bucket (moto too).
    assert raised.value.code in (403, 404)


def test_a_file_above_the_threshold_goes_up_in_parts_and_comes_back_whole(
    storage: S3ObjectStorage, clients: AwsClients, buckets: dict[Bucket, str], tmp_path: Path
) -> None:
    source = tmp_path / "big.mp4"
    source.write_bytes(os.urandom(2 * TEST_MULTIPART_THRESHOLD + 4321))
    key = final_key(uuid4())
    storage.put_file(key, source)
    etag = clients.s3.head_object(Bucket=buckets[Bucket.OUTPUT], Key=key)["ETag"]
    assert etag.strip('"').endswith("-3")  # S3's ETag of a 3-part multipart upload
    copy = tmp_path / "copy.mp4"
    storage.get_file(key, copy)
    assert (
        hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    )
    assert {p.name for p in tmp_path.iterdir()} == {"big.mp4", "copy.mp4"}  # no partial file


def test_a_small_file_goes_up_in_one_put(
    storage: S3ObjectStorage, clients: AwsClients, buckets: dict[Bucket, str], tmp_path: Path
) -> None:
    source = tmp_path / "small.mp4"
    source.write_bytes(b"small")
    key = source_key(uuid4())
    storage.put_file(key, source)
    etag = clients.s3.head_object(Bucket=buckets[Bucket.INPUT], Key=key)["ETag"]
    assert "-" not in etag


def test_delete_prefix_pages_past_one_delete_batch(storage: S3ObjectStorage) -> None:
    job = uuid4()
    count = DELETE_BATCH_MAX + 7
    keys = [output_segment_key(job, i) for i in range(count)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: storage.put_bytes(key, b""), keys))
    storage.put_bytes(final_key(uuid4()), b"kept")
    assert len(storage.list_keys(f"jobs/{job}/")) == count
    assert storage.delete_prefix(f"jobs/{job}/") == count
    assert storage.list_keys(f"jobs/{job}/") == []
    assert len(storage.list_keys("jobs/")) == 1


def test_content_disposition_keeps_headers_safe() -> None:
    assert content_disposition(None) == "inline"
    header = content_disposition('evil"\r\nSet-Cookie: x.mp4')
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="evil___Set-Cookie: x.mp4"')
