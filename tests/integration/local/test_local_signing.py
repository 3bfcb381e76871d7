"""The local signed-URL format, as the web app verifies it."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from stereospot.adapters.local.signing import (
    SignatureExpired,
    SignatureInvalid,
    SignedGrant,
    UrlSigner,
)
from stereospot.domain.errors import InvalidKey

KEY = "jobs/1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b/final.mp4"
SIGNER = UrlSigner(b"0123456789abcdef0123456789abcdef", "http://127.0.0.1:8000/")


def _split(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path.removeprefix("/files/"), dict(parse_qsl(parts.query))


def test_the_url_shape() -> None:
    url = SIGNER.sign(method="PUT", key=KEY, expires_at=1_800_000_000, max_bytes=1024)
    assert url.startswith(f"http://127.0.0.1:8000/files/{KEY}?")
    key, query = _split(url)
    assert key == KEY
    assert query.keys() == {"m", "e", "x", "s"}
    assert (query["m"], query["e"], query["x"]) == ("PUT", "1800000000", "1024")


def test_a_valid_url_gives_its_grant() -> None:
    url = SIGNER.sign(method="GET", key=KEY, expires_at=1000, filename="Été 3D (1).mp4")
    key, query = _split(url)
    grant = SIGNER.verify(method="GET", key=key, query=query, now=999)
    assert grant == SignedGrant(key=KEY, method="GET", max_bytes=None, filename="Été 3D (1).mp4")


def test_expiry_is_its_own_error() -> None:
    key, query = _split(SIGNER.sign(method="GET", key=KEY, expires_at=1000))
    with pytest.raises(SignatureExpired, match="expired"):
        SIGNER.verify(method="GET", key=key, query=query, now=1000)


@pytest.mark.parametrize(
    "change",
    [
        {"e": "2000"},  # a later expiry: tampering, not expiry
        {"x": "999999"},
        {"n": "other.mp4"},
        {"m": "PUT"},
        {"s": "A" * 43},
    ],
    ids=lambda change: next(iter(change)),
)
def test_any_changed_field_invalidates_the_url(change: dict[str, str]) -> None:
    url = SIGNER.sign(method="GET", key=KEY, expires_at=1000, max_bytes=10, filename="a.mp4")
    key, query = _split(url)
    with pytest.raises(SignatureInvalid) as raised:
        SIGNER.verify(method=change.get("m", "GET"), key=key, query={**query, **change}, now=1)
    assert not isinstance(raised.value, SignatureExpired)


def test_a_url_for_another_key_or_method_or_secret_is_invalid() -> None:
    key, query = _split(SIGNER.sign(method="PUT", key=KEY, expires_at=1000, max_bytes=5))
    with pytest.raises(SignatureInvalid):
        SIGNER.verify(method="PUT", key=KEY.replace("final", "other"), query=query, now=1)
    with pytest.raises(SignatureInvalid, match="PUT requests only"):
        SIGNER.verify(method="GET", key=key, query=query, now=1)
    other = UrlSigner(b"another secret of 32 bytes......", "http://127.0.0.1:8000")
    with pytest.raises(SignatureInvalid):
        other.verify(method="PUT", key=key, query=query, now=1)


@pytest.mark.parametrize("missing", ["m", "e", "s"])
def test_an_incomplete_url_is_invalid(missing: str) -> None:
    key, query = _split(SIGNER.sign(method="GET", key=KEY, expires_at=1000))
    del query[missing]
    with pytest.raises(SignatureInvalid):
        SIGNER.verify(method="GET", key=key, query=query, now=1)


def test_bad_keys_and_secrets_are_refused() -> None:
    with pytest.raises(InvalidKey):
        SIGNER.sign(method="GET", key="../secret_key", expires_at=1000)
    with pytest.raises(SignatureInvalid):
        SIGNER.verify(method="GET", key="../secret_key", query={"m": "GET"}, now=1)
    with pytest.raises(ValueError, match="at least 16 bytes"):
        UrlSigner(b"short", "http://127.0.0.1:8000")


def test_a_whole_url_is_verified_only_under_its_base() -> None:
    url = SIGNER.sign(method="GET", key=KEY, expires_at=1000, filename="Été 3D (1).mp4")
    grant = SIGNER.verify_url(url, method="GET", now=999)
    assert grant == SignedGrant(key=KEY, method="GET", max_bytes=None, filename="Été 3D (1).mp4")
    for other in (
        url.replace("http://127.0.0.1:8000", "http://evil.example"),
        url.replace("/files/", "/other/"),
        url.replace(KEY, "jobs/../secret_key"),
    ):
        with pytest.raises(SignatureInvalid):
            SIGNER.verify_url(other, method="GET", now=999)
    with pytest.raises(SignatureExpired):
        SIGNER.verify_url(url, method="GET", now=1000)
