"""Local signed URLs: streamed uploads with a size limit, Range downloads, expiry,
tampering, and nothing served outside the data directory."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from stereospot.adapters.local.signing import UrlSigner
from stereospot.domain import keys
from stereospot.domain.routing import QueueName
from tests.integration.web.conftest import Site, build_site


def _signer(site: Site) -> UrlSigner:
    signer: UrlSigner = site.container.platform.url_signer()
    return signer


def _with_query(path: str, **changes: str) -> str:
    parts = urlsplit(path)
    query = dict(parse_qsl(parts.query)) | changes
    return f"{parts.path}?{urlencode(query)}"


async def test_upload_streams_into_storage_and_fires_the_chunking_event(site: Site) -> None:
    job_id = await site.create_job()
    path = site.signed_path(await site.upload_url(job_id))
    body = bytes(range(256)) * 8192  # 2 MiB: more than one write chunk
    async with site.stream(path, method="PUT") as connection:
        for offset in range(0, len(body), 300_000):  # no Content-Length: a chunked body
            await connection.send(body[offset : offset + 300_000])
        await connection.send_complete()
    assert connection.status_code == 200
    assert site.deps.storage.get_bytes(keys.source_key(job_id)) == body
    assert site.queue_count(QueueName.CHUNKING) == 1


async def test_declared_oversized_upload_is_refused_before_reading(tmp_path: Path) -> None:
    site = build_site(tmp_path, max_upload_bytes=4096)
    job_id = await site.create_job()
    path = site.signed_path(await site.upload_url(job_id))
    response = await site.client.put(path, data=b"v" * 5000)
    assert response.status_code == 413
    assert "larger than this link allows" in (await response.get_json())["error"]
    assert not site.deps.storage.exists(keys.source_key(job_id))
    assert site.queue_count(QueueName.CHUNKING) == 0


async def test_streamed_body_past_the_limit_is_cut_off_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    site = build_site(tmp_path, max_upload_bytes=4096)
    job_id = await site.create_job()
    path = site.signed_path(await site.upload_url(job_id))
    async with site.stream(path, method="PUT") as connection:
        for _ in range(6):  # 6 KiB with no Content-Length to check up front
            await connection.send(b"v" * 1024)
        await connection.send_complete()
    assert connection.status_code == 413
    assert not site.deps.storage.exists(keys.source_key(job_id))
    assert site.deps.storage.list_keys(f"input/{job_id}/") == []
    assert site.queue_count(QueueName.CHUNKING) == 0


async def test_expired_links_are_refused(site: Site) -> None:
    job_id = await site.create_job()
    key = keys.source_key(job_id)
    url = _signer(site).sign(method="PUT", key=key, expires_at=int(time.time()) - 1, max_bytes=10)
    response = await site.client.put(site.signed_path(url), data=b"x")
    assert response.status_code == 403
    assert "expired" in (await response.get_json())["error"]
    assert not site.deps.storage.exists(key)


async def test_tampered_links_are_refused(site: Site, tiny_video: bytes) -> None:
    job_id = await site.create_job()
    site.complete(job_id, tiny_video)
    upload_job = await site.create_job()
    put_path = site.signed_path(await site.upload_url(upload_job))
    video = await site.client.get(f"/jobs/{job_id}/video")
    get_path = site.signed_path(video.headers["Location"])
    other_job = await site.create_job()
    forgeries = {
        "longer expiry": ("PUT", _with_query(put_path, e=str(int(time.time()) + 10**8))),
        "bigger limit": ("PUT", _with_query(put_path, x=str(10**12))),
        "other key": ("PUT", put_path.replace(str(upload_job), str(other_job))),
        "bad signature": ("PUT", _with_query(put_path, s="A" * 43)),
        "no signature": ("GET", get_path.split("&s=")[0]),
        "added file name": ("GET", _with_query(get_path, n="evil.exe")),
        "GET link used to PUT": ("PUT", get_path),
        "PUT link used to GET": ("GET", put_path),
    }
    for name, (method, path) in forgeries.items():
        response = await site.client.open(path, method=method, data=b"x" * 10)  # type: ignore[call-arg]
        assert response.status_code == 403, name
    assert not site.deps.storage.exists(keys.source_key(upload_job))
    assert not site.deps.storage.exists(keys.source_key(other_job))


async def test_range_requests_get_206_with_the_right_bytes(site: Site, tiny_video: bytes) -> None:
    job_id = await site.create_job()
    site.complete(job_id, tiny_video)
    path = site.signed_path((await site.client.get(f"/jobs/{job_id}/video")).headers["Location"])
    size = len(tiny_video)
    cases = {
        "bytes=0-99": (0, 100),
        "bytes=100-": (100, size),
        f"bytes=-{size // 3}": (size - size // 3, size),
        f"bytes={size - 10}-{size + 500}": (size - 10, size),  # clipped to the end
    }
    for header, (start, end) in cases.items():
        response = await site.client.get(path, headers={"Range": header})
        assert response.status_code == 206, header
        assert await response.get_data() == tiny_video[start:end], header
        assert response.headers["Content-Range"] == f"bytes {start}-{end - 1}/{size}", header
    full = await site.client.get(path)
    assert full.status_code == 200 and full.headers["Accept-Ranges"] == "bytes"
    assert int(full.headers["Content-Length"]) == size


async def test_unsatisfiable_ranges_get_416(site: Site, tiny_video: bytes) -> None:
    job_id = await site.create_job()
    site.complete(job_id, tiny_video)
    path = site.signed_path((await site.client.get(f"/jobs/{job_id}/video")).headers["Location"])
    size = len(tiny_video)
    response = await site.client.get(path, headers={"Range": f"bytes={size + 10}-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"


async def test_nothing_outside_the_job_objects_is_served(site: Site) -> None:
    secret_file = site.data_dir / "secret_key"
    assert secret_file.exists()
    signer = _signer(site)
    expires = int(time.time()) + 60
    # A valid signature for a key that is no job's object still serves nothing.
    site.deps.storage.put_bytes("notes/readme.txt", b"internal")
    stray = signer.sign(method="GET", key="notes/readme.txt", expires_at=expires)
    assert (await site.client.get(site.signed_path(stray))).status_code == 404
    attempts = [
        "/files/../secret_key?m=GET&e=9999999999&s=x",
        "/files/..%2Fsecret_key?m=GET&e=9999999999&s=x",
        "/files/%2e%2e/%2e%2e/secret_key?m=GET&e=9999999999&s=x",
        "/files//etc/passwd?m=GET&e=9999999999&s=x",
        "/files/input/..%2F..%2Fsecret_key?m=GET&e=9999999999&s=x",
    ]
    secret = secret_file.read_bytes().strip()
    for path in attempts:
        response = await site.client.get(path)
        assert response.status_code in (308, 403, 404), path  # 308: // merged, then 403
        assert secret not in await response.get_data(), path


async def test_head_answers_without_a_body(site: Site, tiny_video: bytes) -> None:
    job_id = await site.create_job()
    site.complete(job_id, tiny_video)
    path = site.signed_path((await site.client.get(f"/jobs/{job_id}/video")).headers["Location"])
    response = await site.client.head(path)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(tiny_video)


async def test_an_upload_that_stops_sending_is_dropped_and_nothing_is_stored(
    site: Site,
) -> None:
    site.app.config["UPLOAD_IDLE_SECONDS"] = 0.5
    job_id = await site.create_job()
    path = site.signed_path(await site.upload_url(job_id))
    started = time.monotonic()
    async with site.stream(path, method="PUT") as connection:
        await connection.send(b"v" * 1024)  # then silence: no more data, no end
        answer = await asyncio.wait_for(connection.receive(), 10)
    assert connection.status_code == 408
    assert "stopped sending" in json.loads(answer)["error"]
    assert time.monotonic() - started < 10
    assert not site.deps.storage.exists(keys.source_key(job_id))
    assert site.queue_count(QueueName.CHUNKING) == 0
