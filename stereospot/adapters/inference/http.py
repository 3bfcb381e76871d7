"""The `http` inference backend: POST each segment to a server speaking the SageMaker
container contract (`stereospot inference serve`, or the same image on SageMaker
real-time), at STEREOSPOT_INFERENCE_URL.

- Timeouts: STEREOSPOT_INFERENCE_CONNECT_TIMEOUT_S to connect, ..._READ_TIMEOUT_S for the
  answer (a whole segment's conversion).
- Retries (STEREOSPOT_INFERENCE_RETRIES, backoff from ..._RETRY_BASE_S doubling, half of
  each delay jittered) on connection errors, timeouts, 429 and 5xx. A 503 with
  Retry-After (the server is busy with another segment, or still loading) is waited out
  without using up a retry, until the read timeout has passed in total.
- A 4xx fails the job with the server's reason (MediaError); see remote.py for the map.
- `wait_ready()` (called once at worker start) polls GET /ping until 200.
The server writes the output object itself; the result says so (output_event=False), so
the use case records the completion even where that write fires no object event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from stereospot.adapters.inference.remote import (
    Attempt,
    RemoteOptions,
    call_with_retries,
    describe_error,
    invocation_request,
    is_retryable_status,
    wait_until_ready,
)
from stereospot.domain.errors import BackendMisconfigured, MediaError
from stereospot.domain.inference import InvocationResponse, failure_reason
from stereospot.domain.ports import (
    ConversionRequest,
    ConversionResult,
    ObjectStorage,
    ProgressCallback,
    ScratchSpace,
)

if TYPE_CHECKING:
    from stereospot.config import Settings

logger = logging.getLogger(__name__)

_RETRY_AFTER_CAP_S = 30.0


class HttpInferenceBackend:
    def __init__(
        self,
        storage: ObjectStorage,
        url: str,
        options: RemoteOptions | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise BackendMisconfigured(
                f"STEREOSPOT_INFERENCE_URL must be an http(s):// URL, not {url!r}"
            )
        self._storage = storage
        self.url = url.rstrip("/")
        self._options = options = options or RemoteOptions()
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(options.read_timeout_s, connect=options.connect_timeout_s),
            transport=transport,
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, storage: ObjectStorage, scratch: ScratchSpace
    ) -> HttpInferenceBackend:
        return cls(storage, settings.inference_url, RemoteOptions.from_settings(settings))

    # ------------------------------------------------------------------ readiness

    def wait_ready(self) -> None:
        """Poll GET /ping until 200; BackendMisconfigured after the ready timeout."""
        wait_until_ready(
            self._not_ready,
            server=f"the inference server at {self.url}",
            timeout_s=self._options.ready_timeout_s,
            errors=(httpx.HTTPError,),
            sleep=self._sleep,
        )
        logger.info("inference server at %s is ready", self.url)

    def _not_ready(self) -> str | None:
        status = self._client.get(f"{self.url}/ping", timeout=5.0).status_code
        return None if status == 200 else f"/ping answered {status}"

    # ------------------------------------------------------------------ converting

    def convert(
        self, request: ConversionRequest, on_progress: ProgressCallback | None = None
    ) -> ConversionResult:
        extra = {"job_id": str(request.job_id), "segment_index": request.segment_index}
        body = invocation_request(self._storage, request).model_dump_json()
        call_with_retries(
            lambda: self._attempt(body),
            server=f"the inference server at {self.url}",
            options=self._options,
            sleep=self._sleep,
            log=logger,
            extra=extra,
        )
        return ConversionResult(completed=True, output_event=False)

    def _attempt(self, body: str) -> Attempt:
        """One POST (see remote.Attempt); MediaError on a 4xx."""
        try:
            response = self._client.post(
                f"{self.url}/invocations",
                content=body,
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:  # connection refused or reset, timeouts, bad framing
            return 0.0, describe_error(exc)
        status = response.status_code
        if status == 200:
            stats = InvocationResponse.model_validate_json(response.content)
            logger.info(
                "converted %d frames in %.2f s on %s with %s (remote)",
                stats.frames,
                stats.seconds,
                stats.device,
                stats.depth_model,
            )
            return None
        reason = failure_reason(response.content, f"HTTP {status}")
        if is_retryable_status(status):
            retry_after = _retry_after(response) if status in (429, 503) else None
            return (retry_after or 0.0), f"HTTP {status}: {reason}"
        raise MediaError(reason)

    def close(self) -> None:
        self._client.close()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return min(_RETRY_AFTER_CAP_S, max(0.1, float(value)))
    except ValueError:
        return None
