"""What the remote backends (http, triton, sagemaker) share: the request they send, the
URIs of objects, retry delays and the mapping of answers to domain errors.

Error mapping (every remote backend):
- the server says the request or the media is at fault (HTTP 400 and other 4xx except
  429, Triton status code 400): MediaError with the server's reason, so the job fails with
  it at once;
- connection errors, timeouts, 429, 503 and other 5xx: retried with exponential backoff
  and jitter; when retries run out, InferenceError (the queue retries the message, then
  dead-letters it and the job fails with the reason);
- a misconfiguration found at start (no URL, no endpoint, unknown model):
  BackendMisconfigured, which stops the worker with one line and exit status 78.
"""

from __future__ import annotations

import random
from pathlib import Path

from stereospot.domain.errors import BackendMisconfigured
from stereospot.domain.inference import InvocationRequest
from stereospot.domain.ports import ConversionRequest, ObjectStorage


def object_uri(storage: ObjectStorage, key: str) -> str:
    """s3://bucket/key on S3, file:///path on local storage (what the server reads)."""
    bucket_name = getattr(storage, "bucket_name", None)
    if callable(bucket_name):
        return f"s3://{bucket_name(key)}/{key}"
    root = getattr(storage, "root", None)
    if isinstance(root, Path):
        return (root / key).as_uri()
    raise BackendMisconfigured(
        f"remote inference needs S3 or local file storage, not {type(storage).__name__}"
    )


def invocation_request(storage: ObjectStorage, request: ConversionRequest) -> InvocationRequest:
    previous = request.previous_input_key
    return InvocationRequest(
        input_uri=object_uri(storage, request.input_key),
        output_uri=object_uri(storage, request.output_key),
        previous_input_uri=object_uri(storage, previous) if previous else None,
        output_format=request.output_format,
        settings=request.settings,
        job_id=request.job_id,
        segment_index=request.segment_index,
    )


def backoff_s(attempt: int, base_s: float, cap_s: float = 60.0) -> float:
    """Delay before retry `attempt` (1, 2, ...): base * 2^(attempt-1), half of it jittered."""
    delay = min(cap_s, base_s * 2.0 ** (attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)


def is_retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


__all__ = ["backoff_s", "invocation_request", "is_retryable_status", "object_uri"]
