"""`stereospot convert` in-process: outputs, names, photos, progress and errors."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from stereospot.entrypoints.cli.main import main


def test_video_gets_the_player_suffix_and_progress(
    small_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "holiday.mp4"
    source.write_bytes(small_clip.read_bytes())
    code = main(["convert", str(source), "--format", "full-sbs", "--depth-model", "builtin"])
    captured = capsys.readouterr()
    expected = tmp_path / "holiday_LRF_Full_SBS.mp4"
    assert code == 0
    assert captured.out.strip() == str(expected)
    assert "fps" in captured.err and "ETA" in captured.err and "12/12" in captured.err
    with av.open(str(expected)) as container:
        assert container.streams.video[0].codec_context.width == 192


def test_photo_mode_writes_an_image(tmp_path: Path) -> None:
    photo = tmp_path / "cat.png"
    rgb = (np.random.default_rng(3).random((48, 65, 3)) * 255).astype(np.uint8)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    with av.open(str(photo), "w", format="image2") as container:
        stream = container.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = 65, 48, "rgb24"
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    assert main(["convert", str(photo), "--format", "half-tb", "--depth-model", "builtin"]) == 0
    with av.open(str(tmp_path / "cat_LR_Half_TB.png")) as container:
        out = next(container.decode(video=0))
    assert (out.width, out.height) == (64, 48)  # odd width cropped by one pixel
    jpeg = tmp_path / "cat3d.jpg"
    assert main(["convert", str(photo), str(jpeg), "--format", "anaglyph"]) == 0
    assert jpeg.stat().st_size > 0


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), (b"hello", "not a video")],
)
def test_bad_input_exits_non_zero_with_a_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    path = tmp_path / "in.mp4"
    if content is not None:
        path.write_bytes(content)
    assert main(["convert", str(path)]) == 1
    assert message in capsys.readouterr().err


def test_invalid_settings_exit_2(small_clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(small_clip), "--divergence", "50"]) == 2
    assert "divergence" in capsys.readouterr().err
