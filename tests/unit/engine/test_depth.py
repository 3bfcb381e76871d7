"""Depth estimators: the builtin cues, model selection, fallback and caching."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
import torch.nn.functional as nnf

import inference_server.depth as depth_module
from inference_server.colour import ColourInfo
from inference_server.depth import DepthModelUnavailable, FrameBatch, load_estimator
from inference_server.depth.builtin import BuiltinDepth, _box, guided_filter
from inference_server.depth.depth_anything import network_size
from inference_server.packing import Planes
from tests.unit.engine.tiny_depth_anything import save_tiny_depth_anything

CPU = torch.device("cpu")


def batch(y: torch.Tensor, cuts: list[bool] | None = None) -> FrameBatch:
    b, h, w = y.shape
    grey = torch.full((b, h // 2, w // 2), 128.0)
    return FrameBatch(Planes(y, grey, grey.clone()), ColourInfo(), cuts or [False] * b)


def test_builtin_puts_the_ground_nearer_than_the_sky() -> None:
    y = torch.full((1, 72, 128), 120.0)
    raw = BuiltinDepth().estimate(batch(y))
    assert float(raw[0, -5:].mean()) > float(raw[0, :5].mean())


def test_builtin_sees_sharp_detail_as_nearer_than_flat_areas() -> None:
    gen = torch.Generator().manual_seed(1)
    y = torch.full((1, 72, 128), 120.0)
    y[0, :, :40] += torch.rand(72, 40, generator=gen) * 100  # textured subject on the left
    raw = BuiltinDepth().estimate(batch(y))
    assert float(raw[0, :, :30].mean()) > float(raw[0, :, 90:].mean())


def test_builtin_motion_parallax_when_the_camera_pans() -> None:
    gen = torch.Generator().manual_seed(2)
    texture = torch.rand(72, 300, generator=gen) * 200 + 20
    frames = []
    for t in range(3):  # top half moves 1 px/frame (far), bottom half 6 px/frame (near)
        frame = torch.empty(72, 128)
        frame[:36] = texture[:36, t : t + 128]
        frame[36:] = texture[36:, 6 * t : 6 * t + 128]
        frames.append(frame)
    estimator = BuiltinDepth()
    still = estimator.estimate(batch(torch.stack(frames[:1] * 3)))
    estimator.reset()
    moving = estimator.estimate(batch(torch.stack(frames)))
    gain_bottom = float((moving[2, 40:] - still[2, 40:]).mean())
    gain_top = float((moving[2, :30] - still[2, :30]).mean())
    assert gain_bottom > gain_top


def test_builtin_ignores_motion_across_a_scene_cut() -> None:
    a = torch.full((1, 72, 128), 30.0)
    b = torch.full((1, 72, 128), 220.0)
    estimator = BuiltinDepth()
    estimator.estimate(batch(a))
    after_cut = estimator.estimate(batch(b, [True]))
    estimator.reset()
    fresh = estimator.estimate(batch(b))
    assert torch.allclose(after_cut, fresh)


def test_network_size_is_a_multiple_of_14_keeping_aspect() -> None:
    h, w = network_size(720, 1280, 518)
    assert h % 14 == 0 and w % 14 == 0
    assert abs(w / h - 1280 / 720) < 0.05


def test_unknown_model_name_is_a_readable_error() -> None:
    with pytest.raises(DepthModelUnavailable, match="Unknown depth model 'midas'"):
        load_estimator("midas", CPU)


def test_external_without_video_is_an_error() -> None:
    with pytest.raises(Exception, match="needs a depth video"):
        load_estimator("external", CPU)


def test_auto_falls_back_to_builtin_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache
    monkeypatch.setattr(depth_module, "_auto_fell_back", False)
    caplog.set_level(logging.WARNING)
    first = load_estimator("auto", CPU)
    second = load_estimator("auto", CPU)
    assert first.name == second.name == "builtin"
    warnings = [r for r in caplog.records if "built-in depth estimator" in r.getMessage()]
    assert len(warnings) == 1


def test_hub_reachability_honours_offline_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert depth_module.hub_reachable() is False


def test_tiny_depth_anything_loads_from_a_directory_and_is_cached(tmp_path: Path) -> None:
    model_dir = save_tiny_depth_anything(tmp_path / "tiny-da")
    estimator = load_estimator(str(model_dir), CPU)
    y = torch.rand(2, 48, 64) * 200
    raw = estimator.estimate(batch(y))
    assert raw.shape[0] == 2 and raw.dim() == 3
    assert torch.isfinite(raw).all()
    again = load_estimator(str(model_dir), CPU)
    assert again._model is estimator._model  # type: ignore[attr-defined]


@pytest.mark.parametrize("radius", [1, 3, 8])
def test_box_mean_is_the_window_mean_with_edges_replicated(radius: int) -> None:
    x = torch.rand(2, 3, 11, 17, generator=torch.Generator().manual_seed(radius))
    padded = nnf.pad(x, (radius,) * 4, mode="replicate")
    direct = nnf.avg_pool2d(padded, 2 * radius + 1, stride=1)
    assert torch.allclose(_box(x, radius), direct, atol=1e-5)


def test_the_subsampled_guided_filter_keeps_the_guides_edge() -> None:
    """Smoothing a noisy map guided by a step edge: flat on each side, the step kept."""
    guide = torch.zeros(1, 1, 40, 64)
    guide[..., 32:] = 1.0
    noisy = guide * 0.6 + torch.rand(1, 1, 40, 64, generator=torch.Generator().manual_seed(3)) * 0.2
    for subsample in (1, 2):
        out = guided_filter(guide, noisy, radius=6, eps=1e-3, subsample=subsample)[0, 0]
        assert float(out[:, 31].mean() - out[:, 32].mean()) < -0.5  # the step survives
        assert float(out[:, :28].std()) < 0.05 and float(out[:, 36:].std()) < 0.05
