"""Turning user-given titles into safe file-name stems."""

from __future__ import annotations

import re
import unicodedata

from stereospot.domain.limits import TITLE_MAX_LENGTH

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(title: str, max_length: int = 80) -> str:
    """ASCII letters, digits, dot, dash and underscore only; never empty, never hidden."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    stem = _UNSAFE.sub("_", ascii_title).strip("._-")
    return stem[:max_length].rstrip("._-") or "stereospot"


def title_from_filename(filename: str) -> str:
    """'My Holiday.final.MOV' -> 'My Holiday.final'."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, _ext = name.rpartition(".")
    title = stem if dot and stem else name
    return " ".join(title.split())[:TITLE_MAX_LENGTH] or "Untitled"
