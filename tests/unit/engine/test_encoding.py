"""Choosing the encoder and its options: NVENC where it opens, libx264 otherwise."""

from __future__ import annotations

import logging

import pytest

from inference_server.encoding import SOFTWARE, choose_encoder, codec_options, opens
from inference_server.pipeline import StageClock


def test_auto_is_libx264_on_a_cpu() -> None:
    assert choose_encoder("auto", on_gpu=False) == SOFTWARE
    assert choose_encoder("libx264", on_gpu=True) == SOFTWARE


def test_a_hardware_encoder_that_cannot_open_falls_back_with_one_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    if opens("h264_nvenc"):
        pytest.skip("NVENC opens on this machine")
    with caplog.at_level(logging.INFO, logger="inference_server.encoding"):
        assert choose_encoder("auto", on_gpu=True) == SOFTWARE
        assert choose_encoder("hevc_nvenc", on_gpu=True) == SOFTWARE
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert lines == [
        "hardware encoder h264_nvenc is not available here; encoding with libx264",
        "hardware encoder hevc_nvenc is not available here; encoding with libx264",
    ]


def test_unknown_encoder_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown encoder"):
        choose_encoder("h264_magic", on_gpu=True)


def test_quality_and_speed_map_to_each_encoder() -> None:
    assert codec_options("libx264", 20, "medium") == {"crf": "20", "preset": "medium"}
    nvenc = codec_options("h264_nvenc", 20, "medium")
    assert nvenc == {"preset": "p4", "rc": "vbr", "cq": "20", "b": "0"}
    assert codec_options("hevc_nvenc", 18, "veryfast")["preset"] == "p2"


def test_stage_clock_charges_each_stage_its_own_time() -> None:
    clock = StageClock()
    with clock.stage("depth"):
        sum(range(10_000))
    items = list(clock.timed(iter([1, 2, 3]), "decode"))
    assert items == [1, 2, 3]
    assert set(clock.seconds) == {"depth", "decode"}
    assert all(seconds >= 0 for seconds in clock.seconds.values())
