"""Who may use the app (STEREOSPOT_AUTH): nobody is asked on `none` (loopback only, see
`stereospot serve`), one password on `password`, the load balancer's signed OIDC identity
on `oidc-header`. API clients (`stereospot submit --token`) send `Authorization: Bearer`.

Open without a session: /healthz, the login page, static files, and signed file links
(/files/...: the signature is the grant, so links handed to a player or a download keep
working). Everything else needs an identity: pages redirect to the login page, the API
answers 401. Failed logins are limited per client address and in total.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from quart import (
    Blueprint,
    Quart,
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from quart_schema import tag, validate_response

from stereospot.config import AuthMode, Settings
from stereospot.domain.errors import InvalidIdentity
from stereospot.entrypoints.web.errors import wants_json
from stereospot.entrypoints.web.runtime import call
from stereospot.entrypoints.web.security import CSRF_FIELD, Security

logger = logging.getLogger(__name__)

OIDC_HEADER = "x-amzn-oidc-data"
SIGN_IN_NEEDED = (
    "Please sign in first (API clients: send a token, see `stereospot submit --token`)."
)
WRONG_PASSWORD = "That password is not right."  # noqa: S105 - a message
TOO_MANY = "Too many sign-in attempts. Please wait a few minutes and try again."
_SESSION_USER = "user"
_OPEN_PATHS = frozenset({"/healthz", "/login", "/sw.js"})
_OPEN_PREFIXES = ("/static/", "/files/")


class AttemptLimiter:
    """At most `per_client` failures per address and `overall` in all per window."""

    def __init__(self, per_client: int = 5, overall: int = 100, window_s: float = 300) -> None:
        self._per_client = per_client
        self._overall = overall
        self._window_s = window_s
        self._failures: dict[str, collections.deque[float]] = {}
        self._all: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def _trim(self, times: collections.deque[float], now: float) -> None:
        while times and times[0] <= now - self._window_s:
            times.popleft()

    def blocked(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            mine = self._failures.get(client, collections.deque())
            self._trim(mine, now)
            self._trim(self._all, now)
            return len(mine) >= self._per_client or len(self._all) >= self._overall

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._failures.setdefault(client, collections.deque()).append(now)
            self._all.append(now)
            if len(self._failures) > 10_000:  # forget the oldest addresses
                self._failures.pop(next(iter(self._failures)))


class Credentials(Protocol):
    """The password check and API tokens (stereospot.adapters.auth.passwords)."""

    def verify_password(self, password: str, stored: str) -> bool: ...

    def mint_token(self, secret: bytes) -> str: ...

    def token_valid(self, secret: bytes, token: str) -> bool: ...


class IdentityVerifier(Protocol):
    """The load balancer's signed identity header (stereospot.adapters.auth.alb_oidc);
    raises InvalidIdentity."""

    def verify(self, token: str) -> dict[str, Any]: ...


class Gate:
    """The app's auth settings and the parts that check them, built once in create_app."""

    def __init__(
        self,
        settings: Settings,
        secret: bytes,
        credentials: Credentials,
        verifier: IdentityVerifier | None,
    ) -> None:
        self.mode = settings.auth
        self.secret = secret
        self.credentials = credentials
        self.password_hash = (
            settings.auth_password_hash.get_secret_value() if settings.auth_password_hash else ""
        )
        self.limiter = AttemptLimiter()
        self.verifier = verifier if settings.auth is AuthMode.OIDC_HEADER else None


def _bearer() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def identity(gate: Gate) -> str | None:
    """Who is asking, or None."""
    if gate.mode is AuthMode.NONE:
        return "local"
    token = _bearer()
    if token:
        return "api-token" if gate.credentials.token_valid(gate.secret, token) else None
    if gate.mode is AuthMode.PASSWORD:
        user = session.get(_SESSION_USER)
        return user if isinstance(user, str) else None
    header = request.headers.get(OIDC_HEADER)
    if not header or gate.verifier is None:
        return None
    try:
        claims = await call(gate.verifier.verify, header)
    except InvalidIdentity as exc:
        logger.warning("refused an x-amzn-oidc-data header: %s", exc)
        return None
    return str(claims.get("email") or claims.get("sub") or "oidc")


