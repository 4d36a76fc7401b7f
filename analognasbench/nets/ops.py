"""The NAS-Bench-201 edge operations, as plain torch modules.

Module and attribute names follow the reference implementation (``xautodl``'s ``ReLUConvBN.op``,
``POOLING.op``), so state dicts load in both directions. Only ``nn.Conv2d`` holds weights; convolutions have no
bias (the affine BatchNorm after them provides it), as in the reference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
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


#: Smallest feature map (pixels) on which :func:`avg_pool3x3` sums shifted copies; below it torch's kernel is faster.
SHIFTED_POOL_MIN_PIXELS = 16
#: ... and the smallest tensor (elements): on a few thousand numbers the nine calls cost more than they save.
SHIFTED_POOL_MIN_ELEMENTS = 16384


def _window_counts(height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """How many real pixels each 3x3 window (padding 1) covers: 4 at corners, 6 on edges, 9 inside."""
    ones = torch.ones(1, 1, height, width, dtype=like.dtype, device=like.device)
    return F.avg_pool2d(ones, 3, stride=1, padding=1, count_include_pad=True, divisor_override=1)


def _shifted_sum(x: torch.Tensor) -> torch.Tensor:
    """Each pixel's 3x3 window sum (zero padding), accumulated from 0 in row-major window order; a strided view.

    Works on rows padded to ``width + 2`` and flattened, so each of the nine shifts is one long contiguous run
    per channel (fast at any width); the two padding columns of each output row are cut off at the end."""
    batch, channels, height, width = x.shape
    row = width + 2
    padded = F.pad(x, (1, 1, 1, 2)).view(batch, channels, -1)  # the extra bottom row keeps the last shift in range
    length = height * row
    total = torch.zeros(batch, channels, length, dtype=x.dtype, device=x.device)
    for dh in range(3):
        for dw in range(3):
            offset = dh * row + dw
            total.add_(padded[..., offset:offset + length])
    return total.view(batch, channels, height, row)[..., :width]


class _ShiftedAvgPool3x3(torch.autograd.Function):
    """torch's CPU ``avg_pool2d(3, 1, 1, count_include_pad=False)``, bit for bit, 1.5-4x faster on NCHW maps
    (torch's NCHW kernel walks each window in scalar code; this adds nine shifted copies of the whole map).

    Bit-exact because it performs the kernel's float operations in the kernel's order: forward, a window sum from
    0 in row-major order (the padding adds exact zeros) divided by the count; backward, each input accumulates
    ``grad / count`` of the outputs whose windows cover it, from 0, in row-major output order. Results are
    contiguous, as torch's are (downstream kernels may pick their algorithm by layout). The backward is built of
    differentiable ops, so second derivatives (zero-cost proxies such as GraSP) work as with torch's pooling.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor) -> torch.Tensor:
        counts = _window_counts(x.shape[-2], x.shape[-1], x)
        ctx.save_for_backward(counts)
        return torch.div(_shifted_sum(x), counts).contiguous()

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:
        (counts,) = ctx.saved_tensors
        return _shifted_sum(grad / counts).contiguous()


def avg_pool3x3(x: torch.Tensor) -> torch.Tensor:
    """``F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)`` with identical results; contiguous float32/float64 NCHW
    maps on CPU of at least ``SHIFTED_POOL_MIN_PIXELS`` pixels and ``SHIFTED_POOL_MIN_ELEMENTS`` numbers take the faster
    shifted-sum path (pooling was the sweep's largest avoidable cost on CPU), everything else torch's kernel."""
    if (x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64) and x.dim() == 4 and x.is_contiguous()
            and x.shape[-2] * x.shape[-1] >= SHIFTED_POOL_MIN_PIXELS and x.numel() >= SHIFTED_POOL_MIN_ELEMENTS):
        return _ShiftedAvgPool3x3.apply(x)
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class AvgPool3x3(nn.Module):
    """3x3 average pooling, stride 1, padding 1, averaging only over real pixels (``count_include_pad=False``).

    ``op`` stays the torch module the reference has (same structure and printout); ``forward`` computes it with
    :func:`avg_pool3x3`, which gives the same numbers faster on CPU."""

    def __init__(self) -> None:
        super().__init__()
        self.op = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(x, torch.fx.Proxy):  # FX tracing (the int8 recipe): record the torch module, as the reference
            return self.op(x)
        return avg_pool3x3(x)


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
