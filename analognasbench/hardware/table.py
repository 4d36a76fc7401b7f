"""The cost of every cell at once: the ``hw_*`` table for all 15,625 architectures in well under a second.

The cost of a network depends on its cell only, and a cell's cost is a sum of per-edge parts plus its joins, so
the table is built from a handful of precomputed steps instead of 15,625 module walks:

    cost(cell) = fixed part (stem, reductions, head: the network of the all-``none`` cell)
                 + N * sum over stages s of [ n_conv3 * conv3x3_s + n_conv1 * conv1x1_s + n_pool * pool_s
                                              + join_units * join_s ]

where the counts are those of the edges the forward evaluates (see :mod:`analognasbench.hardware.network`) and
``join_units`` is the number of extra inputs over all nodes (a node joining k tensors does k - 1 additions per
element). The slowest step is the largest of the fixed part's and of each stage's used step kinds. Tests check
this path against the per-network walk on random cells.

Every ``hw_*`` value is a MODEL ESTIMATE of the analytic cost model (see :data:`COLUMN_INFO` and README,
"Hardware cost"), not a measurement.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analognasbench.hardware.chips import DEFAULT_CHIP, ChipName, ChipPreset, get_chip
from analognasbench.hardware.columns import COLUMN_INFO, COST_COLUMNS, MODEL_NOTE
from analognasbench.hardware.model import LayerCost, digital_step, matrix_layer, pool3x3_ops
from analognasbench.space import NUM_ARCHITECTURES, NUM_EDGES, NUM_OPS, ArchLike, Op, to_indices

if TYPE_CHECKING:  # analognasbench.nets imports torch: loaded only when a table is built
    from analognasbench.nets import NetworkConfig

__all__ = ["COLUMN_INFO", "COST_COLUMNS", "MODEL_NOTE", "cell_counts", "cost_table"]

_ADDITIVE = ("tiles", "mvms", "dac_conversions", "adc_conversions", "adds", "muls", "activation_bytes",
             "weights", "macs", "energy_mvm_pj", "energy_digital_pj", "energy_movement_pj", "latency_ns")
_POWERS = NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1)
_CONV = (int(Op.NOR_CONV_3X3), int(Op.NOR_CONV_1X1))


def _vector(step: LayerCost) -> np.ndarray:
    return np.array([float(getattr(step, k)) for k in _ADDITIVE])


def cell_counts(ops: np.ndarray, include_unused_edges: bool = False) -> dict[str, np.ndarray]:
    """Per cell (rows of ``ops``, 6-tuples in project edge order): evaluated 3x3 and 1x1 convs, evaluated
    pooling edges, extra join inputs over all nodes, and the largest extra inputs of one node."""
    ops = np.asarray(ops, dtype=np.int64)
    nz = ops != int(Op.NONE)
    conv = np.isin(ops, _CONV)
    if include_unused_edges:
        used = nz
    else:  # edges (1,2) (1,3) (1,4) (2,3) (2,4) (3,4): keep those whose target reaches node 4
        reach3 = nz[:, 5]
        reach2 = (nz[:, 3] & reach3) | nz[:, 4]
        ones = np.ones(len(ops), dtype=bool)
        used = nz & np.stack([reach2, reach3, ones, reach3, ones, ones], axis=1)
    computed2 = used[:, 0]  # node 1 (the input) is always computed
    contrib = np.empty_like(used)
    contrib[:, 0] = used[:, 0]
    contrib[:, 1] = used[:, 1]
    contrib[:, 2] = used[:, 2]
    contrib[:, 3] = used[:, 3] & (conv[:, 3] | computed2)
    computed3 = contrib[:, 1] | contrib[:, 3]
    contrib[:, 4] = used[:, 4] & (conv[:, 4] | computed2)
    contrib[:, 5] = used[:, 5] & (conv[:, 5] | computed3)
    k = np.stack([contrib[:, 0].astype(int), contrib[:, 1].astype(int) + contrib[:, 3],
                  contrib[:, 2].astype(int) + contrib[:, 4] + contrib[:, 5]], axis=1)
    extra = np.maximum(k - 1, 0)
    return {
        "conv3": (used & (ops == int(Op.NOR_CONV_3X3))).sum(1),
        "conv1": (used & (ops == int(Op.NOR_CONV_1X1))).sum(1),
        "pool": (contrib & (ops == int(Op.AVG_POOL_3X3))).sum(1),
        "join_units": extra.sum(1),
        "join_max": extra.max(1),
    }


def _stage_steps(chip: ChipPreset, channels: int, size: int) -> dict[str, LayerCost]:
    """One evaluated edge of each kind, and one join unit, at a stage's width and resolution."""
    el = channels * size * size
    steps = {}
    for key, k in (("conv3", 9), ("conv1", 1)):
        steps[key] = matrix_layer(chip, key, "conv", rows=k * channels, cols=channels, pixels=size * size,
                                  in_elements=el, out_elements=el, adds=2 * el, muls=el)  # ReLU, BN add; BN mul
    adds, muls = pool3x3_ops(channels, size)
    steps["pool"] = digital_step(chip, "pool", adds=adds, muls=muls)
    steps["join"] = digital_step(chip, "join", adds=el)
    return steps