async def require_identity(gate: Gate) -> Any:
    path = request.path
    if path in _OPEN_PATHS or path.startswith(_OPEN_PREFIXES):
        return None
    who = await identity(gate)
    if who is not None:
        g.identity = who
        return None
    if gate.mode is AuthMode.PASSWORD and not wants_json() and request.method == "GET":
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(401, SIGN_IN_NEEDED)
    return None  # pragma: no cover - abort raises


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("pages.dashboard")
    parts = urlsplit(target)
    return target if not parts.netloc and not parts.scheme else url_for("pages.dashboard")


async def _login_page(next_url: str, error: str, status: int) -> Response:
    body = await render_template("login.html", next=next_url, error=error)
    response = Response(body, status=status, mimetype="text/html")
    if status == 429:
        response.headers["Retry-After"] = "300"
    return response


class ApiToken(BaseModel):
    token: str = Field(description="send as `Authorization: Bearer <token>`")


def blueprint(gate: Gate, security: Security) -> Blueprint:
    """Sign-in, sign-out and API tokens, as `gate` allows; forms checked by `security`."""
    blueprint = Blueprint("auth", __name__)

    @blueprint.get("/login")
    async def login() -> Any:
        if gate.mode is not AuthMode.PASSWORD:
            return redirect(url_for("pages.dashboard"))
        return await render_template("login.html", next=request.args.get("next", ""), error=None)

    @blueprint.post("/login")
    async def login_post() -> Any:
        if gate.mode is not AuthMode.PASSWORD:
            abort(404)
        form = await request.form
        next_url = form.get("next", "")
        if not security.csrf_valid(form.get(CSRF_FIELD)):
            abort(403, "This form has expired. Reload the page and try again.")
        client = security.client_address()
        if gate.limiter.blocked(client):
            logger.warning("sign-in attempts from %s are being limited", client)
            return await _login_page(next_url, TOO_MANY, 429)
        password = form.get("password", "")
        if not (
            password and await call(gate.credentials.verify_password, password, gate.password_hash)
        ):
            gate.limiter.failed(client)
            logger.warning("a failed sign-in from %s", client)
            return await _login_page(next_url, WRONG_PASSWORD, 401)
        session.clear()  # a fresh session (and CSRF nonce) after signing in
        session[_SESSION_USER] = "owner"
        session.permanent = True
        logger.info("signed in from %s", client)
        return redirect(_safe_next(next_url))

    @blueprint.post("/logout")
    async def logout() -> Any:
        form = await request.form
        if not security.csrf_valid(form.get(CSRF_FIELD)):
            abort(403, "This form has expired. Reload the page and try again.")
        session.clear()
        return redirect(url_for("auth.login") if gate.mode is AuthMode.PASSWORD else "/")

    @blueprint.post("/api/tokens")
    @tag(["auth"])
    @validate_response(ApiToken, 201)
    async def new_token() -> tuple[ApiToken, int]:
        """A new API token for `stereospot submit --token` (needs a signed-in session)."""
        await security.require_same_origin()
        if gate.mode is AuthMode.NONE:
            abort(404, "This server needs no tokens (it has no sign-in).")
        if _bearer():
            abort(403, "Tokens are made from a signed-in browser session, not with a token.")
        return ApiToken(token=gate.credentials.mint_token(gate.secret)), 201

    return blueprint


def install(app: Quart, gate: Gate, security: Security, settings: Settings) -> None:
    async def check_identity() -> Any:
        return await require_identity(gate)

    app.before_request(check_identity)
    app.register_blueprint(blueprint(gate, security))
    app.config["PERMANENT_SESSION_LIFETIME"] = settings.auth_session_hours * 3600
    app.jinja_env.globals["auth_mode"] = settings.auth.value
