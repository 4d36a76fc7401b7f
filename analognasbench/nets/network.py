"""The NAS-Bench-201 macro-architecture for CIFAR, parameter-for-parameter equal to the reference.

stem (3x3 conv, C channels, BN) -> N cells (C) -> reduction block (2C, /2) -> N cells (2C) -> reduction block
(4C, /2) -> N cells (4C) -> BN -> ReLU -> global average pool -> Linear. Submodule names follow ``xautodl``'s
``TinyNetwork`` (``stem``, ``cells``, ``lastact``, ``global_pooling``, ``classifier``), so its state dicts load
into these networks and back. Unlike the reference, ``forward`` returns only the logits.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
from torch import nn

from analognasbench.nets.cell import Cell, ResidualReduction
from analognasbench.nets.config import NetworkConfig
from analognasbench.space import Architecture, parse

logger = logging.getLogger(__name__)


class NB201Network(nn.Module):
    """A NAS-Bench-201 network for one cell architecture (the same cell in all 3N cell positions)."""

    def __init__(self, arch: Architecture, config: NetworkConfig, *, skip_unused_edges: bool = True) -> None:
        super().__init__()
        self.arch = arch
        self.config = config
        c = config.C
        self.stem = nn.Sequential(nn.Conv2d(3, c, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(c))
        cells: list[nn.Module] = []
        c_prev = c
        for stage, c_stage in enumerate(config.stage_channels):
            if stage > 0:
                cells.append(ResidualReduction(c_prev, c_stage))
            cells.extend(Cell(arch, c_stage, skip_unused_edges=skip_unused_edges) for _ in range(config.N))
            c_prev = c_stage
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, config.num_classes)

    def extra_repr(self) -> str:
        return f"arch={self.arch.short}, C={self.config.C}, N={self.config.N}, num_classes={self.config.num_classes}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``(batch, 3, H, W)`` with H and W multiples of 4 -> logits ``(batch, num_classes)``."""
        feature = self.stem(x)
        for cell in self.cells:
            feature = cell(feature)
        out = self.global_pooling(self.lastact(feature))
        return self.classifier(out.flatten(1))


def build_network(
    arch: Any,
    C: int = 16,
    N: int = 5,
    num_classes: int = 10,
    *,
    generator: torch.Generator | None = None,
    skip_unused_edges: bool = True,
) -> NB201Network:
    """Build the network for ``arch`` (anything :func:`analognasbench.space.parse` accepts).

    Weights get PyTorch's default initialisation, as in the reference. Without ``generator`` it draws from the
    global RNG, so under the same ``torch.manual_seed`` it equals ``xautodl``'s ``TinyNetwork`` weight for weight;
    with a CPU ``generator`` it draws the same distributions from that generator instead (a generator seeded
    with s gives the same weights as ``torch.manual_seed(s)``) and leaves the global RNG untouched.
    ``skip_unused_edges=False`` evaluates every non-``none`` edge like the reference does (slower; the outputs are
    the same) -- useful only to cross-check FLOP counts.
    """
    config = NetworkConfig(C=C, N=N, num_classes=num_classes)
    architecture = parse(arch)
    if generator is None:
        return NB201Network(architecture, config, skip_unused_edges=skip_unused_edges)
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None; got {type(generator).__name__}")
    with torch.device("meta"):  # skip the default init that would consume the global RNG
        net = NB201Network(architecture, config, skip_unused_edges=skip_unused_edges)
    net = net.to_empty(device=generator.device)
    reset_parameters(net, generator)
    return net


def reset_parameters(net: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default initialisation of every layer, in registration order, drawn from ``generator``."""
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                if module.bias is not None:
                    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(module.weight)
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                    nn.init.uniform_(module.bias, -bound, bound, generator=generator)
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()
