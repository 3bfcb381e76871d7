"""What only the filesystem storage can get wrong: escaping its root, half-written files,
temporary files, holding whole files in memory."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stereospot.adapters.local.signing import UrlSigner
from stereospot.adapters.local.storage import FilesystemObjectStorage
from stereospot.domain.errors import InvalidKey, ObjectTooLarge
from stereospot.domain.keys import final_key, output_segment_key, source_key


@pytest.fixture
def created() -> list[tuple[str, int]]:
    return []


@pytest.fixture
def storage(tmp_path: Path, created: list[tuple[str, int]]) -> FilesystemObjectStorage:
    signer = UrlSigner(b"k" * 32, "http://127.0.0.1:8000")
    return FilesystemObjectStorage(
        tmp_path / "objects", signer, on_created=lambda key, size: created.append((key, size))
    )


def _all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.text(alphabet="ab./\\~-_\x00 ", max_size=12))
def test_no_key_reaches_outside_the_root(storage: FilesystemObjectStorage, key: str) -> None:
    try:
        path = storage.path_for(key)
    except InvalidKey:
        return
    assert path.is_relative_to(storage.root) and path != storage.root


def test_a_symlink_out_of_the_root_is_refused(
    storage: FilesystemObjectStorage, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (storage.root / "jobs").symlink_to(outside)
    with pytest.raises(InvalidKey):
        storage.put_bytes("jobs/final.mp4", b"x")
    with pytest.raises(InvalidKey):
        storage.exists("jobs/final.mp4")
    assert list(outside.iterdir()) == []


def test_a_failed_write_leaves_nothing_behind(
    storage: FilesystemObjectStorage, created: list[tuple[str, int]]
) -> None:
    key = final_key(uuid4())
    storage.put_bytes(key, b"old")
    created.clear()
    with pytest.raises(RuntimeError), storage.open_writer(key) as out:
        out.write(b"new, but never finished")
        raise RuntimeError("the uploader went away")
    assert storage.get_bytes(key) == b"old"
    assert created == []
    assert [p.name for p in _all_files(storage.root)] == ["final.mp4"]


def test_a_streamed_write_past_its_limit_is_refused(storage: FilesystemObjectStorage) -> None:
    key = source_key(uuid4())
    too_large = pytest.raises(ObjectTooLarge, match="larger than the allowed 10 bytes")
    with too_large, storage.open_writer(key, max_bytes=10) as out:
        out.write(b"123456")
        out.write(b"7890x")
    assert not storage.exists(key)
    assert _all_files(storage.root) == []
    with storage.open_writer(key, max_bytes=10) as out:
        out.write(b"1234567890")
    assert storage.get_bytes(key) == b"1234567890"


def test_writes_in_flight_are_invisible(storage: FilesystemObjectStorage) -> None:
    job = uuid4()
    key = output_segment_key(job, 0)
    with storage.open_writer(key) as out:
        out.write(b"partial")
        assert storage.list_keys(f"jobs/{job}/") == []
        assert not storage.exists(key)
        assert len(_all_files(storage.root)) == 1  # the temporary file, beside its target
    assert storage.list_keys(f"jobs/{job}/") == [key]


def test_every_write_is_announced_once_with_its_size(
    storage: FilesystemObjectStorage, created: list[tuple[str, int]], tmp_path: Path
) -> None:
    job = uuid4()
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"v" * 3000)
    storage.put_file(source_key(job), source)
    storage.put_bytes(final_key(job), b"done")
    assert created == [(source_key(job), 3000), (final_key(job), 4)]


def test_delete_prefix_prunes_empty_directories(storage: FilesystemObjectStorage) -> None:
    job = uuid4()
    for i in range(3):
        storage.put_bytes(output_segment_key(job, i), b"x")
    storage.put_bytes(source_key(job), b"x")
    storage.delete_prefix(f"jobs/{job}/")
    assert not (storage.root / "jobs").exists()
    assert (storage.root / "input" / str(job) / "source.mp4").exists()


def test_files_are_copied_in_chunks_not_held_whole(
    storage: FilesystemObjectStorage, tmp_path: Path
) -> None:
    size = 24 * 1024 * 1024
    source = tmp_path / "big.mp4"
    with open(source, "wb") as file:
        for _ in range(size // (1024 * 1024)):
            file.write(os.urandom(1024 * 1024))
    key = source_key(uuid4())
    tracemalloc.start()
    try:
        storage.put_file(key, source)
        storage.get_file(key, tmp_path / "copy.mp4")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (tmp_path / "copy.mp4").stat().st_size == size
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes for a {size}-byte file"


def test_a_key_under_an_existing_object_is_refused(storage: FilesystemObjectStorage) -> None:
    storage.put_bytes("misc/a", b"x")
    with pytest.raises(InvalidKey, match="lies under an existing object"):
        storage.put_bytes("misc/a/b", b"y")
    with pytest.raises(InvalidKey, match="prefix of other objects"):
        storage.put_bytes("misc", b"z")
    assert storage.list_keys("") == ["misc/a"]
