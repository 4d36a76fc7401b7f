"""Columns that follow from the architecture alone: parameter count and FLOPs, computed when a dataset lacks them.

A dataset without ``params`` (the original release publishes none) must not answer ``params < 500000`` with "no
architecture" as if the data said so. Parameter and multiply-accumulate counts are not measurements: they are
exact functions of the cell and the network skeleton, computed here by :mod:`analognasbench.nets` exactly as the
pipeline computes them for its rows (``count_parameters`` / ``count_flops``), so filling them in is honest -- as long
as the skeleton is known. It comes from the dataset's profile (``C``, ``N``, ``num_classes``, ``image_size``); the
original release used NAS-Bench-201's (C = 16, N = 5, CIFAR-10, 32 px: the paper's Table 1 lists 802 K parameters
for cells with three 3x3 convolutions, which is this skeleton's count).

Both counts depend only on how many 3x3 and 1x1 convolutions the cell holds (the other ops have no weights, and
every edge is evaluated), so they are computed once per (count, skeleton) and cached: all 15,625 cells take well
under a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from analognasbench.space import Op
from analognasbench.space.ops import NUM_ARCHITECTURES, NUM_EDGES, NUM_OPS

#: Columns this module can compute.
DERIVABLE = ("params", "flops")


@dataclass(frozen=True)
class NetworkSpec:
    """The network skeleton a dataset's cells were measured in."""

    C: int  # channels of the first stage
    N: int  # cells per stage
    num_classes: int
    image_size: int  # pixels (square input)

    def cost_kwargs(self) -> dict[str, int]:
        """The keyword arguments of :func:`analognasbench.hardware.cost_table` for this network."""
        return {"C": self.C, "N": self.N, "num_classes": self.num_classes, "input_size": self.image_size}


#: NAS-Bench-201's skeleton on CIFAR-10, the original release's.
NB201_CIFAR10 = NetworkSpec(C=16, N=5, num_classes=10, image_size=32)


def network_of(meta: Any) -> NetworkSpec | None:
    """The skeleton recorded in a dataset's metadata (its profile), NAS-Bench-201's for the original release, or None
    when the metadata does not say."""
    profile = getattr(meta, "profile", None)
    if isinstance(profile, Mapping):
        values = [profile.get(k) for k in ("C", "N", "num_classes", "image_size")]
        if all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
            return NetworkSpec(*values)
    if getattr(meta, "source", "") == "original-release":
        return NB201_CIFAR10
    return None


@lru_cache(maxsize=512)
def _counts(n3: int, n1: int, network: NetworkSpec) -> tuple[int, int]:
    from analognasbench.nets import count_flops, count_parameters

    cell = (int(Op.NOR_CONV_3X3),) * n3 + (int(Op.NOR_CONV_1X1),) * n1 + (int(Op.SKIP_CONNECT),) * (6 - n3 - n1)
    params = count_parameters(cell, C=network.C, N=network.N, num_classes=network.num_classes)
    flops = count_flops(cell, network.C, network.N, network.num_classes, network.image_size)
    return params, flops


def derived_column(column: str, arch_indices: Any, network: NetworkSpec) -> np.ndarray:
    """``params`` or ``flops`` of each architecture index, as floats (the dtype of the dataset's columns)."""
    if column not in DERIVABLE:
        raise ValueError(f"{column!r} cannot be computed from the architecture; computable: {', '.join(DERIVABLE)}")
    which = DERIVABLE.index(column)
    indices = np.asarray(arch_indices, dtype=np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= NUM_ARCHITECTURES):
        raise ValueError(f"architecture indices must be 0..{NUM_ARCHITECTURES - 1}")
    digits = (indices[:, None] // NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1)) % NUM_OPS
    n3 = (digits == int(Op.NOR_CONV_3X3)).sum(axis=1)
    n1 = (digits == int(Op.NOR_CONV_1X1)).sum(axis=1)
    out = np.empty(indices.size, dtype=float)
    for a, b in set(zip(n3.tolist(), n1.tolist())):
        out[(n3 == a) & (n1 == b)] = _counts(a, b, network)[which]
    return out