@lru_cache(maxsize=16)
def _full_table(chip: ChipPreset, config: NetworkConfig, input_size: int, include_unused_edges: bool) -> pd.DataFrame:
    from analognasbench.hardware.network import network_steps

    index = np.arange(NUM_ARCHITECTURES)
    ops = (index[:, None] // _POWERS) % NUM_OPS
    counts = cell_counts(ops, include_unused_edges)
    fixed = network_steps((1,) * NUM_EDGES, chip, config, input_size)  # all-none cell: stem, reductions, head
    total = np.tile(sum(_vector(s) for s in fixed), (NUM_ARCHITECTURES, 1))
    slowest = np.full(NUM_ARCHITECTURES, max(s.latency_ns for s in fixed))
    size = input_size
    for stage, channels in enumerate(config.stage_channels):
        if stage:
            size = (size - 1) // 2 + 1  # the reduction's 3x3 stride-2 conv, padding 1
        steps = _stage_steps(chip, channels, size)
        for key in ("conv3", "conv1", "pool"):
            n = counts[key]
            total += config.N * n[:, None] * _vector(steps[key])[None, :]
            slowest = np.maximum(slowest, np.where(n > 0, steps[key].latency_ns, 0.0))
        total += config.N * counts["join_units"][:, None] * _vector(steps["join"])[None, :]
        slowest = np.maximum(slowest, counts["join_max"] * steps["join"].latency_ns)
    col = {k: total[:, i] for i, k in enumerate(_ADDITIVE)}
    xb = chip.crossbar
    tiles = np.rint(col["tiles"]).astype(np.int64)
    e_mvm, e_dig, e_mov = col["energy_mvm_pj"], col["energy_digital_pj"], col["energy_movement_pj"]
    frame = pd.DataFrame({
        "arch_index": index,
        "hw_tiles": tiles,
        "hw_utilisation": col["weights"] / (tiles * xb.rows * xb.cols),
        "hw_mvms": np.rint(col["mvms"]).astype(np.int64),
        "hw_dac_conversions": np.rint(col["dac_conversions"]).astype(np.int64),
        "hw_adc_conversions": np.rint(col["adc_conversions"]).astype(np.int64),
        "hw_digital_ops": np.rint(col["adds"] + col["muls"]).astype(np.int64),
        "hw_activation_bytes": col["activation_bytes"],
        "hw_weights": np.rint(col["weights"]).astype(np.int64),
        "hw_macs": np.rint(col["macs"]).astype(np.int64),
        "hw_energy_uj": (e_mvm + e_dig + e_mov) * 1e-6,
        "hw_energy_mvm_uj": e_mvm * 1e-6,
        "hw_energy_digital_uj": e_dig * 1e-6,
        "hw_energy_movement_uj": e_mov * 1e-6,
        "hw_latency_us": col["latency_ns"] * 1e-3,
        "hw_throughput_inf_per_s": 1e9 / slowest,
        "hw_cores": tiles,
        "hw_chips": -(-tiles // xb.cores),
        "hw_fits_chip": tiles <= xb.cores,
    })
    frame.attrs.update(chip=chip.name, C=config.C, N=config.N, num_classes=config.num_classes,
                       input_size=input_size, include_unused_edges=include_unused_edges, note=MODEL_NOTE)
    return frame


def cost_table(archs: Iterable[ArchLike] | None = None, chip: ChipPreset | ChipName | str = DEFAULT_CHIP,
               C: int = 16, N: int = 5, input_size: int = 32, *, num_classes: int = 10,
               include_unused_edges: bool = False) -> pd.DataFrame:
    """``hw_*`` MODEL ESTIMATES (see :data:`COLUMN_INFO`) for the sequence ``archs`` (read by
    :func:`analognasbench.space.to_indices`: integer indices or any encodings; one architecture alone is refused, wrap
    it in a list; None: all 15,625 cells in index order), one row per given architecture, with an
    ``arch_index`` column. ``frame.attrs`` records the chip preset and network size. The full table is built once
    per (chip, C, N, num_classes, input_size) and cached."""
    from analognasbench.nets.config import NetworkConfig, check_image_size

    preset = get_chip(chip)
    config = NetworkConfig(C=C, N=N, num_classes=num_classes)
    full = _full_table(preset, config, check_image_size(input_size), bool(include_unused_edges))
    if archs is None:
        out = full.copy()
    else:
        out = full.iloc[to_indices(archs)].reset_index(drop=True)
    out.attrs = dict(full.attrs)
    return out
