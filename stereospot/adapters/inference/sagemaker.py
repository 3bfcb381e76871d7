"""The `sagemaker` inference backend: a SageMaker async endpoint
(STEREOSPOT_AWS__SAGEMAKER_ENDPOINT) running the inference image.

convert() stores the request JSON at sagemaker-invocation-requests/{job}/{index}.json,
calls InvokeEndpointAsync with it as InputLocation, and returns at once (completed=False)
with the output and failure locations; the use case records an InferenceInvocation for
each. The endpoint's container converts and writes the segment itself, then SageMaker
writes the status JSON to sagemaker-async-responses/ (or the error to
sagemaker-async-failures/); those objects arrive as output events and complete or fail the
segment (stereospot.domain.services.conversion). The endpoint's AsyncInferenceConfig must
write there (deploy/ configures S3OutputPath and S3FailurePath so).

`asynchronous = True` tells the use case to hold an in-flight slot per invocation (the cap
STEREOSPOT_INFERENCE_MAX_IN_FLIGHT across every video worker, counted in the invocations
table, each slot with the invocation TTL so a lost response frees it).

Errors: an endpoint that does not exist, or failed, stops the worker at start
(BackendMisconfigured); a refused or failed call raises InferenceError (retried by the
queue; boto3 itself retries throttling).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from stereospot.adapters.inference.remote import (
    invocation_request,
    object_uri,
    wait_until_ready,
)
from stereospot.domain import keys
from stereospot.domain.errors import BackendMisconfigured, InferenceError
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

_WAIT_STEP_S = 5.0
_MAX_INVOCATION_TIMEOUT_S = 3600  # SageMaker's limit for InvocationTimeoutSeconds


class SageMakerBackend:
    asynchronous = True

    def __init__(
        self,
        storage: ObjectStorage,
        runtime: Any,
        control: Any,
        endpoint: str,
        *,
        invocation_timeout_s: int = 3600,
        ready_timeout_s: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not endpoint:
            raise BackendMisconfigured("STEREOSPOT_AWS__SAGEMAKER_ENDPOINT is not set")
        self._storage = storage
        self._runtime = runtime
        self._control = control
        self.endpoint = endpoint
        self._invocation_timeout_s = min(_MAX_INVOCATION_TIMEOUT_S, invocation_timeout_s)
        self._ready_timeout_s = ready_timeout_s
        self._sleep = sleep

    @classmethod
    def from_settings(
        cls, settings: Settings, *, storage: ObjectStorage, scratch: ScratchSpace
    ) -> SageMakerBackend:
        import boto3
        from botocore.config import Config

        aws = settings.aws
        session = boto3.session.Session(region_name=aws.region)
        config = Config(
            retries={"mode": "standard", "max_attempts": 5},
            connect_timeout=settings.inference_connect_timeout_s,
        )
        runtime = session.client(
            "sagemaker-runtime",
            endpoint_url=aws.sagemaker_runtime_url or aws.endpoint_url or None,
            config=config,
        )
        control = session.client("sagemaker", endpoint_url=aws.endpoint_url or None, config=config)
        return cls(
            storage,
            runtime,
            control,
            aws.sagemaker_endpoint,
            invocation_timeout_s=settings.inference_invocation_timeout_s,
            ready_timeout_s=settings.inference_ready_timeout_s,
        )

    def wait_ready(self) -> None:
        """Until the endpoint is InService; BackendMisconfigured if it is unknown, failed,
        or still not in service after the ready timeout."""
        wait_until_ready(
            self._not_in_service,
            server=f"the SageMaker endpoint {self.endpoint!r}",
            timeout_s=self._ready_timeout_s,
            errors=(BotoCoreError,),  # endpoint unreachable: try again
            sleep=self._sleep,
            interval_s=_WAIT_STEP_S,
        )
        logger.info("SageMaker endpoint %s is in service", self.endpoint)

    def _not_in_service(self) -> str | None:
        try:
            status = self._control.describe_endpoint(EndpointName=self.endpoint)["EndpointStatus"]
        except ClientError as exc:
            message = exc.response.get("Error", {}).get("Message", str(exc))
            raise BackendMisconfigured(
                f"the SageMaker endpoint {self.endpoint!r} cannot be used: {message}"
            ) from None
        if status in ("Failed", "OutOfService", "Deleting"):
            raise BackendMisconfigured(f"the SageMaker endpoint {self.endpoint!r} is {status}")
        return None if status == "InService" else f"it is {status}"

    def convert(
        self, request: ConversionRequest, on_progress: ProgressCallback | None = None
    ) -> ConversionResult:
        body = invocation_request(self._storage, request).model_dump_json()
        key = keys.invocation_request_key(request.job_id, request.segment_index)
        self._storage.put_bytes(key, body.encode())
        try:
            answer = self._runtime.invoke_endpoint_async(
                EndpointName=self.endpoint,
                InputLocation=object_uri(self._storage, key),
                ContentType="application/json",
                InferenceId=f"{request.job_id}-{request.segment_index}",
                InvocationTimeoutSeconds=self._invocation_timeout_s,
            )
        except (ClientError, BotoCoreError) as exc:
            raise InferenceError(
                f"the SageMaker endpoint {self.endpoint!r} refused segment "
                f"{request.segment_index}: {exc}"
            ) from exc
        logger.info(
            "submitted to %s; result at %s",
            self.endpoint,
            answer["OutputLocation"],
            extra={"job_id": str(request.job_id), "segment_index": request.segment_index},
        )
        return ConversionResult(
            completed=False,
            output_location=answer["OutputLocation"],
            failure_location=answer.get("FailureLocation"),
        )
