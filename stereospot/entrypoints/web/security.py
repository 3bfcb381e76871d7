"""Security headers on every response, CSRF tokens for form posts, same-origin API writes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from quart import Quart, Response, abort, request, session

from stereospot.config import Settings
from stereospot.entrypoints.web.runtime import state

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SESSION_NONCE = "csrf_nonce"
CSRF_FAILED = "This form has expired or came from another site. Reload the page and try again."
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def content_security_policy(extra_origins: tuple[str, ...]) -> str:
    extra = "".join(f" {origin}" for origin in extra_origins)
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"media-src 'self' blob:{extra}",
            f"connect-src 'self'{extra}",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


async def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(state().storage_origins)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # Signed URLs carry their grant in the query string: never leak them as a Referer.
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    if is_secure_request():
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if response.mimetype == "text/html":
        headers["Cache-Control"] = "no-store"
    return response


def is_secure_request() -> bool:
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.scheme == "https" or forwarded == "https"


def is_push_capable_origin() -> bool:
    """Browsers allow push only in secure contexts: HTTPS, or localhost/127.0.0.1."""
    return is_secure_request() or request.host.rsplit(":", 1)[0] in (
        "localhost",
        "127.0.0.1",
        "[::1]",
    )


# --------------------------------------------------------------------------- CSRF


def _token_for(nonce: str) -> str:
    return hmac.new(state().secret, f"csrf|{nonce}".encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    """The token for this session's forms (HMAC of a per-session nonce; the nonce lives in
    the signed session cookie, so a token from another session never matches)."""
    nonce = session.get(_SESSION_NONCE)
    if not isinstance(nonce, str):
        nonce = secrets.token_urlsafe(32)
        session[_SESSION_NONCE] = nonce
    return _token_for(nonce)


def csrf_valid(token: object) -> bool:
    nonce = session.get(_SESSION_NONCE)
    if not isinstance(nonce, str) or not isinstance(token, str):
        return False
    return hmac.compare_digest(_token_for(nonce), token)


async def require_csrf() -> None:
    """before_request for HTML blueprints: every form post carries the session's token."""
    if request.method not in _UNSAFE_METHODS:
        return
    form = await request.form
    token = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not csrf_valid(token):
        abort(403, CSRF_FAILED)


async def require_same_origin() -> None:
    """before_request for the JSON API: writes come from our own pages or non-browser
    clients. A browser always sends Origin on cross-site writes; refuse those."""
    if request.method not in _UNSAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        abort(403, "Cross-site requests are not allowed.")
    if origin == "null":
        abort(403, "Cross-site requests are not allowed.")


def install(app: Quart, settings: Settings) -> None:
    app.after_request(add_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["csrf_field"] = CSRF_FIELD
    app.config.update(
        SESSION_COOKIE_NAME="stereospot_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
    )
