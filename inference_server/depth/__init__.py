"""Depth estimators and the one place that decides which runs.

Names accepted by `load_estimator`:
- "builtin": classical cues + motion parallax, no weights;
- "auto": Depth Anything V2 Small when its weights are cached locally or the hub is
  reachable, otherwise "builtin" with one warning;
- "depth-anything-v2-small|base|large", any Hugging Face model id ("org/name"), or a local
  directory saved with save_pretrained: Depth Anything through transformers;
- "external" (or any name when a depth video is given): the depth video, white = near.
Neural models are cached per process by (source, device), so segments reuse them.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

import torch

from inference_server.depth.base import DepthEstimator, FrameBatch
from inference_server.depth.builtin import BuiltinDepth
from inference_server.depth.depth_anything import DepthAnythingDepth, prepare_model
from inference_server.depth.external import ExternalDepth
from stereospot.domain.errors import MediaError

__all__ = ["DepthEstimator", "DepthModelUnavailable", "FrameBatch", "load_estimator"]

log = logging.getLogger(__name__)

MODEL_IDS = {
    "depth-anything-v2-small": "depth-anything/Depth-Anything-V2-Small-hf",
    "depth-anything-v2-base": "depth-anything/Depth-Anything-V2-Base-hf",
    "depth-anything-v2-large": "depth-anything/Depth-Anything-V2-Large-hf",
}
AUTO_MODEL = "depth-anything-v2-small"
HUB_TIMEOUT_S = 3.0

_models: dict[tuple[str, str], torch.nn.Module] = {}
_lock = threading.Lock()
_auto_fell_back = False


class DepthModelUnavailable(MediaError):
    """A named depth model could not be loaded (no weights, no hub, bad directory)."""


def hub_reachable(timeout_s: float = HUB_TIMEOUT_S) -> bool:
    """False in seconds when offline: HF_HUB_OFFLINE honoured, then a short TCP connect."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        return False
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (443 if endpoint.scheme != "http" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _load_pretrained(source: str, device: torch.device) -> torch.nn.Module:
    key = (source, str(device))
    with _lock:
        cached = _models.get(key)
        if cached is not None:
            return cached
        from transformers import AutoModelForDepthEstimation

        local_dir = Path(source).expanduser()
        token = os.environ.get("HF_TOKEN") or None
        errors: list[str] = []
        attempts: list[bool] = [True] if local_dir.is_dir() else [True, False]
        for local_only in attempts:
            if not local_only and not hub_reachable():
                errors.append("the model hub is not reachable")
                break
            try:
                target = str(local_dir) if local_dir.is_dir() else source
                model = AutoModelForDepthEstimation.from_pretrained(
                    target, local_files_only=local_only, token=token
                )
            except (OSError, ValueError) as exc:
                errors.append(str(exc).splitlines()[0])
                continue
            _models[key] = prepare_model(model, device)
            return _models[key]
        raise DepthModelUnavailable(
            f"The depth model {source!r} could not be loaded: {'; '.join(errors)}."
        )


def load_estimator(
    name: str, device: torch.device, depth_video: Path | None = None
) -> DepthEstimator:
    """The estimator for `name` (see module docstring). Raises DepthModelUnavailable."""
    global _auto_fell_back
    wanted = name.strip()
    if depth_video is not None or wanted == "external":
        if depth_video is None:
            raise MediaError("The 'external' depth model needs a depth video (--depth-video).")
        return ExternalDepth(depth_video)
    if wanted == "builtin":
        return BuiltinDepth()
    if wanted == "auto":
        if _auto_fell_back:
            return BuiltinDepth()
        try:
            model = _load_pretrained(MODEL_IDS[AUTO_MODEL], device)
        except DepthModelUnavailable as exc:
            _auto_fell_back = True
            log.warning(
                "Depth Anything V2 is not available (%s); using the built-in depth "
                "estimator instead, which gives a weaker 3D effect.",
                exc,
            )
            return BuiltinDepth()
        return DepthAnythingDepth(model, device, AUTO_MODEL)
    source = MODEL_IDS.get(wanted, wanted)
    if not (Path(source).expanduser().is_dir() or "/" in source):
        raise DepthModelUnavailable(
            f"Unknown depth model {name!r}: use auto, builtin, external, "
            f"{', '.join(MODEL_IDS)}, a model id or a local model directory."
        )
    model = _load_pretrained(source, device)
    return DepthAnythingDepth(model, device, wanted)
