"""The NAS-Bench-201 cell and the residual block that reduces resolution between stages.

A cell is a DAG on nodes 1..4 (node 1 its input, node 4 its output); node j is the sum of its incoming edges' ops.
The cell's edge modules are registered in NAS-Bench-201 string order, (1->2), (1->3), (2->3), (1->4), (2->4),
(3->4) -- the reference's order -- so parameter names, state dicts and the order of weight initialisation match
``xautodl``'s ``InferCell``.

The forward computes exactly what the reference computes, faster:

* ``none`` edges are skipped (the reference adds ``x * 0``);
* an edge whose target node can never reach node 4 through non-``none`` edges is not computed (its output
  cannot influence the cell's); its parameters still exist, so parameter counts equal the reference's. Its
  BatchNorm running statistics stay at their initial values, where the reference's would drift; no output
  depends on them.
* a node with no computed input is exactly zero. Skip and pooling of zero stay zero; a conv edge on a zero node
  is still evaluated on a zero tensor, because its BatchNorm shifts zero to a non-zero constant (its bias in
  training, ``-mean/std`` in evaluation), as in the reference. A cell whose output node has no computed input
  returns zeros.
"""

from __future__ import annotations

import torch
from torch import nn

from analognasbench.nets.ops import ReLUConvBN, make_op
from analognasbench.space import EDGES, Architecture, Op

OUTPUT_NODE = 4
_CONV_OPS = (Op.NOR_CONV_3X3, Op.NOR_CONV_1X1)
#: Tuple positions of the edges in NAS-Bench-201 string order (by target node, then source node).
STRING_ORDER: tuple[int, ...] = tuple(sorted(range(len(EDGES)), key=lambda i: (EDGES[i][1], EDGES[i][0])))


def used_edges(arch: Architecture) -> tuple[bool, ...]:
    """Per tuple position: whether the edge's op is not ``none`` and its target can reach the output node."""
    reaches = {OUTPUT_NODE}
    for node in range(OUTPUT_NODE - 1, 1, -1):
        if any(src == node and dst in reaches and arch[i] != Op.NONE for i, (src, dst) in enumerate(EDGES)):
            reaches.add(node)
    return tuple(op != Op.NONE and dst in reaches for op, (_, dst) in zip(arch, EDGES))


class Cell(nn.Module):
    """One NAS-Bench-201 cell with ``channels`` in and out, at stride 1."""

    def __init__(self, arch: Architecture, channels: int, *, skip_unused_edges: bool = True) -> None:
        super().__init__()
        self.arch = tuple(arch)
        self.channels = channels
        self.layers = nn.ModuleList(make_op(Op(arch[i]), channels) for i in STRING_ORDER)
        used = used_edges(arch) if skip_unused_edges else tuple(op != Op.NONE for op in arch)
        # (layer index, source node, target node, is a conv) of the edges the forward evaluates, in string order.
        self._plan: tuple[tuple[int, int, int, bool], ...] = tuple(
            (k, EDGES[i][0], EDGES[i][1], arch[i] in _CONV_OPS) for k, i in enumerate(STRING_ORDER) if used[i]
        )

    def extra_repr(self) -> str:
        return f"arch={self.arch}, channels={self.channels}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Indexed by node number (1..4); None stands for an exactly zero tensor.
        nodes: list[torch.Tensor | None] = [None, x, None, None, None]
        for k, src, dst, is_conv in self._plan:
            value = nodes[src]
            if value is None:
                if not is_conv:
                    continue  # skip and pooling of zeros are zeros
                value = torch.zeros_like(x)
            out = self.layers[k](value)
            acc = nodes[dst]
            nodes[dst] = out if acc is None else acc + out
        result = nodes[OUTPUT_NODE]
        return torch.zeros_like(x) if result is None else result


class ResidualReduction(nn.Module):
    """NAS-Bench-201's reduction block (between stages, halves the resolution, ``c_out`` = 2 ``c_in`` there):
    ReLUConvBN 3x3 stride 2 -> ReLUConvBN 3x3, plus a shortcut of 2x2 average pooling (stride 2) and a bias-free
    1x1 conv."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, stride=1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )
        self.c_in, self.c_out = c_in, c_out

    def extra_repr(self) -> str:
        return f"c_in={self.c_in}, c_out={self.c_out}, stride=2"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))
