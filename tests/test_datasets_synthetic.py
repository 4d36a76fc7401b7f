"""The synthetic dataset: deterministic, balanced, well-formed, and learnable by a tiny CNN."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from torch import nn

from analognasbench.datasets import ImageData, batches, synthetic

torch.set_num_threads(1)


@pytest.mark.parametrize("size", [16, 32])
def test_shapes_types_and_balance(size: int) -> None:
    data = synthetic(n_train=205, n_test=50, image_size=size, num_classes=10, seed=0)
    assert isinstance(data, ImageData)
    assert data.train_x.shape == (205, 3, size, size) and data.train_x.dtype == np.uint8
    assert data.test_x.shape == (50, 3, size, size) and data.test_y.dtype == np.int64
    counts = data.class_counts("train")
    assert counts.sum() == 205 and counts.max() - counts.min() <= 1
    assert (data.class_counts("test") == 5).all()
    assert data.num_classes == 10 and len(data.classes) == 10
    assert data.provenance.name == "synthetic" and data.provenance.image_size == size
    assert data.train_x.std() > 0 and data.train_x.min() < 60 and data.train_x.max() > 190


def test_same_arguments_same_arrays_other_seed_other_arrays() -> None:
    a, b, c = synthetic(100, 20, seed=3), synthetic(100, 20, seed=3), synthetic(100, 20, seed=4)
    for name in ("train_x", "train_y", "test_x", "test_y"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.checksum == b.checksum != c.checksum
    assert not np.array_equal(a.train_x, c.train_x)
    # The test split does not depend on the training-set size.
    np.testing.assert_array_equal(synthetic(300, 20, seed=3).test_x, a.test_x)


def test_bad_arguments_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="n_train and n_test must be >= num_classes"):
        synthetic(n_train=5, n_test=50)
    with pytest.raises(ValueError, match="num_classes"):
        synthetic(num_classes=1)
    with pytest.raises(ValueError, match="image_size"):
        synthetic(image_size=2)


def test_a_tiny_cnn_learns_it_well_above_chance_in_seconds() -> None:
    data = synthetic(n_train=2000, n_test=500, image_size=16, seed=0)
    torch.manual_seed(0)  # only for nn.Module initialisation below
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for _ in range(4):
        model.train()
        for x, y in batches(data.train_x, data.train_y, 64, shuffle=True, augment=True, generator=gen):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    elapsed = time.perf_counter() - start
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in batches(data.test_x, data.test_y, 250, shuffle=False, augment=False):
            correct += int((model(x).argmax(1) == y).sum())
    accuracy = correct / len(data.test_y)
    assert accuracy > 0.6, f"test accuracy {accuracy:.2f} after {elapsed:.1f} s (chance is 0.10)"
