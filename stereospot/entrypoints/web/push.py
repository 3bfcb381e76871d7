"""Web Push: the VAPID public key, job subscriptions, and the service worker script."""

from __future__ import annotations

from quart import Blueprint, Response, abort, current_app, send_from_directory
from quart_schema import tag, validate_request, validate_response

from stereospot.domain.ids import parse_job_id
from stereospot.domain.ports import PushSubscription
from stereospot.domain.services import jobs as usecases
from stereospot.domain.services.roles import Subscribing
from stereospot.entrypoints.web.api_models import (
    Accepted,
    ApiError,
    PushPublicKey,
    PushSubscriptionIn,
)
from stereospot.entrypoints.web.runtime import call
from stereospot.entrypoints.web.security import Security


def blueprint(deps: Subscribing, security: Security, vapid_key: str | None) -> Blueprint:
    """Push on `deps`; `vapid_key` is the public VAPID key, None when push is off."""
    blueprint = Blueprint("push", __name__)

    @blueprint.get("/api/push/public-key")
    @tag(["push"])
    @validate_response(PushPublicKey)
    @validate_response(ApiError, 404)
    async def public_key() -> PushPublicKey:
        """The VAPID application server key, when push is configured and this origin is one
        where browsers allow push (HTTPS, or localhost)."""
        if vapid_key is None:
            abort(404, "Notifications are not configured on this server.")
        if not security.is_push_capable_origin():
            abort(404, "Notifications need HTTPS (or localhost).")
        return PushPublicKey(public_key=vapid_key)

    @blueprint.post("/api/jobs/<job_id>/push-subscriptions")
    @tag(["push"])
    @validate_request(PushSubscriptionIn)
    @validate_response(Accepted, 201)
    @validate_response(ApiError, 404)
    async def subscribe(job_id: str, data: PushSubscriptionIn) -> tuple[Accepted, int]:
        """Notify this browser subscription when the job completes or fails."""
        await security.require_same_origin()
        subscription = PushSubscription(
            endpoint=data.endpoint, p256dh=data.keys.p256dh, auth=data.keys.auth
        )
        await call(usecases.subscribe_push, deps, parse_job_id(job_id), subscription)
        return Accepted(status="subscribed"), 201

    @blueprint.get("/sw.js")
    async def service_worker() -> Response:
        """Served from the root so its scope covers every page."""
        static = current_app.static_folder
        assert static is not None
        response = await send_from_directory(static, "sw.js", mimetype="text/javascript")
        response.cache_control.no_cache = True
        return response

    return blueprint
