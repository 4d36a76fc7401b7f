"""Down-sampling and class-stratified subsets: exact values, balance, determinism, nesting."""

from __future__ import annotations

import numpy as np
import pytest

from analognasbench.datasets import downsample, stratified_indices
from analognasbench.datasets.preprocess import subset_rngs


def test_downsample_16_is_rounded_2x2_block_mean_on_a_known_array() -> None:
    x = np.zeros((1, 3, 4, 4), np.uint8)
    x[0, 0] = [[0, 1, 10, 10], [1, 1, 10, 11], [255, 255, 3, 4], [255, 254, 5, 6]]
    x[0, 1] = 7
    x[0, 2, :2, :2] = [[0, 0], [0, 2]]  # mean 0.5 rounds half up to 1
    out = downsample(x, 2)
    assert out.dtype == np.uint8 and out.shape == (1, 3, 2, 2)
    np.testing.assert_array_equal(out[0, 0], [[1, 10], [255, 5]])  # 0.75->1, 10.25->10, 254.75->255, 4.5->5
    np.testing.assert_array_equal(out[0, 1], 7)
    assert out[0, 2, 0, 0] == 1


def test_downsample_matches_float_block_average_on_random_images() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (5, 3, 32, 32), dtype=np.uint8)
    out = downsample(x, 16)
    ref = x.astype(float).reshape(5, 3, 16, 2, 16, 2).mean(axis=(3, 5))
    assert np.abs(out - ref).max() <= 0.5
    assert downsample(x, 32) is x


@pytest.mark.parametrize("size", [0, 12, 64])
def test_downsample_rejects_sizes_that_do_not_divide(size: int) -> None:
    with pytest.raises(ValueError, match="image_size must divide"):
        downsample(np.zeros((1, 3, 32, 32), np.uint8), size)


def _labels() -> np.ndarray:
    return np.random.default_rng(3).permutation(np.repeat(np.arange(10), 50))


@pytest.mark.parametrize("n", [10, 100, 123, 500])
def test_stratified_subset_is_balanced(n: int) -> None:
    labels = _labels()
    idx = stratified_indices(labels, n, 10, np.random.default_rng(0))
    counts = np.bincount(labels[idx], minlength=10)
    assert idx.size == n == counts.sum() and np.unique(idx).size == n
    assert counts.max() - counts.min() <= (0 if n % 10 == 0 else 1)


def test_stratified_subset_is_seed_deterministic_and_nested() -> None:
    labels = _labels()
    a = stratified_indices(labels, 100, 10, subset_rngs(5)[0])
    b = stratified_indices(labels, 100, 10, subset_rngs(5)[0])
    c = stratified_indices(labels, 100, 10, subset_rngs(6)[0])
    big = stratified_indices(labels, 200, 10, subset_rngs(5)[0])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert set(a.tolist()) <= set(big.tolist())


def test_train_and_test_subset_generators_differ() -> None:
    train_rng, test_rng = subset_rngs(0)
    assert train_rng.integers(0, 2**62) != test_rng.integers(0, 2**62)


@pytest.mark.parametrize("n", [5, 501])
def test_stratified_subset_rejects_impossible_sizes(n: int) -> None:
    with pytest.raises(ValueError, match="subset size must lie between"):
        stratified_indices(_labels(), n, 10, np.random.default_rng(0))


def test_stratified_subset_rejects_classes_too_small_for_balance() -> None:
    labels = np.array([0] * 10 + [1] * 2)
    with pytest.raises(ValueError, match=r"classes \[1\] have only \[2\]"):
        stratified_indices(labels, 8, 2, np.random.default_rng(0))
