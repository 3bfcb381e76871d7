"""A tiny randomly initialised Depth Anything, saved like a real checkpoint (no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def save_tiny_depth_anything(directory: Path) -> Path:
    from transformers import AutoModelForDepthEstimation, DepthAnythingConfig, Dinov2Config

    # Passed as a dict: the config's typed signature omits some accepted keywords.
    backbone_args: dict[str, Any] = {
        "hidden_size": 32,
        "num_hidden_layers": 4,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "patch_size": 14,
        "image_size": 518,
        "out_features": ["stage1", "stage2", "stage3", "stage4"],
        "reshape_hidden_states": False,
    }
    backbone = Dinov2Config(**backbone_args)
    config = DepthAnythingConfig(
        backbone_config=backbone,
        reassemble_hidden_size=32,
        neck_hidden_sizes=[8, 16, 32, 32],
        fusion_hidden_size=16,
        head_hidden_size=8,
        depth_estimation_type="relative",
    )
    model = AutoModelForDepthEstimation.from_config(config)  # type: ignore[no-untyped-call]
    model.save_pretrained(directory)
    return directory
