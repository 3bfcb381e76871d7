"""SSRF through `stereospot serve`: links and push endpoints that reach private addresses.

A recorder listens on 127.0.0.2 and [::1] and notes every TCP connection it gets; it must
get none, whatever the spelling of its address (numeric, hex, short, IPv6, IPv4-mapped)
and however the link reaches it (directly or through a redirect from an allowed site).
The allowed site is 127.0.0.3, the one network this server's STEREOSPOT_FETCH_ALLOW_PRIVATE
lets through (as an intranet would); the recorder and the app itself stay private.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.e2e.serve_process import Server, running_serve

REFUSED = "That link points to a private network address, which StereoSpot does not fetch."


class Recorder:
    """TCP listeners that accept, note the connection, and hang up."""

    def __init__(self) -> None:
        self.connections: list[str] = []
        self._sockets: list[socket.socket] = []
        self.port4 = self._listen(socket.AF_INET, "127.0.0.2")
        self.port6 = self._listen(socket.AF_INET6, "::1")

    def _listen(self, family: socket.AddressFamily, host: str) -> int:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.bind((host, 0))
        sock.listen(16)
        self._sockets.append(sock)
        threading.Thread(target=self._accept, args=(sock, host), daemon=True).start()
        return int(sock.getsockname()[1])

    def _accept(self, sock: socket.socket, host: str) -> None:
        while True:
            try:
                conn, peer = sock.accept()
            except OSError:
                return
            self.connections.append(f"{host} from {peer}")
            conn.close()

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()


class _Redirector(BaseHTTPRequestHandler):
    """GET /to?u=URL[&wait=S]: waits S seconds, then redirects to URL."""

    seen: list[str] = []

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self.seen.append(self.path)
        time.sleep(float(query.get("wait", ["0"])[0]))
        self.send_response(302)
        self.send_header("Location", query["u"][0])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    recording = Recorder()
    yield recording
    recording.close()


@pytest.fixture(scope="module")
def redirector() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.3", 0), _Redirector)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.3:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    allow = {"STEREOSPOT_FETCH_ALLOW_PRIVATE": "127.0.0.3/32"}
    with running_serve(tmp_path_factory.mktemp("serve"), extra_env=allow) as running:
        yield running


def _api(server: Server, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        server.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _outcome(server: Server, job_id: str, timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = _api(server, "GET", f"/api/jobs/{job_id}")
        if job["status"] in ("completed", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} is still {job['status']}:\n{server.log_path.read_text()}")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        return int(probe.getsockname()[1])


def test_no_link_reaches_a_private_address(
    server: Server, recorder: Recorder, redirector: str
) -> None:
    p4, p6 = recorder.port4, recorder.port6
    app_port = urlsplit(server.url).port
    links = [
        f"http://127.0.0.2:{p4}/v.mp4",  # direct
        f"http://127.0.0.2:{_closed_port()}/v.mp4",  # a closed port reads the same
        f"https://127.0.0.2:{p4}/v.mp4",
        f"http://2130706434:{p4}/v.mp4",  # numeric forms of 127.0.0.2
        f"http://0x7f000002:{p4}/v.mp4",
        f"http://127.2:{p4}/v.mp4",
        f"http://0177.0.0.2:{p4}/v.mp4",
        f"http://[::1]:{p6}/v.mp4",  # IPv6
        f"http://[::ffff:127.0.0.2]:{p4}/v.mp4",  # IPv4-mapped
        f"http://[::ffff:7f00:2]:{p4}/v.mp4",
        f"http://0:{app_port}/api/jobs",  # the app itself
        f"http://127.0.0.1:{app_port}/api/jobs",
        f"http://localhost:{app_port}/api/jobs",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        f"{redirector}/to?u={quote(f'http://127.0.0.2:{p4}/v.mp4')}",  # allowed site redirects
        f"{redirector}/to?u={quote(f'http://[::1]:{p6}/v.mp4')}",
        f"{redirector}/to?u={quote(f'http://2130706434:{p4}/')}",
    ]
    jobs = {
        link: _api(server, "POST", "/api/jobs", {"output_format": "anaglyph", "source_url": link})
        for link in links
    }
    reasons = {link: _outcome(server, job["id"]) for link, job in jobs.items()}
    for link, job in reasons.items():
        assert (job["status"], job["failure_reason"]) == ("failed", REFUSED), link
    assert recorder.connections == []
    assert len([p for p in _Redirector.seen if p.startswith("/to")]) == 3  # hops were followed


def test_no_push_endpoint_reaches_a_private_address(
    server: Server, recorder: Recorder, redirector: str
) -> None:
    p4, p6 = recorder.port4, recorder.port6

    def refusals() -> int:
        return server.log_path.read_text().count("outbound guard refused")

    already = refusals()
    # The job fails a few seconds from now (its link redirects to the recorder): a
    # notification is sent then, to every subscribed endpoint.
    slow = f"{redirector}/to?wait=3&u={quote(f'http://127.0.0.2:{p4}/')}"
    job = _api(server, "POST", "/api/jobs", {"output_format": "anaglyph", "source_url": slow})
    endpoints = [
        f"https://127.0.0.2:{p4}/push/1",
        f"https://2130706434:{p4}/push/2",
        f"https://0x7f000002:{p4}/push/3",
        f"https://[::1]:{p6}/push/4",
        f"https://[::ffff:127.0.0.2]:{p4}/push/5",
    ]
    keys = {
        "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1Xb"
        "jhazAkj7I99e8QcYP7DkM",
        "auth": "tBHItJI5svbpez7KI4CCXg",
    }
    for endpoint in endpoints:
        _api(server, "POST", f"/api/jobs/{job['id']}/push-subscriptions",
             {"endpoint": endpoint, "keys": keys})  # fmt: skip
    assert _outcome(server, job["id"])["failure_reason"] == REFUSED
    expected = already + 1 + len(endpoints)  # the redirect hop, then every endpoint
    deadline = time.monotonic() + 20
    while refusals() < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    assert refusals() == expected, server.log_path.read_text()[-3000:]
    assert recorder.connections == []
