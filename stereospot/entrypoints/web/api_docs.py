"""The API page: every JSON endpoint the app serves (read from its URL map, so a new one
is listed at once), with its docstring and a curl example. /openapi.json stays the
machine-readable document."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from quart import Blueprint, current_app, render_template, request

blueprint = Blueprint("api_docs", __name__)

_JOB = "<job_id>"
# Examples for the endpoints a person starts with; others get a plain call.
_EXAMPLES: dict[str, str] = {
    "api.create_job": (
        "curl -X POST {base}/api/jobs -H 'Content-Type: application/json' \\\n"
        '  -d \'{{"output_format": "half-sbs", "divergence": 2.0, "convergence": 0.5}}\''
    ),
    "api.upload_url": (
        "curl -X POST {base}/api/jobs/$JOB/upload-url -H 'Content-Type: application/json' \\\n"
        '  -d \'{{"filename": "holiday.mp4"}}\'\n'
        "# then PUT the file to the url it answers:\n"
        'curl -T holiday.mp4 "$UPLOAD_URL"'
    ),
    "api.list_jobs": "curl '{base}/api/jobs?status=completed&limit=20'",
    "api.get_job": "curl {base}/api/jobs/$JOB",
    "api.cancel_job": "curl -X POST {base}/api/jobs/$JOB/cancel",
    "api.delete_job": "curl -X DELETE {base}/api/jobs/$JOB",
    "preview.preview": (
        "curl -X POST {base}/api/preview -F image=@frame.png -F format=half-sbs \\\n"
        "  -F divergence=2.0 -F convergence=0.5 -o preview.png"
    ),
    "events.job_events": "curl -N {base}/jobs/$JOB/events",
}
_ALSO_LISTED = ("/jobs/<job_id>/events", "/events", "/playlist.m3u")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    summary: str
    example: str


def _summary(endpoint: str) -> str:
    view = current_app.view_functions.get(endpoint)
    doc = inspect.getdoc(view) if view is not None else None
    return " ".join((doc or "").split("\n\n")[0].split())


def endpoints(base: str) -> list[Endpoint]:
    found: list[Endpoint] = []
    for rule in current_app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule in _ALSO_LISTED):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            path = rule.rule.replace(_JOB, "{job_id}")
            example = _EXAMPLES.get(rule.endpoint)
            if example is None:
                flag = "" if method == "GET" else f"-X {method} "
                example = f"curl {flag}{base}{rule.rule.replace(_JOB, '$JOB')}"
            found.append(Endpoint(method, path, _summary(rule.endpoint), example.format(base=base)))
    return sorted(found, key=lambda e: (e.path, e.method))


@blueprint.get("/api-docs")
async def api_page() -> str:
    base = request.host_url.rstrip("/")
    return await render_template("api.html", endpoints=endpoints(base), base=base)
