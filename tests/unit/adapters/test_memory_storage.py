"""MemoryObjectStorage: validated keys, object events, signed URLs that expire (the local
storage's links and errors: one signer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stereospot.adapters.local.signing import UrlSigner
from stereospot.adapters.memory.clock import ManualClock
from stereospot.adapters.memory.storage import MemoryObjectStorage
from stereospot.domain.errors import (
    InvalidKey,
    ObjectNotFound,
    ObjectTooLarge,
    SignatureExpired,
    SignatureInvalid,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def created() -> list[tuple[str, int]]:
    return []


@pytest.fixture
def storage(clock: ManualClock, created: list[tuple[str, int]]) -> MemoryObjectStorage:
    return MemoryObjectStorage(clock, on_created=lambda k, s: created.append((k, s)))


def test_put_get_list_delete(
    storage: MemoryObjectStorage, created: list[tuple[str, int]], tmp_path: Path
) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(b"12345")
    storage.put_file("jobs/a/x.mp4", source)
    storage.put_bytes("jobs/a/y.mp4", b"yy")
    storage.put_bytes("jobs/b/z.mp4", b"")
    assert created == [("jobs/a/x.mp4", 5), ("jobs/a/y.mp4", 2), ("jobs/b/z.mp4", 0)]
    assert storage.get_bytes("jobs/a/x.mp4") == b"12345"
    storage.get_file("jobs/a/y.mp4", tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == b"yy"
    assert storage.size("jobs/a/x.mp4") == 5 and storage.size("jobs/nope") is None
    assert storage.exists("jobs/b/z.mp4") and not storage.exists("jobs/b/q.mp4")
    assert storage.list_keys("jobs/a/") == ["jobs/a/x.mp4", "jobs/a/y.mp4"]
    assert storage.delete_prefix("jobs/a/") == 2
    assert storage.list_keys("") == ["jobs/b/z.mp4"]
    with pytest.raises(ObjectNotFound):
        storage.get_bytes("jobs/a/x.mp4")
    with pytest.raises(ObjectNotFound):
        storage.get_file("jobs/a/x.mp4", tmp_path / "missing.bin")


@pytest.mark.parametrize("key", ["../x", "/abs", "a//b", "a/../b", "a b", ""])
def test_invalid_keys_are_refused(storage: MemoryObjectStorage, key: str) -> None:
    with pytest.raises(InvalidKey):
        storage.put_bytes(key, b"x")
    with pytest.raises(InvalidKey):
        storage.exists(key)


def test_invalid_prefixes_are_refused(storage: MemoryObjectStorage) -> None:
    with pytest.raises(InvalidKey):
        storage.delete_prefix("jobs")
    with pytest.raises(InvalidKey):
        storage.list_keys("../")


def test_upload_url_is_signed_capped_and_expires(
    storage: MemoryObjectStorage, clock: ManualClock
) -> None:
    url = storage.upload_url("input/j/source.mp4", expires_s=60, max_bytes=4)
    assert url.startswith("memory://storage/files/input/j/source.mp4?m=PUT&")
    with pytest.raises(ObjectTooLarge, match="larger than the allowed 4 bytes"):
        storage.put_via_url(url, b"12345")
    assert storage.put_via_url(url, b"1234") == "input/j/source.mp4"
    with pytest.raises(SignatureInvalid, match="PUT requests only"):
        storage.get_via_url(url)
    clock.advance(60)
    with pytest.raises(SignatureExpired, match="expired"):
        storage.put_via_url(url, b"1")


def test_tampered_urls_are_refused(storage: MemoryObjectStorage) -> None:
    storage.put_bytes("jobs/a/final.mp4", b"movie")
    storage.put_bytes("jobs/b/final.mp4", b"secret")
    url = storage.download_url("jobs/a/final.mp4", 60, filename="Clip_LR_Half_SBS.mp4")
    assert storage.check_url(url, "GET").filename == "Clip_LR_Half_SBS.mp4"
    assert storage.get_via_url(url) == b"movie"
    for forged in (
        url.replace("jobs/a/", "jobs/b/"),
        url.replace("e=", "e=9"),
        url.replace("Clip", "Evil"),
        url.split("&s=")[0],
        url.replace("jobs/a/", "jobs/a/../b/"),
        url.replace("memory://storage", "http://127.0.0.1:8000"),
    ):
        with pytest.raises(SignatureInvalid) as raised:
            storage.get_via_url(forged)
        assert not isinstance(raised.value, SignatureExpired)


def test_urls_from_another_secret_are_refused(clock: ManualClock) -> None:
    one = MemoryObjectStorage(clock, secret=b"one" * 8)
    two = MemoryObjectStorage(clock, secret=b"two" * 8)
    url = one.upload_url("input/j/source.mp4", 60, 10)
    with pytest.raises(SignatureInvalid, match="signature"):
        two.put_via_url(url, b"x")


def test_links_are_the_local_signers(clock: ManualClock) -> None:
    """The same secret and base URL give the local storage's link, byte for byte."""
    secret, base = b"s" * 32, "http://127.0.0.1:8000"
    memory = MemoryObjectStorage(clock, secret=secret, base_url=base)
    expires_at = int(clock.now().timestamp()) + 60
    local = UrlSigner(secret, base).sign(
        method="GET", key="jobs/a/final.mp4", expires_at=expires_at, filename="Clip.mp4"
    )
    assert memory.download_url("jobs/a/final.mp4", 60, filename="Clip.mp4") == local
