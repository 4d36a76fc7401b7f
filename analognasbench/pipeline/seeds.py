"""Derived seeds: every random draw of a measurement comes from ``(seed, purpose, index)``.

One home for the purposes, so the measurement, its partial readings (:mod:`.partial`) and the drop ablation
(:mod:`.ablation`) draw the same streams: a network trained by the ablation or read early from a checkpoint is the
one the measurement trains.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import torch


class SeedPurpose(IntEnum):
    """The second entry of the seed sequence. Never renumber: it would change every measured value."""

    INIT = 0
    TRAIN = 1
    CALIB = 2
    QAT = 3
    HWT = 4
    NOISY = 5
    ANALOG = 6
    TTA = 7
    NOISY_UNPROGRAMMED = 8
    ANALOG_UNPROGRAMMED = 9


def derived_seed(seed: int, purpose: int, index: int = 0) -> int:
    """A 63-bit seed for one purpose of one measurement, independent of the others."""
    return int(np.random.SeedSequence([int(seed), int(purpose), int(index)]).generate_state(2, np.uint32)
               .astype(np.uint64).dot(np.array([1 << 31, 1], dtype=np.uint64)) & np.uint64((1 << 63) - 1))


def generator(seed: int, purpose: int, index: int = 0) -> torch.Generator:
    """A CPU generator seeded for one purpose of one measurement."""
    return torch.Generator().manual_seed(derived_seed(seed, purpose, index))
