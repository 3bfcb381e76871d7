"""Triton Python backend model: the StereoSpot engine (see ../config.pbtxt).

Settings come from the environment as everywhere (STEREOSPOT_DEVICE, STEREOSPOT_AWS__*,
HF_TOKEN or STEREOSPOT_HF_TOKEN_SECRET_ARN); the depth model from the config's
`depth_model` parameter unless STEREOSPOT_DEPTH_MODEL is set. The model loads and warms up
in initialize(), so Triton reports it ready only once it can convert.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils  # provided by Triton's Python backend

from inference_server.service import State
from inference_server.triton_model import handle, numpy_problem
from stereospot.config import Settings
from stereospot.entrypoints.cli.inference import build_service


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        problem = numpy_problem()
        if problem:
            raise RuntimeError(problem)
        config = json.loads(args["model_config"])
        parameters = config.get("parameters", {})
        default_model = parameters.get("depth_model", {}).get("string_value", "auto")
        os.environ.setdefault("STEREOSPOT_DEPTH_MODEL", default_model)
        self.service = build_service(Settings())
        self.service.load()
        if self.service.state is State.FAILED:
            raise RuntimeError(f"the depth model could not be loaded: {self.service.failure}")

    def execute(self, requests: list[Any]) -> list[Any]:
        responses = []
        for request in requests:
            data = pb_utils.get_input_tensor_by_name(request, "request").as_numpy()
            status = handle(self.service, bytes(data.reshape(-1)[0]))
            tensor = pb_utils.Tensor("status", np.array([status], dtype=np.object_))
            responses.append(pb_utils.InferenceResponse(output_tensors=[tensor]))
        return responses
