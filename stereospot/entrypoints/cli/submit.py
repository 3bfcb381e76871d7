"""`stereospot submit FILE`: convert a video on a StereoSpot server, through its JSON API.

An httpx client reading the API's own response models (api_models). Creates a job, PUTs
the file to the upload URL the server hands out (a local signed URL or
a presigned S3 URL: a plain PUT either way) with an upload progress display, then, with
--wait or --output, follows the conversion with a (rich) progress bar and downloads the
result.

Exit status: 0 done, 1 the conversion failed, 2 bad arguments or file, 3 the server could
not be reached or refused the request.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TextIO, TypeVar
from uuid import UUID

import httpx
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from stereospot.domain.formats import StereoFormat
from stereospot.domain.model import TERMINAL_STATUSES, JobStatus
from stereospot.entrypoints.cli.options import add_look_options
from stereospot.entrypoints.web.api_models import ApiError as ErrorBody
from stereospot.entrypoints.web.api_models import (
    CreateJob,
    JobOut,
    UploadUrl,
    UploadUrlRequest,
)

DEFAULT_SERVER = "http://127.0.0.1:8000"
SERVER_ENV = "STEREOSPOT_SERVER"
TOKEN_ENV = "STEREOSPOT_TOKEN"  # noqa: S105 - the variable's name
POLL_SECONDS = 1.0
CHUNK_BYTES = 256 * 1024
TERMINAL = frozenset(status.value for status in TERMINAL_STATUSES)

EXIT_FAILED, EXIT_USAGE, EXIT_SERVER = 1, 2, 3


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "submit",
        help="send a video to a StereoSpot server and (optionally) wait for the 3D result",
        description="Convert a video on a StereoSpot server through its JSON API.",
    )
    parser.add_argument("file", type=Path, help="the video to convert")
    parser.add_argument(
        "--server",
        default=os.environ.get(SERVER_ENV, DEFAULT_SERVER),
        help=f"the server's address (default: ${SERVER_ENV} or {DEFAULT_SERVER})",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        help=f"an API token for a server with sign-in (default: ${TOKEN_ENV}); make one"
        " with `stereospot token` on the server, or POST /api/tokens while signed in",
    )
    add_look_options(parser)
    parser.add_argument("--title", default="", help="job title (default: the file name)")
    parser.add_argument(
        "--wait", action="store_true", help="follow the conversion until it finishes"
    )
    parser.add_argument(
        "--output",
        help="download the result here: a file, or a directory (an existing one, or any path"
        " ending in '/', created if needed) for the server's file name; implies --wait",
    )
    parser.set_defaults(handler=run)


# ---------------------------------------------------------------------- HTTP client


class ApiError(Exception):
    """The server refused a request, or could not be reached. The message is readable."""


def _error_message(response: httpx.Response) -> str:
    try:
        message: str | None = ErrorBody.model_validate_json(response.content).error
    except ValidationError:
        message = None
    return f"{message or response.reason_phrase} (HTTP {response.status_code})"


Model = TypeVar("Model", bound=BaseModel)


class ApiClient:
    """The server's JSON API (with the token), and its signed links (without it)."""

    def __init__(self, server: str, timeout_s: float = 60.0, token: str | None = None) -> None:
        self.server = server.rstrip("/")
        headers = {"Accept": "application/json"}
        if token:  # only to the server's API, never to a signed upload/download URL
            headers["Authorization"] = f"Bearer {token}"
        self._api = httpx.Client(base_url=self.server, headers=headers, timeout=timeout_s)
        self._links = httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        self._api.close()
        self._links.close()

    @contextmanager
    def _answer(
        self, request: Callable[[], AbstractContextManager[httpx.Response]]
    ) -> Iterator[httpx.Response]:
        """The response of `request`, or ApiError saying why there is none."""
        try:
            with request() as response:
                if response.is_error:
                    response.read()
                    raise ApiError(_error_message(response))
                yield response
        except httpx.TransportError as exc:
            raise ApiError(f"cannot reach {self.server}: {exc}") from None

    def _json(self, model: type[Model], method: str, path: str, body: BaseModel | None) -> Model:
        payload = None if body is None else body.model_dump(mode="json", exclude_unset=True)
        with self._answer(lambda: self._api.stream(method, path, json=payload)) as response:
            response.read()
            try:
                return model.model_validate_json(response.content)
            except ValidationError as exc:
                unreadable = f"{self.server} gave an answer this client cannot read: {exc}"
                raise ApiError(unreadable) from exc

    def create_job(self, body: CreateJob) -> JobOut:
        return self._json(JobOut, "POST", "/api/jobs", body)

    def upload_url(self, job_id: UUID, filename: str) -> UploadUrl:
        request = UploadUrlRequest(filename=filename)
        return self._json(UploadUrl, "POST", f"/api/jobs/{job_id}/upload-url", request)

    def get_job(self, job_id: UUID) -> JobOut:
        return self._json(JobOut, "GET", f"/api/jobs/{job_id}", None)

    def put_file(self, url: str, path: Path, on_progress: Callable[[int, int], None]) -> None:
        size = path.stat().st_size

        def chunks() -> Iterator[bytes]:
            sent = 0
            with path.open("rb") as file:
                while data := file.read(CHUNK_BYTES):
                    sent += len(data)
                    on_progress(sent, size)
                    yield data

        # A plain PUT of a known length (S3's presigned PUT takes no chunked body).
        headers = {"Content-Length": str(size), "Content-Type": "application/octet-stream"}
        with self._answer(
            lambda: self._links.stream("PUT", url, content=chunks(), headers=headers)
        ) as response:
            response.read()

    def download(self, url: str, dest: Path, on_progress: Callable[[int, int], None]) -> None:
        temp = dest.with_name(f".{dest.name}.part")
        try:
            with (
                self._answer(lambda: self._links.stream("GET", url)) as response,
                temp.open("wb") as out,
            ):
                total = int(response.headers.get("Content-Length") or 0)
                for chunk in response.iter_bytes(CHUNK_BYTES):
                    out.write(chunk)
                    on_progress(response.num_bytes_downloaded, total)
            temp.replace(dest)
        finally:
            temp.unlink(missing_ok=True)


