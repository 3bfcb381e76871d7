"""`stereospot inference serve | triton`: the engine as a service.

- serve: the SageMaker container contract (GET /ping, POST /invocations) on port 8080.
  SageMaker runs the image with the argument `serve`; the Dockerfile's entry point is
  `stereospot inference`, and STEREOSPOT_INFERENCE_HOST=0.0.0.0 there.
- triton: the engine as the Triton model `stereo` with PyTriton (HTTP on 8000).

Settings as everywhere (STEREOSPOT_*): STEREOSPOT_DEPTH_MODEL (model id, directory,
builtin, auto), STEREOSPOT_DEVICE, STEREOSPOT_INFERENCE_STUB=1 (answer without a model),
STEREOSPOT_INFERENCE_FILE_ROOT (file:// URIs must lie under it), HF_TOKEN or
STEREOSPOT_HF_TOKEN_SECRET_ARN, STEREOSPOT_AWS__REGION / __ENDPOINT_URL for s3:// URIs.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inference_server.service import InferenceService, ServiceOptions
    from stereospot.config import Settings

HOST_ENV = "STEREOSPOT_INFERENCE_HOST"


def register(subparsers: Any) -> None:
    inference = subparsers.add_parser(
        "inference", help="run the inference engine as a service (SageMaker contract, Triton)"
    )
    commands = inference.add_subparsers(dest="inference_command", metavar="SERVER")
    commands.required = True
    serve = commands.add_parser(
        "serve", help="HTTP server with the SageMaker container contract (/ping, /invocations)"
    )
    serve.add_argument("--host", default=os.environ.get(HOST_ENV, "127.0.0.1"))
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--stub", action="store_true", help="answer without loading a model")
    serve.set_defaults(handler=_serve)

    triton = commands.add_parser(
        "triton", help="the engine as the Triton model 'stereo' (PyTriton)"
    )
    triton.add_argument("--host", default=os.environ.get(HOST_ENV, "127.0.0.1"))
    triton.add_argument("--http-port", type=int, default=8000)
    triton.add_argument("--grpc-port", type=int, default=8001)
    triton.add_argument("--metrics-port", type=int, default=8002)
    triton.set_defaults(handler=_triton)


def service_options(settings: Settings, *, stub: bool = False) -> ServiceOptions:
    """The service's options from the settings (STEREOSPOT_*)."""
    from inference_server.service import ServiceOptions

    root = settings.inference_file_root or settings.resolved_data_dir()
    return ServiceOptions(
        depth_model=settings.depth_model,
        device=settings.device,
        stub=stub or settings.inference_stub,
        file_root=root.expanduser().resolve(),
        aws_region=settings.aws.region,
        aws_endpoint_url=settings.aws.endpoint_url,
        hf_token_secret_arn=settings.hf_token_secret_arn,
    )


def build_service(settings: Settings, *, stub: bool = False) -> InferenceService:
    """The inference service on `settings`, its storage from the composition root (also
    what the Triton model repository's model.py builds)."""
    from inference_server.service import InferenceService
    from stereospot.container import engine_storage

    options = service_options(settings, stub=stub)
    return InferenceService(options, engine_storage(options))


def _service(args: argparse.Namespace) -> InferenceService:
    from inference_server.logs import configure_json_logging
    from stereospot.entrypoints.cli.run import _load_settings

    settings = _load_settings()
    configure_json_logging(settings.log_level)
    return build_service(settings, stub=bool(getattr(args, "stub", False)))


def _serve(args: argparse.Namespace) -> int:
    from inference_server.server import serve

    return serve(_service(args), args.host, args.port)


def _triton(args: argparse.Namespace) -> int:
    from inference_server.triton_binding import serve_triton

    return serve_triton(
        _service(args),
        host=args.host,
        http_port=args.http_port,
        grpc_port=args.grpc_port,
        metrics_port=args.metrics_port,
    )
