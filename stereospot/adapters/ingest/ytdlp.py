"""SourceFetcher on yt-dlp's Python API: direct video links and video-platform pages.

One video per URL (playlists are refused), a size cap checked before and after the download,
a socket timeout, merged to mp4 when an ffmpeg binary is available (a single-file format is
chosen otherwise, so no merge is ever needed). Failures become FetchError sentences (the
detail goes to the log only): every yt-dlp error (YoutubeDLError) is permanent for the
job, as yt-dlp has already retried it; anything else is left to the worker's retries.

Every request yt-dlp makes goes through the outbound guard (a loopback proxy started for
this one fetch, see adapters/outbound): a link, or any redirect hop, that reaches a
non-public address fails with the one refusal sentence, and nothing is connected to.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

import yt_dlp
from yt_dlp.utils import YoutubeDLError

from stereospot.adapters.outbound.addresses import (
    REFUSED,
    UNREACHABLE,
    PrivateAllowance,
    Refused,
    Unreachable,
    vet,
)
from stereospot.adapters.outbound.proxy import GuardProxy, Limits
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
        return UNREACHABLE
    if "unsupported url" in text or "no video formats" in text or "no video could be found" in text:
        return "There is no video at that link."
    if "max-filesize" in text or "larger than" in text:
        return f"The video is larger than the {_mb(max_bytes)} limit."
    if "private" in text or "sign in" in text or "login" in text:
        return "That video is private or needs a login."
    return "The video could not be downloaded from that link."


def _port(parts: SplitResult) -> int:
    try:
        port = parts.port
    except ValueError:
        raise FetchError("That link is not a valid address.") from None
    return port or (443 if parts.scheme.lower() == "https" else 80)


def _guard_reason(proxy: GuardProxy, max_bytes: int) -> str | None:
    """The sentence for a download the guard stopped (None if it stopped nothing)."""
    outcome = proxy.outcome
    if outcome.refused:
        return REFUSED
    if outcome.over_limit == "too large":
        return f"The video is larger than the {_mb(max_bytes)} limit."
    if outcome.over_limit == "too many redirects":
        return "That link redirects too many times."
    if outcome.over_limit:
        return "The download took too long."
    if outcome.unreachable:
        return UNREACHABLE
    return None


class YtDlpFetcher:
    def __init__(
        self,
        socket_timeout_s: float = 20.0,
        ffmpeg: str | None = None,
        *,
        allow_private: PrivateAllowance | str | bool = False,
        total_timeout_s: float = 3600.0,
    ) -> None:
        self._socket_timeout_s = socket_timeout_s
        self._ffmpeg = ffmpeg if ffmpeg is not None else shutil.which("ffmpeg")
        self._allowance = (
            allow_private
            if isinstance(allow_private, PrivateAllowance)
            else PrivateAllowance.parse(allow_private)
        )
        self._total_timeout_s = total_timeout_s

    def _options(self, dest_dir: Path, max_bytes: int, proxy: str) -> dict[str, Any]:
        options: dict[str, Any] = {
            "proxy": proxy,
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
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise FetchError("Please give a link that starts with http:// or https://.")
        try:  # a quick refusal before yt-dlp starts (the proxy checks again, every hop)
            vet(parts.hostname, _port(parts), self._allowance)
        except Refused as exc:
            log.warning("refused to fetch %s: %s", url, exc.detail)
            raise FetchError(REFUSED) from None
        except Unreachable as exc:
            log.warning("cannot fetch %s: %s", url, exc.detail)
            raise FetchError(UNREACHABLE) from None
        # A little above the cap: headers, and yt-dlp stops at the cap itself.
        limits = Limits(
            max_bytes=max_bytes + 4 * 1024 * 1024, total_timeout_s=self._total_timeout_s
        )
        with GuardProxy(self._allowance, limits) as proxy:
            try:
                with yt_dlp.YoutubeDL(self._options(dest_dir, max_bytes, proxy.url)) as ydl:
                    info = ydl.extract_info(url, download=False)
                    self._check(info, max_bytes)
                    result = ydl.process_ie_result(info, download=True)
            except YoutubeDLError as exc:
                # DownloadError mostly, but also what escapes process_ie_result unwrapped
                # (ExtractorError: "Requested format is not available", geo restriction,
                # DownloadCancelled, network RequestError). yt-dlp has already retried:
                # the job fails with a sentence, the message is not retried. Other errors
                # (OSError of the scratch disk, bugs) go to the worker loop, which retries.
                log.warning("download of %s failed: %s: %s", url, type(exc).__name__, exc)
                raise FetchError(
                    _guard_reason(proxy, max_bytes) or reason_for(str(exc), max_bytes)
                ) from None
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
