"""The remote inference contract: what a video-worker sends an inference server and what
it answers (the SageMaker container contract's JSON; the Triton model carries the same
JSON in BYTES tensors).

    request   {input_uri, output_uri, previous_input_uri?, output_format, settings,
               job_id?, segment_index?}          URIs: s3://bucket/key or file:///path
    200       {status: "ok", frames, seconds, depth_model, device}
    4xx/5xx   {status: "error", reason}          reason: a sentence a person can read

400 means the request or the media is at fault (the job fails with the reason); 503 means
busy or not ready (retry later, see Retry-After); 500 is an engine fault (retry).
"""

from __future__ import annotations

import json
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stereospot.domain.formats import ConversionSettings, StereoFormat

_URI_PATTERN = r"^(s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/.+|file:///.+)$"
REASON_MAX = 500


class InvocationRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    input_uri: str = Field(pattern=_URI_PATTERN, max_length=2048)
    output_uri: str = Field(pattern=_URI_PATTERN, max_length=2048)
    previous_input_uri: str | None = Field(default=None, pattern=_URI_PATTERN, max_length=2048)
    output_format: StereoFormat
    settings: ConversionSettings = ConversionSettings()
    job_id: UUID | None = None  # for log lines only
    segment_index: int | None = Field(default=None, ge=0)


class InvocationResponse(BaseModel):
    status: Literal["ok"] = "ok"
    frames: int
    seconds: float
    depth_model: str
    device: str


class InvocationFailure(BaseModel):
    status: Literal["error"] = "error"
    reason: str


class BadInvocation(ValueError):
    """A request body that is not a valid invocation; the message says what is wrong."""


def parse_request(body: bytes | str) -> InvocationRequest:
    """The request in `body`, or BadInvocation with a readable reason."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadInvocation("The request body is not JSON.") from None
    if not isinstance(data, dict):
        raise BadInvocation("The request body must be a JSON object.")
    try:
        return InvocationRequest.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()
        )
        raise BadInvocation(f"The request is not valid ({problems}).") from None


def failure_reason(body: bytes | str, fallback: str = "") -> str:
    """The readable reason in an error body: its JSON `reason`, else its text, shortened."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        for field in ("reason", "message", "error"):
            value = data.get(field)
            if isinstance(value, str) and value.strip():
                text = value
                break
    reason = " ".join(text.split())[:REASON_MAX]
    return reason or fallback


__all__ = [
    "BadInvocation",
    "InvocationFailure",
    "InvocationRequest",
    "InvocationResponse",
    "failure_reason",
    "parse_request",
]
