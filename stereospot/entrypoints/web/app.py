"""The Quart app factory: pages, JSON API (+ OpenAPI), live events, push, playlists, and,
where the platform has this app serve its signed links (local), the signed-file endpoints.

    app = create_app(build_container(Settings(platform="local", data_dir=...)))
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from quart import Quart
from quart.wrappers import Request
from quart_schema import QuartSchema
from quart_schema.openapi import OpenAPIProvider
from werkzeug.routing import Rule

from stereospot.config import Settings
from stereospot.container import Application, build_container
from stereospot.domain.services.deps import Deps
from stereospot.entrypoints.web import (
    api,
    api_docs,
    auth,
    errors,
    events,
    files,
    operator,
    pages,
    playlists,
    presenters,
    preview,
    push,
    security,
)
from stereospot.entrypoints.web.feed import EventFeed
from stereospot.entrypoints.web.runtime import FileServer
from stereospot.entrypoints.web.urls import ClientUrls

logger = logging.getLogger(__name__)

# Form posts and API bodies are small; only signed file uploads stream large bodies (and
# the files blueprint enforces the limit signed into each URL while streaming).
SMALL_BODY_BYTES = 1024 * 1024


class _Request(Request):
    def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any) -> None:
        if path.startswith("/files/"):
            kwargs["max_content_length"] = None
        elif path == "/api/preview":
            kwargs["max_content_length"] = preview.PREVIEW_MAX_BYTES
        super().__init__(method, scheme, path, *args, **kwargs)


class _ApiOnlyOpenAPI(OpenAPIProvider):
    """The OpenAPI document lists the JSON API, not the HTML pages."""

    def generate_rules(self) -> Any:
        rules: list[Rule] = list(super().generate_rules())
        return [rule for rule in rules if rule.rule.startswith("/api/")]


def _push_public_key(container: Application) -> str | None:
    try:
        sender = container.push_sender()
    except Exception:  # push is optional; a broken key must not stop the site
        logger.exception("Web Push is off: the push sender could not be built")
        return None
    key = getattr(sender, "public_key", None)
    return key if isinstance(key, str) else None


def _feed(deps: Deps) -> EventFeed:
    """The process's event feed: the platform's job events, or, where it has no event
    source (JobEvents with `has_source` False, e.g. AWS without the events topic), one
    poller of the running jobs for the whole process."""
    if getattr(deps.events, "has_source", True):
        return EventFeed.from_events(deps.events)
    logger.warning("no job event source is configured: one poller serves every live page")
    return EventFeed.polling(deps)


def create_app(container: Application | None = None) -> Quart:
    """The app on `container`'s providers: each blueprint is built from what it touches."""
    container = container or build_container()
    settings: Settings = container.settings()
    deps: Deps = container.deps()
    secret: bytes = container.secret_key()
    file_server: FileServer | None = container.platform.file_server()
    vapid_public_key = _push_public_key(container)
    guard = security.Security(
        security.HostPolicy.from_settings(settings, loopback=container.platform.loopback_hosts()),
        secret,
        container.platform.storage_origins(),
    )
    client_url = ClientUrls(settings.public_url, file_server is not None, guard)
    gate = auth.Gate(settings, secret, container.credentials(), container.oidc_verifier())

    app = Quart(__name__)
    app.request_class = _Request
    app.secret_key = secret
    app.config.update(
        MAX_CONTENT_LENGTH=SMALL_BODY_BYTES,
        BODY_TIMEOUT=settings.http_body_timeout_s,  # Quart: a form/JSON body, in full
        UPLOAD_IDLE_SECONDS=settings.upload_idle_timeout_s,  # files.py: an upload's pauses
        SSE_POLL_SECONDS=1.0,
        SSE_HEARTBEAT_SECONDS=15.0,
        JSON_SORT_KEYS=False,
    )
    QuartSchema(
        app,
        openapi_path="/openapi.json",
        redoc_ui_path=None,
        scalar_ui_path=None,
        swagger_ui_path=None,
        info={"title": "StereoSpot API", "version": "1"},
        openapi_provider_class=_ApiOnlyOpenAPI,
    )
    security.install(app, guard)
    auth.install(app, gate, guard, settings)
    errors.register(app)
    app.jinja_env.filters["duration"] = presenters.duration
    app.jinja_env.filters["when"] = presenters.when
    app.jinja_env.filters["percent"] = presenters.percent
    app.jinja_env.globals["push_available"] = vapid_public_key is not None
    app.jinja_env.globals["wording"] = presenters.PAGE_WORDING
    app.jinja_env.globals["operator_links"] = (
        partial(operator.links, settings)
        if container.platform.console_links()
        else operator.no_links
    )

    app.register_blueprint(pages.blueprint(deps, guard, client_url, container.previewer()))
    app.register_blueprint(api.blueprint(deps, guard, client_url))
    app.register_blueprint(api_docs.blueprint)
    app.register_blueprint(preview.blueprint(container.previewer(), guard))
    app.register_blueprint(events.blueprint(deps, _feed(deps)))
    app.register_blueprint(push.blueprint(deps, guard, vapid_public_key))
    app.register_blueprint(playlists.blueprint(deps, client_url, settings.playlist_url_expiry_s))
    if file_server is not None:  # the platform has this app serve its signed links
        app.register_blueprint(files.blueprint(deps, file_server))

    @app.before_serving
    async def _open_job_events() -> None:
        # AWS: this task's own queue of the job-events topic (the first read retries).
        try:
            await asyncio.to_thread(deps.events.open)
        except Exception:
            logger.exception("could not open the job event source; the first page retries")

    @app.after_serving
    async def _close_job_events() -> None:
        try:
            await asyncio.to_thread(deps.events.close)
        except Exception:
            logger.exception("could not close the job event source")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
