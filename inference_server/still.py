"""Still images (PNG/JPEG in, image out): the same depth and synthesis, in RGB."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import torch
import torch.nn.functional as nnf

from inference_server.colour import ColourInfo, rgb_to_yuv
from inference_server.depth import DepthEstimator, FrameBatch
from inference_server.packing import Planes
from inference_server.pipeline import EDGE_DILATION_PX
from inference_server.synthesis import dilate_nearness, eye_gains, synthesize_view
from inference_server.temporal import DepthRangeNormaliser
from inference_server.upsample import guided_upsample
from stereospot.domain.errors import MediaError
from stereospot.domain.formats import ConversionSettings, StereoFormat

IMAGE_SUFFIXES = {".png": "png", ".jpg": "mjpeg", ".jpeg": "mjpeg"}
_IMAGE_COLOUR = ColourInfo(primaries=1, trc=13, matrix=5, range=2)  # sRGB, BT.601 full


def read_rgb(path: Path) -> torch.Tensor:
    """(1,3,H,W) float in [0,1]; even size (odd edges cropped)."""
    if not path.is_file():
        raise MediaError(f"The input file {path} does not exist.")
    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            rgb = frame.to_ndarray(format="rgb24")
    except (av.error.FFmpegError, StopIteration, IndexError) as exc:
        raise MediaError(f"{path.name} is not an image we can read.") from exc
    height, width = rgb.shape[0] - rgb.shape[0] % 2, rgb.shape[1] - rgb.shape[1] % 2
    if height < 2 or width < 2:
        raise MediaError(f"{path.name} is too small to convert.")
    data = torch.from_numpy(np.ascontiguousarray(rgb[:height, :width]))
    return data.permute(2, 0, 1).unsqueeze(0).float() / 255.0


def write_rgb(rgb: torch.Tensor, path: Path) -> None:
    codec = IMAGE_SUFFIXES.get(path.suffix.lower())
    if codec is None:
        raise MediaError(f"Image outputs must end in .png, .jpg or .jpeg, not {path.suffix!r}.")
    array = (rgb[0].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format="image2") as container:
        stream = container.add_stream(codec, rate=1)
        assert isinstance(stream, av.video.stream.VideoStream)
        pix_fmt = "rgb24" if codec == "png" else "yuvj444p"
        stream.width, stream.height, stream.pix_fmt = frame.width, frame.height, pix_fmt
        if codec == "mjpeg":  # best JPEG quality: photos are worth it
            stream.codec_context.qmin = stream.codec_context.qmax = 2
        for packet in stream.encode(frame.reformat(format=pix_fmt)):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def pack_rgb(fmt: StereoFormat, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    from inference_server.packing import DUBOIS_LEFT, DUBOIS_RIGHT

    if fmt is StereoFormat.FULL_SBS:
        return torch.cat([left, right], -1)
    if fmt is StereoFormat.CROSS_EYED:
        return torch.cat([right, left], -1)
    if fmt is StereoFormat.HALF_SBS:
        return nnf.avg_pool2d(torch.cat([left, right], -1), (1, 2))
    if fmt is StereoFormat.FULL_TB:
        return torch.cat([left, right], -2)
    if fmt is StereoFormat.HALF_TB:
        return nnf.avg_pool2d(torch.cat([left, right], -2), (2, 1))
    if fmt is StereoFormat.ANAGLYPH:
        mixed = torch.einsum("oc,bchw->bohw", DUBOIS_LEFT, left) + torch.einsum(
            "oc,bchw->bohw", DUBOIS_RIGHT, right
        )
        return mixed.clamp(0, 1)
    return torch.cat([left[:, :1], right[:, 1:]], 1)  # anaglyph-color


def convert_still(
    input_path: Path,
    output_path: Path,
    fmt: StereoFormat,
    settings: ConversionSettings,
    estimator: DepthEstimator,
) -> None:
    rgb = read_rgb(input_path)
    y, u, v = rgb_to_yuv(rgb, _IMAGE_COLOUR)
    estimator.reset()
    raw = estimator.estimate(FrameBatch(Planes(y, u, v), _IMAGE_COLOUR, [False]))
    if not estimator.absolute:
        raw = DepthRangeNormaliser(1).normalise(raw, [True])
    if raw.shape[-2] <= y.shape[-2] and raw.shape[-1] <= y.shape[-1]:
        nearness = guided_upsample(raw, y)  # edges on the image's edges
    else:
        nearness = nnf.interpolate(raw.unsqueeze(1), size=rgb.shape[-2:], mode="area").squeeze(1)
    if fmt is StereoFormat.DEPTH:
        write_rgb(nearness.unsqueeze(1).expand(-1, 3, -1, -1), output_path)
        return
    if not estimator.absolute:
        nearness = dilate_nearness(nearness, EDGE_DILATION_PX)
    left_gain, right_gain = eye_gains(rgb.shape[-1], settings.divergence, settings.synthetic_view)
    left = synthesize_view(rgb, nearness, left_gain, settings.convergence)
    right = synthesize_view(rgb, nearness, right_gain, settings.convergence)
    write_rgb(pack_rgb(fmt, left, right), output_path)
