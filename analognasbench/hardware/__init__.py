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
from analognasbench.hardware.model import LayerCost, split_sizes
from analognasbench.hardware.network import NetworkCost, network_cost, network_steps
from analognasbench.hardware.table import (
    COLUMN_INFO,
    COST_COLUMNS,
    MODEL_NOTE,
    ColumnInfo,
    cell_counts,
    cost_table,
)

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
