"""A small generated image dataset that needs no files, for tests and smoke runs.

Each class has its own tint and its own oriented stripe pattern (orientation and spatial
frequency); every image adds a random phase, contrast and brightness and pixel noise. A tiny CNN
reaches far above chance on it in seconds, yet it is not solvable from a single pixel, so it
exercises convolutions, augmentation and the training loop the way real data does.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .image_data import DataProvenance, ImageData


def _split(
    n: int, size: int, num_classes: int, tints: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.permutation(np.arange(n) % num_classes).astype(np.int64)
    coords = np.arange(size, dtype=np.float64) / size
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    angle = np.pi * labels / num_classes  # one stripe orientation per class
    freq = 2.0 + (labels % 3)  # cycles per image
    phase = rng.uniform(0, 2 * np.pi, n)
    contrast = rng.uniform(0.1, 0.3, n)
    brightness = rng.uniform(-0.1, 0.1, n)
    proj = np.cos(angle)[:, None, None] * xx + np.sin(angle)[:, None, None] * yy
    stripes = np.sin(2 * np.pi * freq[:, None, None] * proj + phase[:, None, None])  # (n, H, W)
    img = 0.5 + brightness[:, None, None, None] + 0.06 * tints[labels][:, :, None, None]
    img = img + contrast[:, None, None, None] * stripes[:, None]
    img = img + rng.normal(0.0, 0.2, img.shape)
    return np.clip(np.rint(img * 255), 0, 255).astype(np.uint8), labels


def synthetic(
    n_train: int = 2000,
    n_test: int = 500,
    image_size: int = 16,
    num_classes: int = 10,
    seed: int = 0,
) -> ImageData:
    """Deterministic synthetic dataset of ``(N, 3, image_size, image_size)`` uint8 images.

    Classes are balanced (sizes differ by at most one); the same arguments always give the same
    arrays on every platform.
    """
    if n_train < num_classes or n_test < num_classes:
        raise ValueError(
            f"n_train and n_test must be >= num_classes ({num_classes}), got {n_train}, {n_test}"
        )
    if not 2 <= num_classes <= 1000:
        raise ValueError(f"num_classes must lie in 2..1000, got {num_classes}")
    if image_size < 4:
        raise ValueError(f"image_size must be >= 4, got {image_size}")
    # The class definitions (tints) depend only on seed and class count; each split's images also
    # on its own size, so changing n_test leaves the training images unchanged.
    tint_seq = np.random.SeedSequence([seed, num_classes, 0])
    train_seq = np.random.SeedSequence([seed, num_classes, 1, n_train, image_size])
    test_seq = np.random.SeedSequence([seed, num_classes, 2, n_test, image_size])
    tints = np.random.default_rng(tint_seq).uniform(-1.0, 1.0, (num_classes, 3))
    train_x, train_y = _split(n_train, image_size, num_classes, tints, np.random.default_rng(train_seq))
    test_x, test_y = _split(n_test, image_size, num_classes, tints, np.random.default_rng(test_seq))
    params = (
        f"synthetic-v1 n_train={n_train} n_test={n_test} size={image_size} classes={num_classes} seed={seed}"
    )
    provenance = DataProvenance(
        name="synthetic",
        layout="generated",
        path=None,
        checksum=hashlib.sha256(params.encode()).hexdigest(),
        image_size=image_size,
        native_size=image_size,
        n_train=n_train,
        n_test=n_test,
        n_train_full=n_train,
        n_test_full=n_test,
        seed=seed,
        note="generated stripes-and-tint patterns, not natural images",
    )
    return ImageData(
        train_x=train_x,
        train_y=train_y,
        test_x=test_x,
        test_y=test_y,
        classes=tuple(f"class_{i}" for i in range(num_classes)),
        provenance=provenance,
    )
