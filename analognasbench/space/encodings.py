"""Every encoding of a NAS-Bench-201 cell, and lossless conversion between them.

Encodings (all interconvertible for every one of the 15,625 cells):

* **6-tuple** of op indices over the edges (1->2), (1->3), (1->4), (2->3), (2->4), (3->4); nodes 1..4, node 1 the
  cell input, node 4 its output. Ops: 0 skip_connect, 1 none, 2 nor_conv_3x3, 3 nor_conv_1x1, 4 avg_pool_3x3. This is
  the order of the original AnalogNAS-Bench release and of NASLib.
* **NAS-Bench-201 string**, e.g. ``|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|``:
  node by node, each incoming edge as ``op~source`` with 0-based nodes, so its edge order is (1->2), (1->3), (2->3),
  (1->4), (2->4), (3->4) -- not the tuple's.
* **index** 0..15624: this project's own, the tuple read as a base-5 number, first edge most significant. It is *not*
  the index of the NAS-Bench-201 / NATS-Bench API.
* **op matrix**: 4x4 integers, ``M[i, j]`` the op on edge node i+1 -> node j+1 for i < j, -1 elsewhere.
* **short form** for command lines: the six op digits, e.g. ``201210``.

:func:`parse` accepts any of these (and the tuple written as text, and the op matrix as nested lists) and returns an
:class:`Architecture`. Every entry point (``AnalogNASBench.query``/``query_metric``, ``anb query``/``space``, the
architecture files of ``anb generate``) goes through it, so they all accept exactly the same inputs.
:data:`ArchLike` is the type of what it accepts, taken by every single-architecture helper of
:mod:`analognasbench.space`. :func:`to_indices` is the one reader of a *sequence* of architectures: it refuses a
single architecture given where a sequence is expected.

**Digit strings: one rule.** A string of ASCII digits only (no sign, no separator) is read as

* the **short form** if and only if it has exactly 6 characters, all op digits 0..4 (``"000010"`` is the cell
  (0, 0, 0, 0, 1, 0));
* a decimal **index** if it has fewer characters and no leading zero (``"10"``; ``"0"`` itself is index 0);
* anything else (``"00010"``, ``"012345"``, seven digits) is refused, naming both forms: one character must never
  change which architecture is answered. ``"index:10"`` writes an index explicitly (leading zeros allowed there).

No index has 6 digits (the largest is 15624), so the two forms never compete for the same string.

The lossy, fixed-length feature vectors of a cell for predictors (30 one-hot, 84 path features, taken on the class
representative) are :mod:`analognasbench.space.features`: they build on isomorphism and paths, which import this
module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import numpy as np

from analognasbench.space.ops import EDGES, NUM_ARCHITECTURES, NUM_EDGES, NUM_NODES, NUM_OPS, OP_NAMES, Op

#: Tuple position of each edge in NAS-Bench-201 string order.
_STR_ORDER: tuple[int, ...] = (0, 1, 3, 2, 4, 5)
_EXPECTED = (
    f"a 6-tuple of op indices 0..{NUM_OPS - 1}, an index 0..{NUM_ARCHITECTURES - 1}, a NAS-Bench-201 string "
    "like '|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|', "
    "or a 6-digit short form like '201210'"
)
_DIGIT_RULE = (
    "a digit string is either the 6-digit short form (exactly 6 op digits 0..4, e.g. '000010') or a decimal index "
    f"0..{NUM_ARCHITECTURES - 1} without leading zeros (e.g. '10'); write 'index:10' to give an index explicitly"
)
_INDEX_PREFIX = "index:"


class Architecture(tuple):
    """A validated NAS-Bench-201 cell: an immutable, hashable 6-tuple of op indices.

    It *is* a tuple, so it equals and hashes like the plain tuple that scripts of the original release use as keys.
    """

    __slots__ = ()

    def __new__(cls, ops: Iterable[int]) -> Architecture:
        if isinstance(ops, Architecture):
            return ops
        if isinstance(ops, (str, bytes)) or not isinstance(ops, Iterable):  # the constructor takes op indices only
            raise ValueError(f"Architecture() takes {NUM_EDGES} op indices 0..{NUM_OPS - 1} (e.g. a tuple); "
                             f"got {ops!r}; read any other encoding with space.parse")
        values = tuple(ops)
        if len(values) != NUM_EDGES:
            raise ValueError(f"an architecture has {NUM_EDGES} edges, got {len(values)} ops in {values!r}")
        if not all(type(v) is int and 0 <= v < NUM_OPS for v in values):  # fast path: plain ints (bool is no int)
            for v in values:
                if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= int(v) < NUM_OPS:
                    raise ValueError(f"op indices must be integers 0..{NUM_OPS - 1} ({', '.join(OP_NAMES)}); "
                                     f"got {values!r}")
            values = tuple(int(v) for v in values)
        return super().__new__(cls, values)

    def __repr__(self) -> str:
        return f"Architecture({tuple(self)!r})"

    def __str__(self) -> str:
        return str(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Architecture, (tuple(self),))

    @property
    def ops(self) -> tuple[Op, ...]:
        return tuple(Op(v) for v in self)

    @property
    def index(self) -> int:
        return to_index(self)

    @property
    def nb201_str(self) -> str:
        return to_nb201_str(self)

    @property
    def short(self) -> str:
        return to_short(self)

    def op_matrix(self) -> np.ndarray:
        return to_op_matrix(self)


#: Anything :func:`parse` accepts (the type of every single-architecture argument in :mod:`analognasbench.space`):
#: an :class:`Architecture` or 6 op indices, an index (int, numpy integer or 0-d integer array), a NAS-Bench-201
#: string, the short form, the tuple as text, or a 4x4 op matrix (array or nested lists).
ArchLike: TypeAlias = Architecture | Iterable[int] | int | np.integer | str | np.ndarray | Sequence[Sequence[int]]


def to_index(arch: ArchLike) -> int:
    """The project's index: the tuple as a base-5 number, first edge most significant."""
    index = 0
    for v in parse(arch):
        index = index * NUM_OPS + v
    return index


