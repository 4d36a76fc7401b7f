"""Per-architecture features used by several analyses: the 6-tuple as an array, op counts, and the op sequences
along live input->output paths ("path patterns", written as in the paper: ``(2,0)`` is a 3x3 convolution followed
by a skip connection, ``(2,2,4)`` two 3x3 convolutions then average pooling)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from analognasbench.space import NUM_EDGES, OP_NAMES, Op, from_index, parse, path_op_sequences, to_indices

#: Ops that carry data (``none`` is the absence of an edge).
REAL_OPS: tuple[int, ...] = (Op.SKIP_CONNECT, Op.NOR_CONV_3X3, Op.NOR_CONV_1X1, Op.AVG_POOL_3X3)
_DIGITS = re.compile(r"\d+")

Pattern = tuple[int, ...]


def count_column(op: int) -> str:
    """Column name of an op's count, e.g. ``count_nor_conv_1x1``."""
    return f"count_{OP_NAMES[op]}"


@lru_cache(maxsize=32768)
def _parse_cached(value: str) -> tuple[int, ...]:
    """One ``arch`` text as a tuple, read by :func:`parse` (so every encoding it takes); cached because every
    analysis re-reads the same 15,625 strings of a dataset."""
    return tuple(parse(value))


def arch_tuples(df_or_archs: pd.DataFrame | Iterable) -> list[tuple[int, ...]]:
    """The architectures of a dataset (its ``arch`` column, or such a Series: text in any encoding, or tuples) or of
    a sequence of architectures in any encodings, as tuples. One architecture alone is refused, not read as six
    (see :func:`analognasbench.space.to_indices`)."""
    if isinstance(df_or_archs, (pd.DataFrame, pd.Series)):
        values = df_or_archs["arch"] if isinstance(df_or_archs, pd.DataFrame) else df_or_archs
        return [_parse_cached(v) if isinstance(v, str) else tuple(parse(v)) for v in values]
    return [tuple(from_index(i)) for i in to_indices(df_or_archs).tolist()]


def arch_matrix(df_or_archs: pd.DataFrame | Iterable) -> np.ndarray:
    """(n, 6) integer matrix of op indices."""
    archs = arch_tuples(df_or_archs)
    return np.asarray(archs, dtype=np.int8).reshape(len(archs), NUM_EDGES)


def op_counts(df_or_archs: pd.DataFrame | Iterable) -> pd.DataFrame:
    """Number of edges carrying each op (columns ``count_<op>``, all five ops), aligned with the input rows."""
    a = arch_matrix(df_or_archs)
    index = df_or_archs.index if isinstance(df_or_archs, pd.DataFrame) else None
    return pd.DataFrame({count_column(op): (a == op).sum(axis=1) for op in Op}, index=index)


@lru_cache(maxsize=32768)
def _patterns(arch: tuple[int, ...]) -> frozenset[Pattern]:
    return frozenset(path_op_sequences(arch))


def path_patterns(df_or_archs: pd.DataFrame | Iterable) -> list[frozenset[Pattern]]:
    """For each architecture, the set of op sequences along its live input->output paths (lengths 1-3)."""
    return [_patterns(a) for a in arch_tuples(df_or_archs)]


def pattern_label(pattern: Sequence[int]) -> str:
    """The paper's notation: ``(2,0)``; a single op is written ``(2)``."""
    return "(" + ",".join(str(int(o)) for o in pattern) + ")"


def pattern_names(pattern: Sequence[int]) -> str:
    """Human-readable op names along a pattern, e.g. ``nor_conv_3x3 -> skip_connect``."""
    return " -> ".join(OP_NAMES[o] for o in pattern)


def pattern_presence(df_or_archs: pd.DataFrame | Iterable, *, min_count: int = 1) -> pd.DataFrame:
    """Boolean matrix: one column per path pattern (paper notation) occurring in >= ``min_count`` architectures."""
    sets = path_patterns(df_or_archs)
    index = df_or_archs.index if isinstance(df_or_archs, pd.DataFrame) else None
    counts: dict[Pattern, int] = {}
    for s in sets:
        for p in s:
            counts[p] = counts.get(p, 0) + 1
    kept = sorted((p for p, c in counts.items() if c >= min_count), key=lambda p: (len(p), p))
    data = {pattern_label(p): np.fromiter((p in s for s in sets), dtype=bool, count=len(sets)) for p in kept}
    return pd.DataFrame(data, index=index)


def parse_pattern(label: str) -> Pattern:
    """Inverse of :func:`pattern_label`."""
    digits = _DIGITS.findall(label)
    if not digits or any(int(d) >= len(OP_NAMES) for d in digits):
        raise ValueError(f"expected a path pattern like '(2,0)' with op indices 0..{len(OP_NAMES) - 1}; got {label!r}")
    return tuple(int(d) for d in digits)
