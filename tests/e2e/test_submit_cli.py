"""`stereospot submit --output` against `stereospot serve`: a real conversion end to end."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from tests.e2e.serve_process import CLI, Server, fast_env, running_serve
from tests.media_clips import make_clip

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_serve(tmp_path_factory.mktemp("serve")) as running:
        yield running


def test_submit_converts_and_downloads_with_progress(server: Server, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "Road Trip.mp4", seconds=2.0, fps=12, width=160, height=96, gop=12)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = subprocess.run(
        [*CLI, "submit", str(clip), "--server", server.url, "--format", "half-tb",
         "--output", str(out_dir)],
        env=fast_env(), capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + server.log_path.read_text()[-3000:]
    saved = out_dir / "Road_Trip_LR_Half_TB.mp4"
    assert f"Saved {saved}" in result.stdout
    assert "Uploading" in result.stderr and "Converting to 3D" in result.stderr
    assert "100.0%" in result.stderr
    with av.open(str(saved)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (160, 96)
        assert container.duration is not None and 1.5 < container.duration / 1e6 < 2.5