# ---------------------------------------------------------------------- display


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    total = round(seconds)
    return f"ETA {total // 60} min {total % 60:02d} s" if total >= 60 else f"ETA {total} s"


class ProgressLine:
    """A rich progress bar: live on a terminal; on a pipe (a log), the same line printed
    only when it says something new (`key`, else the text)."""

    def __init__(self, stream: TextIO, width: int = 24) -> None:
        self._console = Console(file=stream, highlight=False)
        self._columns = (
            TextColumn("{task.description}"),
            BarColumn(bar_width=width),
            TextColumn("{task.percentage:5.1f}%"),
            TextColumn("{task.fields[detail]}"),
        )
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._last_logged = ""

    def show(self, label: str, fraction: float, detail: str = "", *, key: str = "") -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if self._progress is None or self._task is None:
            self._progress = Progress(*self._columns, console=self._console)
            self._task = self._progress.add_task(label, total=100, detail=detail)
            if self._console.is_terminal:
                self._progress.start()
        self._progress.update(self._task, description=label, completed=fraction * 100,
                              detail=detail)  # fmt: skip
        if self._console.is_terminal:
            return
        logged = key or f"{label}{fraction:.3f}{detail}"
        if logged != self._last_logged:
            self._last_logged = logged
            self._console.print(self._progress.make_tasks_table(self._progress.tasks))

    def done(self) -> None:
        if self._progress is not None and self._console.is_terminal:
            self._progress.stop()  # leaves the final bar on its line
        self._progress = self._task = None
        self._last_logged = ""


# ---------------------------------------------------------------------- the command


def _names_a_directory(output: str) -> bool:
    # Path() drops a trailing separator, so read the user's intent from the raw argument.
    return output.endswith(("/", os.sep)) or Path(output).is_dir()


