"""Training augmentation and batching: crop/flip geometry, zero padding, determinism, test path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from analognasbench.datasets import CIFAR10_MEAN, CIFAR10_STD, batches, normalize, random_crop_flip

torch.set_num_threads(1)


def _images(n: int = 8, h: int = 32, w: int = 32, seed: int = 0) -> torch.Tensor:
    # Values 1..255 so that zero padding is distinguishable from image content.
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1, 256, (n, 3, h, w), generator=g, dtype=torch.uint8)


def _find_window(img: torch.Tensor, out: torch.Tensor, pad: int) -> list[tuple[int, int, bool]]:
    """All (dy, dx, flipped) such that ``out`` is that window of the zero-padded ``img``."""
    _, h, w = img.shape
    padded = torch.nn.functional.pad(img, (pad, pad, pad, pad))
    hits = []
    for dy in range(2 * pad + 1):
        for dx in range(2 * pad + 1):
            window = padded[:, dy : dy + h, dx : dx + w]
            for flipped in (False, True):
                if torch.equal(window.flip(-1) if flipped else window, out):
                    hits.append((dy, dx, flipped))
    return hits


@pytest.mark.parametrize("hw", [(32, 32), (16, 16), (12, 20)])
def test_each_output_is_a_shifted_window_of_the_zero_padded_image(hw: tuple[int, int]) -> None:
    x = _images(16, *hw)
    out = random_crop_flip(x, torch.Generator().manual_seed(1))
    assert out.shape == x.shape and out.dtype == x.dtype
    found = []
    for i in range(x.shape[0]):
        hits = _find_window(x[i], out[i], 4)
        assert len(hits) == 1, f"image {i}: {hits}"
        found.append(hits[0])
    assert len({(dy, dx) for dy, dx, _ in found}) > 1  # offsets vary across the batch
    # Pixels that came from the padding are exactly zero; image pixels never are.
    for (dy, dx, _), o in zip(found, out):
        zero_rows = max(0, 4 - dy) + max(0, dy - 4)
        zero_cols = max(0, 4 - dx) + max(0, dx - 4)
        expected_zeros = 3 * (zero_rows * hw[1] + zero_cols * hw[0] - zero_rows * zero_cols)
        assert int((o == 0).sum()) == expected_zeros


def test_flip_actually_flips_and_no_padding_means_no_shift() -> None:
    x = _images(4)
    g = torch.Generator().manual_seed(0)
    assert torch.equal(random_crop_flip(x, g, padding=0, flip_p=1.0), x.flip(-1))
    assert torch.equal(random_crop_flip(x, g, padding=0, flip_p=0.0), x)


def test_offsets_and_flips_follow_the_reference_distribution() -> None:
    # A 9x9 image with pixel values 1..81: with padding 4 the output's centre pixel is image pixel
    # (dy, dx), which identifies the crop offset, and its horizontal neighbours reveal the flip.
    n = 8100
    img = torch.arange(1, 82, dtype=torch.uint8).view(1, 1, 9, 9)
    out = random_crop_flip(img.repeat(n, 1, 1, 1), torch.Generator().manual_seed(2), padding=4)[:, 0]
    centre = out[:, 4, 4].long()
    assert bool((centre >= 1).all())  # the centre always comes from the image, never the padding
    offsets = torch.bincount(centre - 1, minlength=81)
    assert offsets.min() > 100 - 5 * 10 and offsets.max() < 100 + 5 * 10  # uniform over the 9x9 shifts
    flipped = (out[:, 4, 3].long() == centre + 1) | (out[:, 4, 5].long() == centre - 1)
    assert abs(flipped.float().mean().item() - 0.5) < 4 * (0.25 / n) ** 0.5


def test_same_seed_same_augmentation_different_seed_different() -> None:
    x = _images(32)
    a = random_crop_flip(x, torch.Generator().manual_seed(7))
    b = random_crop_flip(x, torch.Generator().manual_seed(7))
    c = random_crop_flip(x, torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_normalize_uses_per_channel_cifar10_statistics() -> None:
    x = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    x[:, 1] = 255
    out = normalize(x)
    assert out.dtype == torch.float32
    for c in range(3):
        expected = ((255 if c == 1 else 0) / 255 - CIFAR10_MEAN[c]) / CIFAR10_STD[c]
        assert torch.allclose(out[:, c], torch.full_like(out[:, c], expected))


def test_test_path_is_only_normalised_and_in_order() -> None:
    x = _images(10).numpy()
    y = np.arange(10, dtype=np.int64)
    got = list(batches(x, y, 4, shuffle=False, augment=False))
    assert [len(b[1]) for b in got] == [4, 4, 2]
    xs = torch.cat([b[0] for b in got])
    assert torch.equal(xs, normalize(torch.from_numpy(x)))
    assert torch.equal(torch.cat([b[1] for b in got]), torch.arange(10))
    assert got[0][1].dtype == torch.long


def test_training_batches_shuffle_every_image_once_and_are_reproducible() -> None:
    x = _images(50)
    y = torch.arange(50)

    def run(seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        g = torch.Generator().manual_seed(seed)
        return list(batches(x, y, 16, shuffle=True, augment=True, generator=g))

    first, again, other = run(0), run(0), run(1)
    labels = torch.cat([b[1] for b in first])
    assert sorted(labels.tolist()) == list(range(50)) and labels.tolist() != list(range(50))
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(first, again))
    assert not torch.equal(first[0][0], other[0][0])
    # Each augmented image is a crop/flip of its own source image (checked on the raw pixels).
    xb, yb = first[0]
    raw = torch.round(
        (xb * torch.tensor(CIFAR10_STD).view(1, 3, 1, 1) + torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)) * 255
    ).to(torch.uint8)
    for img, label in zip(raw, yb):
        assert len(_find_window(x[label], img, 4)) == 1


def test_drop_last_and_argument_errors() -> None:
    x, y = _images(10), torch.arange(10)
    g = torch.Generator().manual_seed(0)
    assert [
        len(b[1]) for b in batches(x, y, 4, shuffle=True, augment=False, generator=g, drop_last=True)
    ] == [4, 4]
    with pytest.raises(ValueError, match="explicit torch.Generator"):
        next(batches(x, y, 4, shuffle=True, augment=False))
    with pytest.raises(ValueError, match="uint8"):
        next(batches(x.float(), y, 4, shuffle=False, augment=False))
    with pytest.raises(ValueError, match="batch_size"):
        next(batches(x, y, 0, shuffle=False, augment=False))
    with pytest.raises(ValueError, match=r"y must have shape \(10,\)"):
        next(batches(x, y[:5], 4, shuffle=False, augment=False))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (the CPU path is tested everywhere)")
def test_cuda_gives_the_same_batches_as_cpu() -> None:
    x, y = _images(40), torch.arange(40)

    def run(device: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
        g = torch.Generator().manual_seed(4)
        return list(batches(x, y, 16, shuffle=True, augment=True, generator=g, device=device))

    for (xc, yc), (xg, yg) in zip(run("cpu"), run("cuda")):
        assert xg.device.type == "cuda"
        assert torch.equal(yc, yg.cpu()) and torch.allclose(xc, xg.cpu())
    # Data already on the GPU is not moved back and forth.
    xg_all = x.cuda()
    g = torch.Generator().manual_seed(4)
    on_gpu = list(batches(xg_all, y.cuda(), 16, shuffle=True, augment=True, generator=g, device="cuda"))
    assert torch.allclose(on_gpu[0][0].cpu(), run("cpu")[0][0])
