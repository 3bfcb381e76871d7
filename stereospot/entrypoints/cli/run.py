"""`stereospot serve | web | worker | config | demo`: running the product.

- serve: the web app (in this process) and N media- and video-worker processes on one data
  directory; prints the URL; Ctrl-C or SIGTERM stops everything cleanly.
- web, worker media|video: each part alone (several processes may share a data dir).
- config: the effective settings as JSON, secrets masked.
- demo: a generated clip through the whole local pipeline; prints the result's path.

--data-dir sets STEREOSPOT_DATA_DIR, so child processes see the same directory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

DATA_DIR_ENV = "STEREOSPOT_DATA_DIR"
PUBLIC_URL_ENV = "STEREOSPOT_PUBLIC_URL"
DEFAULT_PORT = 8000


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="start the web app and the workers (the whole product on this machine)",
        description="Start the web app and the workers against one data directory.",
    )
    _add_data_dir(serve)
    _add_address(serve)
    serve.add_argument(
        "--media-workers", type=_count, default=1, metavar="N", help="media-worker processes"
    )
    serve.add_argument(
        "--video-workers", type=_count, default=1, metavar="N", help="video-worker processes"
    )
    serve.set_defaults(handler=_serve)

    web = subparsers.add_parser("web", help="start only the web app")
    _add_data_dir(web)
    _add_address(web)
    web.set_defaults(handler=_web)

    worker = subparsers.add_parser("worker", help="run one worker process (media or video)")
    worker.add_argument("kind", choices=["media", "video"], help="which queues to consume")
    _add_data_dir(worker)
    worker.add_argument(
        "--grace-seconds",
        type=float,
        default=25.0,
        help="after SIGTERM, how long the current message may run before it is released",
    )
    worker.set_defaults(handler=_worker)

    hashing = subparsers.add_parser(
        "hash-password",
        help="print the hash of a password, for STEREOSPOT_AUTH=password",
        description="Reads the password from the terminal (or one line of stdin) and prints"
        " its scrypt hash: set it as STEREOSPOT_AUTH_PASSWORD_HASH.",
    )
    hashing.set_defaults(handler=_hash_password)

    token = subparsers.add_parser(
        "token",
        help="print a new API token for `stereospot submit --token` (uses the secret key)",
    )
    _add_data_dir(token)
    token.set_defaults(handler=_token)

    config = subparsers.add_parser("config", help="print the effective settings as JSON")
    _add_data_dir(config)
    config.set_defaults(handler=_config)

    demo = subparsers.add_parser(
        "demo", help="convert a generated sample clip end to end and print the result's path"
    )
    demo.add_argument(
        "--data-dir",
        type=Path,
        help="where to keep the demo job and its result (default: $STEREOSPOT_DATA_DIR, else"
        " a temporary directory removed at the end, the result going to the current one)",
    )
    demo.add_argument("--format", default="half-sbs", help="output format (default half-sbs)")
    demo.add_argument("--seconds", type=float, default=6.0, help="clip length (default 6)")
    demo.add_argument(
        "--segment-seconds", type=float, default=2.0, help="segment length (default 2)"
    )
    demo.add_argument("--output", type=Path, help="where to write the 3D result")
    demo.set_defaults(handler=_demo)


# ---------------------------------------------------------------------- arguments


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 0 <= count <= 64:
        raise argparse.ArgumentTypeError("the number of workers must be between 0 and 64")
    return count


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError("the port must be between 1 and 65535")
    return port


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        help=f"where jobs, files and queues live (default: ${DATA_DIR_ENV} or Settings.data_dir)",
    )


def _add_address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port to listen on")


def _apply_data_dir(data_dir: Path | None) -> None:
    if data_dir is not None:
        os.environ[DATA_DIR_ENV] = str(data_dir.expanduser().resolve())


def _load_settings() -> Any:
    from stereospot.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SystemExit(f"stereospot: invalid settings ({problems})") from None


def _err(message: str) -> None:
    print(f"stereospot: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- handlers


def _serve(args: argparse.Namespace) -> int:
    return _run_web(args, media_workers=args.media_workers, video_workers=args.video_workers)


def _web(args: argparse.Namespace) -> int:
    return _run_web(args, media_workers=0, video_workers=0)


def _run_web(args: argparse.Namespace, *, media_workers: int, video_workers: int) -> int:
    from stereospot.entrypoints.workers import hosting
    from stereospot.entrypoints.workers.log_context import configure_logging
    from stereospot.entrypoints.workers.runner import Role
    from stereospot.entrypoints.workers.supervisor import Supervisor

    _apply_data_dir(args.data_dir)
    # Signed URLs point at this server unless the user says otherwise (e.g. behind a proxy).
    os.environ.setdefault(PUBLIC_URL_ENV, hosting.display_url(args.host, args.port))
    settings = _load_settings()
    configure_logging(settings.log_level, role="web")
    problem = auth_problem(settings, args.host)
    if problem:
        _err(problem)
        return 2
    try:
        hosting.check_port(args.host, args.port)
    except hosting.PortUnavailable as exc:
        _err(str(exc))
        return 1

    from stereospot.container import build_container
    from stereospot.entrypoints.web.app import create_app

    container = build_container(settings)
    app = create_app(container)
    where = container.platform.data_location()
    supervisor = Supervisor(
        {Role.MEDIA: media_workers, Role.VIDEO: video_workers},
        on_death=_releaser(settings, container),
    )
    supervisor.start()

    def ready(url: str) -> None:
        workers = f"{media_workers} media + {video_workers} video workers"
        print(f"StereoSpot is running at {url}/", flush=True)
        print(f"  data: {where}  ({workers}; Ctrl-C stops)", flush=True)

    try:
        hosting.serve(app, args.host, args.port, ready, idle_timeout_s=settings.http_idle_timeout_s)
    finally:
        supervisor.stop()
    print("StereoSpot stopped.", flush=True)
    return 0


def _releaser(settings: Any, container: Any) -> Any:
    """Locally: what releases the message a dead worker held (see workers/claims.py)."""
    from stereospot.entrypoints.workers.claims import release

    directory = container.platform.claims_dir()
    if directory is None:
        return None
    queues = container.deps().queues
    return lambda pid: release(directory, pid, queues)


def auth_problem(settings: Any, host: str) -> str | None:
    """Why the web app must not start with these settings on `host` (None if it may)."""
    from stereospot.config import AuthMode
    from stereospot.container import Application
    from stereospot.entrypoints.workers.hosting import is_loopback

    if settings.auth is AuthMode.NONE and not is_loopback(host):
        return (
            f"refusing to listen on {host} without sign-in: anyone who can reach it could"
            " list, download and delete every job. Set STEREOSPOT_AUTH=password and"
            " STEREOSPOT_AUTH_PASSWORD_HASH (from `stereospot hash-password`), or"
            " STEREOSPOT_AUTH=oidc-header behind an AWS load balancer; or listen on"
            " 127.0.0.1."
        )
    if settings.auth is AuthMode.PASSWORD:
        stored = settings.auth_password_hash
        try:
            Application.credentials().check_hash_format(stored.get_secret_value() if stored else "")
        except ValueError as exc:
            return (
                f"STEREOSPOT_AUTH=password needs STEREOSPOT_AUTH_PASSWORD_HASH ({exc});"
                " make one with `stereospot hash-password`"
            )
    return None


def _hash_password(args: argparse.Namespace) -> int:
    import getpass

    from stereospot.container import Application

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            _err("the two passwords differ")
            return 2
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        _err("please use a password of at least 8 characters")
        return 2
    print(Application.credentials().hash_password(password))
    return 0


def _token(args: argparse.Namespace) -> int:
    from stereospot.container import build_container

    _apply_data_dir(args.data_dir)
    container = build_container(_load_settings())
    print(container.credentials().mint_token(container.secret_key()))
    return 0


def _worker(args: argparse.Namespace) -> int:
    from stereospot.entrypoints.workers.runner import Role, run_worker

    _apply_data_dir(args.data_dir)
    return run_worker(Role(args.kind), _load_settings(), grace_s=args.grace_seconds)


def _config(args: argparse.Namespace) -> int:
    _apply_data_dir(args.data_dir)
    settings = _load_settings()
    effective = settings.model_dump(mode="json")  # SecretStr values dump as "**********"
    effective["data_dir"] = str(settings.resolved_data_dir())
    print(json.dumps(effective, indent=2, sort_keys=True))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from stereospot.domain.formats import StereoFormat
    from stereospot.entrypoints.workers.demo import DemoFailed, run_demo
    from stereospot.entrypoints.workers.log_context import configure_logging

    try:
        output_format = StereoFormat(args.format)
    except ValueError:
        choices = ", ".join(f.value for f in StereoFormat)
        _err(f"unknown format {args.format!r}; choose one of: {choices}")
        return 2
    if not 0.5 < args.segment_seconds <= 600 or not 0.5 <= args.seconds <= 600:
        _err("--seconds must be 0.5-600 and --segment-seconds above 0.5 and at most 600")
        return 2
    configure_logging(os.environ.get("STEREOSPOT_LOG_LEVEL", "WARNING"))
    data_dir = args.data_dir or (
        Path(os.environ[DATA_DIR_ENV]) if os.environ.get(DATA_DIR_ENV) else None
    )
    try:
        result = run_demo(
            data_dir=data_dir.expanduser().resolve() if data_dir else None,
            output_format=output_format,
            seconds=args.seconds,
            segment_seconds=args.segment_seconds,
            output=args.output,
            report=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except DemoFailed as exc:
        _err(str(exc))
        return 1
    print(result, flush=True)
    return 0
