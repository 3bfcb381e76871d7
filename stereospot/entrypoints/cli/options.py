"""Command-line options several commands share, with one set of defaults and help texts."""

from __future__ import annotations

import argparse

from stereospot.domain.formats import ConversionSettings, StereoFormat

_DEFAULTS = ConversionSettings()


def add_look_options(parser: argparse.ArgumentParser) -> None:
    """--format, --divergence and --convergence: how the 3D video should look."""
    parser.add_argument(
        "--format",
        choices=[f.value for f in StereoFormat],
        default=StereoFormat.HALF_SBS.value,
        help="output layout (default: half-sbs)",
    )
    parser.add_argument(
        "--divergence",
        type=float,
        default=_DEFAULTS.divergence,
        help=f"3D strength: max parallax, %% of width (default {_DEFAULTS.divergence})",
    )
    parser.add_argument(
        "--convergence",
        type=float,
        default=_DEFAULTS.convergence,
        help="screen plane 0=far..1=near; below 0 (down to -1) a parallel rig, everything "
        f"in front of the screen (default {_DEFAULTS.convergence})",
    )
