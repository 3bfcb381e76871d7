""" "Open in 3D player": M3U playlists with long-lived signed URLs, and how to play them."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from quart import Blueprint, Response, render_template

from stereospot.domain.formats import StereoFormat
from stereospot.domain.ids import parse_job_id
from stereospot.domain.model import Job
from stereospot.domain.services import jobs as usecases
from stereospot.domain.services.roles import HasJobs, Linking
from stereospot.entrypoints.web.runtime import call
from stereospot.entrypoints.web.urls import ClientUrls

MAX_PLAYLIST_JOBS = 500


@dataclass(frozen=True)
class PlayerModes:
    vlc: str
    bino: str
    potplayer: str


# Which setting of each player shows each output format in 3D.
PLAYER_MODES: dict[StereoFormat, PlayerModes] = {
    StereoFormat.FULL_SBS: PlayerModes(
        "Anaglyph filter (reads left/right)", "Input: Left/right", "Side by Side (left first)"
    ),
    StereoFormat.HALF_SBS: PlayerModes(
        "Anaglyph filter (reads left/right)",
        "Input: Left/right, half width",
        "Side by Side (left first)",
    ),
    StereoFormat.FULL_TB: PlayerModes(
        "Plays flat (no top/bottom mode)", "Input: Top/bottom", "Top and Bottom (top first)"
    ),
    StereoFormat.HALF_TB: PlayerModes(
        "Plays flat (no top/bottom mode)",
        "Input: Top/bottom, half height",
        "Top and Bottom (top first)",
    ),
    StereoFormat.CROSS_EYED: PlayerModes(
        "Plain playback, view cross-eyed", "Input: Right/left", "Side by Side (right first)"
    ),
    StereoFormat.ANAGLYPH: PlayerModes(
        "Plain playback + red-cyan glasses", "Input: 2D", "3D mode off + red-cyan glasses"
    ),
    StereoFormat.ANAGLYPH_COLOR: PlayerModes(
        "Plain playback + red-cyan glasses", "Input: 2D", "3D mode off + red-cyan glasses"
    ),
    StereoFormat.DEPTH: PlayerModes("Plain playback", "Input: 2D", "3D mode off"),
}


def _entries(deps: Linking, jobs: list[Job], expires_s: int) -> list[tuple[Job, str]]:
    return [
        (job, usecases.download_url(deps, job.id, attachment=False, expires_s=expires_s))
        for job in jobs
    ]


def _all_completed(deps: HasJobs) -> list[Job]:
    jobs: list[Job] = []
    cursor: str | None = None
    while len(jobs) < MAX_PLAYLIST_JOBS:
        page = usecases.list_completed(deps, limit=100, cursor=cursor)
        jobs.extend(page.jobs)
        cursor = page.next_cursor
        if cursor is None:
            break
    return jobs[:MAX_PLAYLIST_JOBS]


def _one_completed(deps: Linking, job_id: UUID) -> list[Job]:
    job = usecases.get_visible_job(deps, job_id)
    usecases.download_url(deps, job_id, attachment=False)  # JobNotFound unless completed
    return [job]


def _m3u(entries: list[tuple[Job, str]], client_url: ClientUrls) -> str:
    lines = ["#EXTM3U"]
    for job, url in entries:
        title = " ".join((job.title or "StereoSpot video").split())
        lines.append(f"#EXTINF:-1,{title} [{job.output_format.label}]")
        lines.append(client_url(url))
    return "\n".join(lines) + "\n"


def _playlist_response(text: str, filename: str) -> Response:
    response = Response(text, mimetype="audio/x-mpegurl")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def blueprint(deps: Linking, client_url: ClientUrls, expiry_s: int) -> Blueprint:
    """Playlists of `deps`' completed jobs, their links valid for `expiry_s`."""
    blueprint = Blueprint("playlists", __name__)

    @blueprint.get("/playlist.m3u")
    async def all_playlist() -> Response:
        jobs = await call(_all_completed, deps)
        entries = await call(_entries, deps, jobs, expiry_s)
        return _playlist_response(_m3u(entries, client_url), "stereospot.m3u")

    @blueprint.get("/jobs/<job_id>/playlist.m3u")
    async def job_playlist(job_id: str) -> Response:
        jobs = await call(_one_completed, deps, parse_job_id(job_id))
        entries = await call(_entries, deps, jobs, expiry_s)
        return _playlist_response(_m3u(entries, client_url), f"{jobs[0].download_name()[:-4]}.m3u")

    @blueprint.get("/players")
    async def players_all() -> str:
        jobs = await call(_all_completed, deps)
        return await render_template(
            "players.html",
            jobs=jobs,
            job=None,
            modes=PLAYER_MODES,
            expiry_days=expiry_s // 86400,
        )

    @blueprint.get("/jobs/<job_id>/players")
    async def players_job(job_id: str) -> str:
        jobs = await call(_one_completed, deps, parse_job_id(job_id))
        return await render_template(
            "players.html",
            jobs=jobs,
            job=jobs[0],
            modes=PLAYER_MODES,
            expiry_days=expiry_s // 86400,
        )

    return blueprint