def _check_output(output: str | None) -> str | None:
    if output is None or _names_a_directory(output):
        return None
    if not Path(output).parent.is_dir():
        return f"{Path(output).parent} is not a directory"
    return None


def _check_file(path: Path) -> str | None:
    if not path.exists():
        return f"{path} does not exist"
    if not path.is_file():
        return f"{path} is not a file"
    if not os.access(path, os.R_OK):
        return f"{path} cannot be read"
    if path.stat().st_size == 0:
        return f"{path} is empty"
    return None


def _upload(client: ApiClient, job_id: UUID, path: Path, progress: ProgressLine) -> None:
    grant = client.upload_url(job_id, path.name)
    size = path.stat().st_size
    if size > grant.max_bytes:
        raise ApiError(
            f"{path.name} is {_megabytes(size)}; this server takes at most"
            f" {_megabytes(grant.max_bytes)}"
        )
    started = time.monotonic()

    def report(sent: int, total: int) -> None:
        elapsed = max(time.monotonic() - started, 1e-6)
        detail = f"{_megabytes(sent)} of {_megabytes(total)}, {_megabytes(int(sent / elapsed))}/s"
        tenth = int(10 * sent / total) if total else 10
        progress.show("Uploading ", sent / total if total else 1.0, detail, key=f"up{tenth}")

    client.put_file(grant.url, path, report)
    progress.done()


def _follow(client: ApiClient, job_id: UUID, progress: ProgressLine) -> JobOut:
    while True:
        job = client.get_job(job_id)
        state = job.progress
        segments = (
            f"{state.segments_done}/{state.segments_total} segments" if state.segments_total else ""
        )
        detail = "  ".join(part for part in (segments, _eta(state.eta_seconds)) if part)
        progress.show(
            f"{state.stage:<24}",
            state.percent / 100,
            detail,
            key=f"{state.stage}{segments}{int(state.percent // 10)}",
        )
        if job.status in TERMINAL:
            progress.done()
            return job
        time.sleep(POLL_SECONDS)


def _destination(output: str, job: JobOut) -> Path:
    if _names_a_directory(output):
        directory = Path(output)
        directory.mkdir(parents=True, exist_ok=True)
        return directory / job.download_name
    return Path(output)


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    problem = _check_file(args.file) or _check_output(args.output)
    if problem:
        print(f"stereospot: {problem}", file=err)
        return EXIT_USAGE
    client = ApiClient(args.server, token=getattr(args, "token", None))
    progress = ProgressLine(err)
    job_id: UUID | None = None
    try:
        # Not validated here: the server judges the settings and says what is wrong.
        body = CreateJob.model_construct(
            output_format=StereoFormat(args.format),
            divergence=args.divergence,
            convergence=args.convergence,
            title=args.title,
        )
        job = client.create_job(body)
        job_id = job.id
        _upload(client, job_id, args.file, progress)
        print(f"Job {job_id}: {job.links.page}", file=out)
        if not (args.wait or args.output):
            return 0
        job = _follow(client, job_id, progress)
        if job.status != JobStatus.COMPLETED.value or job.links.download is None:
            reason = job.failure_reason or f"the job was {job.status}"
            print(f"stereospot: the conversion failed: {reason}", file=err)
            return EXIT_FAILED
        if args.output is None:
            print(f"Done. Download: {job.links.download}", file=out)
            return 0
        dest = _destination(args.output, job)
        client.download(
            job.links.download,
            dest,
            lambda done, total: progress.show(
                "Downloading", done / total if total else 1.0, _megabytes(done)
            ),
        )
        progress.done()
        print(f"Saved {dest.resolve()}", file=out)
        return 0
    except ApiError as exc:
        progress.done()
        print(f"stereospot: {exc}", file=err)
        return EXIT_SERVER
    except KeyboardInterrupt:
        progress.done()
        if job_id:
            print(f"\nstereospot: stopped following; job {job_id} goes on on the server", file=err)
        raise
    finally:
        client.close()
