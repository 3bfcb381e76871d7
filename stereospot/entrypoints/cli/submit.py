"""`stereospot submit FILE`: convert a video on a StereoSpot server, through its JSON API.

Creates a job, PUTs the file to the upload URL the server hands out (a local signed URL or
a presigned S3 URL: a plain PUT either way) with an upload progress display, then, with
--wait or --output, follows the conversion with a progress bar and downloads the result.

Exit status: 0 done, 1 the conversion failed, 2 bad arguments or file, 3 the server could
not be reached or refused the request.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TextIO
from urllib.parse import quote

from stereospot.entrypoints.cli.options import add_look_options

DEFAULT_SERVER = "http://127.0.0.1:8000"
SERVER_ENV = "STEREOSPOT_SERVER"
TOKEN_ENV = "STEREOSPOT_TOKEN"  # noqa: S105 - the variable's name
POLL_SECONDS = 1.0
CHUNK_BYTES = 256 * 1024
TERMINAL = ("completed", "failed", "deleted")

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


class _ProgressReader:
    """A file whose reads report progress (http.client sends a body by reading it)."""

    def __init__(self, file: BinaryIO, total: int, on_progress: Callable[[int, int], None]):
        self._file = file
        self._total = total
        self._sent = 0
        self._on_progress = on_progress

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(CHUNK_BYTES if size is None or size < 0 else size)
        self._sent += len(data)
        self._on_progress(self._sent, self._total)
        return data


def _error_message(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read().decode("utf-8", "replace"))
        message = body.get("error") if isinstance(body, dict) else None
    except (ValueError, OSError):
        message = None
    return f"{message or error.reason} (HTTP {error.code})"


class ApiClient:
    def __init__(self, server: str, timeout_s: float = 60.0, token: str | None = None) -> None:
        self.server = server.rstrip("/")
        self._timeout_s = timeout_s
        self._token = token

    def _open(self, request: urllib.request.Request) -> Any:
        try:
            return urllib.request.urlopen(request, timeout=self._timeout_s)  # noqa: S310 - http(s) only
        except urllib.error.HTTPError as exc:
            raise ApiError(_error_message(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(f"cannot reach {self.server}: {reason}") from None

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the user's server
            f"{self.server}{path}", data=data, method=method
        )
        request.add_header("Accept", "application/json")
        if self._token:  # only to the server's API, never to a signed upload/download URL
            request.add_header("Authorization", f"Bearer {self._token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with self._open(request) as response:
            return json.loads(response.read().decode())

    def create_job(self, **fields: Any) -> dict[str, Any]:
        job: dict[str, Any] = self._json("POST", "/api/jobs", fields)
        return job

    def upload_url(self, job_id: str, filename: str) -> dict[str, Any]:
        grant: dict[str, Any] = self._json(
            "POST", f"/api/jobs/{quote(job_id)}/upload-url", {"filename": filename}
        )
        return grant

    def get_job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self._json("GET", f"/api/jobs/{quote(job_id)}")
        return job

    def put_file(self, url: str, path: Path, on_progress: Callable[[int, int], None]) -> None:
        size = path.stat().st_size
        with path.open("rb") as file:
            request = urllib.request.Request(  # noqa: S310 - a URL the server handed out
                url, data=_ProgressReader(file, size, on_progress), method="PUT"
            )
            request.add_header("Content-Length", str(size))
            request.add_header("Content-Type", "application/octet-stream")
            with self._open(request) as response:
                response.read()

    def download(self, url: str, dest: Path, on_progress: Callable[[int, int], None]) -> None:
        temp = dest.with_name(f".{dest.name}.part")
        request = urllib.request.Request(url)  # noqa: S310 - a URL the server handed out
        try:
            with self._open(request) as response, temp.open("wb") as out:
                total = int(response.headers.get("Content-Length") or 0)
                done = 0
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    done += len(chunk)
                    on_progress(done, total)
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
    """One updating line on a terminal; on a pipe, a new line only when it says something new."""

    def __init__(self, stream: TextIO, width: int = 24) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._width = width
        self._last_logged = ""
        self._last_draw = 0.0

    def show(self, label: str, fraction: float, detail: str = "", *, key: str = "") -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        filled = round(fraction * self._width)
        bar = "#" * filled + "-" * (self._width - filled)
        text = f"{label} [{bar}] {fraction * 100:5.1f}% {detail}".rstrip()
        if self._tty:
            now = time.monotonic()
            if now - self._last_draw < 0.1 and fraction < 1.0:
                return
            self._last_draw = now
            self._stream.write("\r\x1b[2K" + text)
            self._stream.flush()
        elif (key or text) != self._last_logged:
            self._last_logged = key or text
            self._stream.write(text + "\n")
            self._stream.flush()

    def done(self) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()
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


def _upload(client: ApiClient, job_id: str, path: Path, progress: ProgressLine) -> None:
    grant = client.upload_url(job_id, path.name)
    size = path.stat().st_size
    if size > int(grant["max_bytes"]):
        raise ApiError(
            f"{path.name} is {_megabytes(size)}; this server takes at most"
            f" {_megabytes(int(grant['max_bytes']))}"
        )
    started = time.monotonic()

    def report(sent: int, total: int) -> None:
        elapsed = max(time.monotonic() - started, 1e-6)
        detail = f"{_megabytes(sent)} of {_megabytes(total)}, {_megabytes(int(sent / elapsed))}/s"
        tenth = int(10 * sent / total) if total else 10
        progress.show("Uploading ", sent / total if total else 1.0, detail, key=f"up{tenth}")

    client.put_file(grant["url"], path, report)
    progress.done()


def _follow(client: ApiClient, job_id: str, progress: ProgressLine) -> dict[str, Any]:
    while True:
        job = client.get_job(job_id)
        state = job["progress"]
        segments = (
            f"{state['segments_done']}/{state['segments_total']} segments"
            if state["segments_total"]
            else ""
        )
        detail = "  ".join(part for part in (segments, _eta(state["eta_seconds"])) if part)
        progress.show(
            f"{state['stage']:<24}",
            state["percent"] / 100,
            detail,
            key=f"{state['stage']}{segments}{int(state['percent'] // 10)}",
        )
        if job["status"] in TERMINAL:
            progress.done()
            return job
        time.sleep(POLL_SECONDS)


def _destination(output: str, job: dict[str, Any]) -> Path:
    if _names_a_directory(output):
        directory = Path(output)
        directory.mkdir(parents=True, exist_ok=True)
        return directory / str(job["download_name"])
    return Path(output)


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    problem = _check_file(args.file) or _check_output(args.output)
    if problem:
        print(f"stereospot: {problem}", file=err)
        return EXIT_USAGE
    client = ApiClient(args.server, token=getattr(args, "token", None))
    progress = ProgressLine(err)
    job_id = ""
    try:
        job = client.create_job(
            output_format=args.format,
            divergence=args.divergence,
            convergence=args.convergence,
            title=args.title,
        )
        job_id = str(job["id"])
        _upload(client, job_id, args.file, progress)
        print(f"Job {job_id}: {job['links']['page']}", file=out)
        if not (args.wait or args.output):
            return 0
        job = _follow(client, job_id, progress)
        if job["status"] != "completed":
            reason = job.get("failure_reason") or f"the job was {job['status']}"
            print(f"stereospot: the conversion failed: {reason}", file=err)
            return EXIT_FAILED
        if args.output is None:
            print(f"Done. Download: {job['links']['download']}", file=out)
            return 0
        dest = _destination(args.output, job)
        client.download(
            job["links"]["download"],
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
