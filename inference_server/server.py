"""The SageMaker container contract over HTTP (Quart on Hypercorn), port 8080 by default.

    GET  /ping          200 {"status": "ready"} once the model is loaded and warm;
                        503 {"status": "loading" | "failed", "reason"?} before (or never)
    POST /invocations   the JSON of stereospot.domain.inference; answers
                        200 {status: "ok", frames, seconds, depth_model, device}
                        400 {status: "error", reason}  bad body, missing input, media error
                        500 {status: "error", reason}  an engine fault (worth a retry)
                        503 {status: "error", reason} + Retry-After: not ready, or busy

One conversion at a time per server (one GPU): a request arriving while one runs is not
queued but answered 503 with `Retry-After: 5` at once; the video-worker's http backend
retries it with backoff. (SageMaker async endpoints send one request per instance at a
time anyway, given MaxConcurrentInvocationsPerInstance = 1.)

The model loads in a background thread once the port is open, so /ping answers 503 while
it loads; if it cannot load, the server logs the reason and exits with status 1.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from typing import Any

from quart import Quart, Response, jsonify, request

from inference_server.service import ENGINE_FAULT, InferenceService, Rejected, State
from stereospot.domain.inference import BadInvocation, InvocationFailure, parse_request

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5


def _error(status: int, reason: str, retry_after: int | None = None) -> Response:
    response = jsonify(InvocationFailure(reason=reason).model_dump())
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def create_app(service: InferenceService) -> Quart:
    app = Quart(__name__)

    @app.get("/ping")
    async def ping() -> Response:
        if service.ready:
            return jsonify({"status": "ready", "depth_model": service.loaded_model})
        body: dict[str, Any] = {"status": service.state.value}
        if service.failure:
            body["reason"] = service.failure
        response = jsonify(body)
        response.status_code = 503
        return response

    @app.post("/invocations")
    async def invocations() -> Response:
        body = await request.get_data()
        try:
            invocation = parse_request(body)
        except BadInvocation as exc:
            return _error(400, str(exc))
        if not service.ready:
            return _error(503, "The depth model is not loaded yet.", RETRY_AFTER_S)
        with service.slot() as acquired:
            if not acquired:
                busy = "Busy: this server converts one segment at a time."
                return _error(503, busy, RETRY_AFTER_S)
            try:
                result = await asyncio.to_thread(service.convert, invocation)
            except Rejected as exc:
                log.warning("rejected: %s", exc)
                return _error(400, str(exc))
            except Exception:
                log.exception("the engine failed")  # the detail stays in this log
                return _error(500, ENGINE_FAULT)
        return jsonify(result.model_dump())

    return app


def serve(service: InferenceService, host: str, port: int) -> int:
    """Serve until SIGINT/SIGTERM (0), or until the model fails to load (1)."""
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = log
    config.graceful_timeout = 5.0
    app = create_app(service)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)

        def load() -> None:
            service.load()
            if service.state is State.FAILED:
                loop.call_soon_threadsafe(stop.set)

        @app.before_serving
        async def start_loading() -> None:
            threading.Thread(target=load, name="load-model", daemon=True).start()

        log.info("listening on %s:%d", host, port)
        await hypercorn_serve(app, config, shutdown_trigger=stop.wait)

    asyncio.run(main())
    return 1 if service.state is State.FAILED else 0
