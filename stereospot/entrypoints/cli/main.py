"""`stereospot` entry point: one argparse parser, subcommands registered per area.

Each module in COMMAND_MODULES exposes `register(subparsers)` and sets `handler` on its
parsers; heavy imports (torch, av, boto3) happen inside handlers, so `stereospot --help`
stays fast and a web-only install works.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from stereospot.config import UnknownPlatform

COMMAND_MODULES = (
    "stereospot.entrypoints.cli.media",  # media probe|split|concat
    "stereospot.entrypoints.cli.convert",  # convert
    "stereospot.entrypoints.cli.run",  # serve, web, worker, config, demo
    "stereospot.entrypoints.cli.submit",  # submit
    "stereospot.entrypoints.cli.aws",  # aws smoke-test
    "stereospot.entrypoints.cli.inference",  # inference serve|triton
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stereospot", description="Turn 2D video into stereoscopic 3D."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # area not built yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except UnknownPlatform as exc:
        print(f"stereospot: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
