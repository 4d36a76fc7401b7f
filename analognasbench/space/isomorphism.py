"""Isomorphism classes of NAS-Bench-201 cells, and degenerate cells.

Two cells are the same network when they compute the same expression of the input: each node is the sum of its
incoming edges, a ``skip_connect`` edge passes its source through, a ``none`` edge (or an edge leaving a node that
is identically zero) contributes zero, and sums are order-free. The canonical string below follows NAS-Bench-201's
``to_unique_str(consider_zero=True)``, which the NAS-Bench-201 paper uses to count its 6,466 unique cells; each class is
represented by its member with the smallest project index.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from analognasbench.space.encodings import Architecture, ArchLike, from_index, parse
from analognasbench.space.ops import EDGES, NUM_ARCHITECTURES, NUM_NODES, OP_NAMES, Op

NUM_CLASSES = 6466
_ZERO = "#"
#: The representative index of every architecture, precomputed by :func:`write_class_table` and shipped with the
#: package so that a fresh process does not spend ~0.4 s recomputing it (tests check it against the computation).
CLASS_TABLE_FILE = Path(__file__).with_name("class_table.npy")


def canonical_string(arch: ArchLike) -> str:
    """A string equal for exactly the cells of one isomorphism class."""
    a = parse(arch)
    nodes = {1: "0"}
    for target in range(2, NUM_NODES + 1):
        terms = []
        for (src, dst), op in zip(EDGES, a):
            if dst != target:
                continue
            source = nodes[src]
            if op == Op.NONE or source == _ZERO:
                terms.append(_ZERO)
            elif op == Op.SKIP_CONNECT:
                terms.append(source)
            else:
                terms.append(f"({source})@{OP_NAMES[op]}")
        nodes[target] = "+".join(sorted(terms))
    return nodes[NUM_NODES]


def compute_class_table() -> np.ndarray:
    """Representative index of every architecture, computed from the canonical strings (~0.4 s)."""
    first: dict[str, int] = {}
    rep = np.empty(NUM_ARCHITECTURES, dtype=np.int32)
    for index in range(NUM_ARCHITECTURES):
        rep[index] = first.setdefault(canonical_string(from_index(index)), index)
    return rep


def write_class_table(path: Path = CLASS_TABLE_FILE) -> Path:
    """Regenerate the shipped table (only needed if the isomorphism rule ever changes)."""
    np.save(path, compute_class_table().astype(np.int16))
    return path


@lru_cache(maxsize=1)
def _class_table() -> tuple[np.ndarray, tuple[int, ...]]:
    """Representative index of every architecture, and the sorted representatives (built once per process)."""
    rep = None
    try:
        shipped = np.load(CLASS_TABLE_FILE, allow_pickle=False)
        if shipped.shape == (NUM_ARCHITECTURES,):
            rep = shipped.astype(np.int32)
    except (OSError, ValueError):
        pass
    if rep is None:
        rep = compute_class_table()
    rep.setflags(write=False)
    return rep, tuple(np.flatnonzero(rep == np.arange(NUM_ARCHITECTURES)).tolist())


def class_table() -> np.ndarray:
    """Read-only array: the representative index of every architecture index (0..15624)."""
    return _class_table()[0]


def canonical_index(arch: ArchLike) -> int:
    """Index of the representative (smallest index) of ``arch``'s isomorphism class."""
    return int(_class_table()[0][parse(arch).index])


def canonical(arch: ArchLike) -> Architecture:
    """The representative architecture of ``arch``'s isomorphism class."""
    return from_index(canonical_index(arch))


def is_isomorphic(a: ArchLike, b: ArchLike) -> bool:
    """True when ``a`` and ``b`` are the same network (same class), whatever encodings they are given in."""
    return canonical_index(a) == canonical_index(b)


def representatives() -> tuple[int, ...]:
    """Indices of the 6,466 class representatives, ascending."""
    return _class_table()[1]


def class_sizes() -> dict[int, int]:
    """Number of architectures in each class, keyed by representative index."""
    values, counts = np.unique(_class_table()[0], return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts)}


def is_degenerate(arch: ArchLike) -> bool:
    """True when no path of non-``none`` edges joins the cell input (node 1) to its output (node 4)."""
    a = parse(arch)
    reached = {1}
    for (src, dst), op in zip(EDGES, a):  # EDGES are in topological order of their sources
        if src in reached and op != Op.NONE:
            reached.add(dst)
    return NUM_NODES not in reached
