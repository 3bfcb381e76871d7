"""`stereospot inference triton`: the engine bound as the Triton model `stereo` with
PyTriton (a real Triton server; HTTP on 8000, gRPC 8001, metrics 8002 by default).

Tensors as in the stock repository (triton_repository/stereo): `request` (BYTES, the
request JSON) in, `status` (BYTES, the status JSON) out. The model is loaded and warmed
up before it is bound, so Triton reports it ready only once it can convert.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from inference_server.service import InferenceService, State
from inference_server.triton_model import handle

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
    from pytriton.model_config import ModelConfig, Tensor
    from pytriton.triton import Triton, TritonConfig

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
        http_address=host, http_port=http_port, grpc_port=grpc_port, metrics_port=metrics_port
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
