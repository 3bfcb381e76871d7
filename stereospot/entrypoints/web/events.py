"""Server-Sent Events: live job progress for the job page and the dashboard.

Streams do not poll: the process's one EventFeed (feed.py) wakes a stream when an event
about its job arrives (the dashboard: about any job); the stream then reads its state
once and sends an event only when something a person would notice changed. A burst of
events costs one read, and the dashboard reads at most every `SSE_POLL_SECONDS`. Between
changes a comment line every 15 s keeps proxies from closing the connection. `retry:`
tells the browser how soon to reconnect after a drop; the page's script also reopens a
stream the browser gave up on. A job stream ends after the job reaches a final state (or
disappears).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID

from quart import Blueprint, Response, current_app

from stereospot.domain.errors import JobNotFound
from stereospot.domain.ids import parse_job_id
from stereospot.domain.services import jobs as usecases
from stereospot.domain.services.roles import Reading
from stereospot.entrypoints.web.feed import EventFeed
from stereospot.entrypoints.web.presenters import live_summary, load_job_view
from stereospot.entrypoints.web.runtime import call

RETRY_MS = 3000
# What counts as a change: everything but the ETA, which the page counts down itself.
_ETA = "eta_seconds"


def format_event(event: str, data: object, event_id: int | None = None) -> str:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {json.dumps(data, separators=(',', ':'))}")
    return "\n".join(lines) + "\n\n"


def _comparable(snapshot: dict[str, Any] | None) -> object:
    if snapshot is None:
        return None
    stable = {k: v for k, v in snapshot.items() if k != _ETA}
    return stable | {"has_eta": snapshot[_ETA] is not None}


def job_snapshot(deps: Reading, job_id: UUID) -> dict[str, Any] | None:
    try:
        return load_job_view(deps, job_id).snapshot()
    except JobNotFound:
        return None


async def _stream(
    feed: EventFeed,
    job_id: UUID | None,
    read: Callable[[], Any],
    event_name: str,
    compare: Callable[[Any], object],
    is_final: Callable[[Any], bool],
    timing: tuple[float, float],
) -> AsyncIterator[str]:
    """The event stream. It runs after the handler returned (outside the app context), so
    everything it needs is passed in."""
    min_gap_s, heartbeat_s = timing
    yield f"retry: {RETRY_MS}\n\n"
    async with feed.subscribe(job_id) as subscription:
        last: object = object()
        event_id = 0
        news = True  # the first state is always sent
        while True:
            if news:
                snapshot = await call(read)
                if compare(snapshot) != last:
                    last = compare(snapshot)
                    event_id += 1
                    if snapshot is None:
                        yield format_event("gone", {}, event_id)
                        return
                    yield format_event(event_name, snapshot, event_id)
                    if is_final(snapshot):
                        return
            else:
                yield ": keep-alive\n\n"
            news = await subscription.next(heartbeat_s)
            if news and job_id is None:
                await asyncio.sleep(min_gap_s)  # the dashboard's reads: at most this often


def _timing() -> tuple[float, float]:
    config = current_app.config
    return float(config["SSE_POLL_SECONDS"]), float(config["SSE_HEARTBEAT_SECONDS"])


def _event_response(body: AsyncIterator[str]) -> Response:
    response = Response(
        body,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    response.timeout = None  # a stream lives as long as the page does
    return response


def blueprint(deps: Reading, feed: EventFeed) -> Blueprint:
    """The event streams: state read from `deps`, woken by the process's one `feed`."""
    blueprint = Blueprint("events", __name__)

    @blueprint.get("/jobs/<job_id>/events")
    async def job_events(job_id: str) -> Response:
        identifier = parse_job_id(job_id)
        await call(usecases.get_visible_job, deps, identifier)  # 404 before the stream opens

        def final(snapshot: dict[str, Any]) -> bool:
            return snapshot["status"] in ("completed", "failed", "deleted")

        return _event_response(
            _stream(
                feed,
                identifier,
                lambda: job_snapshot(deps, identifier),
                "progress",
                _comparable,
                final,
                _timing(),
            )
        )

    @blueprint.get("/events")
    async def dashboard_events() -> Response:
        def compare(summary: dict[str, Any]) -> object:
            return {
                "running": [_comparable(job) for job in summary["in_progress"]],
                "newest": summary["newest_completed"],
                "newest_failed": summary["newest_failed"],
            }

        return _event_response(
            _stream(
                feed,
                None,
                lambda: live_summary(deps),
                "jobs",
                compare,
                lambda _s: False,
                _timing(),
            )
        )

    return blueprint
