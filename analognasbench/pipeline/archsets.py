"""Which architectures a sweep measures: ``unique``, ``all``, ``sample:N[:SEED]`` or a file, as on the command line.

Every set is resolved to isomorphism-class representatives with isomorphs removed (first occurrence wins), because
the run store keys results by class: two isomorphic cells are one network, measured once.

* ``unique``: the 6,466 class representatives in a fixed seeded order (:data:`ORDER_SEED`), so any prefix (e.g.
  ``--limit 500``) is a uniform random sample of the classes, and a sweep extended later continues the same order.
* ``all``: all 15,625 cells in a fixed seeded order, reduced to their classes in order of first appearance; the
  class order is then weighted by class size. Export with ``expand_isomorphs`` to get one row per cell.
* ``sample:N[:SEED]``: N distinct classes drawn uniformly (seed 0 unless given).
* a file path: one architecture per line in any encoding :func:`analognasbench.space.parse` accepts (index,
  6-digit short form, tuple, NAS-Bench-201 string); blank lines and ``#`` comments are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from analognasbench.space import (
    NUM_CLASSES,
    Architecture,
    dedupe_isomorphic,
    parse,
    sample,
    seeded_order,
)

#: Seed of the fixed order of ``unique`` and ``all`` (never changes: prefixes of old sweeps stay prefixes).
ORDER_SEED = 201


class ArchSetKind(str, Enum):
    UNIQUE = "unique"
    ALL = "all"
    SAMPLE = "sample"
    FILE = "file"


@dataclass(frozen=True)
class ArchSet:
    """A parsed ``--archs`` value."""

    kind: ArchSetKind
    n: int | None = None
    seed: int = 0
    path: Path | None = None

    def describe(self) -> str:
        if self.kind is ArchSetKind.SAMPLE:
            return f"sample of {self.n} classes (seed {self.seed})"
        if self.kind is ArchSetKind.FILE:
            return f"architectures listed in {self.path}"
        return self.kind.value


_SAMPLE = re.compile(r"sample:(\d+)(?::(\d+))?")
_EXPECTED = "'unique', 'all', 'sample:N' or 'sample:N:SEED', or the path of a file with one architecture per line"


def parse_archset(text: str | ArchSet) -> ArchSet:
    """Read an ``--archs`` value; a bad one raises ``ValueError`` saying what is accepted."""
    if isinstance(text, ArchSet):
        return text
    value = str(text).strip()
    if value in (ArchSetKind.UNIQUE.value, ArchSetKind.ALL.value):
        return ArchSet(ArchSetKind(value))
    if value.startswith("sample:"):
        m = _SAMPLE.fullmatch(value)
        if not m:
            raise ValueError(f"cannot read --archs {value!r}; expected {_EXPECTED}")
        n = int(m.group(1))
        if not 1 <= n <= NUM_CLASSES:
            raise ValueError(f"sample size must be 1..{NUM_CLASSES} (the number of distinct classes), got {n}")
        return ArchSet(ArchSetKind.SAMPLE, n=n, seed=int(m.group(2) or 0))
    path = Path(value)
    if path.is_file():
        return ArchSet(ArchSetKind.FILE, path=path)
    if path.exists():
        raise ValueError(f"--archs {value!r} is not a regular file")
    raise ValueError(f"cannot read --archs {value!r}: no such file; expected {_EXPECTED}")


def read_arch_file(path: str | Path) -> list[Architecture]:
    """The architectures listed in a file, one per line; errors name the file and line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read architecture file {p}: {exc}") from None
    archs: list[Architecture] = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        try:
            archs.append(parse(content))
        except ValueError as exc:
            raise ValueError(f"{p}:{number}: not an architecture of the space: {exc}") from None
    if not archs:
        raise ValueError(f"architecture file {p} lists no architectures (one per line expected)")
    return archs


def resolve_archset(spec: str | ArchSet) -> list[Architecture]:
    """The class representatives to measure, in sweep order, isomorphs removed."""
    s = parse_archset(spec)
    if s.kind is ArchSetKind.UNIQUE:
        return seeded_order(ORDER_SEED, unique=True)
    if s.kind is ArchSetKind.ALL:
        return dedupe_isomorphic(seeded_order(ORDER_SEED, unique=False))
    if s.kind is ArchSetKind.SAMPLE:
        assert s.n is not None
        return sample(s.n, s.seed, unique=True)
    assert s.path is not None
    return dedupe_isomorphic(read_arch_file(s.path))
