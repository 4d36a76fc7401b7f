"""The cost of one network, layer by layer, from the real torch module tree of :mod:`analognasbench.nets`.

The network is built on the ``meta`` device (shapes only, no memory, no RNG use) and walked in forward order;
every matrix shape comes from the module's own ``Conv2d``/``Linear`` attributes, every feature-map size from the
conv's kernel, stride and padding. Which edges of a cell cost something follows the network's forward
(:class:`analognasbench.nets.Cell`):

* a ``none`` edge costs nothing; a ``skip_connect`` edge (stride 1) is free, only the join at its target node
  counts;
* an edge whose target cannot reach the cell output is not evaluated and is not mapped (``include_unused_edges``
  maps and runs it anyway, as AIHWKit would map every conv the network holds);
* a node with no evaluated input is zero: skip and pooling edges leaving it cost nothing, but a conv edge leaving
  it is still evaluated (its batch norm turns zero into a constant), as the forward does;
* the reduction blocks are two ReLU-conv-BN convs (3x3, stride 2 then 1), a shortcut of 2x2 average pooling and
  a 1x1 conv, and one residual addition.

Totals (:class:`NetworkCost`) follow the rules of :mod:`analognasbench.hardware.model`: latency is the sum of the
steps' times (layer by layer, every layer resident on its own cores), throughput is one inference per time of the
slowest step (a layer pipeline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from analognasbench.hardware.chips import DEFAULT_CHIP, ChipName, ChipPreset, get_chip
from analognasbench.hardware.model import LayerCost, digital_step, matrix_layer, pool3x3_ops
from analognasbench.nets import NB201Network, NetworkConfig, ReLUConvBN, ResidualReduction, used_edges
from analognasbench.nets.cell import STRING_ORDER, Cell
from analognasbench.nets.config import check_image_size
from analognasbench.nets.ops import AvgPool3x3
from analognasbench.space import EDGES, Architecture, Op, parse


@dataclass(frozen=True)
class NetworkCost:
    """Per-inference cost of one network on one chip (model estimates, not measurements)."""

    arch: Architecture
    chip: ChipPreset
    config: NetworkConfig
    input_size: int
    layers: tuple[LayerCost, ...]

    def _sum(self, name: str) -> Any:
        return sum(getattr(layer, name) for layer in self.layers)

    @property
    def tiles(self) -> int:
        return int(self._sum("tiles"))

    @property
    def chips(self) -> int:
        """Chips needed to hold every tile (one tile per core)."""
        return math.ceil(self.tiles / self.chip.crossbar.cores)

    @property
    def fits_chip(self) -> bool:
        return self.tiles <= self.chip.crossbar.cores

    @property
    def latency_ns(self) -> float:
        return float(self._sum("latency_ns"))

    @property
    def slowest_step_ns(self) -> float:
        return max(layer.latency_ns for layer in self.layers)

    @property
    def throughput_inf_per_s(self) -> float:
        return 1e9 / self.slowest_step_ns

    def totals(self) -> dict[str, float | int | bool]:
        """The ``hw_*`` values of :data:`analognasbench.hardware.table.COLUMN_INFO` for this network."""
        xb = self.chip.crossbar
        weights = int(self._sum("weights"))
        e_mvm, e_dig, e_mov = (float(self._sum(k)) for k in ("energy_mvm_pj", "energy_digital_pj", "energy_movement_pj"))
        return {
            "hw_tiles": self.tiles,
            "hw_utilisation": weights / (self.tiles * xb.rows * xb.cols) if self.tiles else float("nan"),
            "hw_mvms": int(self._sum("mvms")),
            "hw_dac_conversions": int(self._sum("dac_conversions")),
            "hw_adc_conversions": int(self._sum("adc_conversions")),
            "hw_digital_ops": int(self._sum("digital_ops")),
            "hw_activation_bytes": float(self._sum("activation_bytes")),
            "hw_weights": weights,
            "hw_macs": int(self._sum("macs")),
            "hw_energy_uj": (e_mvm + e_dig + e_mov) * 1e-6,
            "hw_energy_mvm_uj": e_mvm * 1e-6,
            "hw_energy_digital_uj": e_dig * 1e-6,
            "hw_energy_movement_uj": e_mov * 1e-6,
            "hw_latency_us": self.latency_ns * 1e-3,
            "hw_throughput_inf_per_s": self.throughput_inf_per_s,
            "hw_cores": self.tiles,
            "hw_chips": self.chips,
            "hw_fits_chip": self.fits_chip,
        }

    def layer_frame(self) -> Any:
        """One row per step (pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame([layer.as_dict(self.chip) for layer in self.layers])


def _out_size(conv: nn.Conv2d, size: int) -> int:
    k, s, p = conv.kernel_size[0], conv.stride[0], conv.padding[0]
    return (size + 2 * p - k) // s + 1


def _conv_step(chip: ChipPreset, name: str, conv: nn.Conv2d, size: int, *, relu: bool, bn: bool,
               pool2: bool = False) -> tuple[LayerCost, int]:
    """A conv layer on a ``size`` input (optionally ReLU before, batch norm after, a 2x2 average pool before)."""
    c_in, c_out, k = conv.in_channels, conv.out_channels, conv.kernel_size[0] * conv.kernel_size[1]
    adds = muls = 0
    in_size = size
    if pool2:
        in_size = size // 2
        adds += 3 * c_in * in_size * in_size
        muls += c_in * in_size * in_size
    out = _out_size(conv, in_size)
    if relu:
        adds += c_in * in_size * in_size
    if bn:
        adds += c_out * out * out
        muls += c_out * out * out
    step = matrix_layer(chip, name, "conv", rows=k * c_in, cols=c_out, pixels=out * out,
                        in_elements=c_in * in_size * in_size, out_elements=c_out * out * out, adds=adds, muls=muls)
    return step, out


def _cell_steps(chip: ChipPreset, cell: Cell, arch: Architecture, prefix: str, size: int,
                include_unused_edges: bool) -> list[LayerCost]:
    """The steps of one cell, following its forward: edges in string order, then one join per node."""
    channels = cell.channels
    used = tuple(op != Op.NONE for op in arch) if include_unused_edges else used_edges(arch)
    computed = {1}
    inputs = {2: 0, 3: 0, 4: 0}
    steps: list[LayerCost] = []
    for k, i in enumerate(STRING_ORDER):
        if not used[i]:
            continue
        src, dst = EDGES[i]
        module = cell.layers[k]
        name = f"{prefix}.edge({src}->{dst})"
        if isinstance(module, ReLUConvBN):
            step, _ = _conv_step(chip, name, module.op[1], size, relu=True, bn=True)
            steps.append(step)
        elif src not in computed:
            continue  # skip or pooling of an exact zero: not computed
        elif isinstance(module, AvgPool3x3):
            adds, muls = pool3x3_ops(channels, size)
            steps.append(digital_step(chip, name, adds=adds, muls=muls))
        elif not isinstance(module, nn.Identity):
            raise TypeError(f"{name}: no cost rule for {type(module).__name__}")
        inputs[dst] += 1
        computed.add(dst)
    for node in (2, 3, 4):
        if inputs[node] > 1:
            steps.append(digital_step(chip, f"{prefix}.node{node}.add",
                                      adds=(inputs[node] - 1) * channels * size * size))
    return steps


def network_steps(arch: Any, chip: ChipPreset, config: NetworkConfig, input_size: int,
                  include_unused_edges: bool = False) -> list[LayerCost]:
    """Every step of one inference, in forward order, from the module tree of the network ``arch`` builds."""
    a = parse(arch)
    size = check_image_size(input_size)
    with torch.device("meta"):
        net = NB201Network(a, config)
    steps: list[LayerCost] = []
    stem, size = _conv_step(chip, "stem", net.stem[0], size, relu=False, bn=True)
    steps.append(stem)
    stage, cell_no, reductions = 1, 0, 0
    for module in net.cells:
        if isinstance(module, ResidualReduction):
            reductions += 1
            stage, cell_no = stage + 1, 0
            name = f"reduction{reductions}"
            conv_a, out = _conv_step(chip, f"{name}.conv_a", module.conv_a.op[1], size, relu=True, bn=True)
            conv_b, _ = _conv_step(chip, f"{name}.conv_b", module.conv_b.op[1], out, relu=True, bn=True)
            short, _ = _conv_step(chip, f"{name}.downsample", module.downsample[1], size, relu=False, bn=False,
                                  pool2=True)
            join = digital_step(chip, f"{name}.add", adds=module.c_out * out * out)
            steps += [conv_a, conv_b, short, join]
            size = out
        elif isinstance(module, Cell):
            cell_no += 1
            steps += _cell_steps(chip, module, a, f"stage{stage}.cell{cell_no}", size, include_unused_edges)
        else:  # pragma: no cover - the network holds only these two
            raise TypeError(f"no cost rule for {type(module).__name__}")
    channels = net.classifier.in_features
    elements = channels * size * size
    steps.append(digital_step(chip, "lastact", adds=2 * elements, muls=elements))  # BN (mul + add), ReLU (compare)
    steps.append(digital_step(chip, "global_pooling", adds=channels * (size * size - 1), muls=channels))
    lin = net.classifier
    steps.append(matrix_layer(chip, "classifier", "linear", rows=lin.in_features, cols=lin.out_features, pixels=1,
                              in_elements=lin.in_features, out_elements=lin.out_features,
                              adds=lin.out_features if lin.bias is not None else 0))
    return steps


def network_cost(arch: Any, chip: ChipPreset | ChipName | str = DEFAULT_CHIP, *, C: int = 16, N: int = 5,
                 num_classes: int = 10, input_size: int = 32, include_unused_edges: bool = False) -> NetworkCost:
    """Per-inference cost of the network of ``arch`` on ``chip`` (a preset, its name or a preset file)."""
    preset = get_chip(chip)
    config = NetworkConfig(C=C, N=N, num_classes=num_classes)
    steps = network_steps(arch, preset, config, input_size, include_unused_edges)
    return NetworkCost(parse(arch), preset, config, int(input_size), tuple(steps))
