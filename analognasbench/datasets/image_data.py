"""The in-memory image dataset every training run consumes, and the provenance it carries.

Images are kept as uint8 ``(N, 3, H, W)`` arrays: four times smaller than float32, cheap to move
to an accelerator, and converted to normalised floats only batch by batch (see ``augment``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


@dataclass(frozen=True)
class DataProvenance:
    """Where a dataset came from and how it was reduced; stored with every result as metadata.

    Attributes:
        name: dataset name, e.g. ``"cifar10"`` or ``"synthetic"``.
        layout: source layout (a :class:`~analognasbench.datasets.layouts.SourceLayout` value) or
            ``"generated"``.
        path: the source file or directory (``None`` for generated data).
        checksum: sha256 hex digest of the source (tarball contents, or the directory's sorted
            names and sizes), or of the generator's parameters for synthetic data.
        image_size: side length in pixels of the stored images.
        native_size: side length of the images in the source before any down-sampling.
        n_train / n_test: number of images in each split after sub-setting.
        n_train_full / n_test_full: number of images in each split of the source.
        seed: seed of the class-stratified sub-setting (or of the generator).
        note: caveats a reader of results must know (e.g. lossy JPEG re-encoding).
    """

    name: str
    layout: str
    path: str | None
    checksum: str
    image_size: int
    native_size: int
    n_train: int
    n_test: int
    n_train_full: int
    n_test_full: int
    seed: int
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable form for result metadata."""
        return asdict(self)

    def describe(self) -> str:
        """One line for logs and reports."""
        parts = [
            f"{self.name} ({self.layout}"
            + (f" {self.path}" if self.path else "")
            + f", sha256 {self.checksum[:12]})",
            f"{self.image_size}x{self.image_size}"
            + (
                f" (down-sampled from {self.native_size}x{self.native_size})"
                if self.image_size != self.native_size
                else ""
            ),
            f"train {self.n_train}/{self.n_train_full}",
            f"test {self.n_test}/{self.n_test_full}",
        ]
        if self.n_train != self.n_train_full or self.n_test != self.n_test_full:
            parts.append(f"class-stratified subset seed {self.seed}")
        if self.note:
            parts.append(self.note)
        return ", ".join(parts)


@dataclass(frozen=True, eq=False)
class ImageData:
    """Train and test images with labels, class names and provenance.

    ``eq=False`` because element-wise array comparison has no single truth value; compare
    ``provenance`` (or the arrays explicitly) instead.
    """

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    classes: tuple[str, ...]
    provenance: DataProvenance

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            x: np.ndarray = getattr(self, f"{split}_x")
            y: np.ndarray = getattr(self, f"{split}_y")
            if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1] != 3:
                raise ValueError(
                    f"{split}_x must be a uint8 array of shape (N, 3, H, W); got {x.dtype} {x.shape}"
                )
            if y.dtype != np.int64 or y.shape != (x.shape[0],):
                raise ValueError(
                    f"{split}_y must be an int64 array of shape ({x.shape[0]},); got {y.dtype} {y.shape}"
                )
            if y.size and (y.min() < 0 or y.max() >= len(self.classes)):
                raise ValueError(
                    f"{split}_y holds labels outside 0..{len(self.classes) - 1} "
                    f"(there are {len(self.classes)} classes)"
                )
        if self.train_x.shape[1:] != self.test_x.shape[1:]:
            raise ValueError(
                f"train and test images differ in shape: {self.train_x.shape[1:]} vs {self.test_x.shape[1:]}"
            )

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(channels, height, width)``."""
        c, h, w = self.train_x.shape[1:]
        return (c, h, w)

    @property
    def checksum(self) -> str:
        """sha256 of the source, for result metadata."""
        return self.provenance.checksum

    @property
    def description(self) -> str:
        """Human-readable source, subset and resolution, for result metadata."""
        return self.provenance.describe()

    def class_counts(self, split: str = "train") -> np.ndarray:
        """Number of images per class in ``split`` (``"train"`` or ``"test"``)."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        return np.bincount(getattr(self, f"{split}_y"), minlength=self.num_classes)
