"""NAS-Bench-201 networks for CIFAR: builder, parameter and multiply-accumulate counts.

>>> from analognasbench.nets import build_network, count_parameters, count_flops
>>> count_parameters("222222")            # all nor_conv_3x3, C=16, N=5, 10 classes, as in NAS-Bench-201
1531546
>>> count_flops("222222", image_size=32)  # conv + linear multiply-accumulates for one 32x32 image
220119680
"""

from analognasbench.nets.cell import Cell, ResidualReduction, used_edges
from analognasbench.nets.config import NetworkConfig
from analognasbench.nets.flops import LayerMacs, count_flops, count_parameters, layer_macs
from analognasbench.nets.network import NB201Network, build_network, reset_parameters
from analognasbench.nets.ops import AvgPool3x3, ReLUConvBN, Zero

__all__ = [
    "AvgPool3x3",
    "Cell",
    "LayerMacs",
    "NB201Network",
    "NetworkConfig",
    "ReLUConvBN",
    "ResidualReduction",
    "Zero",
    "build_network",
    "count_flops",
    "count_parameters",
    "layer_macs",
    "reset_parameters",
    "used_edges",
]
