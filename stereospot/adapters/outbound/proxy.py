"""The outbound guard as a forward proxy on loopback: every user-given URL is fetched
through it, whatever library does the fetching (yt-dlp, pywebpush's requests).

For each request (plain `GET http://host/...` or `CONNECT host:443` for https) the proxy
resolves the host once, refuses unless every address is public (addresses.vet), and
connects to a vetted address itself: the client never resolves the name, so a DNS answer
that changes between the check and the connection (rebinding) cannot reach a private
address. A redirect is a new request through the proxy, so every hop is checked. It also
caps what one session may do: requests, redirects seen on plain http, bytes, idle time and
total time. Clients authenticate with a random token (other local processes cannot borrow
it), and TLS stays end to end (the proxy only relays the tunnel).
"""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
import select
import socket
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

from stereospot.adapters.outbound.addresses import (
    PrivateAllowance,
    Refused,
    Unreachable,
    connect,
    vet,
)

logger = logging.getLogger(__name__)

_HEAD_LIMIT = 64 * 1024
_CHUNK = 64 * 1024
_HOP_HEADERS = frozenset(
    {b"proxy-authorization", b"proxy-connection", b"connection", b"keep-alive", b"te"}
)


@dataclass(frozen=True)
class Limits:
    connect_timeout_s: float = 10.0
    idle_timeout_s: float = 60.0  # no byte either way for this long: the tunnel is closed
    total_timeout_s: float = 3600.0  # the whole session
    max_requests: int = 2000  # fragments of a long stream are separate requests
    max_redirects: int = 10  # counted where visible (plain http)
    max_bytes: int | None = None  # relayed towards the client, for the whole session


@dataclass
class Outcome:
    """What happened in a session, for the caller's error message and the log."""

    refused: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    requests: int = 0
    redirects: int = 0
    bytes_in: int = 0
    over_limit: str | None = None


class _Stop(Exception):
    pass


