"""Edge-aware upsampling: a small depth map's edges land on the image's edges."""

from __future__ import annotations

import torch

from inference_server.upsample import guided_upsample


def test_the_depth_edge_follows_the_image_edge_not_the_depth_blocks() -> None:
    image = torch.zeros(1, 8, 32)
    image[..., 13:] = 200.0  # the object starts at column 13 in the image
    nearness = torch.zeros(1, 2, 8)
    nearness[..., 3:] = 1.0  # in the 4x smaller depth map at column 3 (= 12..15 full size)
    up = guided_upsample(nearness, image)[0, 0]
    assert bool((up[:13] < 0.1).all()) and bool((up[13:] > 0.9).all()), up
    # Bilinear would have smeared it over a depth pixel.
    assert up.shape == (32,)


def test_flat_depth_stays_flat_and_same_size_is_a_no_op() -> None:
    image = torch.rand(1, 16, 16) * 255
    flat = torch.full((1, 4, 4), 0.3)
    assert torch.allclose(guided_upsample(flat, image), torch.full((1, 16, 16), 0.3))
    same = torch.rand(1, 16, 16)
    assert guided_upsample(same, image) is same
