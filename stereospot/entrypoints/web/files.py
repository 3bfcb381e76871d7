"""Local signed URLs: GET (with HTTP Range) and PUT (streamed to storage, size-limited).

Registered on the local platform only; on AWS the same URLs are presigned S3 URLs and the
browser talks to S3 directly. Every request must carry a valid, unexpired signature for
its method and key; keys are checked by the storage (nothing outside its root is served),
and a job's files answer 404 as soon as the job is removed, before cleanup has run.
"""

from __future__ import annotations

import mimetypes
import time
from pathlib import Path
from typing import Any

from quart import Blueprint, Response, abort, request, send_file

from stereospot.adapters.local.storage import ObjectTooLarge
from stereospot.domain.errors import InvalidKey
from stereospot.domain.keys import parse_key
from stereospot.entrypoints.web.runtime import LocalFiles, UrlVerifier, call, state

blueprint = Blueprint("files", __name__)

WRITE_CHUNK_BYTES = 1024 * 1024
TOO_LARGE = "The file is larger than this link allows."


def _local() -> tuple[UrlVerifier, LocalFiles]:
    web = state()
    if web.url_signer is None or web.local_files is None:  # pragma: no cover - not registered
        abort(404)
    return web.url_signer, web.local_files


def _verify(method: str, key: str) -> Any:
    signer, _files = _local()
    query = {name: request.args[name] for name in request.args}
    return signer.verify(method=method, key=key, query=query, now=int(time.time()))


def _job_is_visible(key: str) -> bool:
    """Objects of a removed (or unknown) job are gone for clients at once."""
    try:
        job_id = parse_key(key).job_id
    except InvalidKey:
        return False
    job = state().deps.jobs.get(job_id)
    return job is not None and job.visible


def _existing_file(files: LocalFiles, key: str) -> Path | None:
    path = files.path_for(key)
    return path if path.is_file() else None


@blueprint.route("/files/<path:key>", methods=["GET"])
async def get_file(key: str) -> Response:
    grant = _verify("GET", key)
    _signer, files = _local()
    if not await call(_job_is_visible, key):
        abort(404)
    path = await call(_existing_file, files, key)
    if path is None:
        abort(404)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = await send_file(
        path,
        mimetype=mimetype,
        as_attachment=grant.filename is not None,
        attachment_filename=grant.filename,
        conditional=True,
    )
    response.cache_control.public = False
    response.cache_control.private = True
    response.headers["Accept-Ranges"] = "bytes"
    return response


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


@blueprint.route("/files/<path:key>", methods=["PUT"])
async def put_file(key: str) -> Response:
    grant = _verify("PUT", key)
    _signer, files = _local()
    if not await call(_job_is_visible, key):
        abort(404)
    limit = grant.max_bytes
    declared = request.content_length
    if limit is not None and declared is not None and declared > limit:
        abort(413, TOO_LARGE)
    buffer = bytearray()
    try:
        async with _ThreadedWriter(files, key, limit) as writer:
            async for chunk in request.body:
                buffer += chunk
                if len(buffer) >= WRITE_CHUNK_BYTES:
                    await writer.write(bytes(buffer))
                    buffer.clear()
            if buffer:
                await writer.write(bytes(buffer))
    except ObjectTooLarge:
        abort(413, TOO_LARGE)
    return Response("", status=200)
