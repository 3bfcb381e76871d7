"""Errors become short, readable answers: JSON for the API and files, a page for people.

Nothing internal reaches the client: unexpected exceptions are logged with their traceback
and answered with a generic 500.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from quart import Quart, Response, jsonify, render_template, request
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from stereospot.domain.errors import (
    FetchError,
    IllegalTransition,
    InvalidJobId,
    InvalidKey,
    JobNotFound,
    JobNotRemovable,
    SignatureExpired,
    SignatureInvalid,
)

logger = logging.getLogger(__name__)

_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Not possible right now",
    413: "File too large",
    415: "Unsupported content",
    416: "Range not satisfiable",
    500: "Something went wrong",
}
GENERIC_500 = "Something went wrong on our side. Please try again in a moment."
NOT_FOUND = "There is nothing here. The job may have been removed, or the link is mistyped."


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/files/", "/openapi.json")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


async def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    if wants_json():
        response = jsonify({"error": message, "status": status})
    else:
        try:
            body = await render_template(
                "error.html", status=status, title=_TITLES.get(status, "Error"), message=message
            )
        except Exception:  # a broken template must not turn into a traceback
            logger.exception("could not render the error page")
            body = f"{status} {_TITLES.get(status, 'Error')}: {message}"
        response = Response(body, status=status, mimetype="text/html")
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _first_error(exc: Exception) -> str:
    cause = getattr(exc, "validation_error", None)
    if isinstance(cause, ValidationError):
        problems = []
        for error in cause.errors()[:3]:
            where = ".".join(str(part) for part in error.get("loc", ())) or "body"
            problems.append(f"{where}: {error.get('msg', 'invalid')}")
        return "Invalid request. " + "; ".join(problems)
    return "Invalid request: the body must be JSON matching the API schema."


UNDECODABLE_BODY = (
    "The request body is not JSON this server can read (UTF-8, not nested too deeply)."
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def register(app: Quart) -> None:
    async def not_found(_exc: Exception) -> Response:
        return await error_response(404, NOT_FOUND)

    async def job_not_found(exc: JobNotFound) -> Response:
        return await error_response(404, str(exc) or NOT_FOUND)

    async def conflict(exc: Exception) -> Response:
        return await error_response(409, str(exc))

    async def bad_link(exc: SignatureInvalid) -> Response:
        if isinstance(exc, SignatureExpired):
            return await error_response(403, "This link has expired. Open the job page again.")
        return await error_response(403, "This link is not valid.")

    async def bad_fetch(exc: FetchError) -> Response:
        return await error_response(400, str(exc))

    async def schema_error(exc: RequestSchemaValidationError) -> Response:
        return await error_response(400, _first_error(exc))

    async def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = exc.description if status != 500 else GENERIC_500
        # Keep headers the protocol needs (Allow on 405, Content-Range on 416).
        headers = {
            name: value
            for name, value in exc.get_headers()
            if name.lower() in ("allow", "content-range", "retry-after")
        }
        return await error_response(status, message or _TITLES.get(status, "Error"), headers)

    async def undecodable_body(exc: Exception) -> Response:
        # Quart decodes and parses a JSON body outside its own error handling: invalid
        # UTF-8 and nesting deeper than the parser's recursion limit surface as these.
        if request.method in _BODY_METHODS and request.mimetype == "application/json":
            return await error_response(400, UNDECODABLE_BODY)
        return await unexpected(exc)

    async def unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return await error_response(500, GENERIC_500)

    app.register_error_handler(InvalidJobId, not_found)
    app.register_error_handler(InvalidKey, not_found)
    app.register_error_handler(JobNotFound, job_not_found)
    app.register_error_handler(JobNotRemovable, conflict)
    app.register_error_handler(IllegalTransition, conflict)
    app.register_error_handler(SignatureInvalid, bad_link)
    app.register_error_handler(FetchError, bad_fetch)
    app.register_error_handler(RequestSchemaValidationError, schema_error)
    app.register_error_handler(UnicodeDecodeError, undecodable_body)
    app.register_error_handler(RecursionError, undecodable_body)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)
