"""`stereospot media probe|split|concat`: the video toolkit for operators and scripts.

Results go to stdout as JSON; a file we cannot use exits with status 1 and the readable
reason on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stereospot.domain.ports import VideoToolkit


def register(subparsers: Any) -> None:
    media = subparsers.add_parser("media", help="Probe, split and join videos (PyAV).")
    actions = media.add_subparsers(dest="media_command", metavar="ACTION", required=True)

    probe = actions.add_parser("probe", help="Describe a video as JSON.")
    probe.add_argument("file", type=Path)
    probe.set_defaults(handler=_probe)

    split = actions.add_parser(
        "split", help="Cut a video into keyframe-aligned video-only segments; print the plan."
    )
    split.add_argument("file", type=Path)
    split.add_argument("out_dir", type=Path)
    split.add_argument(
        "--seconds", type=float, default=10.0, help="target segment length (default 10)"
    )
    split.set_defaults(handler=_split)

    concat = actions.add_parser(
        "concat", help="Join segments in the order given, with the audio of a source file."
    )
    concat.add_argument("out", type=Path)
    concat.add_argument("segments", type=Path, nargs="+")
    concat.add_argument("--audio-from", type=Path, default=None, metavar="SOURCE")
    concat.set_defaults(handler=_concat)


def _toolkit() -> VideoToolkit:
    """The composition root's media toolkit (it needs no settings)."""
    from stereospot.container import Application

    toolkit: VideoToolkit = Application.toolkit()
    return toolkit


def _run(action: Any) -> int:
    from stereospot.domain.errors import MediaError

    try:
        result = action()
    except MediaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if result is not None:
        print(json.dumps(result, indent=2))
    return 0


def _probe(args: argparse.Namespace) -> int:
    return _run(lambda: _toolkit().probe(args.file).model_dump(mode="json"))


def _split(args: argparse.Namespace) -> int:
    def action() -> list[dict[str, Any]]:
        segments = _toolkit().split(args.file, args.out_dir, args.seconds)
        return [
            {"file": str(segment.path), **segment.plan.model_dump(mode="json")}
            for segment in segments
        ]

    return _run(action)


def _concat(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        toolkit = _toolkit()
        toolkit.concat(args.segments, args.audio_from, args.out)
        info = toolkit.probe(args.out)
        return {"file": str(args.out), **info.model_dump(mode="json")}

    return _run(action)
