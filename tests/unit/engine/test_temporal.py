"""Scene cuts and the moving-average depth range."""

from __future__ import annotations

import torch

from inference_server.temporal import (
    DepthRangeNormaliser,
    SceneCutDetector,
    thumbnails,
    window_frames,
)


def frames(values: list[float]) -> torch.Tensor:
    return torch.stack([torch.full((36, 64), float(v)) for v in values])


def test_cut_detector_flags_big_changes_only() -> None:
    detector = SceneCutDetector()
    assert detector.detect(frames([100, 102, 101])) == [False, False, False]
    # the first frame of the next batch is compared with the last of the previous one
    assert detector.detect(frames([200, 201])) == [True, False]


def test_thumbnails_are_small() -> None:
    assert thumbnails(torch.rand(2, 720, 1280)).shape == (2, 36, 64)


def test_window_is_about_half_a_second() -> None:
    assert window_frames(30.0) == 15
    assert window_frames(1.0) == 1
    assert window_frames(240.0) == 30


def ramp(scale: float) -> torch.Tensor:
    return torch.linspace(0, scale, 100).view(1, 10, 10)


def test_normaliser_maps_to_unit_range_with_near_as_one() -> None:
    out = DepthRangeNormaliser(4).normalise(ramp(5.0), [False])
    assert float(out.min()) == 0.0 and float(out.max()) == 1.0
    assert float(out[0, -1, -1]) == 1.0  # largest raw value = nearest


def test_state_depends_only_on_the_window() -> None:
    """After `window` frames, a fresh normaliser agrees with a long-running one."""
    history = [ramp(s) for s in (1.0, 9.0, 3.0, 7.0, 2.0, 5.0, 4.0)]
    long_run = DepthRangeNormaliser(3)
    for frame in history:
        expected = long_run.normalise(frame, [False])
    fresh = DepthRangeNormaliser(3)
    for frame in history[-3:]:
        got = fresh.normalise(frame, [False])
    assert torch.allclose(got, expected)


def test_scene_cut_resets_the_average() -> None:
    normaliser = DepthRangeNormaliser(10)
    for _ in range(5):
        normaliser.normalise(ramp(100.0), [False])
    smoothed = normaliser.normalise(ramp(1.0), [False])
    reset = normaliser.normalise(ramp(1.0), [True])
    assert float(smoothed.max()) < 0.5  # still dominated by the old, larger range
    assert float(reset.max()) == 1.0
