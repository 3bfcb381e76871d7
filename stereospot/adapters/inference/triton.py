"""The `triton` inference backend: the engine as the Triton model `stereo`
(STEREOSPOT_TRITON_MODEL) on a Triton server at STEREOSPOT_INFERENCE_URL, over HTTP with
tritonclient.

The request JSON goes in the input tensor `request`, the status JSON comes back in
`status` (see inference_server/triton_model.py). The tensors' datatype is read from the
model's metadata at start: BYTES (one element) as the stock model repository declares,
or UINT8 (the JSON's UTF-8 bytes). The status carries an HTTP-like `code`.

Error mapping (as for http, remote.py): code 400 -> MediaError with the reason (the job
fails); connection errors, timeouts, Triton's own errors (model busy, stub restarted) and
codes 429/5xx -> retried with backoff and jitter, then InferenceError; a server or model
that is not ready within STEREOSPOT_INFERENCE_READY_TIMEOUT_S at worker start ->
BackendMisconfigured.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

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
from stereospot.domain.inference import failure_reason
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

INPUT = "request"
OUTPUT = "status"


class TritonInferenceBackend:
    def __init__(
        self,
        storage: ObjectStorage,
        url: str,
        options: RemoteOptions | None = None,
        *,
        model: str = "stereo",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise BackendMisconfigured(
                f"STEREOSPOT_INFERENCE_URL must be the Triton server's http:// URL, not {url!r}"
            )
        import tritonclient.http as triton_http

        self._http = triton_http
        self._storage = storage
        self.url = url
        self.model = model
        self._options = options = options or RemoteOptions()
        self._sleep = sleep
        self._datatype = "BYTES"
        self._client = triton_http.InferenceServerClient(
            parsed.netloc,
            ssl=parsed.scheme == "https",
            connection_timeout=options.connect_timeout_s,
            network_timeout=options.read_timeout_s,
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, storage: ObjectStorage, scratch: ScratchSpace
    ) -> TritonInferenceBackend:
        options = RemoteOptions.from_settings(settings)
        return cls(storage, settings.inference_url, options, model=settings.triton_model)

    def wait_ready(self) -> None:
        """Until the model is ready; its input's datatype is read then."""
        wait_until_ready(
            self._not_ready,
            server=f"the Triton server at {self.url}",
            timeout_s=self._options.ready_timeout_s,
            errors=(Exception,),  # tritonclient raises its own and socket errors
            sleep=self._sleep,
        )
        logger.info("Triton model %s at %s is ready", self.model, self.url)

    def _not_ready(self) -> str | None:
        if not self._client.is_model_ready(self.model):
            return f"the model {self.model!r} is not ready (is it in the repository?)"
        self._datatype = _input_datatype(self._client.get_model_metadata(self.model))
        return None

    def convert(
        self, request: ConversionRequest, on_progress: ProgressCallback | None = None
    ) -> ConversionResult:
        extra = {"job_id": str(request.job_id), "segment_index": request.segment_index}
        body = invocation_request(self._storage, request).model_dump_json().encode()
        call_with_retries(
            lambda: self._attempt(body),
            server=f"the Triton server at {self.url}",
            options=self._options,
            sleep=self._sleep,
            log=logger,
            extra=extra,
        )
        return ConversionResult(completed=True, output_event=False)

    def _attempt(self, body: bytes) -> Attempt:
        """One inference (see remote.Attempt); MediaError for the caller's fault."""
        tensor = self._http.InferInput(INPUT, *_encode(body, self._datatype))
        tensor.set_data_from_numpy(_array(body, self._datatype))
        try:
            result = self._client.infer(
                self.model, [tensor], outputs=[self._http.InferRequestedOutput(OUTPUT)]
            )
        except Exception as exc:  # connection refused/reset, timeouts, Triton errors
            return 0.0, describe_error(exc)
        status = _decode(result.as_numpy(OUTPUT))
        code = int(status.get("code", 500))
        if code == 200:
            return None
        reason = failure_reason(json.dumps(status), f"status {code}")
        if is_retryable_status(code):
            return 0.0, f"status {code}: {reason}"
        raise MediaError(reason)


def _input_datatype(metadata: Any) -> str:
    for tensor in metadata.get("inputs", []):
        if tensor.get("name") == INPUT:
            datatype = str(tensor.get("datatype"))
            if datatype in ("BYTES", "UINT8"):
                return datatype
            raise BackendMisconfigured(f"the model's input {INPUT!r} is {datatype}, not BYTES")
    raise BackendMisconfigured(f"the Triton model has no input named {INPUT!r}")


def _encode(body: bytes, datatype: str) -> tuple[list[int], str]:
    return ([1], "BYTES") if datatype == "BYTES" else ([len(body)], "UINT8")


def _array(body: bytes, datatype: str) -> np.ndarray[Any, Any]:
    if datatype == "BYTES":
        return np.array([body], dtype=np.object_)
    return np.frombuffer(body, dtype=np.uint8)


def _decode(output: Any) -> dict[str, Any]:
    if output is None:
        return {"code": 500, "reason": "the model answered without a status"}
    raw = output.reshape(-1)[0] if output.dtype == np.object_ else output.tobytes()
    try:
        status = json.loads(raw)
    except (ValueError, TypeError):
        return {"code": 500, "reason": "the model's status is not JSON"}
    return status if isinstance(status, dict) else {"code": 500, "reason": "bad status"}
