"""The loaders on the shared CIFAR-10 copy (../shared/data/cifar10-jpeg.tar.gz).

The first run decodes the 60,000 JPEGs once into the user cache (``$ANB_CACHE_DIR`` or
``~/.cache/analognasbench``); later runs load the cached arrays in well under a second.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from analognasbench.datasets import (
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    ImageData,
    default_cifar10_path,
    downsample,
    load_cifar10,
)

SHARED = Path(os.environ.get("ANB_SHARED", Path(__file__).resolve().parents[1] / ".." / "shared"))
TARBALL = SHARED / "data" / "cifar10-jpeg.tar.gz"

pytestmark = [
    pytest.mark.data,
    pytest.mark.skipif(not TARBALL.is_file(), reason=f"shared CIFAR-10 copy not found at {TARBALL}"),
]


@pytest.fixture(scope="session")
def cifar10() -> ImageData:
    return load_cifar10(TARBALL)


def test_full_splits_have_50000_and_10000_images_in_10_balanced_classes(cifar10: ImageData) -> None:
    assert cifar10.train_x.shape == (50_000, 3, 32, 32) and cifar10.train_x.dtype == np.uint8
    assert cifar10.test_x.shape == (10_000, 3, 32, 32)
    assert cifar10.classes == CIFAR10_CLASSES
    assert (cifar10.class_counts("train") == 5_000).all()
    assert (cifar10.class_counts("test") == 1_000).all()


def test_provenance_records_the_published_checksum_and_jpeg_caveat(cifar10: ImageData) -> None:
    sums = (SHARED / "data" / "SHA256SUMS").read_text().split()
    assert cifar10.checksum == sums[sums.index("cifar10-jpeg.tar.gz") - 1]
    assert cifar10.provenance.layout == "image-folder-tar"
    assert "JPEG" in cifar10.description


def test_pixels_are_rgb_in_channel_first_order(cifar10: ImageData) -> None:
    # The published per-channel training means (R > G > B) pin down decoding and channel order.
    means = cifar10.train_x.mean(axis=(0, 2, 3)) / 255
    np.testing.assert_allclose(means, CIFAR10_MEAN, atol=2 / 255)


def test_subset_and_16x16_profile_are_balanced_reproducible_and_derived_from_the_full_set(
    cifar10: ImageData,
) -> None:
    a = load_cifar10(TARBALL, image_size=16, train_subset=5_000, test_subset=1_000, seed=3)
    b = load_cifar10(TARBALL, image_size=16, train_subset=5_000, test_subset=1_000, seed=3)
    c = load_cifar10(TARBALL, image_size=16, train_subset=5_000, test_subset=1_000, seed=4)
    assert a.train_x.shape == (5_000, 3, 16, 16) and a.test_x.shape == (1_000, 3, 16, 16)
    assert (a.class_counts("train") == 500).all() and (a.class_counts("test") == 100).all()
    np.testing.assert_array_equal(a.train_x, b.train_x)
    np.testing.assert_array_equal(a.test_y, b.test_y)
    assert not np.array_equal(a.train_x, c.train_x)
    assert a.provenance.n_train == 5_000 and a.provenance.n_train_full == 50_000
    # Every subset image is the 2x2 average of some full-resolution training image of its class.
    full_small = downsample(cifar10.train_x[:5_000], 16)
    first_class = a.train_x[a.train_y == 0]
    full_keys = {img.tobytes() for img in full_small}
    assert sum(img.tobytes() in full_keys for img in first_class) == len(first_class)


def test_the_shared_copy_is_the_default_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANB_CIFAR10", raising=False)
    found = default_cifar10_path()
    assert found is not None and found.resolve() == TARBALL.resolve()
