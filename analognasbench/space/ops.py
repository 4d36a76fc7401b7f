"""The five NAS-Bench-201 cell operations, indexed as in the AnalogNAS-Bench paper and NASLib."""

from __future__ import annotations

from enum import IntEnum


class Op(IntEnum):
    """Operation on one cell edge. The integer is the op index used in 6-tuples."""

    SKIP_CONNECT = 0
    NONE = 1
    NOR_CONV_3X3 = 2
    NOR_CONV_1X1 = 3
    AVG_POOL_3X3 = 4

    @property
    def nb201_name(self) -> str:
        """The op's name in NAS-Bench-201 strings, e.g. ``nor_conv_3x3``."""
        return self.name.lower()

    @classmethod
    def from_name(cls, name: str) -> Op:
        """Look up an op by its NAS-Bench-201 name; unknown names list the valid ones."""
        try:
            return _BY_NAME[name]
        except KeyError:
            raise ValueError(f"unknown operation {name!r}; expected one of {', '.join(OP_NAMES)}") from None


OP_NAMES: tuple[str, ...] = tuple(op.nb201_name for op in Op)
NUM_OPS = len(Op)
_BY_NAME = {op.nb201_name: op for op in Op}

#: Cell edges as (source, target) node numbers 1..4 in 6-tuple order: node 1 is the cell input, node 4 its output.
EDGES: tuple[tuple[int, int], ...] = ((1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4))
NUM_EDGES = len(EDGES)
NUM_NODES = 4
NUM_ARCHITECTURES = NUM_OPS**NUM_EDGES
