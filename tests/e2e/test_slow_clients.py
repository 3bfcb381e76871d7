"""Slow and hostile clients against a running `stereospot serve`, with its timeouts set
through Settings (STEREOSPOT_HTTP_IDLE_TIMEOUT_S, STEREOSPOT_HTTP_BODY_TIMEOUT_S): a
request whose headers trickle in (slowloris) and a POST whose body never finishes are
closed within their limits, while an event stream open far longer than both stays alive
and keeps delivering."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.serve_process import Server, running_serve

pytestmark = [pytest.mark.e2e]

IDLE_S = 1.0
BODY_S = 2.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "STEREOSPOT_HTTP_IDLE_TIMEOUT_S": str(IDLE_S),
        "STEREOSPOT_HTTP_BODY_TIMEOUT_S": str(BODY_S),
    }
    with running_serve(tmp_path_factory.mktemp("slow"), extra_env=env, workers=0) as running:
        yield running


def _connect(server: Server) -> socket.socket:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    return sock


def _read_until_closed(sock: socket.socket, limit_s: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection; and when it closed."""
    started = time.monotonic()
    received = b""
    sock.settimeout(limit_s)
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"still open after {limit_s} s; got {received!r}") from None
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return received, time.monotonic() - started
        received += chunk


def test_headers_sent_a_byte_at_a_time_are_cut_off(server: Server) -> None:
    host = urlsplit(server.url).netloc
    request = f"GET /api/jobs HTTP/1.1\r\nHost: {host}\r\nX-Padding: {'a' * 200}\r\n\r\n"
    with _connect(server) as sock:
        started = time.monotonic()
        closed = False
        for byte in request.encode():
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.05)  # the whole request would take about 12 s
            if time.monotonic() - started > 8:
                break
        if not closed:
            received, _ = _read_until_closed(sock, 5)
            assert b"200" not in received  # the request never got through
        took = time.monotonic() - started
    assert took < IDLE_S + 3, f"the connection lived {took:.1f} s"


def test_a_json_body_that_never_finishes_gets_408_and_the_connection_is_closed(
    server: Server,
) -> None:
    host = urlsplit(server.url).netloc
    head = (
        f"POST /api/jobs HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        "Content-Length: 200\r\n\r\n"
    )
    with _connect(server) as sock:
        sock.sendall(head.encode() + b'{"output_format": ')  # and nothing more
        started = time.monotonic()
        received, took = _read_until_closed(sock, BODY_S + 10)
    assert received.startswith(b"HTTP/1.1 408"), received[:200]
    assert BODY_S - 0.5 < took < BODY_S + 3, f"answered after {took:.1f} s"
    assert time.monotonic() - started < BODY_S + 3
    # Nothing was created from the half body.
    assert httpx.get(f"{server.url}/api/jobs").json()["jobs"] == []


def test_an_event_stream_outlives_both_limits_and_keeps_delivering(server: Server) -> None:
    job = httpx.post(f"{server.url}/api/jobs", json={"output_format": "half-sbs"}).json()
    host = urlsplit(server.url).netloc
    with _connect(server) as sock:
        sock.sendall(
            f"GET /jobs/{job['id']}/events HTTP/1.1\r\nHost: {host}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        # Read for three times the longer limit: the stream must stay open all along.
        received = b""
        opened_at = time.monotonic()
        while (left := 3 * BODY_S - (time.monotonic() - opened_at)) > 0:
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            assert chunk, f"the server closed the event stream: {received!r}"
            received += chunk
        assert received.startswith(b"HTTP/1.1 200"), received[:200]
        assert b'"status":"failed"' not in received
        cancelled = httpx.post(f"{server.url}/api/jobs/{job['id']}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        rest, _ = _read_until_closed(sock, 10)  # the final event, then the end
        received += rest
    assert b'"status":"failed"' in rest, rest[-500:]


def test_a_plain_request_still_works_within_the_limits(server: Server, tmp_path: Path) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get("/healthz").status_code == 200
        time.sleep(IDLE_S + 0.5)  # the keep-alive connection is closed meanwhile
        assert http.get("/healthz").status_code == 200  # a new one is opened


def test_unfinished_headers_past_the_size_limit_are_refused_at_once(server: Server) -> None:
    """The server buffers at most 16 KiB of a request it cannot parse yet."""
    host = urlsplit(server.url).netloc
    with _connect(server) as sock:
        head = f"GET /api/jobs HTTP/1.1\r\nHost: {host}\r\nX-Padding: {'a' * 40_000}"
        started = time.monotonic()
        try:
            sock.sendall(head.encode())  # never finished
        except (BrokenPipeError, ConnectionResetError):
            return  # closed while we were still sending: refused
        received, _ = _read_until_closed(sock, 5)
    assert received.startswith(b"HTTP/1.1 431"), received[:200]
    assert time.monotonic() - started < IDLE_S  # on the size, before the idle limit
