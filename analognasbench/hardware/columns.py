"""The ``hw_*`` columns of the cost model: name, unit, meaning and assumption (no torch needed to read them)."""

from __future__ import annotations

from dataclasses import dataclass

MODEL_NOTE = "model estimate of the analytic AIMC cost model (not a measurement)"


@dataclass(frozen=True)
class ColumnInfo:
    """What one ``hw_*`` column means."""

    name: str
    unit: str
    description: str
    assumption: str


_INFO = (
    ("hw_tiles", "tiles", "crossbar tiles holding every mapped weight layer (ceil(rows/R) x ceil(cols/C) per layer)",
     "every conv/linear layer the forward evaluates is mapped; edges that cannot reach a cell output are not"),
    ("hw_utilisation", "fraction", "used crossbar cells / cells of all tiles", "one layer per tile, no packing"),
    ("hw_mvms", "MVMs per inference", "analog matrix-vector multiplications: one per tile per output pixel",
     "batch 1; a linear layer is one MVM per tile"),
    ("hw_dac_conversions", "conversions per inference", "input (DAC) conversions: used rows x MVMs",
     "each column block of a layer converts its inputs again"),
    ("hw_adc_conversions", "conversions per inference", "output (ADC) conversions: used columns x MVMs",
     "one conversion per column per MVM; partial sums joined digitally"),
    ("hw_digital_ops", "operations per inference",
     "digital additions, comparisons and multiplications: batch norm, ReLU, pooling, joins, partial sums, "
     "global pool, classifier bias", "batch norm = 1 mul + 1 add per element; ReLU = 1 comparison"),
    ("hw_activation_bytes", "bytes per inference", "activation bytes read and written by the analog layers",
     "each analog layer reads its input map and writes its output once at the DAC/ADC widths"),
    ("hw_weights", "weights", "weights mapped to crossbars", "the evaluated layers only (not the params column)"),
    ("hw_macs", "MACs per inference", "analog multiply-accumulates", "the evaluated layers only (not the flops column)"),
    ("hw_energy_uj", "uJ per inference", "total energy: MVMs + digital work + activation movement",
     "no leakage, interconnect contention, off-chip memory or weight programming"),
    ("hw_energy_mvm_uj", "uJ per inference", "MVM energy including DAC/ADC conversions",
     "full-MVM energy scaled by used rows, columns and cells (MVMSpec)"),
    ("hw_energy_digital_uj", "uJ per inference", "digital operation energy", "Horowitz ISSCC 2014, 45 nm, FP16"),
    ("hw_energy_movement_uj", "uJ per inference", "activation movement energy", "local SRAM, per byte"),
    ("hw_latency_us", "us per inference", "layer-by-layer latency with all layers resident",
     "steps run one after another; a layer's tiles in parallel; movement time hidden"),
    ("hw_throughput_inf_per_s", "inferences per s", "pipelined throughput: one inference per slowest step",
     "every step is a pipeline stage of its own"),
    ("hw_cores", "cores", "cores needed (one tile per core)", "no core shared between layers"),
    ("hw_chips", "chips", "chips needed to hold every tile", "ceil(cores / cores per chip)"),
    ("hw_fits_chip", "bool", "whether every tile fits on one chip", "weights stay resident, no reprogramming"),
)
#: Column name -> unit, description and assumption, for every ``hw_*`` column of :func:`cost_table`.
COLUMN_INFO: dict[str, ColumnInfo] = {name: ColumnInfo(name, *rest) for name, *rest in _INFO}
COST_COLUMNS: tuple[str, ...] = tuple(COLUMN_INFO)
