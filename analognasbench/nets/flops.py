"""Parameter and multiply-accumulate counts of NAS-Bench-201 networks, computed analytically.

What :func:`count_flops` counts: the multiply-accumulates (MACs) of every ``nn.Conv2d`` and ``nn.Linear`` for one
image -- ``H_out * W_out * C_out * C_in * k * k`` per conv (no conv has a bias or groups) and
``in_features * out_features`` for the classifier. Not counted: the classifier's bias additions, BatchNorm, ReLU,
pooling and the additions that join edges. NAS-Bench-201's published FLOPs (``xautodl``'s ``get_model_infos``,
in millions) count the same plus the classifier's ``num_classes`` bias additions, so
``reference_MFLOPs * 1e6 == count_flops(...) + num_classes``.

By default every conv the network holds is counted, including those on edges whose output cannot reach the cell
output: the reference's forward evaluates them, so NAS-Bench-201's numbers include them. With
``include_unused_edges=False`` only the convs that :func:`~analognasbench.nets.build_network`'s forward actually
evaluates are counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from analognasbench.nets.cell import used_edges
from analognasbench.nets.config import NetworkConfig, check_image_size
from analognasbench.nets.network import NB201Network
from analognasbench.space import EDGES, Op, parse

_KERNEL = {Op.NOR_CONV_3X3: 3, Op.NOR_CONV_1X1: 1}


@dataclass(frozen=True)
class LayerMacs:
    """One weight layer's share of a forward pass of one image."""

    name: str
    """Where the layer sits, e.g. ``stage2.cell3.edge(1->4)`` or ``reduction1.conv_a``."""
    macs: int


def layer_macs(
    arch: Any, config: NetworkConfig, image_size: int = 32, *, include_unused_edges: bool = True
) -> list[LayerMacs]:
    """Multiply-accumulates of each conv and linear layer in forward order, for a square ``image_size`` input."""
    a = parse(arch)
    size = check_image_size(image_size)
    conv_used = used_edges(a) if not include_unused_edges else tuple(op != Op.NONE for op in a)
    c = config.C
    layers = [LayerMacs("stem", _conv(size, 3, c, 3))]
    c_prev = c
    for stage, c_stage in enumerate(config.stage_channels, start=1):
        if stage > 1:
            size //= 2
            layers += [
                LayerMacs(f"reduction{stage - 1}.conv_a", _conv(size, c_prev, c_stage, 3)),
                LayerMacs(f"reduction{stage - 1}.conv_b", _conv(size, c_stage, c_stage, 3)),
                LayerMacs(f"reduction{stage - 1}.downsample", _conv(size, c_prev, c_stage, 1)),
            ]
        for cell in range(1, config.N + 1):
            for i, (op, used) in enumerate(zip(a.ops, conv_used)):
                if used and op in _KERNEL:
                    src, dst = EDGES[i]
                    name = f"stage{stage}.cell{cell}.edge({src}->{dst})"
                    layers.append(LayerMacs(name, _conv(size, c_stage, c_stage, _KERNEL[op])))
        c_prev = c_stage
    layers.append(LayerMacs("classifier", c_prev * config.num_classes))
    return layers


def count_flops(
    arch: Any,
    C: int = 16,
    N: int = 5,
    num_classes: int = 10,
    image_size: int = 32,
    *,
    include_unused_edges: bool = True,
) -> int:
    """Multiply-accumulates of all conv and linear layers for one ``image_size`` x ``image_size`` image (see the
    module docstring for exactly what is counted)."""
    config = NetworkConfig(C=C, N=N, num_classes=num_classes)
    return sum(
        layer.macs
        for layer in layer_macs(arch, config, image_size, include_unused_edges=include_unused_edges)
    )


def count_parameters(arch_or_net: Any, C: int = 16, N: int = 5, num_classes: int = 10) -> int:
    """Number of parameters (weights, biases, BatchNorm affine) -- of ``arch_or_net`` if it is a module (the other
    arguments are then ignored), else of the network :func:`build_network` would build. Buffers (BatchNorm
    running statistics) are not parameters, as in the reference's count."""
    if isinstance(arch_or_net, nn.Module):
        return sum(p.numel() for p in arch_or_net.parameters())
    config = NetworkConfig(C=C, N=N, num_classes=num_classes)
    arch = parse(arch_or_net)
    with torch.device("meta"):  # shapes only: no memory, no initialisation, no RNG use
        net = NB201Network(arch, config)
    return sum(p.numel() for p in net.parameters())


def _conv(out_size: int, c_in: int, c_out: int, kernel: int) -> int:
    return out_size * out_size * c_out * c_in * kernel * kernel