class GuardProxy:
    """`with GuardProxy(allowance) as proxy:` then give `proxy.url` to the HTTP client."""

    def __init__(
        self, allowance: PrivateAllowance | None = None, limits: Limits | None = None
    ) -> None:
        self._allowance = allowance or PrivateAllowance()
        self._limits = limits or Limits()
        self._user = "stereospot"
        self._token = secrets.token_urlsafe(18)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.5)
        self._port = int(self._listener.getsockname()[1])
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._started_at = time.monotonic()
        self.outcome = Outcome()
        self._thread = threading.Thread(target=self._accept, name="outbound-guard", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self._user}:{self._token}@127.0.0.1:{self._port}"

    def start(self) -> GuardProxy:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        with suppress(OSError):
            self._listener.close()
        self._thread.join(timeout=2)

    def __enter__(self) -> GuardProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ serving

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        server: socket.socket | None = None
        try:
            client.settimeout(self._limits.idle_timeout_s)
            head, rest = _read_head(client)
            method, target, headers = _parse_head(head)
            if not self._authorised(headers):
                _answer(client, 407, "Proxy Authentication Required")
                return
            self._count_request()
            if method == b"CONNECT":
                host, port = _split_authority(target.decode("latin-1"), 443)
                server = self._open(host, port, client)
                if server is None:
                    return
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if rest:
                    server.sendall(rest)
                self._relay(client, server, rewrite_response=False)
            else:
                parts = urlsplit(target.decode("latin-1"))
                if parts.scheme != "http" or not parts.hostname:
                    _answer(client, 400, "Bad Request")
                    return
                server = self._open(parts.hostname, parts.port or 80, client)
                if server is None:
                    return
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                server.sendall(_origin_form(method, path.encode("latin-1"), headers) + rest)
                self._relay(client, server, rewrite_response=True)
        except _Stop:
            pass
        except (OSError, ValueError) as exc:
            logger.debug("outbound guard: connection ended: %s", exc)
        finally:
            for sock in (client, server):
                if sock is not None:
                    with suppress(OSError):
                        sock.close()

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        given = headers.get(b"proxy-authorization", b"")
        expected = b"Basic " + base64.b64encode(f"{self._user}:{self._token}".encode())
        return hmac.compare_digest(given, expected)

    def _count_request(self) -> None:
        with self._lock:
            self.outcome.requests += 1
            if self.outcome.requests > self._limits.max_requests:
                self.outcome.over_limit = "too many requests"
                raise _Stop

    def _open(self, host: str, port: int, client: socket.socket) -> socket.socket | None:
        try:
            target = vet(host, port, self._allowance)
        except Refused as exc:
            logger.warning("outbound guard refused %s:%d (%s)", host, port, exc.detail)
            with self._lock:
                self.outcome.refused.append(exc.detail)
            _answer(client, 403, "Forbidden")
            return None
        except Unreachable as exc:
            with self._lock:
                self.outcome.unreachable.append(exc.detail)
            _answer(client, 502, "Bad Gateway")
            return None
        try:
            server = connect(target, self._limits.connect_timeout_s)
        except OSError as exc:
            with self._lock:
                self.outcome.unreachable.append(f"{host}:{port}: {exc}")
            _answer(client, 502, "Bad Gateway")
            return None
        server.settimeout(self._limits.idle_timeout_s)
        return server

    def _relay(
        self, client: socket.socket, server: socket.socket, *, rewrite_response: bool
    ) -> None:
        pending_head = bytearray() if rewrite_response else None
        sockets = [client, server]
        while True:
            elapsed = time.monotonic() - self._started_at
            if elapsed > self._limits.total_timeout_s or self._closed.is_set():
                self.outcome.over_limit = self.outcome.over_limit or "took too long"
                return
            readable, _w, _x = select.select(sockets, [], [], self._limits.idle_timeout_s)
            if not readable:
                return  # idle too long
            for sock in readable:
                data = sock.recv(_CHUNK)
                if not data:
                    return
                if sock is client:
                    server.sendall(data)
                    continue
                self._count_bytes(len(data))
                if pending_head is not None:
                    pending_head += data
                    end = pending_head.find(b"\r\n\r\n")
                    if end < 0:
                        if len(pending_head) > _HEAD_LIMIT:
                            return
                        continue
                    head, body = bytes(pending_head[: end + 4]), bytes(pending_head[end + 4 :])
                    pending_head = None
                    self._note_status(head)
                    data = _close_after(head) + body
                client.sendall(data)

    def _count_bytes(self, count: int) -> None:
        with self._lock:
            self.outcome.bytes_in += count
            cap = self._limits.max_bytes
            if cap is not None and self.outcome.bytes_in > cap:
                self.outcome.over_limit = "too large"
                raise _Stop

    def _note_status(self, head: bytes) -> None:
        status = head.split(b" ", 2)[1:2]
        if status and status[0][:1] == b"3":
            with self._lock:
                self.outcome.redirects += 1
                if self.outcome.redirects > self._limits.max_redirects:
                    self.outcome.over_limit = "too many redirects"
                    raise _Stop


# ---------------------------------------------------------------------- HTTP bits


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    buffer = bytearray()
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(_CHUNK)
        if not data:
            raise ValueError("closed before the request head")
        buffer += data
        if len(buffer) > _HEAD_LIMIT:
            raise ValueError("request head too large")
    end = buffer.index(b"\r\n\r\n") + 4
    return bytes(buffer[:end]), bytes(buffer[end:])


def _parse_head(head: bytes) -> tuple[bytes, bytes, dict[bytes, bytes]]:
    lines = head[:-4].split(b"\r\n")
    method, target, _version = lines[0].split(b" ", 2)
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return method.upper(), target, headers


def _split_authority(authority: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(f"//{authority}")
    if not parts.hostname:
        raise ValueError(f"bad authority {authority!r}")
    return parts.hostname, parts.port or default_port


def _origin_form(method: bytes, path: bytes, headers: dict[bytes, bytes]) -> bytes:
    lines = [method + b" " + path + b" HTTP/1.1"]
    lines += [name + b": " + value for name, value in headers.items() if name not in _HOP_HEADERS]
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _close_after(head: bytes) -> bytes:
    """The response head with `Connection: close` (one request per proxied connection)."""
    lines = head[:-4].split(b"\r\n")
    kept = [lines[0]] + [
        line for line in lines[1:] if line.split(b":", 1)[0].strip().lower() not in _HOP_HEADERS
    ]
    kept.append(b"Connection: close")
    return b"\r\n".join(kept) + b"\r\n\r\n"


def _answer(sock: socket.socket, status: int, reason: str) -> None:
    body = f"{status} {reason}\n".encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with suppress(OSError):
        sock.sendall(head.encode() + body)
