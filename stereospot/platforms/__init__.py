"""Platform containers: one module per place StereoSpot runs (memory, local, aws, ...).

A platform is a module `stereospot/platforms/<name>.py` defining `PlatformContainer`, a
subclass of base.PlatformProviders that provides every port and every other thing that
differs by platform; STEREOSPOT_PLATFORM=<name> selects it. `known()` lists the modules
here without importing them, and `container_class(name)` imports only the chosen one (a
local install never imports boto3). Adding a platform is adding its module (and its
adapters); nothing else names it.
"""

from __future__ import annotations

import importlib
import pkgutil

from stereospot.config import UnknownPlatform
from stereospot.platforms.base import PlatformProviders

__all__ = ["UnknownPlatform", "container_class", "known"]

_NOT_PLATFORMS = frozenset({"base"})


def known() -> list[str]:
    """The platforms' names: the modules of this package (base and _private ones aside)."""
    return sorted(
        module.name
        for module in pkgutil.iter_modules(__path__)
        if not module.ispkg
        and not module.name.startswith("_")
        and module.name not in _NOT_PLATFORMS
    )


def container_class(name: str) -> type[PlatformProviders]:
    """The PlatformContainer of the platform `name`, its module (and adapters) imported now."""
    names = known()
    if name not in names:
        raise UnknownPlatform(
            f"STEREOSPOT_PLATFORM={name!r} is not a platform of this installation;"
            f" known platforms: {', '.join(names)} (each is a module in stereospot/platforms/)"
        )
    module = importlib.import_module(f"{__name__}.{name}")
    found = getattr(module, "PlatformContainer", None)
    if not (isinstance(found, type) and issubclass(found, PlatformProviders)):
        raise UnknownPlatform(
            f"stereospot/platforms/{name}.py defines no PlatformContainer"
            " (a subclass of stereospot.platforms.base.PlatformProviders)"
        )
    return found
