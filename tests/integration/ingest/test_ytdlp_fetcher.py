"""YtDlpFetcher against a real HTTP server on loopback, serving a generated clip."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import pytest
import yt_dlp
from yt_dlp.utils import ExtractorError

from stereospot.adapters.ingest.ytdlp import YtDlpFetcher, reason_for
from stereospot.domain.errors import FetchError
from tests.media_clips import make_clip


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("site")
    make_clip(root / "clip.mp4", seconds=1.0, width=64, height=48, fps=12)
    (root / "page.html").write_text("<html><body><p>No video here.</p></body></html>")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def fetcher() -> YtDlpFetcher:
    # The site is on loopback: these tests allow private addresses explicitly.
    return YtDlpFetcher(socket_timeout_s=5, allow_private=True)


def test_downloads_a_direct_link(fetcher: YtDlpFetcher, site: str, tmp_path: Path) -> None:
    fetched = fetcher.fetch(f"{site}/clip.mp4", tmp_path, max_bytes=10_000_000)
    assert fetched.path.parent == tmp_path and fetched.path.suffix == ".mp4"
    assert fetched.title == "clip"
    with av.open(str(fetched.path)) as container:
        assert container.streams.video[0].codec_context.width == 64
    served = Path(fetched.path).stat().st_size
    assert served > 1000


def test_404_is_readable(fetcher: YtDlpFetcher, site: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="404 Not Found"):
        fetcher.fetch(f"{site}/missing.mp4", tmp_path, max_bytes=10_000_000)


def test_a_page_without_video(fetcher: YtDlpFetcher, site: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="no video at that link"):
        fetcher.fetch(f"{site}/page.html", tmp_path, max_bytes=10_000_000)


def test_too_big(fetcher: YtDlpFetcher, site: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="larger than the 2000 bytes limit"):
        fetcher.fetch(f"{site}/clip.mp4", tmp_path, max_bytes=2000)
    assert [p for p in tmp_path.iterdir() if p.suffix == ".mp4"] == []


def test_unreachable_host(fetcher: YtDlpFetcher, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match="could not be reached"):
        fetcher.fetch(f"http://127.0.0.1:{port}/clip.mp4", tmp_path, max_bytes=10_000_000)


def test_only_http_links(fetcher: YtDlpFetcher, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="http"):
        fetcher.fetch("file:///etc/passwd", tmp_path, max_bytes=1000)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("ERROR: [generic] Unable to download webpage: HTTP Error 403: Forbidden", "refused"),
        ("ERROR: Unable to download: HTTP Error 500: Internal", "HTTP 500"),
        ("ERROR: <urlopen error [Errno -2] Name or service not known>", "could not be reached"),
        ("ERROR: [youtube] abc: Private video. Sign in if you've been granted access", "private"),
        ("ERROR: something odd happened", "could not be downloaded from that link."),
    ],
)
def test_reasons(message: str, expected: str) -> None:
    assert expected in reason_for(message, 1000)


def test_direct_link_without_ffmpeg(site: str, tmp_path: Path) -> None:
    """CI machines have no ffmpeg binary: a single-file format is picked, nothing merged."""
    fetched = YtDlpFetcher(socket_timeout_s=5, ffmpeg="", allow_private=True).fetch(
        f"{site}/clip.mp4", tmp_path, max_bytes=10_000_000
    )
    with av.open(str(fetched.path)) as container:
        assert container.streams.video and container.streams.audio


def test_the_raw_error_text_never_reaches_the_reason() -> None:
    assert "Traceback" not in reason_for("ERROR: Traceback (most recent call last): boom", 1000)
    assert reason_for("ERROR: boom at /srv/secret/path", 1000).endswith("from that link.")


def test_a_loopback_site_is_refused_without_the_allowance(site: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="private network address"):
        YtDlpFetcher(socket_timeout_s=5).fetch(f"{site}/clip.mp4", tmp_path, max_bytes=10**7)


def test_a_ytdlp_error_outside_download_error_is_a_fetch_error(
    fetcher: YtDlpFetcher, site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """process_ie_result is not wrapped by yt-dlp's error reporting: an ExtractorError
    (or a network RequestError) raised there escapes as itself, not as DownloadError. It
    still fails the job with a sentence at once (permanent), not after the retries."""

    def unavailable(*_args: object, **_kwargs: object) -> None:
        raise ExtractorError("Requested format is not available. Use --list-formats")

    monkeypatch.setattr(yt_dlp.YoutubeDL, "process_ie_result", unavailable)
    with pytest.raises(FetchError) as raised:
        fetcher.fetch(f"{site}/clip.mp4", tmp_path, max_bytes=10_000_000)
    assert str(raised.value) == "The video could not be downloaded from that link."
    assert "list-formats" not in str(raised.value)


def test_an_error_of_the_scratch_disk_is_left_to_the_worker_retries(
    fetcher: YtDlpFetcher, site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not yt-dlp's: a full disk may pass, so it is not a FetchError (the loop retries)."""

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(yt_dlp.YoutubeDL, "process_ie_result", disk_full)
    with pytest.raises(OSError, match="No space left"):
        fetcher.fetch(f"{site}/clip.mp4", tmp_path, max_bytes=10_000_000)
