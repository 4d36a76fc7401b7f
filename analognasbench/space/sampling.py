"""Enumeration, seeded random sampling and single-edge mutations over the 15,625 cells."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from analognasbench.space.encodings import Architecture, ArchLike, _is_int, from_index, parse, to_indices
from analognasbench.space.isomorphism import class_table, representatives
from analognasbench.space.ops import NUM_ARCHITECTURES, NUM_OPS


def all_architectures() -> Iterator[Architecture]:
    """All 15,625 cells in index order."""
    return (from_index(i) for i in range(NUM_ARCHITECTURES))


def unique_architectures() -> list[Architecture]:
    """The 6,466 isomorphism-class representatives in index order."""
    return [from_index(i) for i in representatives()]


def mutations(arch: ArchLike) -> list[Architecture]:
    """All 24 cells that differ from ``arch`` on exactly one edge."""
    a = parse(arch)
    return [
        Architecture(a[:edge] + (op,) + a[edge + 1 :]) for edge in range(len(a)) for op in range(NUM_OPS) if op != a[edge]
    ]


def sample(n: int, seed: int, *, unique: bool = False, distinct: bool = True) -> list[Architecture]:
    """``n`` architectures drawn with a seeded generator.

    ``unique`` draws from the 6,466 class representatives instead of all cells; ``distinct`` draws without
    replacement. The same seed always gives the same list, and a shorter list is a prefix of a longer one; so
    ``seed`` is required (None, bools and non-integers are refused, as :meth:`SearchMethod.run` does).
    """
    pool = np.asarray(representatives() if unique else range(NUM_ARCHITECTURES))
    if not _is_int(n) or n < 0 or (distinct and n > len(pool)):
        raise ValueError(f"n must be an integer 0..{len(pool)} (without replacement); got {n!r}")
    if not _is_int(seed) or seed < 0:  # None would draw a different list each call, as the search layer refuses
        raise ValueError(f"seed must be a non-negative integer (the sample is reproducible by design); got {seed!r}")
    rng = np.random.default_rng(int(seed))
    picks = rng.permutation(len(pool))[:n] if distinct else rng.integers(0, len(pool), size=n)
    return [from_index(int(pool[i])) for i in picks]


def seeded_order(seed: int, *, unique: bool = True) -> list[Architecture]:
    """A fixed random order of the space (class representatives by default): every prefix is an unbiased sample."""
    return sample(len(representatives()) if unique else NUM_ARCHITECTURES, seed, unique=unique)


def dedupe_isomorphic(archs: Iterable[ArchLike]) -> list[Architecture]:
    """Map each cell of the sequence ``archs`` to its class representative and drop repeats, keeping first-seen
    order (a single architecture is refused, see :func:`to_indices`)."""
    return [from_index(i) for i in dict.fromkeys(class_table()[to_indices(archs)].tolist())]
