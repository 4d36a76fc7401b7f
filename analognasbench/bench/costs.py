"""Hardware-cost columns (``hw_*``) for a dataset: MODEL ESTIMATES of :mod:`analognasbench.hardware`, computed per
row from the row's own architecture and the dataset's network size, never stored as measurements.

HOW TO HOOK THIS INTO ``AnalogNASBench`` (for the lead; this module edits nothing else):

1. a lazy, cached frame per chip::

       def costs(self, chip: str = hardware.DEFAULT_CHIP) -> pd.DataFrame:
           if chip not in self._costs:
               self._costs[chip] = costs.cost_columns(self._df, self._meta, chip)
           return self._costs[chip]

   (rows aligned with ``self.df``: same order, same length; ``frame.attrs`` records the chip preset and the
   network size, see :func:`cost_columns`);
2. ``metric_info(name)``: ``if costs.is_cost_column(name): return costs.cost_metric_info(name)`` before
   ``parse_metric`` (it returns a :class:`~analognasbench.pipeline.schema.MetricInfo` like the metrics do);
3. ``metric_array(name)`` / ``RowFilter`` / ``anb query``: accept ``hw_*`` names by reading
   ``self.costs()[name]`` (e.g. ``EXTRA_NUMERIC + costs.COST_COLUMNS`` in ``check_column``); ``anb query`` can print
   ``costs.cost_record(bench.costs(), row)`` under a "hardware cost (model estimate, chip ...)" heading;
4. ``format_details`` / ``anb info``: one line ``costs.describe(meta, chip)``.

The network size comes from the dataset's profile (``meta.profile``: ``C``, ``N``, ``num_classes``,
``image_size``, as :class:`analognasbench.pipeline.profiles.Profile` stores them); without a profile (the original
release) it is the paper's, C=16, N=5, 10 classes, 32x32.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from analognasbench import hardware
from analognasbench.bench.derived import NB201_CIFAR10, NetworkSpec
from analognasbench.bench.files import DatasetMeta
from analognasbench.pipeline.schema import MetricInfo

COST_COLUMNS = hardware.COST_COLUMNS


def cost_network(meta: DatasetMeta | Mapping[str, Any] | None) -> NetworkSpec:
    """The dataset's network size from its profile (:class:`~analognasbench.bench.derived.NetworkSpec`); the
    paper's (16, 5, 10, 32) for every size the profile does not give. A size of the wrong type is an error."""
    if meta is None:
        return NB201_CIFAR10
    profile = meta.profile if isinstance(meta, DatasetMeta) else (meta.get("profile") or {})
    if not isinstance(profile, Mapping):
        return NB201_CIFAR10
    values = {}
    for key in ("C", "N", "num_classes", "image_size"):
        value = profile.get(key, getattr(NB201_CIFAR10, key))
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"the dataset profile's {key} must be an integer; got {value!r}")
        values[key] = int(value)
    return NetworkSpec(**values)


def _row_archs(df: pd.DataFrame) -> np.ndarray:
    if "arch_index" in df.columns:
        return df["arch_index"].to_numpy(dtype=np.int64)
    if "canonical_index" in df.columns:
        return df["canonical_index"].to_numpy(dtype=np.int64)  # a class member computes what its class does
    raise ValueError("the dataset needs an 'arch_index' or 'canonical_index' column to cost its rows")


def cost_columns(df: pd.DataFrame, meta: DatasetMeta | Mapping[str, Any] | None = None,
                 chip: hardware.ChipPreset | str = hardware.DEFAULT_CHIP) -> pd.DataFrame:
    """The ``hw_*`` columns for every row of ``df`` (same order and index), for the row's own architecture
    (``arch_index``) at the network size of ``meta``'s profile. ``attrs``: chip, C, N, num_classes, input_size,
    and a note that these are model estimates."""
    net = cost_network(meta)
    table = hardware.cost_table(_row_archs(df), chip, **net.cost_kwargs())
    out = table.drop(columns="arch_index")
    out.index = df.index
    out.attrs = dict(table.attrs)
    return out


def is_cost_column(name: str) -> bool:
    return name in hardware.COLUMN_INFO


def cost_metric_info(name: str, chip: hardware.ChipPreset | str = hardware.DEFAULT_CHIP) -> MetricInfo:
    """What an ``hw_*`` column means, in the shape of the metrics' :class:`MetricInfo`; unknown names list the
    valid ones."""
    info = hardware.COLUMN_INFO.get(name)
    if info is None:
        raise ValueError(f"unknown hardware-cost column {name!r}; valid: {', '.join(hardware.COST_COLUMNS)}")
    preset = hardware.get_chip(chip)
    return MetricInfo(name=name, description=f"{info.description} (assumes: {info.assumption})", unit=info.unit,
                      network="any (cost depends on the architecture and network size only)",
                      hardware=f"AIMC cost model, chip preset {preset.name!r}", time_s=None,
                      aggregation=f"{hardware.MODEL_NOTE}; README 'Hardware cost'")


def cost_record(costs: pd.DataFrame, row: int) -> dict[str, float | int | bool]:
    """One row of :func:`cost_columns` as plain Python values (for ``anb query`` and JSON)."""
    out: dict[str, float | int | bool] = {}
    for name in hardware.COST_COLUMNS:
        value = costs[name].iat[row]
        out[name] = bool(value) if isinstance(value, (bool, np.bool_)) else (
            int(value) if isinstance(value, (int, np.integer)) else float(value))
    return out


def describe(meta: DatasetMeta | Mapping[str, Any] | None, chip: hardware.ChipPreset | str = hardware.DEFAULT_CHIP) -> str:
    """Which chip and network size the ``hw_*`` estimates assume (callers say they are model estimates)."""
    net = cost_network(meta)
    preset = hardware.get_chip(chip)
    return (f"chip preset {preset.name} ({preset.crossbar.rows}x"
            f"{preset.crossbar.cols} crossbars, {preset.crossbar.cores} cores), network C={net.C} N={net.N} "
            f"{net.image_size}x{net.image_size}")


__all__ = ["COST_COLUMNS", "cost_columns", "cost_metric_info", "cost_network", "cost_record",
           "describe", "is_cost_column"]
