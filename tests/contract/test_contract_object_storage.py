"""ObjectStorage contract: round trips, streaming files, listing, deletion, atomicity, keys."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import pytest

from stereospot.domain.errors import InvalidKey, ObjectNotFound
from stereospot.domain.keys import final_key, output_segment_key, source_key
from stereospot.domain.ports import ObjectStorage

BAD_KEYS = [
    "",
    "../escape.mp4",
    "jobs/../../escape.mp4",
    "/etc/passwd",
    "jobs//final.mp4",
    "jobs/./final.mp4",
    "jobs/final.mp4/",
    "jobs\\final.mp4",
    "jobs/nul\x00.mp4",
    "jobs/space here.mp4",
]
BAD_PREFIXES = ["../", "/jobs/", "jobs//", "jobs", "jobs/../"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def test_bytes_round_trip_and_overwrite(object_storage: ObjectStorage) -> None:
    key = final_key(uuid4())
    object_storage.put_bytes(key, b"first version")
    assert object_storage.get_bytes(key) == b"first version"
    object_storage.put_bytes(key, b"second")
    assert object_storage.get_bytes(key) == b"second"
    assert object_storage.size(key) == len(b"second")


def test_an_empty_object_exists(object_storage: ObjectStorage) -> None:
    key = f"jobs/{uuid4()}/.reassembly-done"
    object_storage.put_bytes(key, b"")
    assert object_storage.exists(key)
    assert object_storage.size(key) == 0
    assert object_storage.get_bytes(key) == b""


def test_files_stream_in_and_out_unchanged(object_storage: ObjectStorage, tmp_path: Path) -> None:
    source = tmp_path / "source.mp4"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 12_345))  # several chunks, odd tail
    key = source_key(uuid4())
    object_storage.put_file(key, source)
    assert object_storage.size(key) == source.stat().st_size
    dest = tmp_path / "out" / "copy.mp4"
    dest.parent.mkdir()
    object_storage.get_file(key, dest)
    assert _sha256(dest) == _sha256(source)
    dest.write_bytes(b"stale local copy")
    object_storage.get_file(key, dest)  # an existing destination is replaced
    assert _sha256(dest) == _sha256(source)


def test_absent_objects(object_storage: ObjectStorage, tmp_path: Path) -> None:
    key = final_key(uuid4())
    assert object_storage.exists(key) is False
    assert object_storage.size(key) is None
    with pytest.raises(ObjectNotFound):
        object_storage.get_bytes(key)
    with pytest.raises(ObjectNotFound):
        object_storage.get_file(key, tmp_path / "never.mp4")
    assert not (tmp_path / "never.mp4").exists()


def test_list_keys_is_sorted_and_respects_prefix_boundaries(object_storage: ObjectStorage) -> None:
    job, other = uuid4(), uuid4()
    keys = [output_segment_key(job, i) for i in (2, 0, 1)] + [final_key(job)]
    for key in keys:
        object_storage.put_bytes(key, b"x")
    object_storage.put_bytes(final_key(other), b"x")
    object_storage.put_bytes(source_key(job), b"x")
    assert object_storage.list_keys(f"jobs/{job}/") == sorted(keys)
    assert object_storage.list_keys(f"jobs/{job}/segments/") == sorted(keys[:3])
    # A prefix is a folder: jobs/<job>/ must not match jobs/<job>x/...
    object_storage.put_bytes(f"jobs/{job}x/final.mp4", b"x")
    assert object_storage.list_keys(f"jobs/{job}/") == sorted(keys)
    assert object_storage.list_keys(f"jobs/{uuid4()}/") == []
    everything = object_storage.list_keys("")
    assert everything == sorted(everything)
    assert set(everything) >= {*keys, final_key(other), source_key(job)}


def test_delete_prefix_removes_exactly_that_prefix(object_storage: ObjectStorage) -> None:
    job, other = uuid4(), uuid4()
    for i in range(3):
        object_storage.put_bytes(output_segment_key(job, i), b"x")
    object_storage.put_bytes(final_key(job), b"x")
    object_storage.put_bytes(final_key(other), b"kept")
    assert object_storage.delete_prefix(f"jobs/{job}/") == 4
    assert object_storage.list_keys(f"jobs/{job}/") == []
    assert object_storage.exists(final_key(job)) is False
    assert object_storage.get_bytes(final_key(other)) == b"kept"
    assert object_storage.delete_prefix(f"jobs/{job}/") == 0
    object_storage.put_bytes(final_key(job), b"again")  # the prefix is usable again
    assert object_storage.get_bytes(final_key(job)) == b"again"


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_invalid_keys_are_refused_everywhere(
    object_storage: ObjectStorage, tmp_path: Path, key: str
) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"data")
    operations: list[Callable[[], object]] = [
        lambda: object_storage.put_bytes(key, b"data"),
        lambda: object_storage.put_file(key, source),
        lambda: object_storage.get_bytes(key),
        lambda: object_storage.get_file(key, tmp_path / "dest.bin"),
        lambda: object_storage.exists(key),
        lambda: object_storage.size(key),
        lambda: object_storage.upload_url(key, 60, 1024),
        lambda: object_storage.download_url(key, 60),
    ]
    for operation in operations:
        with pytest.raises(InvalidKey):
            operation()
    assert object_storage.list_keys("") == []
    assert not (tmp_path / "dest.bin").exists()


@pytest.mark.parametrize("prefix", BAD_PREFIXES, ids=repr)
def test_invalid_prefixes_are_refused(object_storage: ObjectStorage, prefix: str) -> None:
    object_storage.put_bytes(final_key(uuid4()), b"x")
    with pytest.raises(InvalidKey):
        object_storage.list_keys(prefix)
    with pytest.raises(InvalidKey):
        object_storage.delete_prefix(prefix)
    assert len(object_storage.list_keys("")) == 1


def test_readers_see_a_whole_object_or_the_previous_one(object_storage: ObjectStorage) -> None:
    key = final_key(uuid4())
    size = 256 * 1024
    versions = {bytes([65 + i]) * size for i in range(2)}
    object_storage.put_bytes(key, b"A" * size)
    done = threading.Event()
    seen: list[bytes] = []

    def read() -> None:
        while not done.is_set():
            seen.append(object_storage.get_bytes(key))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(20):
            object_storage.put_bytes(key, b"AB"[i % 2 : i % 2 + 1] * size)
    finally:
        done.set()
        reader.join()
    assert seen, "the reader never ran"
    assert all(data in versions for data in seen)


def test_signed_urls_name_their_object(object_storage: ObjectStorage) -> None:
    job = uuid4()
    upload = object_storage.upload_url(source_key(job), 600, 10_000)
    download = object_storage.download_url(final_key(job), 600)
    attachment = object_storage.download_url(final_key(job), 600, filename="film_LR_Half_SBS.mp4")
    assert all(isinstance(url, str) and "://" in url for url in (upload, download, attachment))
    assert str(job) in upload and str(job) in download
    assert len({upload, download, attachment}) == 3
    assert object_storage.download_url(final_key(uuid4()), 600) != download
