"""Access control, trusted hosts and Origin against a running `stereospot serve`: one
server per auth mode (password, oidc-header with keys this test makes), and `none`
refused off loopback."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from stereospot.adapters.auth.passwords import hash_password
from tests.e2e.serve_process import CLI, Server, fast_env, running_serve
from tests.media_clips import make_clip

PASSWORD = "correct horse battery"
SIGNER = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/stereo/abc"


# ---------------------------------------------------------------------- password


@pytest.fixture(scope="module")
def password_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"STEREOSPOT_AUTH": "password", "STEREOSPOT_AUTH_PASSWORD_HASH": hash_password(PASSWORD)}
    with running_serve(tmp_path_factory.mktemp("pw"), extra_env=env, workers=0) as running:
        yield running


def _client(server: Server) -> httpx.Client:
    # A fresh connection per request: a refused request's unread body may end its connection.
    no_reuse = httpx.Limits(max_keepalive_connections=0)
    return httpx.Client(base_url=server.url, timeout=20, follow_redirects=False, limits=no_reuse)


def _csrf(client: httpx.Client, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def _sign_in(client: httpx.Client, password: str = PASSWORD) -> httpx.Response:
    form = {"csrf_token": _csrf(client), "password": password, "next": "/players"}
    return client.post("/login", data=form)


def test_without_a_session_pages_redirect_and_the_api_answers_401(
    password_server: Server,
) -> None:
    with _client(password_server) as client:
        page = client.get("/")
        assert page.status_code == 302 and page.headers["Location"].startswith("/login")
        for path in ("/api/jobs", "/openapi.json", "/events", "/playlist.m3u"):
            response = client.get(path, headers={"Accept": "application/json"})
            assert response.status_code == 401, path
        api = client.post("/api/jobs", json={"output_format": "anaglyph"})
        assert api.status_code == 401
        assert "sign in" in api.json()["error"]
        assert client.get("/healthz").status_code == 200
        assert client.get("/login").status_code == 200


def test_the_right_password_signs_in_and_the_wrong_one_does_not(
    password_server: Server,
) -> None:
    with _client(password_server) as client:
        wrong = _sign_in(client, "not the password")
        assert wrong.status_code == 401 and "not right" in wrong.text
        assert client.get("/api/jobs").status_code == 401
        right = _sign_in(client)
        assert right.status_code == 302 and right.headers["Location"] == "/players"
        assert "HttpOnly" in right.headers["Set-Cookie"]
        assert "Secure" not in right.headers["Set-Cookie"]  # plain http on loopback
        assert client.get("/api/jobs").status_code == 200
        assert client.get("/").status_code == 200
    with _client(password_server) as client:  # an open redirect is not offered
        form = {"csrf_token": _csrf(client), "password": PASSWORD, "next": "//evil.example/"}
        assert client.post("/login", data=form).headers["Location"] == "/"


def test_a_token_lets_submit_upload_through_a_signed_link(
    password_server: Server, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=1.0, fps=12, width=64, height=48)
    command = [*CLI, "submit", str(clip), "--server", password_server.url, "--format", "anaglyph"]
    refused = subprocess.run(command, env=fast_env(), capture_output=True, text=True, timeout=60)
    assert refused.returncode == 3 and "sign in" in refused.stderr
    with _client(password_server) as client:
        _sign_in(client)
        made = client.post("/api/tokens", headers={"Origin": password_server.url})
        assert made.status_code == 201
        token = made.json()["token"]
        # A token cannot be traded for more tokens, and a forged one is refused.
        assert (
            client.post("/api/tokens", headers={"Authorization": f"Bearer {token}"}).status_code
            == 403
        )
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with _client(password_server) as stranger:
        bad = stranger.get("/api/jobs", headers={"Authorization": f"Bearer {forged}"})
        assert bad.status_code == 401
    env = fast_env() | {"STEREOSPOT_TOKEN": token}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr  # the PUT to /files/... carried no token
    job_id = re.search(r"Job (\S+):", done.stdout)
    assert job_id is not None
    with _client(password_server) as client:
        job = client.get(
            f"/api/jobs/{job_id.group(1)}", headers={"Authorization": f"Bearer {token}"}
        )
        assert job.status_code == 200 and job.json()["title"] == "clip"


def test_host_and_origin_are_checked_on_the_server(password_server: Server) -> None:
    with _client(password_server) as client:
        _sign_in(client)
        rebound = client.get("/api/jobs", headers={"Host": "attacker.example"})
        assert rebound.status_code == 400
        body = {"output_format": "anaglyph"}
        https_origin = password_server.url.replace("http://", "https://")
        for origin in (https_origin, "http://attacker.example", "null"):
            response = client.post("/api/jobs", json=body, headers={"Origin": origin})
            assert response.status_code == 403, origin
        ok = client.post("/api/jobs", json=body, headers={"Origin": password_server.url})
        assert ok.status_code == 201
        # X-Forwarded-Proto from a client that is not a trusted proxy changes nothing.
        claimed = client.get("/", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in claimed.headers


def test_sign_in_attempts_are_limited(password_server: Server) -> None:
    with _client(password_server) as client:
        statuses = [_sign_in(client, f"guess {n}").status_code for n in range(6)]
        assert 429 in statuses
        assert _sign_in(client).status_code == 429  # even the right one, for a while


# ---------------------------------------------------------------------- oidc-header


class _Keys:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.kid = "5a4e9b43-7a0c-4ad3-a4c1-12f4b8c0e0d1"
        self.fetches = 0

    def pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()  # padded, as the ALB sends it


def alb_token(
    key: ec.EllipticCurvePrivateKey, kid: str, *, exp: float | None = None, **header: Any
) -> str:
    head = {"alg": "ES256", "kid": kid, "signer": SIGNER, "client": "c", "exp": 0} | header
    claims = {"sub": "1234", "email": "ann@example.com", "exp": int(exp or time.time() + 120)}
    signed = f"{_b64(json.dumps(head).encode())}.{_b64(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signed.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signed}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@pytest.fixture(scope="module")
def keys() -> Iterator[_Keys]:
    made = _Keys()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            made.fetches += 1
            found = self.path.strip("/") == made.kid
            self.send_response(200 if found else 404)
            body = made.pem() if found else b""
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    made.url = f"http://127.0.0.1:{httpd.server_address[1]}/{{kid}}"  # type: ignore[attr-defined]
    yield made
    httpd.shutdown()


@pytest.fixture(scope="module")
def oidc_server(tmp_path_factory: pytest.TempPathFactory, keys: _Keys) -> Iterator[Server]:
    env = {
        "STEREOSPOT_AUTH": "oidc-header",
        "STEREOSPOT_AUTH_OIDC_KEY_URL": keys.url,  # type: ignore[attr-defined]
        "STEREOSPOT_AUTH_OIDC_SIGNER": SIGNER,
    }
    with running_serve(tmp_path_factory.mktemp("oidc"), extra_env=env, workers=0) as running:
        yield running


def test_the_load_balancers_signed_identity_is_trusted(oidc_server: Server, keys: _Keys) -> None:
    with _client(oidc_server) as client:
        assert client.get("/api/jobs").status_code == 401
        assert client.get("/").status_code == 401
        good = {"x-amzn-oidc-data": alb_token(keys.key, keys.kid)}
        assert client.get("/api/jobs", headers=good).status_code == 200
        assert client.get("/", headers=good).status_code == 200
        assert client.get("/api/jobs", headers=good).status_code == 200
    assert keys.fetches == 1  # the key is cached by kid


def test_forged_expired_and_foreign_identities_are_refused(
    oidc_server: Server, keys: _Keys
) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    forged = [
        alb_token(other, keys.kid),  # signed with another key
        alb_token(keys.key, keys.kid, exp=time.time() - 600),  # expired
        alb_token(keys.key, keys.kid, signer="arn:aws:elasticloadbalancing:x:1:lb/app/other"),
        alb_token(keys.key, "../../etc/passwd"),  # a kid that would steer the key URL
        alb_token(keys.key, "0b9a1f35-0000-4000-8000-000000000000"),  # unknown kid
        alb_token(keys.key, keys.kid).rsplit(".", 1)[0] + ".",  # no signature
        "not a token",
    ]
    with _client(oidc_server) as client:
        for token in forged:
            response = client.get("/api/jobs", headers={"x-amzn-oidc-data": token})
            assert response.status_code == 401, token[:40]
        none_alg = alb_token(keys.key, keys.kid, alg="none")
        assert client.get("/api/jobs", headers={"x-amzn-oidc-data": none_alg}).status_code == 401


# ---------------------------------------------------------------------- none


def test_serve_refuses_a_public_bind_without_sign_in(tmp_path: Path) -> None:
    command = [*CLI, "serve", "--data-dir", str(tmp_path), "--host", "0.0.0.0", "--port", "1"]
    result = subprocess.run(command, env=fast_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "without sign-in" in result.stderr and "STEREOSPOT_AUTH=password" in result.stderr
    bad_hash = fast_env() | {"STEREOSPOT_AUTH": "password", "STEREOSPOT_AUTH_PASSWORD_HASH": "x"}
    result = subprocess.run(command, env=bad_hash, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "hash-password" in result.stderr
