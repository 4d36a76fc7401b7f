"""Deterministic reductions of a decoded dataset: box down-sampling and class-stratified subsets.

Both are pure functions of their inputs (and a seed), so a low-cost profile is reproducible
from the cached full-resolution arrays without a cache entry of its own.
"""

from __future__ import annotations

import numpy as np


def downsample(x: np.ndarray, size: int) -> np.ndarray:
    """Box-average ``(N, C, H, W)`` uint8 images to ``size x size``; ``H`` must be a multiple.

    Each output pixel is the mean of a ``k x k`` block (``k = H // size``), rounded half up, so
    16x16 CIFAR-10 is the exact 2x2 average of the 32x32 images.
    """
    if x.ndim != 4:
        raise ValueError(f"expected images of shape (N, C, H, W), got {x.shape}")
    n, c, h, w = x.shape
    if size <= 0 or h % size or w % size or h // size != w // size:
        raise ValueError(
            f"image_size must divide the native size {h}x{w} evenly (e.g. {h} or {h // 2}), got {size}"
        )
    k = h // size
    if k == 1:
        return x
    # Summing the k*k strided sub-grids is several times faster than a reduction over a 6-d view.
    acc_type = np.uint16 if k <= 16 else np.uint32
    total = np.zeros((n, c, size, size), dtype=acc_type)
    for i in range(k):
        for j in range(k):
            total += x[:, :, i::k, j::k]
    area = k * k
    return ((total + area // 2) // area).astype(np.uint8)


def stratified_indices(labels: np.ndarray, n: int, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of a class-balanced random subset of ``n`` items.

    Every class gets ``n // num_classes`` items; the ``n % num_classes`` left over go one each
    to classes drawn with ``rng``. Within a class the items are the first ones of a random
    permutation, so for a fixed seed a smaller subset is contained in a larger one.
    """
    counts = np.bincount(labels, minlength=num_classes)
    if n < num_classes or n > labels.size:
        raise ValueError(
            f"subset size must lie between the number of classes ({num_classes}) and the split size "
            f"({labels.size}), got {n}"
        )
    per_class = np.full(num_classes, n // num_classes)
    per_class[rng.permutation(num_classes)[: n % num_classes]] += 1
    short = np.flatnonzero(per_class > counts)
    if short.size:
        raise ValueError(
            f"a balanced subset of {n} needs {per_class.max()} images per class, but classes "
            f"{short.tolist()} have only {counts[short].tolist()}"
        )
    chosen = [rng.permutation(np.flatnonzero(labels == cls))[:k] for cls, k in enumerate(per_class)]
    return np.sort(np.concatenate(chosen))


def subset_rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent generators for the train and test subsets, so one's size does not move the other."""
    train_seq, test_seq = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(train_seq), np.random.default_rng(test_seq)
