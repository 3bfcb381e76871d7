"""`stereospot inference triton`: the engine bound as the Triton model `stereo` with
PyTriton (a real Triton server; HTTP on 8000, gRPC 8001, metrics 8002 by default).

Tensors as in the stock repository (triton_repository/stereo): `request` (BYTES, the
request JSON) in, `status` (BYTES, the status JSON) out. The model is loaded and warmed
up before it is bound, so Triton reports it ready only once it can convert.

Triton runs the model's Python side in its Python-backend stub, a separate process with
an embedded interpreter, which:
- loads the first `libpython3.x.so` the dynamic linker finds: this interpreter's library
  directory goes first on LD_LIBRARY_PATH (a system copy of another patch release breaks
  with this one's standard library);
- imports numpy from the environment of the first `python3` on PATH (PyTriton puts this
  one's first). The stub's pybind11 predates numpy 2: under numpy 2 it misreads tensors
  (a BYTES input's length is garbage, outputs arrive empty), so this refuses to start
  with numpy 2 (nvidia-pytriton itself requires numpy<2; scripts/triton.sh builds such a
  venv).
"""

from __future__ import annotations

import logging
import os
import sysconfig
from typing import Any

import numpy as np

from inference_server.service import InferenceService, State
from inference_server.triton_model import handle, numpy_problem

log = logging.getLogger(__name__)

MODEL_NAME = "stereo"


def serve_triton(
    service: InferenceService,
    *,
    host: str,
    http_port: int,
    grpc_port: int,
    metrics_port: int,
) -> int:
    problem = numpy_problem()
    if problem:
        log.error("%s", problem)
        return 1
    from pytriton.model_config import ModelConfig, Tensor
    from pytriton.triton import Triton, TritonConfig

    _put_this_libpython_first()
    service.load()
    if service.state is State.FAILED:
        return 1

    def infer(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        answers = []
        for request in requests:
            body = bytes(request["request"].reshape(-1)[0])
            status = handle(service, body)
            answers.append({"status": np.array([status], dtype=np.object_)})
        return answers

    config = TritonConfig(
        http_address=host,
        http_port=http_port,
        grpc_address=host,
        grpc_port=grpc_port,
        metrics_address=host,
        metrics_port=metrics_port,
    )
    with Triton(config=config) as triton:
        triton.bind(
            model_name=MODEL_NAME,
            infer_func=infer,
            inputs=[Tensor(name="request", dtype=bytes, shape=(1,))],
            outputs=[Tensor(name="status", dtype=bytes, shape=(1,))],
            config=ModelConfig(batching=False),
        )
        log.info("serving the Triton model %s on %s:%d", MODEL_NAME, host, http_port)
        triton.serve()
    return 0


def _put_this_libpython_first() -> None:
    """The stub inherits the environment of the Triton server PyTriton starts."""
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir:
        paths = [libdir, *(p for p in os.environ.get("LD_LIBRARY_PATH", "").split(":") if p)]
        os.environ["LD_LIBRARY_PATH"] = ":".join(dict.fromkeys(paths))
