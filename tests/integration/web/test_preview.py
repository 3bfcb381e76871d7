"""POST /api/preview with the real engine (builtin depth, CPU): one frame in, a PNG out."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from stereospot.entrypoints.web.preview import RateLimiter
from tests.integration.web.conftest import Site


def _png(width: int = 96, height: int = 64) -> bytes:
    """A frame with a near bright square on a far gradient, as a PNG."""
    x = np.linspace(0, 255, width, dtype=np.uint8)
    rgb = np.repeat(np.repeat(x[None, :, None], height, 0), 3, 2).copy()
    rgb[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (250, 60, 40)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="image2pipe") as container:
        stream = container.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, "rgb24"  # type: ignore[union-attr]
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        for packet in stream.encode(frame):  # type: ignore[union-attr]
            container.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            container.mux(packet)
    return buffer.getvalue()


def _decode(png: bytes) -> np.ndarray:
    with av.open(io.BytesIO(png)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24")


async def _preview(site: Site, image: bytes | None = None, **fields: str) -> tuple[int, bytes]:
    from quart.datastructures import FileStorage

    files = {"image": FileStorage(io.BytesIO(image or _png()), "frame.png", "image")}
    form = {"format": "full-sbs", "divergence": "2", "convergence": "0.5", **fields}
    response = await site.client.post(
        "/api/preview", form=form, files=files, headers={"Origin": "http://localhost"}
    )
    return response.status_code, await response.get_data()


async def test_a_frame_comes_back_in_the_chosen_format_and_changes_with_the_strength(
    site: Site,
) -> None:
    objects_before = sorted(p.name for p in site.data_dir.rglob("*") if p.is_file())
    status, body = await _preview(site)
    assert status == 200 and body[:8] == b"\x89PNG\r\n\x1a\n"
    assert _decode(body).shape == (64, 192, 3)  # full side by side: twice as wide
    status, half = await _preview(site, format="half-tb")
    assert status == 200 and _decode(half).shape == (64, 96, 3)
    _status, weak = await _preview(site, divergence="0.5")
    _status, strong = await _preview(site, divergence="8")
    difference = np.abs(_decode(weak).astype(int) - _decode(strong).astype(int)).mean()
    assert difference > 1.0, "a stronger 3D effect moves the pixels"
    objects_after = sorted(p.name for p in site.data_dir.rglob("*") if p.is_file())
    assert objects_after == objects_before, "a preview stores nothing"


async def test_bad_requests_are_readable(site: Site) -> None:
    status, body = await _preview(site, divergence="11")
    assert status == 400 and b"3D strength" in body
    status, body = await _preview(site, format="holo")
    assert status == 400
    status, body = await _preview(site, image=b"not an image at all")
    assert status == 400 and b"PNG or JPEG" in body
    response = await site.client.post("/api/preview", form={"format": "full-sbs"})
    assert response.status_code == 400 and b"`image`" in await response.get_data()


async def test_other_sites_cannot_ask_for_previews(site: Site) -> None:
    from quart.datastructures import FileStorage

    files = {"image": FileStorage(io.BytesIO(_png()), "frame.png", "image")}
    response = await site.client.post(
        "/api/preview", files=files, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403


async def test_too_large_a_body_is_refused(site: Site) -> None:
    status, _body = await _preview(site, image=b"\x89PNG" + b"0" * (5 * 1024 * 1024))
    assert status == 413


async def test_each_client_is_rate_limited(site: Site) -> None:
    limiter = RateLimiter(per_minute=60, burst=2)
    assert limiter.take("a", now=0.0) == 0 and limiter.take("a", now=0.0) == 0
    assert limiter.take("a", now=0.0) == pytest.approx(1.0)
    assert limiter.take("b", now=0.0) == 0  # per client
    assert limiter.take("a", now=1.0) == 0  # refilled
    statuses = [(await _preview(site, image=b"x"))[0] for _ in range(12)]
    assert statuses[:8] == [400] * 8 and 429 in statuses[8:]
