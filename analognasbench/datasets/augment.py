"""Batch iteration with the NAS-Bench-201 / AnalogNAS-Bench training augmentation, on any device.

Training images get a random crop of the original size from the image zero-padded by 4 pixels,
then a horizontal flip with probability 0.5, then per-channel normalisation; test images are only
normalised. The crop and flip of a whole batch are one gather with per-image index grids, so
there is no Python loop over images, and the same code runs on CPU and CUDA. Random draws come
from the caller's ``torch.Generator`` and are moved to the data's device, so a seed gives the same
augmentation on either device.

Padding is applied to raw pixels (value 0) before normalisation, as torchvision's
``RandomCrop(32, padding=4)`` does on PIL images in the reference training pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

CIFAR10_MEAN: tuple[float, float, float] = (125.3 / 255, 123.0 / 255, 113.9 / 255)
"""Per-channel mean of CIFAR-10 training pixels in [0, 1], as used by NAS-Bench-201."""

CIFAR10_STD: tuple[float, float, float] = (63.0 / 255, 62.1 / 255, 66.7 / 255)
"""Per-channel standard deviation of CIFAR-10 training pixels in [0, 1], as used by NAS-Bench-201."""

PADDING = 4


def _draw(high: int, size: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    gen_device = generator.device if generator is not None else torch.device("cpu")
    values = torch.randint(0, high, (size,), generator=generator, device=gen_device)
    return values.to(device)


def random_crop_flip(
    x: torch.Tensor,
    generator: torch.Generator | None,
    padding: int = PADDING,
    flip_p: float = 0.5,
) -> torch.Tensor:
    """Random ``H x W`` crop of each zero-padded image, then a horizontal flip with ``flip_p``.

    Works on a batch ``(B, C, H, W)`` of any dtype (typically uint8, before normalisation) and
    returns a new tensor of the same shape, dtype and device.
    """
    if x.ndim != 4:
        raise ValueError(f"expected a batch of shape (B, C, H, W), got {tuple(x.shape)}")
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    b, _, h, w = x.shape
    device = x.device
    padded = torch.nn.functional.pad(x, (padding, padding, padding, padding)) if padding else x
    oy = _draw(2 * padding + 1, b, generator, device)
    ox = _draw(2 * padding + 1, b, generator, device)
    gen_device = generator.device if generator is not None else torch.device("cpu")
    flip = (torch.rand(b, generator=generator, device=gen_device) < flip_p).to(device)
    cols_base = torch.arange(w, device=device)
    rows = oy[:, None] + torch.arange(h, device=device)[None, :]  # (B, H)
    cols = ox[:, None] + torch.where(flip[:, None], w - 1 - cols_base[None, :], cols_base[None, :])  # (B, W)
    batch_idx = torch.arange(b, device=device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch_idx, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()


def normalize(
    x: torch.Tensor,
    mean: tuple[float, ...] = CIFAR10_MEAN,
    std: tuple[float, ...] = CIFAR10_STD,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """uint8 ``(B, C, H, W)`` pixels to ``dtype`` values ``(x / 255 - mean) / std`` per channel."""
    if x.ndim != 4 or x.shape[1] != len(mean) or len(mean) != len(std):
        raise ValueError(
            f"expected a batch (B, {len(mean)}, H, W) matching {len(mean)} means and {len(std)} stds, "
            f"got {tuple(x.shape)}"
        )
    m = torch.tensor(mean, dtype=dtype, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=dtype, device=x.device).view(1, -1, 1, 1)
    return x.to(dtype).div_(255.0).sub_(m).div_(s)


def as_tensor(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """A tensor view of a numpy array (no copy), or the tensor itself."""
    return x if isinstance(x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(x))


def batches(
    x: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool,
    augment: bool,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    drop_last: bool = False,
    mean: tuple[float, ...] = CIFAR10_MEAN,
    std: tuple[float, ...] = CIFAR10_STD,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(float images, long labels)`` on ``device`` from uint8 images ``(N, C, H, W)``.

    Each batch is moved as uint8 (a quarter of the float32 bytes), then cropped/flipped if
    ``augment`` and normalised there. ``x`` may already live on ``device`` (e.g. a whole training
    set put on the GPU once), in which case nothing is transferred. ``shuffle`` and ``augment``
    need ``generator`` so that runs are reproducible.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if (shuffle or augment) and generator is None:
        raise ValueError("shuffle or augment need an explicit torch.Generator for reproducibility")
    xt, yt = as_tensor(x), as_tensor(y)
    if xt.dtype != torch.uint8 or xt.ndim != 4:
        raise ValueError(f"x must be uint8 images (N, C, H, W), got {xt.dtype} {tuple(xt.shape)}")
    if yt.shape != (xt.shape[0],):
        raise ValueError(f"y must have shape ({xt.shape[0]},), got {tuple(yt.shape)}")
    device = torch.device(device)
    n = xt.shape[0]
    if shuffle:
        order = torch.randperm(n, generator=generator, device=generator.device if generator else "cpu")
    else:
        order = None
    non_blocking = device.type == "cuda"
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            xb, yb = xt[start : start + batch_size], yt[start : start + batch_size]
        else:
            idx = order[start : start + batch_size]
            xb, yb = xt[idx.to(xt.device)], yt[idx.to(yt.device)]
        xb = xb.to(device, non_blocking=non_blocking)
        yb = yb.to(device, dtype=torch.long, non_blocking=non_blocking)
        if augment:
            xb = random_crop_flip(xb, generator)
        yield normalize(xb, mean, std), yb
