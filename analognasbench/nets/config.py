"""Size parameters of the NAS-Bench-201 macro-architecture, validated once so every builder can trust them."""

from __future__ import annotations

from dataclasses import dataclass

#: Input sizes must survive two stride-2 reductions with even sides, or the residual shortcut and the main
#: branch of a reduction block disagree in shape (AvgPool2d floors, the strided 3x3 conv rounds up).
IMAGE_SIZE_MULTIPLE = 4
#: Largest sizes accepted: far beyond any NAS-Bench-201 setting (C=16, N=5, 32x32), small enough that a network's
#: layers, tiles and costs stay countable in seconds and finite in float64 (``anb cost --N 100000`` ran for minutes).
MAX_C, MAX_N, MAX_NUM_CLASSES, MAX_IMAGE_SIZE = 1024, 64, 100_000, 1024


@dataclass(frozen=True)
class NetworkConfig:
    """Width, depth and output size of the network; the defaults are NAS-Bench-201's CIFAR-10 setting."""

    C: int = 16
    """Channels of the stem and of every cell in the first stage (doubled at each of the two reductions)."""
    N: int = 5
    """Cells per stage (three stages, so 3N cells plus two residual reduction blocks)."""
    num_classes: int = 10
    """Outputs of the linear classifier."""

    def __post_init__(self) -> None:
        _check_int("C", self.C, 1, "the stem's channel count", MAX_C)
        _check_int("N", self.N, 1, "the number of cells per stage", MAX_N)
        _check_int("num_classes", self.num_classes, 2, "the classifier's number of outputs", MAX_NUM_CLASSES)

    @property
    def stage_channels(self) -> tuple[int, int, int]:
        return (self.C, 2 * self.C, 4 * self.C)


def check_image_size(image_size: int) -> int:
    """Reject input sizes the reference network cannot run (the reductions need even sides)."""
    _check_int("image_size", image_size, IMAGE_SIZE_MULTIPLE, "the input's height and width in pixels", MAX_IMAGE_SIZE)
    if image_size % IMAGE_SIZE_MULTIPLE:
        raise ValueError(
            f"image_size must be a multiple of {IMAGE_SIZE_MULTIPLE} (two stride-2 reductions with even sides), "
            f"e.g. 32 or 16; got {image_size}"
        )
    return int(image_size)


def _check_int(name: str, value: object, minimum: int, meaning: str, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ValueError(f"{name} ({meaning}) must be an integer >= {minimum} and <= {maximum:,}; got {value!r}")