def _is_int(value: object) -> bool:
    """An integer index, count or seed: Python or numpy integers, never a bool (``True`` is no index)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def from_index(index: int) -> Architecture:
    if not _is_int(index) or not 0 <= int(index) < NUM_ARCHITECTURES:
        raise ValueError(f"architecture index must be an integer 0..{NUM_ARCHITECTURES - 1}; got {index!r}")
    index = int(index)
    digits = []
    for _ in range(NUM_EDGES):
        index, d = divmod(index, NUM_OPS)
        digits.append(d)
    return Architecture(reversed(digits))


def to_nb201_str(arch: ArchLike) -> str:
    a = parse(arch)
    nodes = []
    for target in range(2, NUM_NODES + 1):
        edges = [f"{OP_NAMES[a[i]]}~{EDGES[i][0] - 1}" for i in _STR_ORDER if EDGES[i][1] == target]
        nodes.append("|" + "|".join(edges) + "|")
    return "+".join(nodes)


_NODE_RE = re.compile(r"^\|(?:[a-z0-9_]+~\d+\|)+$")


def from_nb201_str(text: str) -> Architecture:
    if not isinstance(text, str):
        raise ValueError(f"expected a NAS-Bench-201 string, got {text!r}")
    parts = text.strip().split("+")
    if len(parts) != NUM_NODES - 1 or not all(_NODE_RE.match(p) for p in parts):
        raise ValueError(f"malformed NAS-Bench-201 string {text!r}; expected e.g. {to_nb201_str((2, 1, 0, 2, 1, 0))!r}")
    ops: dict[tuple[int, int], int] = {}
    for target, part in enumerate(parts, start=2):
        entries = part.strip("|").split("|")
        if len(entries) != target - 1:
            raise ValueError(f"node {target - 1} of {text!r} must have {target - 1} inputs, found {len(entries)}")
        for entry in entries:
            name, source = entry.split("~")
            src = int(source) + 1
            if not 1 <= src < target or (src, target) in ops:
                raise ValueError(f"bad or repeated input '~{source}' for node {target - 1} in {text!r}")
            ops[(src, target)] = int(Op.from_name(name))
    return Architecture(ops[edge] for edge in EDGES)


def to_short(arch: ArchLike) -> str:
    return "".join(str(v) for v in parse(arch))


def from_short(text: str) -> Architecture:
    if not (isinstance(text, str) and len(text) == NUM_EDGES and all(c in "01234" for c in text)):
        raise ValueError(f"short form must be {NUM_EDGES} digits 0..{NUM_OPS - 1}, e.g. '201210'; got {text!r}")
    return Architecture(int(c) for c in text)


def to_op_matrix(arch: ArchLike) -> np.ndarray:
    """4x4 int8 matrix: ``M[i, j]`` is the op on edge node i+1 -> node j+1 (i < j), -1 where there is no edge."""
    matrix = np.full((NUM_NODES, NUM_NODES), -1, dtype=np.int8)
    for (src, dst), op in zip(EDGES, parse(arch)):
        matrix[src - 1, dst - 1] = op
    return matrix


def from_op_matrix(matrix: Any) -> Architecture:
    try:
        m = np.asarray(matrix)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ValueError(f"op matrix must be {NUM_NODES}x{NUM_NODES} integers: {exc}") from None
    if m.shape != (NUM_NODES, NUM_NODES):
        raise ValueError(f"op matrix must be {NUM_NODES}x{NUM_NODES}, got shape {m.shape}")
    if m.dtype.kind not in "iu":  # floats or bools would be truncated silently into some op
        raise ValueError(f"op matrix must hold integers (ops 0..{NUM_OPS - 1}, -1 off the edges), got dtype {m.dtype}")
    upper = np.triu(np.ones_like(m, dtype=bool), k=1)
    if np.any(m[~upper] != -1):
        raise ValueError("op matrix must hold -1 on and below the diagonal (edges only go from lower to higher nodes)")
    return Architecture(int(m[src - 1, dst - 1]) for src, dst in EDGES)


_DIGITS = re.compile(r"[0-9]+")
_TUPLE_BODY = r"\s*[0-9]+(?:\s*,\s*[0-9]+)*\s*,?\s*"
#: The tuple as text: in matching parentheses or brackets, or bare ("2, 1, 0, 2, 1, 0"); never half-bracketed.
_TUPLE_TEXT = re.compile(rf"\({_TUPLE_BODY}\)|\[{_TUPLE_BODY}\]|{_TUPLE_BODY}")


def parse_digits(text: str) -> Architecture:
    """A string of ASCII digits by the one rule of the module docstring: short form, index, or refused."""
    if not _DIGITS.fullmatch(text):
        raise ValueError(f"{text!r} is not a digit string; {_DIGIT_RULE}")
    if len(text) == NUM_EDGES:
        if all(c in "01234" for c in text):
            return from_short(text)
        raise ValueError(f"{text!r} has 6 digits but is not a short form (op digits are 0..{NUM_OPS - 1}); "
                         f"{_DIGIT_RULE}")
    if len(text) < NUM_EDGES and (text == "0" or not text.startswith("0")):
        return from_index(int(text))
    raise ValueError(f"ambiguous or malformed digit string {text!r}; {_DIGIT_RULE}")


def _parse_text(value: str) -> Architecture:
    text = value.strip()
    if text.startswith("|"):
        return from_nb201_str(text)
    if text.startswith(_INDEX_PREFIX):
        number = text[len(_INDEX_PREFIX):].strip()
        if not _DIGITS.fullmatch(number):
            raise ValueError(f"{value!r}: expected 'index:N' with N a decimal index 0..{NUM_ARCHITECTURES - 1}")
        return from_index(int(number))
    if _DIGITS.fullmatch(text):
        return parse_digits(text)
    if _TUPLE_TEXT.fullmatch(text):
        return Architecture(tuple(map(int, _DIGITS.findall(text))))
    raise ValueError(f"cannot read architecture {value!r}; expected {_EXPECTED} ({_DIGIT_RULE})")


def parse(value: Any) -> Architecture:
    """Any accepted encoding -> :class:`Architecture`; anything else raises ``ValueError`` saying what was expected."""
    if isinstance(value, Architecture):
        return value
    if _is_int(value):
        return from_index(value)
    if isinstance(value, np.ndarray) and value.ndim == 0:  # a numpy scalar result, e.g. np.array(6930) or arr.sum()
        if value.dtype.kind in "iu":
            return from_index(value.item())
        raise ValueError(f"a 0-d array is read as an index and must hold an integer; got {value!r} "
                         f"(dtype {value.dtype}); expected {_EXPECTED}")
    if isinstance(value, np.ndarray) and value.shape == (NUM_NODES, NUM_NODES):
        return from_op_matrix(value)
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, (tuple, list)) and len(value) == NUM_NODES and all(isinstance(r, (tuple, list, np.ndarray))
                                                                             for r in value):
        return from_op_matrix(value)  # the op matrix as nested lists, like the array form
    if isinstance(value, (tuple, list, np.ndarray)):
        return Architecture(value)
    raise ValueError(f"cannot read architecture {value!r} of type {type(value).__name__}; expected {_EXPECTED}")


_POWERS = NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1)


def to_indices(archs: Iterable[ArchLike]) -> np.ndarray:
    """Project indices (int64 array) of a *sequence* of architectures: the one reader of many architectures.

    Integers (a list, tuple or 1-d integer array) are indices, an (n, 6) integer array holds one op tuple per row,
    and every other element is read by :func:`parse`. One architecture where a sequence is expected (a string, an
    :class:`Architecture`, a scalar or 0-d array) is refused: read as a sequence it would silently become six
    indices or six digits. Float and bool arrays are refused rather than truncated into some cell.
    """
    if (isinstance(archs, (str, bytes, Architecture)) or not isinstance(archs, Iterable)
            or (isinstance(archs, np.ndarray) and archs.ndim == 0)):
        raise ValueError(f"expected a sequence of architectures (a list, tuple or array); got the single value "
                         f"{archs!r}: wrap one architecture in a list, e.g. [arch]")
    if isinstance(archs, (list, tuple)):
        values: Any = archs
        if all(_is_int(v) for v in archs):
            values = np.array(archs) if archs else np.empty(0, dtype=np.int64)  # huge ints: object, parsed below
    elif hasattr(archs, "__array__"):  # numpy arrays, pandas Series and Index
        values = np.asarray(archs)
    else:  # generators, sets, ...
        values = list(archs)
    if isinstance(values, np.ndarray):
        kind = values.dtype.kind
        if values.size == 0:
            return np.empty(0, dtype=np.int64)
        if kind in "iu" and values.ndim == 1:
            return _checked(values, NUM_ARCHITECTURES, "architecture indices")
        if kind in "iu" and values.ndim == 2 and values.shape[1] == NUM_EDGES:
            return _checked(values, NUM_OPS, "op indices") @ _POWERS
        if kind in "bfc":
            raise ValueError(f"architecture indices and op indices must be integers; got an array of {values.dtype}"
                             f" such as {values.flat[0].item()!r}")
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        try:
            out[i] = parse(v).index
        except ValueError as exc:
            raise ValueError(f"architecture #{i} of the sequence: {exc}") from None
    return out


def _checked(values: np.ndarray, bound: int, what: str) -> np.ndarray:
    """``values`` as int64, after checking every one lies in 0..bound-1 (before the cast, so no uint wraps)."""
    bad = (values < 0) | (values >= bound)
    if bad.any():
        raise ValueError(f"{what} must be 0..{bound - 1}; got {values[bad].flat[0].item()!r}")
    return values.astype(np.int64)
