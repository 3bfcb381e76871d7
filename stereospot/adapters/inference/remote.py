"""What the remote backends (http, triton, sagemaker) share: the request they send, the
URIs of objects, retry delays and the mapping of answers to domain errors.

Error mapping (every remote backend):
- the server says the request or the media is at fault (HTTP 400 and other 4xx except
  429, Triton status code 400): MediaError with the server's reason, so the job fails with
  it at once;
- connection errors, timeouts, 429, 503 and other 5xx: retried with exponential backoff
  and jitter; when retries run out, InferenceError (the queue retries the message, then
  dead-letters it and the job fails with the reason);
- a misconfiguration found at start (no URL, no endpoint, unknown model, a server that is
  not ready within STEREOSPOT_INFERENCE_READY_TIMEOUT_S): BackendMisconfigured, which stops
  the worker with one line and exit status 78.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stereospot.domain.errors import BackendMisconfigured, InferenceError
from stereospot.domain.inference import InvocationRequest
from stereospot.domain.ports import ConversionRequest, ObjectStorage

if TYPE_CHECKING:
    from stereospot.config import Settings


@dataclass(frozen=True)
class RemoteOptions:
    """How a backend talks to a server it calls (STEREOSPOT_INFERENCE_* settings)."""

    connect_timeout_s: float = 5.0
    read_timeout_s: float = 1800.0  # one segment's conversion
    retries: int = 4  # on connection errors, timeouts, 429 and 5xx
    retry_base_s: float = 1.0  # the first retry's delay; doubles, half of it jittered
    ready_timeout_s: float = 300.0  # how long wait_ready() waits at worker start

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteOptions:
        return cls(
            connect_timeout_s=settings.inference_connect_timeout_s,
            read_timeout_s=settings.inference_read_timeout_s,
            retries=settings.inference_retries,
            retry_base_s=settings.inference_retry_base_s,
            ready_timeout_s=settings.inference_ready_timeout_s,
        )


def wait_until_ready(
    not_ready: Callable[[], str | None],
    *,
    server: str,
    timeout_s: float,
    errors: tuple[type[Exception], ...],
    sleep: Callable[[float], None] = time.sleep,
    interval_s: float = 1.0,
) -> None:
    """Call `not_ready()` (None once the server is ready, else why not) every `interval_s`
    until it answers None; one of `errors` raised by it counts as "not ready" too.
    BackendMisconfigured naming `server` and the last reason after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            reason = not_ready()
        except errors as exc:
            reason = describe_error(exc)
        if reason is None:
            return
        if time.monotonic() >= deadline:
            raise BackendMisconfigured(
                f"{server} was not ready within {timeout_s:.0f} s ({reason})"
            )
        sleep(interval_s)


def describe_error(exc: BaseException) -> str:
    """One line: the exception's type and its message with whitespace collapsed."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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


# What one attempt at a remote call says: None when it succeeded; else (wait, reason):
# wait 0 = a failure, retried after a backoff and counted; wait > 0 = the server is busy
# and asked to come back after that many seconds (not counted, bounded by the deadline).
Attempt = tuple[float, str] | None


def call_with_retries(
    attempt: Callable[[], Attempt],
    *,
    server: str,
    options: RemoteOptions,
    sleep: Callable[[float], None],
    log: logging.Logger,
    extra: dict[str, object],
) -> None:
    """Run `attempt` until it succeeds; InferenceError naming `server` when the retries
    run out or the server stays busy past the read timeout."""
    deadline = time.monotonic() + options.read_timeout_s
    failures = 0
    while (outcome := attempt()) is not None:
        wait_s, reason = outcome
        if wait_s <= 0:
            failures += 1
            if failures > options.retries:
                raise InferenceError(f"{server} failed {failures} times: {reason}")
            wait_s = backoff_s(failures, options.retry_base_s)
        elif time.monotonic() + wait_s > deadline:
            raise InferenceError(f"{server} stayed busy: {reason}")
        log.warning(
            "inference attempt failed (%s); retrying in %.1f s", reason, wait_s, extra=extra
        )
        sleep(wait_s)


__all__ = [
    "Attempt",
    "RemoteOptions",
    "backoff_s",
    "call_with_retries",
    "describe_error",
    "invocation_request",
    "is_retryable_status",
    "object_uri",
    "wait_until_ready",
]
