"""The engine as a service: what the HTTP server and the Triton models share.

`InferenceService` loads the depth model once (and converts a tiny clip so the first real
request does not pay for warm-up), then converts one invocation at a time: it fetches the
input (and the previous segment, for the temporal warm-up) from its URI, runs the engine,
and writes the output to its URI. URIs are `s3://bucket/key` (S3ObjectStorage) or
`file:///path` under the file root (FilesystemObjectStorage): storage goes through the
ObjectStorage adapters, never by hand. The entrypoint (stereospot.entrypoints.cli.inference)
hands them in as openers (stereospot.container.engine_storage), so the engine names none.

Errors: `Rejected` (bad request, missing input, a media error: the caller's fault, HTTP
400) and anything else (an engine fault, HTTP 500).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from inference_server.logs import invocation_context
from stereospot.domain.errors import DomainError, InvalidKey, MediaError, ObjectNotFound
from stereospot.domain.inference import (
    BadInvocation,
    InvocationRequest,
    InvocationResponse,
    parse_request,
)

log = logging.getLogger(__name__)

HF_TOKEN_ENV = "HF_TOKEN"  # noqa: S105 (a variable name, not a secret)
# The user-visible reason of an engine fault (HTTP 500); the exception goes to the log.
ENGINE_FAULT = "The engine failed on this segment; the inference server's log has the details."


class Rejected(Exception):
    """The request cannot succeed as sent (HTTP 400); the message is the reason."""


class State(StrEnum):
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class _Storage(Protocol):
    def get_file(self, key: str, dest: Path) -> None: ...

    def put_file(self, key: str, source: Path) -> None: ...


@dataclass(frozen=True)
class ServiceOptions:
    depth_model: str = "auto"
    device: str = "auto"
    stub: bool = False
    file_root: Path = Path("/nonexistent")
    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    hf_token_secret_arn: str | None = None


class UriStorage:
    """Objects by URI: `s3://bucket/key` in the storage `open_bucket(bucket)` gives (one
    per bucket), `file:///path` in the one `open_files(file_root)` gives (a file:// path
    outside the file root is refused)."""

    def __init__(
        self,
        file_root: Path,
        open_bucket: Callable[[str], _Storage],
        open_files: Callable[[Path], _Storage],
    ) -> None:
        self._file_root = file_root
        self._open_bucket = open_bucket
        self._open_files = open_files
        self._s3: dict[str, _Storage] = {}
        self._files: _Storage | None = None
        self._lock = threading.Lock()

    def open(self, uri: str) -> tuple[_Storage, str]:
        parsed = urlparse(uri)
        if parsed.scheme == "s3":
            return self._bucket(parsed.netloc), unquote(parsed.path.lstrip("/"))
        if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
            return self._file_storage(), self._relative(Path(unquote(parsed.path)))
        raise Rejected(f"{uri!r} is not an s3:// or file:// URI.")

    def _relative(self, path: Path) -> str:
        root = self._file_root
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            raise Rejected(f"{path} is outside this server's file root ({root}).") from None

    def _bucket(self, bucket: str) -> _Storage:
        with self._lock:
            storage = self._s3.get(bucket)
            if storage is None:
                storage = self._s3[bucket] = self._open_bucket(bucket)
            return storage

    def _file_storage(self) -> _Storage:
        with self._lock:
            if self._files is None:
                self._files = self._open_files(self._file_root)
            return self._files

    def get_file(self, uri: str, dest: Path) -> None:
        storage, key = self.open(uri)
        try:
            storage.get_file(key, dest)
        except ObjectNotFound:
            raise Rejected(f"The input {uri} does not exist.") from None
        except InvalidKey:
            raise Rejected(f"{uri!r} does not name a valid object.") from None

    def put_file(self, uri: str, source: Path) -> None:
        storage, key = self.open(uri)
        try:
            storage.put_file(key, source)
        except InvalidKey:
            raise Rejected(f"{uri!r} does not name a valid object.") from None


class InferenceService:
    def __init__(self, options: ServiceOptions, storage: UriStorage) -> None:
        self.options = options
        self.storage = storage
        self.state = State.LOADING
        self.failure: str | None = None
        self.device = "none"
        self.loaded_model = "stub" if options.stub else options.depth_model
        self._busy = threading.Lock()

    # ------------------------------------------------------------------ loading

    @property
    def ready(self) -> bool:
        return self.state is State.READY

    def load(self) -> None:
        """Load the model and warm it up; READY on success, FAILED (with the reason) else."""
        started = time.perf_counter()
        try:
            if not self.options.stub:
                self._load_token()
                self._warm_up()
        except Exception as exc:
            self.failure = " ".join(str(exc).split()) or type(exc).__name__
            self.state = State.FAILED
            log.error("the depth model could not be loaded: %s", self.failure)
            return
        self.state = State.READY
        log.info(
            "ready in %.1f s: depth model %s on %s%s",
            time.perf_counter() - started,
            self.loaded_model,
            self.device,
            " (stub mode: nothing is converted)" if self.options.stub else "",
        )

    def _load_token(self) -> None:
        arn = self.options.hf_token_secret_arn
        if not arn or os.environ.get(HF_TOKEN_ENV):
            return
        import boto3

        client = boto3.session.Session(region_name=self.options.aws_region).client(
            "secretsmanager", endpoint_url=self.options.aws_endpoint_url
        )
        secret = client.get_secret_value(SecretId=arn)["SecretString"]
        os.environ[HF_TOKEN_ENV] = _token_from(secret)
        log.info("Hugging Face token read from Secrets Manager")

    def _warm_up(self) -> None:
        from inference_server.api import EngineOptions, convert_video
        from inference_server.warmup import write_warmup_clip
        from stereospot.domain.formats import ConversionSettings, StereoFormat

        with tempfile.TemporaryDirectory(prefix="stereospot-warmup-") as tmp:
            clip = write_warmup_clip(Path(tmp) / "warmup.mp4")
            stats = convert_video(
                clip,
                Path(tmp) / "out.mp4",
                output_format=StereoFormat.HALF_SBS,
                settings=ConversionSettings(depth_model=self.options.depth_model),
                options=EngineOptions(device=self.options.device),
            )
        self.device = stats.device
        self.loaded_model = stats.depth_model

    # ------------------------------------------------------------------ invocations

    @contextlib.contextmanager
    def slot(self) -> Iterator[bool]:
        """One conversion at a time: yields False (at once) when one is already running."""
        acquired = self._busy.acquire(blocking=False)
        try:
            yield acquired
        finally:
            if acquired:
                self._busy.release()

    def invoke_body(self, body: bytes | str) -> InvocationResponse:
        """Parse and convert (for callers that queue requests themselves, as Triton does)."""
        try:
            request = parse_request(body)
        except BadInvocation as exc:
            raise Rejected(str(exc)) from None
        with self._busy:
            return self.convert(request)

    def convert(self, request: InvocationRequest) -> InvocationResponse:
        with invocation_context(request.job_id, request.segment_index):
            log.info("converting %s -> %s", request.input_uri, request.output_uri)
            response = self._stub() if self.options.stub else self._convert(request)
            log.info(
                "converted %d frames in %.2f s on %s with %s",
                response.frames,
                response.seconds,
                response.device,
                response.depth_model,
            )
            return response

    def _stub(self) -> InvocationResponse:
        return InvocationResponse(frames=0, seconds=0.0, depth_model="stub", device="none")

    def _convert(self, request: InvocationRequest) -> InvocationResponse:
        from inference_server.api import EngineOptions, convert_video

        settings = request.settings
        if settings.depth_model == "auto":  # the job left it to us: the model we loaded
            settings = settings.model_copy(update={"depth_model": self.options.depth_model})
        with tempfile.TemporaryDirectory(prefix="stereospot-invocation-") as tmp:
            work = Path(tmp)
            source, output = work / "input.mp4", work / "output.mp4"
            self.storage.get_file(request.input_uri, source)
            warmup = self._previous(request, work / "previous.mp4")
            try:
                stats = convert_video(
                    source,
                    output,
                    output_format=request.output_format,
                    settings=settings,
                    options=EngineOptions(device=self.options.device),
                    warmup_path=warmup,
                )
            except MediaError as exc:
                raise Rejected(str(exc)) from None
            except DomainError as exc:  # an engine fault the domain named
                raise RuntimeError(str(exc)) from exc
            self.storage.put_file(request.output_uri, output)
        return InvocationResponse(
            frames=stats.frames,
            seconds=round(stats.seconds, 3),
            depth_model=stats.depth_model,
            device=stats.device,
        )

    def _previous(self, request: InvocationRequest, dest: Path) -> Path | None:
        if request.previous_input_uri is None:
            return None
        try:
            self.storage.get_file(request.previous_input_uri, dest)
        except Rejected as exc:  # warm-up is an improvement, not a requirement
            log.warning("converting without warm-up: %s", exc)
            return None
        return dest


def _token_from(secret: str) -> str:
    """A secret string that is the token itself, or JSON holding it (HF_TOKEN or token)."""
    try:
        data: Any = json.loads(secret)
    except json.JSONDecodeError:
        return secret.strip()
    if isinstance(data, dict):
        for name in (HF_TOKEN_ENV, "token", "hf_token"):
            value = data.get(name)
            if isinstance(value, str):
                return value.strip()
    raise ValueError("the Hugging Face token secret holds JSON without HF_TOKEN or token")
