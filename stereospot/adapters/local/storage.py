"""ObjectStorage on the filesystem: <root>/<key>, atomic writes, streaming copies.

A write goes to a temporary file beside its target, is fsynced, then renamed over it, so a
reader sees the whole old object or the whole new one. Temporary names contain `~`, a
character no valid key has, so they never show up as (or collide with) objects.

Keys are checked twice: by the domain's rules, and by resolving the path and requiring it
to stay under the root (so a symlink cannot lead out either).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from stereospot.adapters.local.signing import UrlSigner
from stereospot.domain.errors import InvalidKey, ObjectNotFound, ObjectTooLarge
from stereospot.domain.keys import validate_storage_key, validate_storage_prefix

CHUNK_BYTES = 1024 * 1024
_TEMP_MARK = ".~"

ObjectCreatedCallback = Callable[[str, int], None]


class ObjectWriter:
    """A binary sink that refuses to grow past max_bytes."""

    def __init__(self, file: BinaryIO, max_bytes: int | None) -> None:
        self._file = file
        self._max_bytes = max_bytes
        self.written = 0

    def write(self, data: bytes) -> int:
        if self._max_bytes is not None and self.written + len(data) > self._max_bytes:
            raise ObjectTooLarge(f"the file is larger than the allowed {self._max_bytes} bytes")
        self._file.write(data)
        self.written += len(data)
        return len(data)


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_stream(source: BinaryIO, sink: BinaryIO | ObjectWriter) -> None:
    while chunk := source.read(CHUNK_BYTES):
        sink.write(chunk)


class FilesystemObjectStorage:
    def __init__(
        self,
        root: Path,
        signer: UrlSigner,
        on_created: ObjectCreatedCallback | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self._root = root.resolve()
        self._signer = signer
        self._on_created = on_created
        self._clock = clock

    @property
    def root(self) -> Path:
        return self._root

    def path_for(self, key: str) -> Path:
        """The file that holds `key` (it may not exist). Raises InvalidKey."""
        validate_storage_key(key)
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root) or path == self._root:
            raise InvalidKey(f"{key!r} is not a valid object key")
        return path

    def _dir_for_prefix(self, prefix: str) -> Path:
        validate_storage_prefix(prefix)
        if prefix == "":
            return self._root
        return self.path_for(prefix[:-1])

    # ------------------------------------------------------------------ writes

    @contextlib.contextmanager
    def open_writer(self, key: str, max_bytes: int | None = None) -> Iterator[ObjectWriter]:
        """Write an object by chunks: `with storage.open_writer(key) as out: out.write(b)`.

        The object appears, whole, only when the block ends without an error; on an error
        (ObjectTooLarge included) nothing is written and the temporary file is removed.
        """
        target = self.path_for(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidKey(f"{key!r} lies under an existing object") from None
        temp = target.with_name(f"{_TEMP_MARK}{target.name}.{secrets.token_hex(6)}")
        try:
            with open(temp, "xb") as file:
                sink = ObjectWriter(file, max_bytes)
                yield sink
                file.flush()
                os.fsync(file.fileno())
            if target.is_dir():
                raise InvalidKey(f"{key!r} is a prefix of other objects, not an object")
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)
        if self._on_created is not None:
            self._on_created(key, sink.written)

    def put_file(self, key: str, source: Path) -> None:
        with open(source, "rb") as file, self.open_writer(key) as sink:
            _copy_stream(file, sink)

    def put_bytes(self, key: str, data: bytes) -> None:
        with self.open_writer(key) as sink:
            sink.write(data)

    # ------------------------------------------------------------------ reads

    def _open(self, key: str) -> BinaryIO:
        path = self.path_for(key)
        try:
            return open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def get_file(self, key: str, dest: Path) -> None:
        with self._open(key) as file:
            dest.parent.mkdir(parents=True, exist_ok=True)
            temp = dest.with_name(f"{_TEMP_MARK}{dest.name}.{secrets.token_hex(6)}")
            try:
                with open(temp, "xb") as out:
                    _copy_stream(file, out)
                os.replace(temp, dest)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise

    def get_bytes(self, key: str) -> bytes:
        with self._open(key) as file:
            return file.read()

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def size(self, key: str) -> int | None:
        path = self.path_for(key)
        try:
            return path.stat().st_size if path.is_file() else None
        except FileNotFoundError:
            return None

    def list_keys(self, prefix: str) -> list[str]:
        base = self._dir_for_prefix(prefix)
        if not base.is_dir():
            return []
        keys = []
        for directory, _subdirs, files in os.walk(base):
            for name in files:
                if not name.startswith(_TEMP_MARK):
                    keys.append(Path(directory, name).relative_to(self._root).as_posix())
        return sorted(keys)

    # ------------------------------------------------------------------ deletes

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list_keys(prefix)
        for key in keys:
            self.path_for(key).unlink(missing_ok=True)
        base = self._dir_for_prefix(prefix)
        if base.is_dir():
            self._remove_empty_directories(base)
        return len(keys)

    def _remove_empty_directories(self, base: Path) -> None:
        """Prune empty directories at and under base, then its emptied parents."""
        for directory, _subdirs, _files in os.walk(base, topdown=False):
            if Path(directory) != self._root:
                with contextlib.suppress(OSError):  # not empty: a write is in flight
                    Path(directory).rmdir()
        parent = base.parent
        while parent != self._root and parent.is_relative_to(self._root):
            try:
                parent.rmdir()
            except OSError:
                return
            parent = parent.parent

    # ------------------------------------------------------------------ signed URLs

    def upload_url(self, key: str, expires_s: int, max_bytes: int) -> str:
        return self._signer.sign(
            method="PUT", key=key, expires_at=int(self._clock()) + expires_s, max_bytes=max_bytes
        )

    def download_url(self, key: str, expires_s: int, filename: str | None = None) -> str:
        return self._signer.sign(
            method="GET", key=key, expires_at=int(self._clock()) + expires_s, filename=filename
        )
