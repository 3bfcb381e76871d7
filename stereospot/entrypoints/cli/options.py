"""Command-line options several commands share, with one set of defaults and help texts."""

from __future__ import annotations

import argparse

from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.limits import CONVERGENCE_MIN, DIVERGENCE_RANGE_TEXT, bound_text

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
        help=f"3D strength: max parallax, %% of width, {DIVERGENCE_RANGE_TEXT}"
        f" (default {_DEFAULTS.divergence})",
    )
    parser.add_argument(
        "--convergence",
        type=float,
        default=_DEFAULTS.convergence,
        help=f"screen plane 0=far..1=near; below 0 (down to {bound_text(CONVERGENCE_MIN)}) a"
        f" parallel rig, everything in front of the screen (default {_DEFAULTS.convergence})",
    )
