"""The dataset schema shared by the pipeline (which writes rows) and the benchmark API (which reads them).

One row per measured architecture. For every metric ``m``: column ``m`` (mean, percent) and ``m_std``; metrics measured
on the analog chip model also keep ``m_reps`` (the raw values of the repetitions or evaluation passes).

The two t = 0 readings (schema version 2):

* ``noisy_accuracy`` / ``analog_accuracy`` keep the original release's meaning: the converted network evaluated
  **before programming** -- exact weights, only the periphery (DAC/ADC quantisation, output noise); the digitally
  trained network at the initial input range (3.0), the HWT network with its learned ranges. Mean over evaluation
  passes (fresh output noise, and fresh test augmentation under test-time augmentation).
* ``noisy_programmed_accuracy`` / ``analog_programmed_accuracy``: the chip right after programming (programming
  noise, no drift, no read noise), mean and std over R programmings. Schema version 1 stored this reading under
  the release's names; :mod:`analognasbench.bench.migrate` moves it on read.
"""

from __future__ import annotations

from dataclasses import dataclass

from analognasbench.enums import ClosedSet

#: Seconds after programming at which drift is measured: 1 minute, 1 hour, 1 day, 30 days.
DRIFT_TIMES: tuple[int, ...] = (60, 3600, 86400, 2592000)
_DRIFT_LABELS = {60: "60 s", 3600: "1 h", 86400: "1 day", 2592000: "30 days"}

SCHEMA_VERSION = 2  # 2: the t = 0 metrics split into unprogrammed (release names) and *_programmed_*

#: Other names of metrics, accepted everywhere a metric name is. The published release (analog-nasbench 0.1.3)
#: names the digitally trained network's drift ``baseline_drift_T``; its README and this project say
#: ``noisy_drift_T``. Both are the same metric.
METRIC_ALIASES: dict[str, str] = {f"baseline_drift_{t}": f"noisy_drift_{t}" for t in DRIFT_TIMES}


class Metric(ClosedSet, what="metric", plural="metrics"):
    """Every measured metric (also the column names of the dataset)."""

    BASELINE = "baseline_accuracy"
    PTQ = "ptq_accuracy"
    QAT = "qat_accuracy"
    NOISY = "noisy_accuracy"
    ANALOG = "analog_accuracy"
    NOISY_DRIFT_60 = "noisy_drift_60"
    NOISY_DRIFT_3600 = "noisy_drift_3600"
    NOISY_DRIFT_86400 = "noisy_drift_86400"
    NOISY_DRIFT_2592000 = "noisy_drift_2592000"
    ANALOG_DRIFT_60 = "analog_drift_60"
    ANALOG_DRIFT_3600 = "analog_drift_3600"
    ANALOG_DRIFT_86400 = "analog_drift_86400"
    ANALOG_DRIFT_2592000 = "analog_drift_2592000"
    NOISY_PROGRAMMED = "noisy_programmed_accuracy"
    ANALOG_PROGRAMMED = "analog_programmed_accuracy"

    @classmethod
    def _missing_(cls, value: object) -> Metric | None:
        """The release's names are aliases: ``baseline_drift_T`` is ``noisy_drift_T`` (see :data:`METRIC_ALIASES`)."""
        target = METRIC_ALIASES.get(value) if isinstance(value, str) else None
        return cls(target) if target is not None else None

    @property
    def info(self) -> MetricInfo:
        return METRIC_INFO[self]

    @property
    def repeated(self) -> bool:
        """Measured on the analog chip model over repetitions or passes (has ``_std`` over them and ``_reps``)."""
        return self.info.hardware is not None

    @property
    def is_drift(self) -> bool:
        return "_drift_" in self.value


@dataclass(frozen=True)
class MetricInfo:
    """What a number means: unit, network, hardware, time after programming and aggregation."""

    name: str
    description: str
    unit: str
    network: str  # "digital" (SGD-trained weights), "qat" (QAT fine-tuned), "hwt" (hardware-aware trained)
    hardware: str | None  # None: digital or int8 simulation; else "aimc" (the dataset's hardware preset)
    time_s: float | None  # seconds after programming; None where no chip is involved
    aggregation: str
    programmed: bool | None = None  # weights programmed onto (noisy) devices; None where no chip is involved


def _drift_pair(t: int) -> tuple[MetricInfo, MetricInfo]:
    agg = ("mean over R repetitions (std in *_std, raw values in *_reps): independent programmings, or one "
           "programming read R times where the profile's protocol says so (the release's)")
    label = _DRIFT_LABELS[t]
    return (
        MetricInfo(f"noisy_drift_{t}", f"top-1 test accuracy of the digitally trained network programmed onto the AIMC "
                   f"chip, read {label} after programming (drift, read noise) with global drift compensation",
                   "percent", "digital", "aimc", float(t), agg, True),
        MetricInfo(f"analog_drift_{t}", f"top-1 test accuracy of the hardware-aware trained network programmed onto the "
                   f"AIMC chip, read {label} after programming (drift, read noise) with global drift compensation",
                   "percent", "hwt", "aimc", float(t), agg, True),
    )


_REPS = "mean over R independent programmings (std in *_std, raw values in *_reps)"
_PASSES = ("mean over evaluation passes of the unprogrammed network (std in *_std, pass values in *_reps; the "
           "original release published the mean of 25 passes and no std)")
