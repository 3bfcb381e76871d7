"""`POST /api/preview`: one frame converted with the create form's settings, as a PNG.

Multipart: an `image` file (PNG or JPEG, at most PREVIEW_MAX_BYTES) and the form's fields
`format`, `divergence`, `convergence`. It stores nothing and changes nothing, so the
same-origin (Origin) check is its only guard against other sites; no CSRF token. Each
client (remote address) may ask RATE_PER_MINUTE times a minute (429 with Retry-After
beyond), and the engine runs in a worker thread, one preview at a time per process.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from typing import Protocol

from pydantic import ValidationError
from quart import Blueprint, Response, request
from quart_schema import document_response, tag

from stereospot.domain.errors import DomainError, MediaError
from stereospot.domain.formats import SETTINGS_BOUNDS_TEXT, ConversionSettings, StereoFormat
from stereospot.entrypoints.web.api_models import ApiError
from stereospot.entrypoints.web.errors import error_response
from stereospot.entrypoints.web.runtime import call
from stereospot.entrypoints.web.security import Security

PREVIEW_MAX_BYTES = 4 * 1024 * 1024
RATE_PER_MINUTE = 40
BURST = 8


class Previewer(Protocol):
    def warm(self) -> None:
        """Called when the create form is shown: the engine loads while a file is chosen."""

    def render(self, image: bytes, fmt: StereoFormat, settings: ConversionSettings) -> bytes: ...


class RateLimiter:
    """A token bucket per client: `burst` at once, refilled at `per_minute`."""

    def __init__(self, per_minute: float, burst: int, max_clients: int = 10_000) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_clients = max_clients
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> float:
        """0 when allowed, else the seconds until the next token."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, since = self._buckets.pop(client, (self._burst, now))
            tokens = min(self._burst, tokens + (now - since) * self._rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self._rate
            self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
            return wait


def _settings(form: dict[str, str]) -> tuple[StereoFormat, ConversionSettings]:
    fmt = StereoFormat(form.get("format") or form.get("output_format") or "half-sbs")
    defaults = ConversionSettings()
    settings = ConversionSettings(
        divergence=float(form.get("divergence") or defaults.divergence),
        convergence=float(form.get("convergence") or defaults.convergence),
    )
    return fmt, settings


def blueprint(previewer: Previewer, security: Security) -> Blueprint:
    """`POST /api/preview` on `previewer`, same-origin as `security` checks it."""
    blueprint = Blueprint("preview", __name__)
    blueprint.before_request(security.require_same_origin)
    limiter = RateLimiter(RATE_PER_MINUTE, BURST)

    @blueprint.post("/api/preview")
    @tag(["preview"])
    @document_response(ApiError, 400)
    @document_response(ApiError, 403)
    @document_response(ApiError, 413)
    @document_response(ApiError, 429)
    @document_response(ApiError, 503)
    async def preview() -> Response:
        """One frame in 3D with the given settings: multipart `image` (PNG or JPEG) plus
        `format`, `divergence`, `convergence`; answers a PNG. Stores nothing."""
        wait = limiter.take(request.remote_addr or "unknown")
        if wait > 0:
            retry = str(math.ceil(wait))
            return await error_response(
                429, "Too many previews; try again in a moment.", {"Retry-After": retry}
            )
        files = await request.files
        form = await request.form
        upload = files.get("image")
        if upload is None:
            return await error_response(400, "Send the frame as the multipart field `image`.")
        try:
            fmt, settings = _settings({key: form.get(key, "") for key in form})
        except (ValueError, ValidationError):
            return await error_response(
                400,
                f"Please check the settings: a known format; {SETTINGS_BOUNDS_TEXT}.",
            )
        image = upload.read()
        try:
            png = await call(previewer.render, image, fmt, settings)
        except MediaError as exc:
            return await error_response(400, str(exc))
        except DomainError as exc:  # the engine is not installed here
            return await error_response(503, str(exc))
        return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})

    return blueprint
