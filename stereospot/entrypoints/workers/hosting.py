"""Serves the web app with Hypercorn in this process until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import socket
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

_ALL_INTERFACES = ("0.0.0.0", "::", "")


class PortUnavailable(Exception):
    """The address cannot be listened on (in use, or not ours). The message says why."""


def is_loopback(host: str) -> bool:
    """Whether listening on `host` is reachable from this machine only."""
    import ipaddress

    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def display_url(host: str, port: int) -> str:
    """The URL a person opens (a wildcard address is shown as the loopback one)."""
    shown = "127.0.0.1" if host in _ALL_INTERFACES else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def check_port(host: str, port: int) -> None:
    """Fail early, with a readable reason, if host:port cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortUnavailable(
                    f"port {port} on {host} is already in use; stop the other program "
                    "or pick another port with --port"
                ) from exc
            raise PortUnavailable(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def serve(
    app: Any,
    host: str,
    port: int,
    on_ready: Callable[[str], None],
    *,
    idle_timeout_s: float = 5.0,
) -> None:
    """Run until SIGINT/SIGTERM; `on_ready(url)` once the port accepts connections.

    Slow clients: Hypercorn's keep-alive timer runs from the connection's start (and after
    each response) until a request's headers are complete, so `idle_timeout_s` bounds a
    slowloris sending its headers a byte at a time, and closes idle keep-alive connections.
    Bodies are bounded by the app (Quart's BODY_TIMEOUT, the upload idle timeout). There is
    deliberately no read_timeout: it would close every event stream, which never sends."""
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = logger
    config.graceful_timeout = 3.0  # open event streams must not hold up a shutdown
    config.keep_alive_timeout = idle_timeout_s
    config.read_timeout = None
    config.h11_max_incomplete_size = 16 * 1024  # a request line and headers: 431 past this

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        announce = asyncio.create_task(_announce_when_listening(host, port, on_ready))
        try:
            await hypercorn_serve(app, config, shutdown_trigger=stop.wait)
        finally:
            announce.cancel()

    asyncio.run(main())


async def _announce_when_listening(host: str, port: int, on_ready: Callable[[str], None]) -> None:
    target = "127.0.0.1" if host in _ALL_INTERFACES else host
    while True:
        try:
            _reader, writer = await asyncio.open_connection(target, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        on_ready(display_url(host, port))
        return
