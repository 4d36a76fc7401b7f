"""The cell as a directed acyclic graph: input->output paths and the op sequences along them.

The AnalogNAS-Bench paper's "sequential patterns" are op sequences along such paths, written e.g. ``(2, 0)`` for a
3x3 convolution followed by a skip connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from analognasbench.space.encodings import ArchLike, parse
from analognasbench.space.ops import EDGES, NUM_NODES, Op

#: Every input->output path of the complete cell, as tuples of edge positions (tuple order), shortest first.
ALL_PATHS: tuple[tuple[int, ...], ...] = (
    (EDGES.index((1, 4)),),
    (EDGES.index((1, 2)), EDGES.index((2, 4))),
    (EDGES.index((1, 3)), EDGES.index((3, 4))),
    (EDGES.index((1, 2)), EDGES.index((2, 3)), EDGES.index((3, 4))),
)


@dataclass(frozen=True)
class CellPath:
    """One input->output path: the edges it follows, the nodes it visits and the ops along it."""

    edges: tuple[int, ...]
    nodes: tuple[int, ...]
    ops: tuple[int, ...]

    @property
    def live(self) -> bool:
        """False when a ``none`` edge cuts the path, so nothing flows along it."""
        return Op.NONE not in self.ops


def paths(arch: ArchLike, *, live_only: bool = True) -> list[CellPath]:
    """Input->output paths of the cell; with ``live_only`` those not cut by a ``none`` edge."""
    a = parse(arch)
    result = []
    for edges in ALL_PATHS:
        nodes = (EDGES[edges[0]][0],) + tuple(EDGES[e][1] for e in edges)
        path = CellPath(edges=edges, nodes=nodes, ops=tuple(a[e] for e in edges))
        if path.live or not live_only:
            result.append(path)
    return result


def path_op_sequences(arch: ArchLike) -> list[tuple[int, ...]]:
    """Op sequences along the live input->output paths, e.g. ``[(2,), (2, 0), (2, 2, 4)]``."""
    return [p.ops for p in paths(arch)]


def edge_list(arch: ArchLike, *, include_none: bool = False) -> list[tuple[int, int, int]]:
    """The cell as (source, target, op) triples over nodes 1..4; ``none`` edges left out unless asked for."""
    return [(s, d, op) for (s, d), op in zip(EDGES, parse(arch)) if include_none or op != Op.NONE]


def longest_path_length(arch: ArchLike) -> int:
    """Number of edges on the longest live input->output path (0 for a degenerate cell)."""
    return max((len(p.ops) for p in paths(arch)), default=0)


assert all(EDGES[p[-1]][1] == NUM_NODES for p in ALL_PATHS)