METRIC_INFO: dict[Metric, MetricInfo] = {
    Metric.BASELINE: MetricInfo("baseline_accuracy", "top-1 test accuracy of the digitally trained network in float32",
                                "percent", "digital", None, None, "single evaluation (std 0)"),
    Metric.PTQ: MetricInfo("ptq_accuracy", "top-1 test accuracy after post-training int8 quantisation of weights and "
                           "activations, calibrated on training data (test data under the release's protocol)", "percent", "digital", None, None,
                           "single evaluation (std 0)"),
    Metric.QAT: MetricInfo("qat_accuracy", "top-1 test accuracy in int8 after quantisation-aware fine-tuning",
                           "percent", "qat", None, None, "single evaluation (std 0)"),
    Metric.NOISY: MetricInfo("noisy_accuracy", "top-1 test accuracy of the digitally trained network converted to "
                             "analog and evaluated BEFORE programming (the original release's meaning): exact weights, "
                             "only DAC/ADC quantisation and output noise, input range 3.0 (not calibrated)",
                             "percent", "digital", "aimc", None, _PASSES, False),
    Metric.ANALOG: MetricInfo("analog_accuracy", "top-1 test accuracy of the hardware-aware trained network evaluated "
                              "BEFORE programming (the original release's meaning): exact weights, only DAC/ADC "
                              "quantisation and output noise, the input ranges learned in HWT",
                              "percent", "hwt", "aimc", None, _PASSES, False),
    Metric.NOISY_PROGRAMMED: MetricInfo(
        "noisy_programmed_accuracy", "top-1 test accuracy of the digitally trained network programmed onto the AIMC "
        "chip (programming noise), read right after programming (t = 0, no drift, no read noise), input range 3.0",
        "percent", "digital", "aimc", 0.0, _REPS, True),
    Metric.ANALOG_PROGRAMMED: MetricInfo(
        "analog_programmed_accuracy", "top-1 test accuracy of the hardware-aware trained network programmed onto the "
        "AIMC chip (programming noise), read right after programming (t = 0, no drift, no read noise)",
        "percent", "hwt", "aimc", 0.0, _REPS, True),
}
for _t in DRIFT_TIMES:
    _noisy, _analog = _drift_pair(_t)
    METRIC_INFO[Metric(_noisy.name)] = _noisy
    METRIC_INFO[Metric(_analog.name)] = _analog

METRICS: tuple[Metric, ...] = tuple(Metric)
REPEATED_METRICS: tuple[Metric, ...] = tuple(m for m in Metric if m.repeated)
NOISY_SERIES: tuple[Metric, ...] = (Metric.NOISY,) + tuple(Metric(f"noisy_drift_{t}") for t in DRIFT_TIMES)
ANALOG_SERIES: tuple[Metric, ...] = (Metric.ANALOG,) + tuple(Metric(f"analog_drift_{t}") for t in DRIFT_TIMES)

#: Identity columns of every row.
ID_COLUMNS: tuple[str, ...] = ("arch_index", "arch", "arch_str", "canonical_index", "params", "flops")
#: Training stages whose per-epoch curves and wall times are kept (columns ``curve_<stage>`` as JSON text,
#: ``time_<stage>_s``), and evaluation stages with a wall time only.
TRAIN_STAGES: tuple[str, ...] = ("digital", "qat", "hwt")
EVAL_STAGES: tuple[str, ...] = ("baseline", "ptq", "noisy", "analog")
#: The unprogrammed t = 0 metrics (release semantics) and their programmed counterparts.
UNPROGRAMMED_METRICS: tuple[Metric, ...] = (Metric.NOISY, Metric.ANALOG)
PROGRAMMED_T0: dict[Metric, Metric] = {Metric.NOISY: Metric.NOISY_PROGRAMMED, Metric.ANALOG: Metric.ANALOG_PROGRAMMED}
#: Provenance columns of every row.
PROVENANCE_COLUMNS: tuple[str, ...] = ("profile_name", "profile_hash", "seed", "device", "repetitions", "created")


def metric_columns() -> list[str]:
    """All metric columns in schema order: ``m``, ``m_std`` and, for repeated metrics, ``m_reps``."""
    cols: list[str] = []
    for m in METRICS:
        cols += [m.value, f"{m.value}_std"] + ([f"{m.value}_reps"] if m.repeated else [])
    return cols


def all_columns() -> list[str]:
    stage_cols = [f"curve_{s}" for s in TRAIN_STAGES] + [f"time_{s}_s" for s in TRAIN_STAGES + EVAL_STAGES]
    return list(ID_COLUMNS) + metric_columns() + stage_cols + ["time_total_s"] + list(PROVENANCE_COLUMNS)


def upgrade_row(row: dict) -> dict:
    """A pipeline row in the current schema. Rows written before schema 2 (run stores of older versions) lack the
    programmed t = 0 columns and hold that reading under the release's names: it moves to ``*_programmed_*`` and
    the release-named columns become NaN (not measured), as :mod:`analognasbench.bench.migrate` does for datasets.
    Current rows are returned unchanged."""
    if Metric.NOISY_PROGRAMMED.value in row or Metric.NOISY.value not in row:
        return row
    out = dict(row)
    for unprogrammed, programmed in PROGRAMMED_T0.items():
        u, p = unprogrammed.value, programmed.value
        out[p], out[f"{p}_std"], out[f"{p}_reps"] = out.get(u), out.get(f"{u}_std"), out.get(f"{u}_reps", [])
        out[u], out[f"{u}_std"], out[f"{u}_reps"] = float("nan"), float("nan"), []
    return out
