"""ObjectStorage on S3: two buckets, keys routed by domain.routing.bucket_for_key.

Files stream through boto3's transfer manager (multipart above a threshold, ranged parallel
GETs), so a 10 GB file never sits in memory. An S3 PUT, and the completion of a multipart
upload, is atomic: readers see the whole object or none.

Limits met here:
- DeleteObjects takes at most 1000 keys: delete_prefix deletes page by page.
- Presigned URLs (SigV4) live at most 7 days; URLs signed with temporary credentials (the
  ECS task role) stop working when those credentials expire, whatever expires_s says.
- A presigned PUT cannot cap the size of what is sent, and one PUT holds at most 5 GiB.
  The size is checked where the upload is used (the chunking step reads size()); a hard
  cap at the edge would need a presigned POST policy (content-length-range) instead.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from stereospot.adapters.aws.clients import error_code
from stereospot.config import AwsSettings
from stereospot.domain.errors import ObjectNotFound
from stereospot.domain.keys import validate_storage_key, validate_storage_prefix
from stereospot.domain.routing import Bucket, bucket_for_key
from stereospot.domain.urls import origin

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

log = logging.getLogger(__name__)

DELETE_BATCH_MAX = 1000  # DeleteObjects limit
PRESIGN_MAX_S = 7 * 24 * 3600  # SigV4 presigned URL limit
SINGLE_PUT_MAX_BYTES = 5 * 1024**3  # the most one PUT (and so one presigned upload) takes
MIN_PART_BYTES = 5 * 1024 * 1024  # S3's smallest multipart part (except the last)
_MAX_PART_BYTES = 64 * 1024 * 1024
_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})


def browser_origins(aws: AwsSettings) -> tuple[str, ...]:
    """Where presigned URLs point (the page's Content-Security-Policy allows them): the
    endpoint when one is set, else each bucket's global and regional hosts."""
    origins = [origin(aws.endpoint_url)] if aws.endpoint_url else []
    for bucket in (aws.input_bucket, aws.output_bucket):
        origins.append(f"https://{bucket}.s3.amazonaws.com")
        origins.append(f"https://{bucket}.s3.{aws.region}.amazonaws.com")
    return tuple(dict.fromkeys(o for o in origins if o))


class StorageError(RuntimeError):
    """S3 refused part of an operation (the message names the keys and reasons)."""


class S3ObjectStorage:
    def __init__(
        self,
        s3: S3Client,
        buckets: Mapping[Bucket, str],
        multipart_threshold_bytes: int = 64 * 1024 * 1024,
        max_concurrency: int = 4,
    ) -> None:
        self._s3 = s3
        self._buckets = dict(buckets)
        threshold = max(MIN_PART_BYTES, multipart_threshold_bytes)
        # s3transfer raises the part size by itself when a file would need > 10,000 parts.
        self._transfer = TransferConfig(
            multipart_threshold=threshold,
            multipart_chunksize=min(threshold, _MAX_PART_BYTES),
            max_concurrency=max_concurrency,
        )

    @classmethod
    def from_settings(cls, s3: S3Client, aws: AwsSettings) -> S3ObjectStorage:
        return cls(
            s3,
            {Bucket.INPUT: aws.input_bucket, Bucket.OUTPUT: aws.output_bucket},
            multipart_threshold_bytes=aws.multipart_threshold_bytes,
        )

    def bucket_name(self, key: str) -> str:
        return self._buckets[bucket_for_key(validate_storage_key(key))]

    # ------------------------------------------------------------------ objects

    def put_file(self, key: str, source: Path) -> None:
        self._s3.upload_file(
            str(source),
            self.bucket_name(key),
            key,
            ExtraArgs={"ContentType": _content_type(key)},
            Config=self._transfer,
        )

    def put_bytes(self, key: str, data: bytes) -> None:
        self._s3.put_object(
            Bucket=self.bucket_name(key), Key=key, Body=data, ContentType=_content_type(key)
        )

    def get_file(self, key: str, dest: Path) -> None:
        """Streams into a temporary file beside dest, renamed into place when complete."""
        bucket = self.bucket_name(key)
        fd, partial = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        os.close(fd)
        try:
            self._s3.download_file(bucket, key, partial, Config=self._transfer)
            os.replace(partial, dest)
        except ClientError as exc:
            if error_code(exc) in _NOT_FOUND:
                raise ObjectNotFound(key) from None
            raise
        finally:
            if os.path.exists(partial):
                os.unlink(partial)

    def get_bytes(self, key: str) -> bytes:
        try:
            response = self._s3.get_object(Bucket=self.bucket_name(key), Key=key)
        except ClientError as exc:
            if error_code(exc) in _NOT_FOUND:
                raise ObjectNotFound(key) from None
            raise
        return response["Body"].read()

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def size(self, key: str) -> int | None:
        try:
            response = self._s3.head_object(Bucket=self.bucket_name(key), Key=key)
        except ClientError as exc:
            if error_code(exc) in _NOT_FOUND:
                return None
            raise
        return response["ContentLength"]

    def list_keys(self, prefix: str) -> list[str]:
        return sorted(
            key
            for bucket in self._buckets_for(prefix)
            for page in self._pages(bucket, prefix)
            for key in page
        )

    def delete_prefix(self, prefix: str) -> int:
        deleted = 0
        for bucket in self._buckets_for(prefix):
            # Each listing page holds at most 1000 keys: exactly one DeleteObjects call.
            for page in self._pages(bucket, prefix):
                if page:
                    self._delete_batch(bucket, page)
                    deleted += len(page)
        return deleted

    def _delete_batch(self, bucket: str, keys: list[str]) -> None:
        objects: list[ObjectIdentifierTypeDef] = [{"Key": key} for key in keys]
        response = self._s3.delete_objects(
            Bucket=bucket, Delete={"Objects": objects, "Quiet": True}
        )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise StorageError(
                f"S3 did not delete {len(errors)} of {len(keys)} objects in {bucket}, e.g. "
                f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
            )

    def _buckets_for(self, prefix: str) -> list[str]:
        validate_storage_prefix(prefix)
        if prefix == "":  # everything: both buckets
            return sorted(set(self._buckets.values()))
        return [self._buckets[bucket_for_key(prefix)]]

    def _pages(self, bucket: str, prefix: str) -> Iterator[list[str]]:
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": DELETE_BATCH_MAX}
        ):
            yield [entry["Key"] for entry in page.get("Contents", [])]

    # ------------------------------------------------------------------ presigned URLs

    def upload_url(self, key: str, expires_s: int, max_bytes: int) -> str:
        """A presigned PUT. S3 cannot hold a PUT to max_bytes (see the module note)."""
        bucket = self.bucket_name(key)
        _check_expiry(expires_s)
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, not {max_bytes}")
        if max_bytes > SINGLE_PUT_MAX_BYTES:
            log.debug("upload limit %d is above S3's 5 GiB for one PUT", max_bytes)
        return self._s3.generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_s
        )

    def download_url(self, key: str, expires_s: int, filename: str | None = None) -> str:
        """A presigned GET (Range works), as an attachment named `filename` if given."""
        bucket = self.bucket_name(key)
        _check_expiry(expires_s)
        return self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition(filename),
            },
            ExpiresIn=expires_s,
        )


def content_disposition(filename: str | None) -> str:
    """`inline`, or an attachment with an ASCII fallback name and the exact UTF-8 name."""
    if not filename:
        return "inline"
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _content_type(key: str) -> str:
    guessed, _ = mimetypes.guess_type(key)
    return guessed or "application/octet-stream"


def _check_expiry(expires_s: int) -> None:
    if not 1 <= expires_s <= PRESIGN_MAX_S:
        raise ValueError(
            f"a presigned URL expires in 1 s to 7 days ({PRESIGN_MAX_S} s), not {expires_s} s"
        )
