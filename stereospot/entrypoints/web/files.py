"""Local signed URLs: GET (with HTTP Range) and PUT (streamed to storage, size-limited).

Registered on the local platform only; on AWS the same URLs are presigned S3 URLs and the
browser talks to S3 directly. Every request must carry a valid, unexpired signature for
its method and key; keys are checked by the storage (nothing outside its root is served),
and a job's files answer 404 as soon as the job is removed, before cleanup has run.
"""

from __future__ import annotations

import asyncio
import mimetypes
import time
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quart import Blueprint, Response, abort, current_app, request
from quart.wrappers.response import FileBody
from werkzeug.datastructures import ContentRange
from werkzeug.http import parse_range_header

from stereospot.domain.errors import InvalidKey, ObjectTooLarge
from stereospot.domain.keys import parse_key
from stereospot.domain.model import JobStatus
from stereospot.domain.ports import JobStore
from stereospot.domain.services import jobs as usecases
from stereospot.domain.services.roles import Announcing
from stereospot.entrypoints.web.errors import error_response
from stereospot.entrypoints.web.runtime import FileServer, LocalFiles, call

WRITE_CHUNK_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 256 * 1024
TOO_LARGE = "The file is larger than this link allows."
STALLED = "The upload stopped sending data; nothing was stored. Try the upload again."
# A body that sends nothing for this long is dropped (and nothing stored), so a stalled or
# hostile client cannot hold a connection and a scratch file for ever. Hypercorn's own
# read_timeout would also close the long-lived event streams, which send nothing. The app
# sets it from Settings.upload_idle_timeout_s; this is the default without one.
UPLOAD_IDLE_SECONDS = 60.0


class UploadStalled(Exception):
    pass


def _idle_seconds() -> float:
    return float(current_app.config.get("UPLOAD_IDLE_SECONDS", UPLOAD_IDLE_SECONDS))


async def _arriving(body: AsyncIterable[bytes], idle_s: float) -> AsyncIterator[bytes]:
    """The body's chunks, raising UploadStalled when none arrives within `idle_s`."""
    chunks = aiter(body)
    while True:
        try:
            chunk = await asyncio.wait_for(anext(chunks), idle_s)
        except StopAsyncIteration:
            return
        except TimeoutError as exc:
            raise UploadStalled from exc
        yield chunk


def _verify(server: FileServer, method: str, key: str) -> Any:
    query = {name: request.args[name] for name in request.args}
    return server.signer.verify(method=method, key=key, query=query, now=int(time.time()))


def _job_is_visible(jobs: JobStore, key: str) -> bool:
    """Objects of a removed (or unknown) job are gone for clients at once."""
    try:
        job_id = parse_key(key).job_id
    except InvalidKey:
        return False
    job = jobs.get(job_id)
    return job is not None and job.visible


@dataclass(frozen=True)
class StoredFile:
    path: Path
    size: int
    modified: float

    @property
    def etag(self) -> str:
        return f'"{self.size:x}-{int(self.modified * 1000):x}"'


def _stored_file(files: LocalFiles, key: str) -> StoredFile | None:
    path = files.path_for(key)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return StoredFile(path, stat.st_size, stat.st_mtime) if path.is_file() else None


class RangeNotSatisfiable(Exception):
    pass


def requested_range(
    header: str | None, if_range: str | None, stored: StoredFile
) -> tuple[int, int] | None:
    """(start, stop) of a single bytes range; None to send the whole file (no range, a
    malformed or multi-part one, or a stale If-Range). RangeNotSatisfiable when the range
    lies past the end. (Quart's own handling mishandles suffix ranges like bytes=-500.)"""
    if not header or (if_range is not None and if_range != stored.etag):
        return None
    parsed = parse_range_header(header)
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        return None
    bounds = parsed.range_for_length(stored.size)
    if bounds is None:
        raise RangeNotSatisfiable
    return bounds


class _ThreadedWriter:
    """storage.open_writer driven from async code: every filesystem step in a thread."""

    def __init__(self, files: LocalFiles, key: str, max_bytes: int | None) -> None:
        self._context = files.open_writer(key, max_bytes=max_bytes)
        self._sink: Any = None
        self.written = 0

    async def __aenter__(self) -> _ThreadedWriter:
        self._sink = await call(self._context.__enter__)
        return self

    async def write(self, data: bytes) -> None:
        await call(self._sink.write, data)
        self.written += len(data)

    async def __aexit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        # On an error the storage removes its temporary file; on success it commits the
        # object and fires the object-created event.
        await call(self._context.__exit__, exc_type, exc, traceback)


def _waits_for_its_file(jobs: JobStore, key: str) -> bool:
    """An upload is taken only while the job waits for its source (never after)."""
    job = jobs.get(parse_key(key).job_id)
    return job is not None and job.status is JobStatus.CREATED


def blueprint(deps: Announcing, server: FileServer) -> Blueprint:
    """The signed links of `server` (the local storage and its signer); `deps` knows
    which jobs are visible and is told when a source arrives."""
    blueprint = Blueprint("files", __name__)

    @blueprint.route("/files/<path:key>", methods=["GET"])
    async def get_file(key: str) -> Response:
        grant = _verify(server, "GET", key)
        if not await call(_job_is_visible, deps.jobs, key):
            abort(404)
        stored = await call(_stored_file, server.storage, key)
        if stored is None:
            abort(404)
        if request.headers.get("If-None-Match") == stored.etag:
            return Response("", status=304, headers={"ETag": stored.etag})
        try:
            bounds = requested_range(
                request.headers.get("Range"), request.headers.get("If-Range"), stored
            )
        except RangeNotSatisfiable:
            return await error_response(
                416,
                "The requested range is outside the file.",
                {"Content-Range": f"bytes */{stored.size}"},
            )
        body = await call(FileBody, stored.path, buffer_size=READ_CHUNK_BYTES)
        mimetype = mimetypes.guess_type(stored.path.name)[0] or "application/octet-stream"
        response = Response(body, status=200, mimetype=mimetype)
        if bounds is not None:
            start, stop = bounds
            await body.make_conditional(start, stop)
            response.status_code = 206
            response.content_range = ContentRange("bytes", start, stop, stored.size)
            response.content_length = stop - start
        else:
            response.content_length = stored.size
        response.headers["Accept-Ranges"] = "bytes"
        response.headers["ETag"] = stored.etag
        response.cache_control.private = True
        if grant.filename is not None:
            response.headers.set("Content-Disposition", "attachment", filename=grant.filename)
        return response

    @blueprint.route("/files/<path:key>", methods=["PUT"])
    async def put_file(key: str) -> Response:
        grant = _verify(server, "PUT", key)
        if not await call(_job_is_visible, deps.jobs, key):
            abort(404)
        if not await call(_waits_for_its_file, deps.jobs, key):
            abort(409, "This job already has its video; the upload link no longer works.")
        limit = grant.max_bytes
        declared = request.content_length
        if limit is not None and declared is not None and declared > limit:
            abort(413, TOO_LARGE)
        buffer = bytearray()
        try:
            async with _ThreadedWriter(server.storage, key, limit) as writer:
                async for chunk in _arriving(request.body, _idle_seconds()):
                    buffer += chunk
                    if len(buffer) >= WRITE_CHUNK_BYTES:
                        await writer.write(bytes(buffer))
                        buffer.clear()
                if buffer:
                    await writer.write(bytes(buffer))
        except ObjectTooLarge:
            abort(413, TOO_LARGE)
        except UploadStalled:
            abort(408, STALLED)
        await call(usecases.source_received, deps, key)
        return Response("", status=200)

    return blueprint
