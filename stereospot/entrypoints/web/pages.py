"""The pages: dashboard, job page (upload, progress, player), create, cancel and remove forms.

Form posts are CSRF-checked (security.require_csrf). Download and playback links on the
pages are stable app URLs that redirect to a freshly signed storage URL, so a page left
open for hours still works, and AWS serves its presigned S3 URLs through the same links.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from quart import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response as WerkzeugResponse

from stereospot.domain import limits
from stereospot.domain.errors import FetchError
from stereospot.domain.formats import SETTINGS_BOUNDS_TEXT, PixelFormat, StereoFormat
from stereospot.domain.ids import parse_job_id
from stereospot.domain.services import jobs as usecases
from stereospot.domain.services.roles import WebPorts
from stereospot.entrypoints.web.api import create as create_from_request
from stereospot.entrypoints.web.api_models import CreateJob
from stereospot.entrypoints.web.presenters import (
    CONVERGENCE_HELP,
    DEFAULTS,
    DIVERGENCE_HELP,
    FORMAT_HELP,
    LOSSLESS_HELP,
    PIXEL_FORMAT_HELP,
    format_choices,
    load_dashboard,
    load_job_view,
    pixel_format_choices,
)
from stereospot.entrypoints.web.preview import Previewer
from stereospot.entrypoints.web.runtime import call
from stereospot.entrypoints.web.security import Security
from stereospot.entrypoints.web.urls import ClientUrls

PAGE_SIZE = 10
FAILED_PAGE_SIZE = 5


# The form's min/max/step/maxlength attributes, from the domain's bounds.
FORM_BOUNDS = {
    "divergence_min": limits.bound_text(limits.DIVERGENCE_ABOVE + limits.DIVERGENCE_STEP),
    "divergence_max": limits.bound_text(limits.DIVERGENCE_MAX),
    "divergence_step": limits.bound_text(limits.DIVERGENCE_STEP),
    "convergence_min": limits.bound_text(limits.CONVERGENCE_MIN),
    "convergence_max": limits.bound_text(limits.CONVERGENCE_MAX),
    "convergence_step": limits.bound_text(limits.CONVERGENCE_STEP),
    "url_maxlength": str(limits.URL_MAX_LENGTH),
}


def _form_context(values: dict[str, Any] | None = None, error: str | None = None) -> dict[str, Any]:
    defaults = {
        "output_format": StereoFormat.HALF_SBS.value,
        "divergence": DEFAULTS.divergence,
        "convergence": DEFAULTS.convergence,
        "pixel_format": DEFAULTS.pixel_format.value,
        "lossless": DEFAULTS.lossless,
        "source_url": "",
    }
    return {
        "formats": format_choices(),
        "pixel_formats": pixel_format_choices(),
        "form": defaults | (values or {}),
        "form_error": error,
        "bounds": FORM_BOUNDS,
        "help": {
            "format": FORMAT_HELP,
            "divergence": DIVERGENCE_HELP,
            "convergence": CONVERGENCE_HELP,
            "pixel_format": PIXEL_FORMAT_HELP,
            "lossless": LOSSLESS_HELP,
        },
    }


_CREATE_ERROR = (
    f"Please check the settings: {SETTINGS_BOUNDS_TEXT}, and a link must start with"
    " http:// or https://."
)


def blueprint(
    deps: WebPorts, security: Security, client_url: ClientUrls, previewer: Previewer
) -> Blueprint:
    """The pages on `deps`; form posts checked by `security`, links re-based by
    `client_url`, and the preview engine warmed while the create form is shown."""
    blueprint = Blueprint("pages", __name__)
    blueprint.before_request(security.require_csrf)

    async def _dashboard(
        values: dict[str, Any] | None = None, error: str | None = None, status: int = 200
    ) -> tuple[str, int]:
        cursor = request.args.get("cursor") or None
        failed_cursor = request.args.get("failed_cursor") or None
        try:
            dashboard = await call(
                load_dashboard, deps, cursor, PAGE_SIZE, failed_cursor, FAILED_PAGE_SIZE
            )
        except ValueError:
            abort(400, "That page of results does not exist.")
        html = await render_template(
            "dashboard.html",
            dashboard=dashboard,
            cursor=cursor,
            failed_cursor=failed_cursor,
            **_form_context(values, error),
        )
        return html, status

    @blueprint.get("/")
    async def dashboard() -> tuple[str, int]:
        previewer.warm()
        return await _dashboard()

    @blueprint.get("/fragments/jobs")
    async def dashboard_lists() -> str:
        """The job lists alone (first pages), for the dashboard's live refresh."""
        dashboard = await call(load_dashboard, deps, None, PAGE_SIZE, None, FAILED_PAGE_SIZE)
        return await render_template(
            "_job_lists.html", dashboard=dashboard, cursor=None, failed_cursor=None
        )

    @blueprint.post("/jobs")
    async def create_job() -> WerkzeugResponse | tuple[str, int]:
        form = await request.form
        values = {
            name: form.get(name, "") for name in ("output_format", "divergence", "convergence")
        }
        values["source_url"] = form.get("source_url", "").strip()
        values["pixel_format"] = form.get("pixel_format", "") or PixelFormat.AUTO.value
        values["lossless"] = form.get("lossless", "") in ("on", "true", "1")
        try:
            body = CreateJob(
                output_format=StereoFormat(values["output_format"]),
                divergence=float(values["divergence"]),
                convergence=float(values["convergence"]),
                pixel_format=PixelFormat(values["pixel_format"]),
                lossless=values["lossless"],
                source_url=values["source_url"] or None,
            )
        except (ValueError, ValidationError):
            return await _dashboard(values, _CREATE_ERROR, status=400)
        try:
            job = await call(create_from_request, deps, body)
        except FetchError as exc:
            return await _dashboard(values, str(exc), status=400)
        return redirect(url_for("pages.job_page", job_id=str(job.id)), 303)

    @blueprint.get("/jobs/<job_id>")
    async def job_page(job_id: str) -> str:
        view = await call(load_job_view, deps, parse_job_id(job_id))
        return await render_template("job.html", view=view)

    @blueprint.get("/jobs/<job_id>/panel")
    async def job_panel(job_id: str) -> str:
        """The job page's main panel alone, swapped in by the page when the status changes."""
        view = await call(load_job_view, deps, parse_job_id(job_id))
        return await render_template("_job_panel.html", view=view)

    @blueprint.get("/jobs/<job_id>/download")
    async def download(job_id: str) -> WerkzeugResponse:
        url = await call(usecases.download_url, deps, parse_job_id(job_id), attachment=True)
        return redirect(client_url(url), 302)

    @blueprint.get("/jobs/<job_id>/video")
    async def video(job_id: str) -> WerkzeugResponse:
        url = await call(usecases.download_url, deps, parse_job_id(job_id), attachment=False)
        return redirect(client_url(url), 302)

    @blueprint.get("/jobs/<job_id>/poster.jpg")
    async def poster(job_id: str) -> Response:
        """The result's poster frame (the player's poster and the lists' thumbnails)."""
        image = await call(usecases.poster, deps, parse_job_id(job_id))
        cache = {"Cache-Control": "private, max-age=3600"}
        return Response(image, mimetype="image/jpeg", headers=cache)

    @blueprint.post("/jobs/<job_id>/cancel")
    async def cancel(job_id: str) -> WerkzeugResponse:
        """Cancel a job still waiting for its video; back to the page the form was on."""
        identifier = parse_job_id(job_id)
        form = await request.form
        job = await call(usecases.cancel_job, deps, identifier)
        await flash(f"“{job.title or 'Untitled video'}” was cancelled. You can remove it now.")
        if form.get("return_to") == "job":
            return redirect(url_for("pages.job_page", job_id=str(identifier)), 303)
        return redirect(url_for("pages.dashboard"), 303)

    @blueprint.post("/jobs/<job_id>/delete")
    async def delete(job_id: str) -> WerkzeugResponse:
        job = await call(usecases.request_deletion, deps, parse_job_id(job_id))
        await flash(f"“{job.title or 'Untitled video'}” was removed.")
        return redirect(url_for("pages.dashboard"), 303)

    return blueprint
