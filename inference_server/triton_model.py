"""The engine as a Triton model: one request JSON in, one status JSON out.

Shared by the stock model repository (triton_repository/stereo/1/model.py, Triton's
Python backend in NVIDIA's container) and the PyTriton binding
(`stereospot inference triton`). The status is the HTTP server's answer plus an HTTP-like
`code`: 200 {status: ok, frames, ...}, 400 {status: error, reason} for a bad request or a
media error, 500 for an engine fault.
"""

from __future__ import annotations

import json
import logging

import numpy as np

from inference_server.service import ENGINE_FAULT, InferenceService, Rejected

log = logging.getLogger(__name__)


def handle(service: InferenceService, body: bytes) -> bytes:
    """The status JSON for one request body (never raises)."""
    if not service.ready:
        return _status(503, {"status": "error", "reason": "The depth model is not loaded."})
    try:
        result = service.invoke_body(body)
    except Rejected as exc:
        return _status(400, {"status": "error", "reason": str(exc)})
    except Exception:
        log.exception("the engine failed")  # the detail stays in this log
        return _status(500, {"status": "error", "reason": ENGINE_FAULT})
    return _status(200, result.model_dump())


def numpy_problem() -> str | None:
    """Why Triton's Python backend cannot run the model with this numpy, or None.

    The backend's stub (the process running the model) was built with bindings that know
    only numpy 1.x's array layout: under numpy 2 they misread tensors (a BYTES input's
    length is garbage, outputs arrive empty)."""
    if int(np.__version__.split(".")[0]) < 2:
        return None
    return (
        f"Triton's Python backend needs numpy<2 (this environment has numpy {np.__version__}; "
        "under numpy 2 its stub misreads tensors): use a venv like scripts/triton.sh builds"
    )


def _status(code: int, body: dict[str, object]) -> bytes:
    return json.dumps({"code": code, **body}).encode()
