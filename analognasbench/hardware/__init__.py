"""Analytic cost of weight-stationary AIMC inference for every network the project builds: tiles, MVMs, DAC/ADC
conversions, digital work, energy, latency, throughput and capacity, from a chip preset.

>>> from analognasbench import hardware
>>> cost = hardware.network_cost("222222", "ibm_hermes_pcm_14nm")      # all nor_conv_3x3, C=16, N=5, 32x32
>>> cost.tiles, cost.fits_chip
(192, False)
>>> table = hardware.cost_table()               # all 15,625 cells, hw_* columns (model estimates), cached

Every number is a MODEL ESTIMATE, not a measurement: see :mod:`analognasbench.hardware.model` for the rules,
:mod:`analognasbench.hardware.chips` for the presets and their sources, README "Hardware cost" for what the
model leaves out. This layer imports only ``space`` and ``nets``.
"""

from typing import TYPE_CHECKING, Any

from analognasbench.hardware.chips import (
    DEFAULT_CHIP,
    ChipName,
    ChipPreset,
    ChipPresetError,
    CrossbarSpec,
    DigitalSpec,
    MemorySpec,
    MVMSpec,
    chip_from_dict,
    chip_names,
    get_chip,
    ibm_hermes_pcm_14nm,
    load_chip,
    release_512,
)
from analognasbench.hardware.columns import COLUMN_INFO, COST_COLUMNS, MODEL_NOTE, ColumnInfo
from analognasbench.hardware.model import LayerCost, split_sizes
from analognasbench.hardware.table import cell_counts, cost_table

if TYPE_CHECKING:  # pragma: no cover
    from analognasbench.hardware.network import NetworkCost, network_cost, network_steps

_LAZY = {"NetworkCost", "network_cost", "network_steps"}


def __getattr__(name: str) -> Any:
    """The module walk needs torch (through ``analognasbench.nets``): load it on first use, so that importing the
    presets and column names (e.g. by the search package) stays light."""
    if name in _LAZY:
        from analognasbench.hardware import network

        return getattr(network, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "COLUMN_INFO",
    "COST_COLUMNS",
    "DEFAULT_CHIP",
    "MODEL_NOTE",
    "ChipName",
    "ChipPreset",
    "ChipPresetError",
    "ColumnInfo",
    "CrossbarSpec",
    "DigitalSpec",
    "LayerCost",
    "MVMSpec",
    "MemorySpec",
    "NetworkCost",
    "cell_counts",
    "chip_from_dict",
    "chip_names",
    "cost_table",
    "get_chip",
    "ibm_hermes_pcm_14nm",
    "load_chip",
    "network_cost",
    "network_steps",
    "release_512",
    "split_sizes",
]
