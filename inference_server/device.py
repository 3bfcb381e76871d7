"""Choosing the torch device: CUDA when present, unless the caller forces one."""

from __future__ import annotations

import torch

from stereospot.domain.errors import MediaError


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' -> cuda when available, else cpu. 'cpu', 'cuda', 'cuda:N' are taken as given."""
    wanted = name.strip().lower() or "auto"
    if wanted == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if wanted == "cpu":
        return torch.device("cpu")
    if wanted.startswith("cuda"):
        if not torch.cuda.is_available():
            raise MediaError(f"Device {name!r} was asked for, but no CUDA GPU is available here.")
        device = torch.device(wanted)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise MediaError(
                f"Device {name!r} does not exist: this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)."
            )
        return device
    raise MediaError(f"Unknown device {name!r}: use auto, cpu, cuda or cuda:N.")
