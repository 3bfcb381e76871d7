"""Security headers on every response, CSRF tokens for form posts, same-origin API writes,
trusted hosts (a request naming any other Host gets 400: DNS rebinding), and forwarded
headers believed only from trusted proxies (so "https" is known, not claimed)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from quart import Quart, Response, abort, request, session
from quart.sessions import SecureCookieSessionInterface

from stereospot.config import Settings

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


# --------------------------------------------------------------------------- hosts

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
UNTRUSTED_HOST = (
    "This server does not answer to that host name"
    " (its operator can add it to STEREOSPOT_TRUSTED_HOSTS)."
)
# Load balancer health checks name the target's address, not a host name.
_ANY_HOST_PATHS = frozenset({"/healthz"})


@dataclass(frozen=True)
class HostPolicy:
    hosts: frozenset[str]  # host names (no port), lower case; IPv6 in brackets
    proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def from_settings(cls, settings: Settings, *, loopback: bool) -> HostPolicy:
        """loopback: whether loopback names are trusted too (the platform says)."""
        names = {host_name(urlsplit(settings.public_url).netloc)}
        names |= {host_name(item) for item in settings.trusted_hosts.split(",")}
        if loopback:
            names |= set(LOOPBACK_NAMES)
        proxies = tuple(
            ipaddress.ip_network(item.strip(), strict=False)
            for item in settings.trusted_proxies.split(",")
            if item.strip()
        )
        return cls(frozenset(name for name in names if name), proxies)

    def trusts_host(self, host: str) -> bool:
        return host_name(host) in self.hosts

    def trusts_peer(self, address: str | None) -> bool:
        try:
            peer = ipaddress.ip_address((address or "").strip("[]"))
        except ValueError:
            return False
        return any(peer in network for network in self.proxies)


def host_name(host: str) -> str:
    """`Example.com:8000` -> `example.com`; `[::1]:80` -> `[::1]`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Security:
    """The request checks of one app: its trusted hosts and proxies, the secret its CSRF
    tokens are made with, and the storage origins its pages may talk to (the CSP). Built
    once in create_app and handed to the blueprints that check requests."""

    def __init__(
        self, hosts: HostPolicy, secret: bytes, storage_origins: tuple[str, ...] = ()
    ) -> None:
        self.hosts = hosts
        self._secret = secret
        self.storage_origins = storage_origins

    # ------------------------------------------------------------------ the request

    def _forwarded(self, name: str) -> str:
        """The first value of a forwarded header, when the peer is a trusted proxy."""
        if not self.hosts.trusts_peer(request.remote_addr):
            return ""
        # Each proxy appends: the nearest (trusted) proxy's view is the last entry.
        return request.headers.get(name, "").split(",")[-1].strip().lower()

    def is_secure_request(self) -> bool:
        """Really https: our own TLS, or a trusted proxy that says the browser used https."""
        return request.scheme == "https" or self._forwarded("X-Forwarded-Proto") == "https"

    def client_address(self) -> str:
        """The browser's address (from a trusted proxy's X-Forwarded-For), for rate limits."""
        return self._forwarded("X-Forwarded-For") or (request.remote_addr or "")

    def request_origin(self) -> str:
        return f"{'https' if self.is_secure_request() else 'http'}://{request.host.lower()}"

    def is_push_capable_origin(self) -> bool:
        """Browsers allow push only in secure contexts: HTTPS, or localhost/127.0.0.1."""
        return self.is_secure_request() or host_name(request.host) in LOOPBACK_NAMES

    async def require_trusted_host(self) -> None:
        if request.path in _ANY_HOST_PATHS:
            return
        if not self.hosts.trusts_host(request.host):
            abort(400, UNTRUSTED_HOST)

    async def add_security_headers(self, response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = content_security_policy(self.storage_origins)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        # Signed URLs carry their grant in the query string: never leak them as a Referer.
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = (
            "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        if self.is_secure_request():
            headers["Strict-Transport-Security"] = "max-age=31536000"
        if response.mimetype == "text/html":
            headers["Cache-Control"] = "no-store"
        return response

    # ------------------------------------------------------------------ CSRF

    def _token_for(self, nonce: str) -> str:
        return hmac.new(self._secret, f"csrf|{nonce}".encode(), hashlib.sha256).hexdigest()

    def csrf_token(self) -> str:
        """The token for this session's forms (HMAC of a per-session nonce; the nonce lives
        in the signed session cookie, so a token from another session never matches)."""
        nonce = session.get(_SESSION_NONCE)
        if not isinstance(nonce, str):
            nonce = secrets.token_urlsafe(32)
            session[_SESSION_NONCE] = nonce
        return self._token_for(nonce)

    def csrf_valid(self, token: object) -> bool:
        nonce = session.get(_SESSION_NONCE)
        if not isinstance(nonce, str) or not isinstance(token, str):
            return False
        return hmac.compare_digest(self._token_for(nonce), token)

    async def require_csrf(self) -> None:
        """before_request for HTML blueprints: every form post carries the session's token."""
        if request.method not in _UNSAFE_METHODS:
            return
        form = await request.form
        token = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
        if not self.csrf_valid(token):
            abort(403, CSRF_FAILED)

    async def require_same_origin(self) -> None:
        """before_request for the JSON API: writes come from our own pages or non-browser
        clients. A browser always sends Origin on cross-site writes; refuse those."""
        if request.method not in _UNSAFE_METHODS:
            return
        origin = request.headers.get("Origin")
        if origin is not None and origin.strip().lower().rstrip("/") != self.request_origin():
            abort(403, "Cross-site requests are not allowed.")


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure exactly when the request really is https."""

    def __init__(self, security: Security) -> None:
        self._security = security

    def get_cookie_secure(self, app: Any) -> bool:
        return self._security.is_secure_request()


def install(app: Quart, security: Security) -> None:
    app.before_request(security.require_trusted_host)
    app.after_request(security.add_security_headers)
    app.session_interface = _SessionInterface(security)
    app.jinja_env.globals["csrf_token"] = security.csrf_token
    app.jinja_env.globals["csrf_field"] = CSRF_FIELD
    app.config.update(
        SESSION_COOKIE_NAME="stereospot_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
