"""The VideoToolkit port on PyAV: no ffmpeg binary needed at run time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from stereospot.adapters.media.concat import concat
from stereospot.adapters.media.poster import poster
from stereospot.adapters.media.probe import probe
from stereospot.adapters.media.split import split
from stereospot.domain.media import SegmentFile, VideoInfo


class PyAVToolkit:
    """probe / split / concat / poster; user-caused problems raise MediaError (a sentence)."""

    def probe(self, path: Path) -> VideoInfo:
        return probe(Path(path))

    def split(self, source: Path, out_dir: Path, target_seconds: float) -> list[SegmentFile]:
        return split(Path(source), Path(out_dir), target_seconds)

    def concat(self, segments: Sequence[Path], audio_source: Path | None, out: Path) -> None:
        concat(
            [Path(p) for p in segments],
            Path(audio_source) if audio_source is not None else None,
            Path(out),
        )

    def poster(self, video: Path, out: Path) -> None:
        poster(Path(video), Path(out))
