"""The NAS-Bench-201 edge operations, as plain torch modules.

Module and attribute names follow the reference implementation (``xautodl``'s ``ReLUConvBN.op``,
``POOLING.op``), so state dicts load in both directions. Only ``nn.Conv2d`` holds weights; convolutions have no
bias (the affine BatchNorm after them provides it), as in the reference.
"""

from __future__ import annotations

import torch
from torch import nn

from analognasbench.space import Op


class ReLUConvBN(nn.Module):
    """ReLU -> Conv2d (no bias) -> affine BatchNorm: the cell's conv ops and both convs of a reduction block."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int = 1) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class AvgPool3x3(nn.Module):
    """3x3 average pooling, stride 1, padding 1, averaging only over real pixels (``count_include_pad=False``)."""

    def __init__(self) -> None:
        super().__init__()
        self.op = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Zero(nn.Module):
    """The ``none`` op: multiplies by zero. It holds no parameters; cells never call it (they skip the edge)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(op: Op, channels: int) -> nn.Module:
    """The module for one cell edge; cells keep channels and resolution, so every op maps C -> C at stride 1."""
    if op is Op.NOR_CONV_3X3:
        return ReLUConvBN(channels, channels, 3)
    if op is Op.NOR_CONV_1X1:
        return ReLUConvBN(channels, channels, 1)
    if op is Op.AVG_POOL_3X3:
        return AvgPool3x3()
    if op is Op.SKIP_CONNECT:
        return nn.Identity()
    if op is Op.NONE:
        return Zero()
    raise ValueError(f"unknown op {op!r}; expected one of {', '.join(o.nb201_name for o in Op)}")
