"""SourceFetcher on yt-dlp's Python API: direct video links and video-platform pages.

One video per URL (playlists are refused), a size cap checked before and after the download,
a socket timeout, merged to mp4 when an ffmpeg binary is available (a single-file format is
chosen otherwise, so no merge is ever needed). Failures become FetchError sentences.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any

import yt_dlp
from yt_dlp.utils import DownloadError

from stereospot.domain.errors import FetchError
from stereospot.domain.ports import FetchedSource

log = logging.getLogger(__name__)

_PLAYLIST_TYPES = ("playlist", "multi_video")
_UNREACHABLE = (
    "connection refused",
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname",
    "getaddrinfo failed",
    "no route to host",
    "network is unreachable",
    "timed out",
    "connection reset",
    "failed to resolve",
)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.0f} MB" if size >= 1_000_000 else f"{size} bytes"


def reason_for(message: str, max_bytes: int) -> str:
    """A sentence a person can read, from yt-dlp's error text."""
    text = message.lower()
    if match := re.search(r"http error (\d{3})(?::\s*([^\n;]+))?", text):
        code = match.group(1)
        if code == "404":
            return "The server answered 404 Not Found for that link."
        if code in ("401", "403"):
            return f"The server refused access to that link (HTTP {code})."
        return f"The server answered HTTP {code} for that link."
    if any(marker in text for marker in _UNREACHABLE):
        return "The site could not be reached. Please check the link."
    if "unsupported url" in text or "no video formats" in text or "no video could be found" in text:
        return "There is no video at that link."
    if "max-filesize" in text or "larger than" in text:
        return f"The video is larger than the {_mb(max_bytes)} limit."
    if "private" in text or "sign in" in text or "login" in text:
        return "That video is private or needs a login."
    first = message.replace("ERROR: ", "").strip().splitlines()[0] if message.strip() else ""
    return (
        f"The video could not be downloaded ({first[:200]})."
        if first
        else ("The video could not be downloaded.")
    )


class YtDlpFetcher:
    def __init__(self, socket_timeout_s: float = 20.0, ffmpeg: str | None = None) -> None:
        self._socket_timeout_s = socket_timeout_s
        self._ffmpeg = ffmpeg if ffmpeg is not None else shutil.which("ffmpeg")

    def _options(self, dest_dir: Path, max_bytes: int) -> dict[str, Any]:
        options: dict[str, Any] = {
            "paths": {"home": str(dest_dir), "temp": str(dest_dir)},
            "outtmpl": {"default": "source.%(ext)s"},
            "noplaylist": True,
            "socket_timeout": self._socket_timeout_s,
            "max_filesize": max_bytes,
            "retries": 2,
            "fragment_retries": 2,
            "extractor_retries": 1,
            "quiet": True,
            "no_warnings": True,
            "noprogress": True,
            "logger": log,
            "cachedir": False,
            "overwrites": True,
            "restrictfilenames": True,
        }
        if self._ffmpeg:
            options["ffmpeg_location"] = self._ffmpeg
            options["format"] = "bv*[ext=mp4]+ba[ext=m4a]/bv*+ba/b"
            options["merge_output_format"] = "mp4"
        else:  # no merging possible: one file holding both video and audio
            options["format"] = "b[ext=mp4]/b/bv*"
        return options

    def fetch(self, url: str, dest_dir: Path, max_bytes: int) -> FetchedSource:
        if not url.lower().startswith(("http://", "https://")):
            raise FetchError("Please give a link that starts with http:// or https://.")
        try:
            with yt_dlp.YoutubeDL(self._options(dest_dir, max_bytes)) as ydl:
                info = ydl.extract_info(url, download=False)
                self._check(info, max_bytes)
                result = ydl.process_ie_result(info, download=True)
        except DownloadError as exc:
            raise FetchError(reason_for(str(exc), max_bytes)) from exc
        path = self._downloaded_file(result, dest_dir)
        if path is None:
            # yt-dlp skips (without an error) a download that turns out bigger than the cap.
            raise FetchError(f"The video is larger than the {_mb(max_bytes)} limit.")
        if path.stat().st_size > max_bytes:
            path.unlink()
            raise FetchError(f"The video is larger than the {_mb(max_bytes)} limit.")
        title = str(result.get("title") or info.get("title") or "").strip()
        return FetchedSource(path=path, title=" ".join(title.split())[:300])

    @staticmethod
    def _check(info: dict[str, Any] | None, max_bytes: int) -> None:
        if info is None:
            raise FetchError("There is no video at that link.")
        if info.get("_type") in _PLAYLIST_TYPES:
            raise FetchError("That link is a playlist; please give the link of one video.")
        if info.get("is_live"):
            raise FetchError("Live streams cannot be converted; please give a recorded video.")
        size = info.get("filesize") or info.get("filesize_approx")
        if isinstance(size, int | float) and size > max_bytes:
            raise FetchError(f"The video is larger than the {_mb(max_bytes)} limit.")

    @staticmethod
    def _downloaded_file(result: dict[str, Any], dest_dir: Path) -> Path | None:
        for download in result.get("requested_downloads") or []:
            path = Path(download.get("filepath") or "")
            if path.is_file():
                return path
        files = [p for p in dest_dir.glob("source.*") if p.is_file() and p.suffix != ".part"]
        return files[0] if files else None
