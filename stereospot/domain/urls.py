"""Small URL facts shared by the platforms and the web app."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin(url: str) -> str:
    """scheme://host[:port] of an absolute URL; "" for anything else."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
