"""Further JPEG generations of the images (issue 23: what the JPEG source costs the digital accuracy)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from analognasbench.datasets import synthetic
from analognasbench.datasets.recompress import QUALITY, generation_psnr, psnr, recompress_images, recompressed


def _encode(img: np.ndarray) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=QUALITY, subsampling=2)
    return np.asarray(Image.open(buf).convert("RGB"))


def _once_encoded(n: int = 24) -> np.ndarray:
    """Smooth, slightly tinted 32x32 images (a 16x16 random luminance field, bicubic) sent once through JPEG at
    the shipped setting on the unmoved grid: like the shipped CIFAR-10 files, whose next moved generation loses
    about 32 dB."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        field = rng.uniform(40, 215, (16, 16))[..., None] + rng.uniform(-20, 20, 3)
        img = Image.fromarray(np.clip(field, 0, 255).astype(np.uint8)).resize((32, 32), Image.BICUBIC)
        out.append(_encode(np.asarray(img)))
    return np.stack(out).transpose(0, 3, 1, 2).copy()


def test_each_moved_generation_loses_signal_where_the_same_grid_would_not():
    once = _once_encoded()
    unmoved = psnr(once, np.stack([_encode(img) for img in once.transpose(0, 2, 3, 1)]).transpose(0, 3, 1, 2))
    twice = recompress_images(once, 1)
    thrice = recompress_images(once, 2)
    assert twice.shape == once.shape and twice.dtype == np.uint8
    moved, next_moved = psnr(once, twice), psnr(twice, thrice)
    assert generation_psnr(once, 2) == [moved, next_moved]
    # The unmoved grid re-quantises what is already quantised; the moved one loses about a generation's worth,
    # and the next moved generation about as much again.
    assert unmoved > moved + 10 and 28 < moved < 38
    assert abs(next_moved - moved) < 2
    assert psnr(once, thrice) < moved
    np.testing.assert_array_equal(recompress_images(once, 0), once)
    np.testing.assert_array_equal(thrice, recompress_images(once, 2))  # deterministic


def test_recompressed_data_keeps_labels_and_says_what_was_done():
    data = synthetic(40, 20, 16, 10, seed=0)
    again = recompressed(data, 2)
    assert again.train_x.shape == data.train_x.shape and again.test_x.shape == data.test_x.shape
    assert not np.array_equal(again.train_x, data.train_x) and not np.array_equal(again.test_x, data.test_x)
    np.testing.assert_array_equal(again.train_y, data.train_y)
    assert data.provenance.note in again.provenance.note
    assert "2 more JPEG generation(s) at quality 75, 4:2:0" in again.provenance.note
    assert recompressed(data, 0) is data


def test_bad_input_says_what_was_expected():
    once = _once_encoded(2)
    with pytest.raises(ValueError, match="generations must be 0..4"):
        recompress_images(once, 5)
    with pytest.raises(ValueError, match="generations must be"):
        recompress_images(once, -1)
    with pytest.raises(ValueError, match="uint8 array of shape"):
        recompress_images(once.astype(np.float32), 1)
    with pytest.raises(ValueError, match="quality must be 1..95"):
        recompress_images(once, 1, quality=0)
